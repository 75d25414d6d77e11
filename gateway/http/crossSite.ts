// Gateway routes that change state (a cookie, a worker) answer only requests that do not come from another
// site: a link or an <img> on any web page must not be able to trigger them.
import type * as http from 'node:http';

/** True when the browser says the request comes from another origin, by `Sec-Fetch-Site` or `Origin`. */
export function isCrossSite(req: http.IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  return origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`;
}
