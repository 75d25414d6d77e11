// The front door: every HTTP request passes the Host check, then goes to the gateway's own routes
// (`/__baton/…`) or to the app. Each step is one small handler in its own file.
import type * as http from 'node:http';
import type { GatewayParts } from '../parts';
import { appRequest } from './appRequest';
import { BATON_PREFIX, batonRoute } from './batonRoutes';
import { checkHost } from './hosts';
import { send } from './pages';
import { hostProblem } from './requestChecks';

export function frontDoor(
  parts: GatewayParts,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    const problem = hostProblem(req);
    if (problem) return send(res, 400, 'text/plain; charset=utf-8', problem + '\n');
    const host = checkHost(req.headers.host, parts.config.allowedHosts);
    if ('status' in host) return send(res, host.status, 'text/plain; charset=utf-8', host.message + '\n');
    if (!req.url?.startsWith('/'))
      return send(res, 400, 'text/plain; charset=utf-8', 'Bad Request: the path must start with "/"\n');
    if (req.url.startsWith(BATON_PREFIX)) return batonRoute(req, res, host, parts);
    appRequest(req, res, host, parts);
  };
}
