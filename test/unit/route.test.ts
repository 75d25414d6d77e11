// Which generation gets a request (README, "How it works"): the pure decision in gateway/http/route.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseHost } from '../../gateway/http/hosts';
import { isNavigation, resolvesLocalhostSubdomains, route, type RouteInput } from '../../gateway/http/route';

const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
const IOS_CHROME =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const EDGE =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0';

/** Generations 1 and 2 exist; 1 drains, 2 is live, 3 stopped, 4 starting. */
const RUNNING = new Set([1, 2]);
const KNOWN = new Set([1, 2, 3, 4]);

function input(host: string, over: Partial<RouteInput> = {}): RouteInput {
  return {
    method: 'GET',
    url: '/cart?x=1',
    host: parseHost(host)!,
    accept: 'text/html,application/xhtml+xml',
    secFetchMode: 'navigate',
    userAgent: CHROME,
    pin: null,
    affinity: 'tab',
    forwarded: false,
    live: 2,
    isRunning: (n) => RUNNING.has(n),
    isPending: (n) => n === 4,
    isKnown: (n) => KNOWN.has(n),
    closedTo: () => false,
    ...over,
  };
}

const api = { accept: 'application/json', secFetchMode: 'cors' };

describe('isNavigation', () => {
  test('Sec-Fetch-Mode decides when present', () => {
    assert.equal(isNavigation('GET', 'navigate', undefined), true);
    assert.equal(isNavigation('GET', 'cors', 'text/html'), false);
    assert.equal(isNavigation('GET', 'no-cors', 'text/html'), false);
    assert.equal(isNavigation('GET', 'websocket', undefined), false);
  });

  test('without it, an Accept that prefers HTML', () => {
    assert.equal(isNavigation('GET', undefined, 'text/html,application/xhtml+xml,*/*;q=0.8'), true);
    assert.equal(isNavigation('GET', undefined, 'application/json, text/html'), false);
    assert.equal(isNavigation('GET', undefined, 'text/html, application/json'), true);
    assert.equal(isNavigation('GET', undefined, '*/*'), false);
    assert.equal(isNavigation('GET', undefined, undefined), false);
  });

  test('only GET navigates ("GET, Sec-Fetch-Mode: navigate, or Accept preferring text/html")', () => {
    assert.equal(isNavigation('GET', 'navigate', 'text/html'), true);
    assert.equal(isNavigation('HEAD', 'navigate', 'text/html'), false);
    assert.equal(isNavigation('POST', 'navigate', 'text/html'), false);
    assert.equal(isNavigation('PUT', undefined, 'text/html'), false);
  });
});

describe('resolvesLocalhostSubdomains', () => {
  test('Chrome, Firefox, Edge and clients without a user agent do', () => {
    for (const ua of [CHROME, FIREFOX, EDGE, undefined, 'curl/8.5.0'])
      assert.equal(resolvesLocalhostSubdomains(ua), true, ua);
  });

  test('Safari and every iOS browser do not', () => {
    assert.equal(resolvesLocalhostSubdomains(SAFARI), false);
    assert.equal(resolvesLocalhostSubdomains(IOS_CHROME), false);
  });
});

