// The in-page tab client, served as /__baton/client.js (DESIGN.md, "Sessions, tabs and draining"): its
// WebSocket tells the gateway that this tab is open, and a small badge shows the tab's generation with a link
// to the live one. Bundled as an IIFE: nothing global but the <baton-badge> element.
import type { TabMessage } from '../protocol/types';

const TAG = 'baton-badge';
const GONE = 4410; // close code: this tab's generation has stopped, retrying is pointless
const DISMISSED = 'baton-badge-dismissed';
const CSS = `
:host{all:initial!important;position:fixed!important;right:12px!important;bottom:12px!important;
z-index:2147483647!important;display:block!important}
.box{display:flex;align-items:center;gap:6px;padding:3px 3px 3px 10px;border-radius:14px;
font:500 12px/20px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color-scheme:light;
background:#fff;color:#1f2328;border:1px solid #8c959f;box-shadow:0 1px 6px #0005;--accent:#0550ae;
--ok:#1a7f37;--old:#9a6700;--gone:#cf222e}
@media (prefers-color-scheme:dark){.box{color-scheme:dark;background:#1f2328;color:#f0f3f6;
border-color:#8b949e;--accent:#79c0ff;--ok:#3fb950;--old:#d29922;--gone:#ff7b72}}
.dot{width:8px;height:8px;border-radius:50%;background:var(--ok)}
.old .dot{background:var(--old)}.gone .dot{background:var(--gone)}
a{color:var(--accent);font-weight:600;text-underline-offset:2px;border-radius:3px}
button{font:inherit;font-size:16px;line-height:20px;width:22px;height:22px;padding:0;border:0;
border-radius:50%;background:none;color:inherit;cursor:pointer}
button:hover{background:#8884}
a:focus-visible,button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}`;

/** A page in a same-origin frame of a page that already runs the client is part of that tab. */
function alreadyRunning(): boolean {
  if (customElements.get(TAG)) return true; // injected twice
  try {
    return window.parent !== window && !!window.parent.customElements.get(TAG);
  } catch {
    return false; // a cross-origin parent (an editor's preview pane): this page is the tab
  }
}

function parse(data: unknown): TabMessage | undefined {
  try {
    const m = JSON.parse(String(data)) as TabMessage;
    const isGen = (n: unknown) => Number.isInteger(n) && (n as number) > 0;
    if (isGen(m.generation) && (m.live === null || isGen(m.live)))
      return { generation: m.generation, live: m.live };
  } catch {
    // not ours to judge: a message we do not understand changes nothing
  }
  return undefined;
}

/** The same path, query and hash on generation `live`, in this tab. */
function liveUrl(live: number): string {
  const here = location.pathname + location.search + location.hash;
  // Tab affinity: the generation is the host's first label. Otherwise (session affinity) the gateway drops
  // this browser's pin and redirects to the path on the live generation.
  return /^g\d+\.localhost$/i.test(location.hostname)
    ? `${location.protocol}//${location.host.replace(/^g\d+\./i, `g${live}.`)}${here}`
    : `/__baton/new?path=${encodeURIComponent(here)}`;
}

function start(): void {
  customElements.define(TAG, class extends HTMLElement {});
  const host = document.createElement(TAG);
  // Closed, with its own styles: the page's scripts and CSS can neither see nor break the badge.
  const root = host.attachShadow({ mode: 'closed' });
  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, parent: Node, cls = '') => {
    const e = document.createElement(tag);
    e.className = cls;
    parent.appendChild(e);
    return e;
  };
  try {
    // A constructed sheet is not subject to the page's style-src, unlike a <style> element.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch {
    el('style', root).textContent = CSS; // browsers without constructable stylesheets
  }
  const box = el('div', root);
  el('span', box, 'dot').setAttribute('aria-hidden', 'true');
  const msg = el('span', box);
  msg.setAttribute('aria-live', 'polite');
  const text = el('span', msg);
  const link = el('a', msg);
  const close = el('button', box);
  close.type = 'button';
  close.textContent = '×';
  close.title = 'Dismiss';
  close.setAttribute('aria-label', 'Dismiss the Baton badge');

  let state: TabMessage | undefined;
  let gone = false;
  const key = () => state && `${state.generation}:${state.live}:${gone}`;
  let dismissed: string | undefined;
  try {
    dismissed = sessionStorage.getItem(DISMISSED) ?? undefined;
  } catch {
    // storage disabled: a dismissal lasts until the next reload
  }

  const render = () => {
    if (!state || !document.body) return; // before the first message, or still in <head>
    // Dismissing hides this very state; a new deploy or a stop is news and shows the badge again.
    if (dismissed === key()) return host.remove();
    const { generation, live } = state;
    const other = live !== null && live !== generation;
    box.className = `box ${gone ? 'gone' : live === generation ? 'live' : 'old'}`;
    box.title = `Baton: this tab runs generation ${generation}`;
    text.textContent = `gen ${generation}${gone ? ' stopped' : ''}${other ? ' · ' : ''}`;
    link.hidden = !other;
    link.textContent = `gen ${live} is live →`;
    if (other) link.href = liveUrl(live);
    if (!host.isConnected) document.body.appendChild(host); // also after a page replaced its body
  };
  // A single-page app may have changed its path since the last render.
  for (const type of ['pointerenter', 'focus', 'click']) {
    link.addEventListener(type, () => {
      if (state?.live) link.href = liveUrl(state.live);
    });
  }
  close.addEventListener('click', () => {
    dismissed = key();
    try {
      if (dismissed) sessionStorage.setItem(DISMISSED, dismissed);
    } catch {
      // storage disabled, see above
    }
    render();
  });
  document.addEventListener('DOMContentLoaded', render);

  const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/__baton/tab`;
  let retry = 250;
  const connect = () => {
    let ws: WebSocket;
    try {
      // The first one opens while this script runs, before a <meta> CSP later in <head> applies.
      ws = new WebSocket(url);
    } catch {
      return; // refused outright (some browsers throw for a CSP violation): retrying cannot help
    }
    ws.onopen = () => (retry = 250);
    ws.onmessage = (event) => {
      state = parse(event.data) ?? state;
      render();
    };
    ws.onclose = (event) => {
      if (event.code === GONE) {
        gone = true;
        return render();
      }
      // The gateway restarted or the network blinked: back off up to 5 s, with jitter against a thundering herd.
      setTimeout(connect, retry * (0.5 + Math.random()));
      retry = Math.min(retry * 2, 5000);
    };
  };
  connect();
}

if (!alreadyRunning()) start();
