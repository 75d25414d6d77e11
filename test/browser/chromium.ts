// Real Chromium for the browser suite: Debian's `chromium` driven by playwright-core (nothing is downloaded),
// test-only hooks that every page gets, and ways to read the badge and wait for the gateway's counts.
import * as fs from 'node:fs';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import type { RunningGateway } from '../support/gateway';
import { sleep } from '../support/gateway';
import type { GatewayState, GenerationInfo } from '../../gateway/protocol/types';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** What the hooks record in a page. */
export interface PageHooks {
  /** The shadow-root modes the page asked for (the badge asks for 'closed'). */
  shadowModes: string[];
  /** Pathnames of the WebSockets that opened. */
  openedSockets: string[];
  /** `/__baton/tab` messages that the tab client has finished handling. */
  tabMessages: number;
  /** CSP violations reported to the page ("directive blocked-uri"). */
  violations: string[];
}

declare global {
  interface Window {
    __batonTest: PageHooks;
  }
}

/**
 * Runs in every page before its own scripts. TEST ONLY: it forces every shadow root open so that the tests
 * can read and click the badge, whose real root is closed (`badge.test.ts` checks that in a page without
 * these hooks).
 */
function installHooks(): void {
  const hooks: PageHooks = { shadowModes: [], openedSockets: [], tabMessages: 0, violations: [] };
  window.__batonTest = hooks;
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (this: Element, init: ShadowRootInit) {
    hooks.shadowModes.push(init.mode);
    return attachShadow.call(this, { ...init, mode: 'open' });
  };
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      const pathname = new URL(String(url), location.href).pathname;
      this.addEventListener('open', () => hooks.openedSockets.push(pathname));
      // Listeners added here run before the client's own onmessage; a task later its render has happened.
      if (pathname === '/__baton/tab')
        this.addEventListener('message', () => setTimeout(() => hooks.tabMessages++));
    }
  };
  document.addEventListener('securitypolicyviolation', (e) =>
    hooks.violations.push(`${e.violatedDirective} ${e.blockedURI}`),
  );
}

export async function openContext(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await context.addInitScript(installHooks);
  return context;
}

export function hooksOf(page: Page): Promise<PageHooks> {
  return page.evaluate(() => window.__batonTest);
}

/** The badge's message as shown ("gen 1 · gen 2 is live →"), or null when no badge is in the page. */
export function badgeText(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const badge = document.querySelector('baton-badge');
    const message = badge?.shadowRoot?.querySelector<HTMLElement>('[aria-live]');
    return badge?.isConnected && message ? message.innerText.replace(/\s+/g, ' ').trim() : null;
  });
}

/**
 * Polls `probe` until `accept` says yes; on timeout the error shows the last value seen, so a failure says
 * what the product did instead.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  do {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (err) {
      error = err;
    }
    await sleep(25);
  } while (Date.now() < deadline);
  const seen = last === undefined ? `error ${error}` : JSON.stringify(last);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${seen}`);
}

export function waitBadge(page: Page, expected: string | null, timeoutMs = 5000): Promise<string | null> {
  return until(
    `the badge to read ${JSON.stringify(expected)}`,
    () => badgeText(page),
    (t) => t === expected,
    timeoutMs,
  );
}

/** Generation N's entry and its sessions, the parts of the state these tests look at. */
export function countsOf(state: GatewayState, id: number) {
  const gen: GenerationInfo | undefined = state.generations.find((g) => g.id === id);
  const sessions = state.sessions.filter((s) => s.generation === id);
  return {
    state: gen?.state,
    /** The worker is gone: set once its whole process tree has been stopped. */
    exited: gen?.stoppedAt != null,
    tabs: gen?.tabs,
    sessions: gen?.sessions,
    sessionTabs: sessions.map((s) => s.tabs),
  };
}

export function waitCounts(
  gw: RunningGateway,
  id: number,
  what: string,
  accept: (counts: ReturnType<typeof countsOf>) => boolean,
  timeoutMs: number,
) {
  return until(`generation ${id}: ${what}`, async () => countsOf(await gw.state(), id), accept, timeoutMs);
}