describe('route with tab affinity', () => {
  test('a navigation on the bare host is redirected to the live generation, path and query kept', () => {
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080']) {
      assert.deepEqual(route(input(host)), {
        kind: 'redirect',
        location: 'http://g2.localhost:8080/cart?x=1',
      });
    }
  });

  test('the redirect keeps a portless host portless', () => {
    assert.deepEqual(route(input('localhost')), {
      kind: 'redirect',
      location: 'http://g2.localhost/cart?x=1',
    });
  });

  test('an API call on the bare host goes to the live generation, without a redirect or a pin', () => {
    assert.deepEqual(route(input('localhost:8080', api)), { kind: 'proxy', generation: 2, pin: false });
    assert.deepEqual(route(input('localhost:8080', { method: 'POST' })), {
      kind: 'proxy',
      generation: 2,
      pin: false,
    });
  });

  test('a gN host goes to generation N while it runs, page or not', () => {
    assert.deepEqual(route(input('g1.localhost:8080')), { kind: 'proxy', generation: 1, pin: false });
    assert.deepEqual(route(input('g1.localhost:8080', api)), { kind: 'proxy', generation: 1, pin: false });
    assert.deepEqual(route(input('g2.localhost:8080')), { kind: 'proxy', generation: 2, pin: false });
  });

  test("a page navigation to a stopped or unknown generation goes to the live one's hand-off, same path", () => {
    assert.deepEqual(route(input('g3.localhost:8080')), {
      kind: 'redirect',
      location: 'http://g2.localhost:8080/__baton/move?from=3&path=%2Fcart%3Fx%3D1',
    });
    assert.deepEqual(route(input('g42.localhost:8080')), {
      kind: 'redirect',
      location: 'http://g2.localhost:8080/__baton/move?from=42&path=%2Fcart%3Fx%3D1',
    });
  });

  test('other requests to a stopped generation are gone (known), to an unknown one gone (unknown)', () => {
    assert.deepEqual(route(input('g3.localhost:8080', api)), {
      kind: 'gone',
      generation: 3,
      known: true,
      page: false,
    });
    assert.deepEqual(route(input('g42.localhost:8080', api)), {
      kind: 'gone',
      generation: 42,
      known: false,
      page: false,
    });
  });

  test('a generation that is not live yet is pending, never gone', () => {
    assert.deepEqual(route(input('g4.localhost:8080')), { kind: 'pending', generation: 4, page: true });
    assert.deepEqual(route(input('g4.localhost:8080', { ...api, live: null })), {
      kind: 'pending',
      generation: 4,
      page: false,
    });
  });

  test('a page navigation to a gone generation gets the explaining page only when nothing is live', () => {
    assert.deepEqual(route(input('g3.localhost:8080', { live: null })), {
      kind: 'gone',
      generation: 3,
      known: true,
      page: true,
    });
  });

  test('no live generation: unavailable, as a page for navigations', () => {
    assert.deepEqual(route(input('localhost:8080', { live: null })), { kind: 'unavailable', page: true });
    assert.deepEqual(route(input('localhost:8080', { live: null, ...api })), {
      kind: 'unavailable',
      page: false,
    });
  });

  test('a browser that logged out of a draining generation is sent to the live one on its next navigation', () => {
    const loggedOut = { closedTo: (n: number) => n === 1 };
    assert.deepEqual(route(input('g1.localhost:8080', loggedOut)), {
      kind: 'redirect',
      location: 'http://g2.localhost:8080/cart?x=1',
    });
    // Its API calls and other tabs' requests are still served by generation 1 until it stops.
    assert.deepEqual(route(input('g1.localhost:8080', { ...loggedOut, ...api })), {
      kind: 'proxy',
      generation: 1,
      pin: false,
    });
    // Without a live generation there is nowhere better to go.
    assert.deepEqual(route(input('g1.localhost:8080', { ...loggedOut, live: null })), {
      kind: 'proxy',
      generation: 1,
      pin: false,
    });
  });

  test('the live generation itself never redirects a logged-out browser to itself', () => {
    assert.deepEqual(route(input('g2.localhost:8080', { closedTo: () => true })), {
      kind: 'proxy',
      generation: 2,
      pin: false,
    });
  });

  test('Safari on the bare host is not redirected: it is pinned (session affinity)', () => {
    assert.deepEqual(route(input('localhost:8080', { userAgent: SAFARI })), {
      kind: 'proxy',
      generation: 2,
      pin: true,
    });
    assert.deepEqual(route(input('localhost:8080', { userAgent: IOS_CHROME })), {
      kind: 'proxy',
      generation: 2,
      pin: true,
    });
    assert.deepEqual(route(input('localhost:8080', { userAgent: SAFARI, pin: 1 })), {
      kind: 'proxy',
      generation: 1,
      pin: false,
    });
  });

  test('a host that cannot carry a gN label (an allowed remote name) gets session affinity', () => {
    assert.deepEqual(route(input('dev.example.com')), { kind: 'proxy', generation: 2, pin: true });
    assert.deepEqual(route(input('dev.example.com', { pin: 1 })), {
      kind: 'proxy',
      generation: 1,
      pin: false,
    });
  });

  test('a pin does not override the redirect of a Chrome navigation on the bare host', () => {
    assert.deepEqual(route(input('localhost:8080', { pin: 1 })), {
      kind: 'redirect',
      location: 'http://g2.localhost:8080/cart?x=1',
    });
  });
});

