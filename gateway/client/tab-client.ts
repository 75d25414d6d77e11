// The in-page tab client, served as /__baton/client.js (README, "How it works"): its
// WebSocket tells the gateway that this tab is open, and a small badge shows the tab's generation with a link
// to the live one and a follow toggle. Moving to the live generation carries this tab's cookies along (see
// `gateway/http/move.ts`). Bundled as an IIFE: nothing global but the <baton-badge> element.
import type { TabMessage } from '../protocol/types';
import {
  FOLLOW_KEY,
  LEAVING_MESSAGE,
  NOTICE_KEY,
  type MoveGrant,
  type StopNotice,
} from '../protocol/handoff';

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
.follow{width:auto;padding:0 7px;font-size:11px;border-radius:10px;border:1px solid currentColor;opacity:.7}
.follow[aria-pressed=true]{opacity:1;color:var(--accent);font-weight:700}
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
      return { generation: m.generation, live: m.live, follow: m.follow === true };
  } catch {
    // not ours to judge: a message we do not understand changes nothing
  }
  return undefined;
}

const here = () => location.pathname + location.search + location.hash;
/** Tab affinity: the generation is the host's first label, and each generation has its own cookie jar. */
const onGenerationHost = () => /^g\d+\.localhost$/i.test(location.hostname);
const hostOf = (live: number) => location.host.replace(/^g\d+\./i, `g${live}.`);

/** The same path, query and hash on generation `live`, in this tab (without this tab's cookies). */
function liveUrl(live: number): string {
  // Session affinity: the gateway drops this browser's pin and redirects to the path on the live generation;
  // the cookie jar is the same for every generation there, so nothing needs to be carried.
  return onGenerationHost()
    ? `${location.protocol}//${hostOf(live)}${here()}`
    : `/__baton/new?path=${encodeURIComponent(here())}`;
}

function readStorage(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null; // storage disabled: settings last as long as the page
  }
}

function writeStorage(key: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // storage disabled, see above
  }
}

/** Why this tab was sent here from a stopped generation, once: the hand-off page left it for this page. */
function takeNotice(): string {
  const text = readStorage(NOTICE_KEY);
  writeStorage(NOTICE_KEY, null);
  try {
    const { from, state } = JSON.parse(text ?? 'null') as StopNotice;
    if (!Number.isInteger(from)) return '';
    const what = state === 'crashed' || state === 'failed' ? state : state ? 'was stopped' : 'is gone';
    return ` · gen ${from} ${what}`;
  } catch {
    return '';
  }
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
  const followButton = el('button', box, 'follow');
  followButton.type = 'button';
  followButton.textContent = 'follow';
  followButton.title =
    'Follow: move this tab, with its cookies, to each new generation as soon as it is live';
  followButton.setAttribute('aria-label', 'Follow new generations');
  const close = el('button', box);
  close.type = 'button';
  close.textContent = '×';
  close.title = 'Dismiss';
  close.setAttribute('aria-label', 'Dismiss the Baton badge');

  let state: TabMessage | undefined;
  let gone = false;
  const notice = takeNotice();
  const key = () => state && `${state.generation}:${state.live}:${gone}:${notice}`;
  let dismissed = readStorage(DISMISSED) ?? undefined;
  let tabSocket: WebSocket | undefined;
  let moving = false;
  // Per tab: the badge's toggle, carried to each new host by the hand-off; else baton.json's default.
  const following = () => (readStorage(FOLLOW_KEY) ?? (state?.follow ? '1' : '0')) === '1';

  /**
   * Moves this tab to generation `live` with its cookies: a one-shot socket (its upgrade carries the cookies,
   * HttpOnly ones too) gets a token for them, which the live host's hand-off page redeems. Without a token
   * (refused, or an old gateway) the tab still goes there, as a new visitor.
   */
  const moveTo = (live: number) => {
    if (moving) return;
    moving = true;
    tabSocket?.send(LEAVING_MESSAGE); // this tab is not coming back: its session need not wait for it
    const follow = following() ? '1' : '0';
    if (!onGenerationHost()) return location.assign(liveUrl(live));
    const plain = () => location.assign(liveUrl(live));
    const visible = document.cookie.split(';').map((c) => c.split('=')[0].trim());
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${socketUrl}?move=1&visible=${encodeURIComponent(visible.join(','))}`);
    } catch {
      return plain();
    }
    let granted = false;
    ws.onmessage = (event) => {
      const grant = JSON.parse(String(event.data)) as MoveGrant;
      granted = true;
      const query = `token=${encodeURIComponent(grant.token)}&path=${encodeURIComponent(here())}&follow=${follow}`;
      location.assign(`${location.protocol}//${hostOf(grant.live)}/__baton/move?${query}`);
    };
    ws.onclose = () => {
      if (!granted) plain();
    };
  };

  const render = () => {
    if (!state || !document.body) return; // before the first message, or still in <head>
    // Dismissing hides this very state; a new deploy or a stop is news and shows the badge again.
    if (dismissed === key()) return host.remove();
    const { generation, live } = state;
    const other = live !== null && live !== generation;
    box.className = `box ${gone ? 'gone' : live === generation ? 'live' : 'old'}`;
    box.title = `Baton: this tab runs generation ${generation}`;
    text.textContent = `gen ${generation}${gone ? ' stopped' : ''}${other ? ' · ' : notice}`;
    link.hidden = !other;
    followButton.setAttribute('aria-pressed', String(following()));
    link.textContent = `gen ${live} is live →`;
    if (other) link.href = liveUrl(live);
    if (!host.isConnected) document.body.appendChild(host); // also after a page replaced its body
  };
  /** A following tab moves as soon as a newer generation is live (or its own one stopped). */
  const follow = () => {
    if (state && state.live !== null && state.live !== state.generation && following()) moveTo(state.live);
  };
  // A single-page app may have changed its path since the last render.
  for (const type of ['pointerenter', 'focus']) {
    link.addEventListener(type, () => {
      if (state?.live) link.href = liveUrl(state.live);
    });
  }
  link.addEventListener('click', (event) => {
    // A new tab or window (modifier keys, middle click) is another tab: it starts as a new visitor.
    if (
      !state?.live ||
      event.button !== 0 ||
      event.ctrlKey ||
      event.metaKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    event.preventDefault();
    moveTo(state.live);
  });
  followButton.addEventListener('click', () => {
    writeStorage(FOLLOW_KEY, following() ? '0' : '1');
    render();
    follow();
  });
  close.addEventListener('click', () => {
    dismissed = key();
    if (dismissed) writeStorage(DISMISSED, dismissed);
    render();
  });
  document.addEventListener('DOMContentLoaded', render);

  const socketUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/__baton/tab`;
  let retry = 250;
  const connect = () => {
    let ws: WebSocket;
    try {
      // The first one opens while this script runs, before a <meta> CSP later in <head> applies.
      ws = new WebSocket(socketUrl);
    } catch {
      return; // refused outright (some browsers throw for a CSP violation): retrying cannot help
    }
    ws.onopen = () => {
      retry = 250;
      tabSocket = ws;
    };
    ws.onmessage = (event) => {
      state = parse(event.data) ?? state;
      render();
      follow();
    };
    ws.onclose = (event) => {
      if (event.code === GONE) {
        gone = true;
        render();
        return follow();
      }
      // The gateway restarted or the network blinked: back off up to 5 s, with jitter against a thundering herd.
      setTimeout(connect, retry * (0.5 + Math.random()));
      retry = Math.min(retry * 2, 5000);
    };
  };
  connect();
}

if (!alreadyRunning()) start();
