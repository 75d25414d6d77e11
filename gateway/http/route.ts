// Which generation gets this request (README, "How it works"). A pure decision over plain data.
import type { Affinity } from '../protocol/types';
import { generationHost, type ParsedHost } from './hosts';

export interface RouteInput {
  method: string;
  /** Path and query as received. */
  url: string;
  host: ParsedHost;
  accept: string | undefined;
  secFetchMode: string | undefined;
  userAgent: string | undefined;
  /** The `baton_gen` pin cookie, if any. */
  pin: number | null;
  affinity: Affinity;
  /** Came through a forwarding proxy (hosts.ts isForwarded): never redirected to a `gN.localhost` host. */
  forwarded: boolean;
  live: number | null;
  /** Whether generation N is running (live or draining). */
  isRunning: (generation: number) => boolean;
  /** Whether generation N is not live yet (building or starting). */
  isPending: (generation: number) => boolean;
  /** Whether generation N has ever existed in this gateway run. */
  isKnown: (generation: number) => boolean;
  /**
   * Whether draining generation N takes no page load from this browser: it brings no session cookie for N (a
   * browser N has never served) or it logged out of N. Such a browser starts over on the live generation.
   */
  closedTo: (generation: number) => boolean;
}

export type Route =
  | { kind: 'proxy'; generation: number; /** set the `baton_gen` pin to this generation */ pin: boolean }
  | { kind: 'redirect'; location: string }
  | { kind: 'gone'; generation: number; known: boolean; page: boolean }
  | { kind: 'pending'; generation: number; page: boolean }
  | { kind: 'unavailable'; page: boolean };

/** A page navigation: a GET that the browser marks as navigate, or that prefers HTML. */
export function isNavigation(
  method: string,
  secFetchMode: string | undefined,
  accept: string | undefined,
): boolean {
  if (method !== 'GET') return false;
  if (secFetchMode) return secFetchMode === 'navigate';
  return prefersHtml(accept);
}

function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = accept.indexOf('text/html');
  if (html < 0) return false;
  // "text/html" must come before any JSON preference, e.g. "application/json, text/html" is an API call.
  const json = accept.indexOf('json');
  return json < 0 || html < json;
}

/** Browsers that do not resolve `*.localhost` by themselves (Safari, every iOS browser) get session affinity. */
export function resolvesLocalhostSubdomains(userAgent: string | undefined): boolean {
  if (!userAgent) return true;
  if (/iPhone|iPad|iPod/.test(userAgent)) return false;
  return !(/Safari\//.test(userAgent) && !/Chrome\/|Chromium\/|Edg\/|OPR\/|Firefox\//.test(userAgent));
}

/**
 * Whether page navigations on this host go to `gN.localhost` hosts (tab affinity) rather than being pinned:
 * never through a forwarding proxy, whose port a `gN.localhost` name would not reach.
 */
export function usesGenerationHosts(
  affinity: Affinity,
  host: ParsedHost,
  userAgent: string | undefined,
  forwarded: boolean,
): boolean {
  return affinity === 'tab' && host.bare && !forwarded && resolvesLocalhostSubdomains(userAgent);
}

/**
 * Where a page navigation to gone generation `from` goes: the live host's hand-off page, which tells the
 * tab's badge why once and then opens the same path and query (see `http/move.ts`).
 */
export function wayOut(from: number, live: number, port: string | null, url: string): string {
  return `http://${generationHost(live, port)}/__baton/move?from=${from}&path=${encodeURIComponent(url)}`;
}

export function route(input: RouteInput): Route {
  const page = isNavigation(input.method, input.secFetchMode, input.accept);
  const { host } = input;

  if (host.generation !== null) {
    const n = host.generation;
    if (input.isRunning(n)) {
      // A draining generation serves only the sessions it already has.
      if (page && input.live !== null && input.live !== n && input.closedTo(n)) {
        return { kind: 'redirect', location: `http://${generationHost(input.live, host.port)}${input.url}` };
      }
      return { kind: 'proxy', generation: n, pin: false };
    }
    if (input.isPending(n)) return { kind: 'pending', generation: n, page };
    if (page && input.live !== null)
      return { kind: 'redirect', location: wayOut(n, input.live, host.port, input.url) };
    return { kind: 'gone', generation: n, known: input.isKnown(n), page };
  }

  const pinned =
    input.pin !== null && input.isRunning(input.pin) && !(page && input.closedTo(input.pin))
      ? input.pin
      : null;
  const generationHosts = usesGenerationHosts(input.affinity, host, input.userAgent, input.forwarded);

  if (generationHosts && page) {
    if (input.live === null) return { kind: 'unavailable', page };
    return { kind: 'redirect', location: `http://${generationHost(input.live, host.port)}${input.url}` };
  }
  if (pinned !== null) return { kind: 'proxy', generation: pinned, pin: false };
  if (input.live === null) return { kind: 'unavailable', page };
  // Session affinity pins browsers (page loads and whatever else sends cookies); a bare-host API call in
  // tab mode simply goes to the live generation.
  return { kind: 'proxy', generation: input.live, pin: !generationHosts };
}