describe('route with session affinity', () => {
  const session = { affinity: 'session' as const };

  test('no pin: the live generation, and pin it', () => {
    assert.deepEqual(route(input('localhost:8080', session)), { kind: 'proxy', generation: 2, pin: true });
    assert.deepEqual(route(input('localhost:8080', { ...session, ...api })), {
      kind: 'proxy',
      generation: 2,
      pin: true,
    });
  });

  test('a pin to a running generation keeps the browser there', () => {
    assert.deepEqual(route(input('localhost:8080', { ...session, pin: 1 })), {
      kind: 'proxy',
      generation: 1,
      pin: false,
    });
    assert.deepEqual(route(input('localhost:8080', { ...session, pin: 1, ...api })), {
      kind: 'proxy',
      generation: 1,
      pin: false,
    });
  });

  test('a pin to a stopped or unknown generation goes to the live one and re-pins', () => {
    assert.deepEqual(route(input('localhost:8080', { ...session, pin: 3 })), {
      kind: 'proxy',
      generation: 2,
      pin: true,
    });
    assert.deepEqual(route(input('localhost:8080', { ...session, pin: 99 })), {
      kind: 'proxy',
      generation: 2,
      pin: true,
    });
  });

  test('a pinned browser that logged out of its draining generation navigates to the live one', () => {
    const loggedOut = { ...session, pin: 1, closedTo: (n: number) => n === 1 };
    assert.deepEqual(route(input('localhost:8080', loggedOut)), { kind: 'proxy', generation: 2, pin: true });
    assert.deepEqual(route(input('localhost:8080', { ...loggedOut, ...api })), {
      kind: 'proxy',
      generation: 1,
      pin: false,
    });
  });

  test('a pin still works when nothing is live', () => {
    assert.deepEqual(route(input('localhost:8080', { ...session, pin: 1, live: null })), {
      kind: 'proxy',
      generation: 1,
      pin: false,
    });
    assert.deepEqual(route(input('localhost:8080', { ...session, live: null })), {
      kind: 'unavailable',
      page: true,
    });
  });

  test('gN hosts still go to generation N', () => {
    assert.deepEqual(route(input('g1.localhost:8080', { ...session, pin: 2 })), {
      kind: 'proxy',
      generation: 1,
      pin: false,
    });
  });
});

describe('forwarded access (a proxy whose port differs, e.g. code-server /proxy/N/)', () => {
  test('a page navigation is never redirected to gN.localhost: it is served and pinned', () => {
    assert.deepEqual(route(input('127.0.0.1:8443', { forwarded: true })), {
      kind: 'proxy',
      generation: 2,
      pin: true,
    });
  });

  test('a pinned browser keeps its generation while it runs', () => {
    assert.deepEqual(route(input('localhost:8443', { forwarded: true, pin: 1 })), {
      kind: 'proxy',
      generation: 1,
      pin: false,
    });
  });

  test('with no live generation it gets the "no live generation" page, not a redirect', () => {
    assert.deepEqual(route(input('localhost:8443', { forwarded: true, live: null })), {
      kind: 'unavailable',
      page: true,
    });
  });
});
