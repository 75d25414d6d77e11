// Rewriting a worker's `Location` header so that a redirect keeps the tab on its generation (README,
// "How it works"): an absolute URL pointing at the bare gateway host, or at the worker's own address, gets the
// tab's host instead. Pure.

export function rewriteLocation(
  location: string,
  requestHost: string,
  gatewayPort: number,
  workerPort: number | null,
): string {
  if (!/^https?:\/\//i.test(location)) return location;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return location;
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const bare = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (!bare || (port !== String(gatewayPort) && port !== String(workerPort))) return location;
  if (url.protocol !== 'http:') return location;
  return `http://${requestHost}${url.pathname}${url.search}${url.hash}`;
}
