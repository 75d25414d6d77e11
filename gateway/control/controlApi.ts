// The control API under `/__baton/api/` (README, "Control API"), for the extension and the CLI.
import type * as http from 'node:http';
import { send, sendJson } from '../http/pages';
import type { GatewayParts } from '../parts';
import type { GatewayState } from '../protocol/types';
import { authorized } from './auth';

export interface ControlTarget {
  state(): GatewayState;
  exists(id: number): boolean;
  deploy(): number;
  kill(id: number): Promise<void>;
  promote(id: number): void;
  logs(id: number): string | null;
  setWatching(enabled: boolean): void;
  shutdown(): void;
}

const GENERATION_ROUTE = /^\/generations\/(\d{1,9})\/(kill|promote|logs)$/;

/** The control API's door: no browser (any `Origin`), and the gateway's token. */
export function controlRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  pathname: string,
  query: URLSearchParams,
  parts: GatewayParts,
): void {
  if (req.headers.origin) return sendJson(res, 403, { error: 'the control API does not answer browsers' });
  if (!authorized(req.headers.authorization, parts.token)) {
    return sendJson(res, 401, {
      error: 'missing or wrong token: send "Authorization: Bearer <token from .baton/gateway.json>"',
    });
  }
  void handleControl(req, res, pathname.slice('/__baton/api'.length), query, parts.control);
}

/** Answers one authorized call; `route` is the path after `/__baton/api`. */
async function handleControl(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  route: string,
  query: URLSearchParams,
  target: ControlTarget,
): Promise<void> {
  const method = req.method ?? 'GET';
  const expect = (wanted: string): boolean => {
    if (method === wanted) return true;
    sendJson(res, 405, { error: `use ${wanted} for /__baton/api${route}` }, { Allow: wanted });
    return false;
  };
  try {
    if (route === '/state') {
      if (expect('GET')) sendJson(res, 200, target.state());
    } else if (route === '/deploy') {
      if (expect('POST')) sendJson(res, 202, { id: target.deploy() });
    } else if (route === '/shutdown') {
      if (expect('POST')) {
        sendJson(res, 200, { ok: true });
        res.once('finish', () => target.shutdown());
      }
    } else if (route === '/watch') {
      if (expect('POST')) {
        const enabled = query.get('enabled');
        if (enabled !== 'true' && enabled !== 'false')
          sendJson(res, 400, { error: 'add ?enabled=true or ?enabled=false' });
        else {
          target.setWatching(enabled === 'true');
          sendJson(res, 200, { watching: enabled === 'true' });
        }
      }
    } else {
      const match = GENERATION_ROUTE.exec(route);
      if (!match) return sendJson(res, 404, { error: `no control call ${method} /__baton/api${route}` });
      const id = Number(match[1]);
      const action = match[2];
      if (action === 'logs') {
        if (!expect('GET')) return;
        const text = target.logs(id);
        if (text === null) sendJson(res, 404, { error: `there is no generation ${id}` });
        else send(res, 200, 'text/plain; charset=utf-8', text);
      } else if (expect('POST')) {
        if (!target.exists(id)) {
          return sendJson(res, 404, { error: `there is no generation ${id}` });
        }
        if (action === 'kill') await target.kill(id);
        else target.promote(id);
        sendJson(res, 200, { ok: true, id });
      }
    }
  } catch (err) {
    if (!res.headersSent) sendJson(res, 409, { error: (err as Error).message });
  }
}
