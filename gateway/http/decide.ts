// Gathers what the pure routing decision (route.ts) needs from a request and the gateway's live state.
import type * as http from 'node:http';
import type { GatewayParts } from '../parts';
import { PIN_COOKIE, readCookie } from './cookies';
import { validSid } from './limits';
import { isForwarded, type ParsedHost } from './hosts';
import { route, type Route } from './route';

export interface Decision {
  route: Route;
  /** The browser's `baton_sid`, if it sent one. */
  sid: string | null;
}

export function decide(req: http.IncomingMessage, host: ParsedHost, parts: GatewayParts): Decision {
  const { generations, sessions, config } = parts;
  const sid = validSid(req);
  const pin = Number(readCookie(req.headers.cookie, PIN_COOKIE));
  const decision = route({
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    host,
    accept: req.headers.accept,
    secFetchMode: req.headers['sec-fetch-mode'] as string | undefined,
    userAgent: req.headers['user-agent'],
    pin: Number.isInteger(pin) && pin > 0 ? pin : null,
    affinity: config.affinity,
    forwarded: isForwarded(host, parts.listeningPort, req.headers),
    live: generations.live?.id ?? null,
    isRunning: (n) => generations.get(n)?.running ?? false,
    isPending: (n) => generations.get(n)?.pending ?? false,
    isKnown: (n) => generations.get(n) !== undefined,
    closedTo: (n) =>
      generations.get(n)?.state === 'draining' && (sid === null || sessions.hasLoggedOut(n, sid)),
  });
  return { route: decision, sid };
}
