// The last handler of the front door: every request for the app. The routing decision sends it to a
// generation's worker (through the proxy, holding that generation while it is in flight), redirects a page
// load to its generation's host, or explains why no generation can take it.
import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import type { Session } from '../holders/sessions';
import type { Generation } from '../lifecycle/generation';
import type { GatewayParts } from '../parts';
import { pinCookie, sidCookie } from './cookies';
import { decide } from './decide';
import type { ParsedHost } from './hosts';
import { gonePage, send, sendJson, unavailablePage } from './pages';
import { sendPending } from './pending';
import { isNavigation } from './route';

export function appRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  host: ParsedHost,
  parts: GatewayParts,
): void {
  const { route, sid } = decide(req, host, parts);
  switch (route.kind) {
    case 'redirect':
      res.writeHead(307, { Location: route.location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
      return void res.end();
    case 'unavailable':
      return unavailable(res, route.page, parts);
    case 'gone':
      return gone(res, route.generation, route.known, route.page, parts);
    case 'pending':
      return sendPending(
        res,
        parts.generations.get(route.generation)!,
        parts.generations.live?.id ?? null,
        route.page,
      );
    case 'proxy':
      return forward(req, res, parts.generations.get(route.generation)!, sid, route.pin, parts);
  }
}

function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  gen: Generation,
  sid: string | null,
  pin: boolean,
  parts: GatewayParts,
): void {
  const cookies: string[] = [];
  let session: Session | undefined;
  const page = isNavigation(
    req.method ?? 'GET',
    req.headers['sec-fetch-mode'] as string | undefined,
    req.headers.accept,
  );
  // A session is told apart in the editor by the first page it loaded (or the page that made the request).
  if (sid)
    session = parts.sessions.touch(gen, sid, req.headers['user-agent'], page ? req.url : req.headers.referer);
  else cookies.push(sidCookie(randomBytes(16).toString('base64url')));
  if (pin) cookies.push(pinCookie(gen.id));
  // Released once: when the answer closes, or when its socket closes first (Node fires neither `finish` nor
  // `close` on pipelined answers still queued when the client leaves).
  const release = parts.holds.request(gen, session);
  const socket = req.socket; // kept: Node detaches it from the request once the answer is done
  const socketClosed = () => release();
  res.once('close', () => {
    socket.off('close', socketClosed);
    release();
  });
  socket.once('close', socketClosed);
  parts.proxy.web(req, res, {
    generation: gen.id,
    workerPort: gen.port!,
    workerAddress: gen.address!,
    cookies,
    page,
    inject: parts.config.inject,
    appCookie: parts.config.session.cookie,
    onLogout: session ? () => parts.sessions.end(session, 'logout') : null,
  });
}

function unavailable(res: http.ServerResponse, page: boolean, parts: GatewayParts): void {
  // A deploy under way explains it best; else the failure or crash that happened last (an older generation
  // may have failed while a newer one that since crashed was live). Still being stopped = just now.
  const all = parts.generations.all();
  const last =
    all.filter((g) => g.state === 'building' || g.state === 'starting').sort((a, b) => b.id - a.id)[0] ??
    all
      .filter((g) => g.state === 'failed' || g.state === 'crashed')
      .sort((a, b) => (b.stoppedAt ?? Infinity) - (a.stoppedAt ?? Infinity) || b.id - a.id)[0];
  const reason = !last
    ? 'No generation is live: none has been deployed yet.'
    : last.state === 'building' || last.state === 'starting'
      ? `Generation ${last.id} is ${last.state}; no generation is live yet.`
      : `No generation is live: generation ${last.id} ${last.state} — ${last.reason}`;
  if (page) send(res, 503, 'text/html; charset=utf-8', unavailablePage(reason, last?.output.tail(30) ?? ''));
  else
    sendJson(res, 503, {
      error: reason,
      live: null,
      generation: last?.id ?? null,
      state: last?.state ?? null,
    });
}

function gone(
  res: http.ServerResponse,
  id: number,
  known: boolean,
  page: boolean,
  parts: GatewayParts,
): void {
  const gen = parts.generations.get(id);
  const why = !known
    ? `There is no generation ${id} in this gateway run.`
    : `Generation ${id} is ${gen!.state}${gen!.reason ? `: ${gen!.reason}` : ''}.`;
  const live = parts.generations.live?.id ?? null;
  if (page) send(res, 410, 'text/html; charset=utf-8', gonePage(id, why));
  else sendJson(res, 410, { error: why, generation: id, state: gen?.state ?? null, live });
}
