// Patches a page's Content-Security-Policy so that exactly the injected tab client runs and reaches its
// WebSocket, and nothing else is loosened (README, "How it works").

const CLIENT_PATH = '/__baton/client.js';

interface Directive {
  name: string; // lower-cased; directive names are case-insensitive
  text: string; // as written, for directives we leave alone
  sources: string[];
}

/**
 * Returns `value` (one header value: one policy or several, comma-separated) with every policy allowing
 * `<script src="/__baton/client.js" nonce="{nonce}">` and a WebSocket to `tabSocketUrl`.
 */
export function patchCsp(value: string, nonce: string, tabSocketUrl: string): string {
  const socket = new URL(tabSocketUrl);
  if (socket.protocol !== 'ws:' && socket.protocol !== 'wss:') {
    throw new Error(`tabSocketUrl must be a ws:// or wss:// URL, got ${tabSocketUrl}`);
  }
  // The page's origin is the socket's origin with the http scheme (the client connects to its own origin).
  const scriptUrl = `${socket.protocol === 'wss:' ? 'https:' : 'http:'}//${socket.host}${CLIENT_PATH}`;
  const scriptSource = (sources: string[]): string[] =>
    addScriptSource(sources, `'nonce-${nonce}'`, scriptUrl);
  const connectSource = (sources: string[]): string[] => addSource(sources, socket.href);
  return value
    .split(',')
    .map((policy) => patchPolicy(policy, scriptSource, connectSource))
    .join(', ');
}

function patchPolicy(
  policy: string,
  scriptSource: (sources: string[]) => string[],
  connectSource: (sources: string[]) => string[],
): string {
  const directives = parsePolicy(policy);
  // Only a directive's first occurrence counts; browsers ignore repeats, so we leave those alone.
  const find = (name: string): Directive | undefined => directives.find((d) => d.name === name);
  const defaults = find('default-src');
  const patch = (directive: Directive, add: (sources: string[]) => string[]): void => {
    directive.sources = add(directive.sources);
    directive.text = [directive.name, ...directive.sources].join(' ');
  };
  // Copying default-src into a new directive keeps every other fetch type exactly as restricted as before:
  // adding to default-src itself would also let the nonce through for styles.
  const derive = (name: string, add: (sources: string[]) => string[]): void => {
    if (!defaults) return;
    const directive = { name, text: '', sources: defaults.sources };
    patch(directive, add);
    directives.push(directive);
  };

  const elem = find('script-src-elem');
  const script = find('script-src');
  if (elem) patch(elem, scriptSource);
  if (script) patch(script, scriptSource);
  // script-src-elem decides for <script> elements when present, so a derived script-src would add nothing.
  if (!elem && !script) derive('script-src', scriptSource);

  const connect = find('connect-src');
  if (connect) patch(connect, connectSource);
  else derive('connect-src', connectSource);

  return directives.map((d) => d.text).join('; ');
}

function parsePolicy(policy: string): Directive[] {
  return policy
    .split(';')
    .map((text) => text.trim())
    .filter((text) => text !== '')
    .map((text) => {
      const [name, ...sources] = text.split(/[\t\n\f\r ]+/);
      return { name: name.toLowerCase(), text, sources };
    });
}

/**
 * A nonce is the narrowest way to allow one script element, but in a list with 'unsafe-inline' and no
 * nonce or hash yet, any nonce makes browsers ignore 'unsafe-inline' — every inline script of the page would
 * stop running. There we add the client's exact URL instead (a host-source with a full path matches that one
 * file only). It is added even when 'self' already covers it: redundant but harmless, and it spares us
 * re-implementing CSP source matching. 'strict-dynamic' already disables 'unsafe-inline' (and ignores
 * host-sources), so there the nonce is both safe and needed.
 */
function addScriptSource(sources: string[], nonceSource: string, scriptUrl: string): string[] {
  const lower = sources.map((s) => s.toLowerCase());
  const inlineAllowed =
    lower.includes("'unsafe-inline'") &&
    !lower.some((s) => /^'(nonce-|sha256-|sha384-|sha512-|strict-dynamic')/.test(s));
  return addSource(sources, inlineAllowed ? scriptUrl : nonceSource);
}

function addSource(sources: string[], source: string): string[] {
  // 'none' must stand alone; with our source added it would be meaningless, so it goes.
  const rest = sources.filter((s) => s.toLowerCase() !== "'none'");
  return rest.includes(source) ? rest : [...rest, source];
}
