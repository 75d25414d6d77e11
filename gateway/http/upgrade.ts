// WebSocket upgrades through the front door: the editor's events socket (token, no browser), a tab's own
// socket `/__baton/tab` (same origin), and the app's WebSockets, which hold their generation while open.
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { authorized } from '../control/auth';
import type { GatewayParts } from '../parts';
import { decide } from './decide';
import { checkHost } from './hosts';
import { hostProblem } from './requestChecks';

export function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, parts: GatewayParts): void {
  socket.on('error', () => socket.destroy());
  const refuse = (status: number, text: string, body = '') => {
    if (socket.writable)
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    socket.destroy();
  };
  if (req.headers.upgrade?.toLowerCase() !== 'websocket')
    return refuse(400, 'Bad Request', 'Bad Request: this gateway upgrades connections to WebSocket only\n');
  const problem = hostProblem(req);
  if (problem) return refuse(400, 'Bad Request', problem + '\n');
  const host = checkHost(req.headers.host, parts.config.allowedHosts);
  if ('status' in host) return refuse(host.status, host.status === 403 ? 'Forbidden' : 'Bad Request');
  const url = req.url ?? '/';
  const pathname = url.split('?')[0];
  if (pathname === '/__baton/api/events') {
    if (req.headers.origin) return refuse(403, 'Forbidden');
    if (!authorized(req.headers.authorization, parts.token)) return refuse(401, 'Unauthorized');
    return parts.events.accept(req, socket, head);
  }
  const { route, sid } = decide(req, host, parts);
  const { generations, sessions } = parts;
  if (pathname === '/__baton/tab') {
    const origin = req.headers.origin;
    if (origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`)
      return refuse(403, 'Forbidden');
    const query = new URLSearchParams(url.slice(pathname.length));
    if (query.has('move')) return parts.moves.accept(req, socket, head, host, query);
    // A tab of a generation that is gone still connects: it is told so (close code 4410) and stops retrying.
    if (route.kind === 'gone' && route.known)
      return parts.tabs.accept(req, socket, head, generations.get(route.generation)!, undefined);
    if (route.kind !== 'proxy')
      return refuse(
        route.kind === 'gone' ? 410 : 503,
        route.kind === 'gone' ? 'Gone' : 'Service Unavailable',
      );
    const gen = generations.get(route.generation)!;
    const session = sid ? sessions.touch(gen, sid, req.headers['user-agent']) : undefined;
    return parts.tabs.accept(req, socket, head, gen, session);
  }
  if (url.startsWith('/__baton/')) return refuse(404, 'Not Found');
  if (route.kind === 'gone') return refuse(410, 'Gone');
  if (route.kind !== 'proxy') return refuse(503, 'Service Unavailable');
  const gen = generations.get(route.generation)!;
  const session = sid ? sessions.touch(gen, sid, req.headers['user-agent']) : undefined;
  socket.once('close', parts.holds.request(gen, session));
  parts.proxy.ws(req, socket, head, {
    generation: gen.id,
    workerPort: gen.port!,
    workerAddress: gen.address!,
    cookies: [],
    page: false,
    inject: false,
    appCookie: null,
    onLogout: null,
  });
}
