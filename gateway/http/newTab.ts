// Where `/__baton/new?path=…` sends the browser: a path on this same origin, never another site (open
// redirect), and always a value a Location header can carry (a control or non-ASCII character would make
// Node refuse the header). The WHATWG URL parser does both: it resolves what a browser would resolve
// (`/\evil`, `/<tab>/evil` → `//evil`), and percent-encodes what a header cannot carry.

const BASE = 'http://gateway.invalid';

export function newTabLocation(target: string | null): string {
  if (!target || !target.startsWith('/')) return '/';
  let url: URL;
  try {
    url = new URL(target, BASE);
  } catch {
    return '/';
  }
  if (url.origin !== BASE) return '/';
  const location = url.pathname + url.search + url.hash;
  // The serialisation is printable ASCII; a path that still begins "//" would be another host for the browser.
  return /^\/(?![/\\])[\x21-\x7e]*$/.test(location) ? location : '/';
}
