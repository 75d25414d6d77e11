// The gateway's own routes under `/__baton/`: the tab client script, the live generation's number, the
// "new tab" door of session affinity, and the control API. Nothing here reaches a worker.
import type * as http from 'node:http';
import { controlRequest } from '../control/controlApi';
import type { GatewayParts } from '../parts';
import { pinCookie } from './cookies';
import { isCrossSite } from './crossSite';
import { answerError } from './guard';
import type { ParsedHost } from './hosts';
import { newTabLocation } from './newTab';
import { send, sendJson } from './pages';

export const BATON_PREFIX = '/__baton/';

export function batonRoute(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  host: ParsedHost,
  parts: GatewayParts,
): void {
  const parsed = new URL(req.url!, 'http://gateway');
  const pathname = parsed.pathname;
  if (pathname === '/__baton/move') return parts.moves.handle(req, res, host, parsed.searchParams);
  if (pathname === '/__baton/client.js') return clientScript(req, res, parts.clientScript);
  if (pathname === '/__baton/live') {
    // On a gN host, also that generation's state: a page waiting for it to start reloads when it changes.
    const own = host.generation;
    const state = own ? { state: parts.generations.get(own)?.state ?? null } : {};
    return sendJson(res, 200, { live: parts.generations.live?.id ?? null, ...state });
  }
  // What changes state answers no other site (a link or an <img> on any page reaches localhost too).
  if ((pathname === '/__baton/new' || pathname.startsWith('/__baton/api/')) && isCrossSite(req))
    return answerError(res, 403, `Forbidden: ${pathname} does not answer requests from other sites`);
  if (pathname === '/__baton/new') return newTab(res, parsed.searchParams.get('path'));
  if (pathname.startsWith('/__baton/api/'))
    return controlRequest(req, res, pathname, parsed.searchParams, parts);
  send(res, 404, 'text/plain; charset=utf-8', `Not found: ${pathname} is not a Baton route\n`);
}

function clientScript(req: http.IncomingMessage, res: http.ServerResponse, script: Buffer | null): void {
  if (!script)
    return send(res, 404, 'text/plain; charset=utf-8', 'the tab client is not built (npm run build)\n');
  res.writeHead(200, {
    'Content-Type': 'text/javascript; charset=utf-8',
    'Content-Length': script.length,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : script);
}

/** Drops the session-affinity pin, so that the next page load gets the live generation. */
function newTab(res: http.ServerResponse, target: string | null): void {
  res.writeHead(303, {
    Location: newTabLocation(target),
    'Set-Cookie': pinCookie(null),
    'Cache-Control': 'no-store',
    'Content-Length': 0,
  });
  res.end();
}
