import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { hasWorker, isRunning } from '../../gateway/protocol/states';
import type {
  GatewayState,
  GenerationInfo,
  GenerationState,
  SessionInfo,
} from '../../gateway/protocol/types';
import {
  browserName,
  busyGenerations,
  formatBytes,
  formatDuration,
  finishedGenerations,
  generationChildren,
  generationDescription,
  generationNode,
  generationTooltip,
  rootNodes,
  summarize,
  type GatewaySnapshot,
} from '../../extension/treeModel';

const NOW = Date.parse('2026-01-10T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

function generation(id: number, state: GenerationState, extra: Partial<GenerationInfo> = {}): GenerationInfo {
  const worker = hasWorker(state);
  return {
    id,
    state,
    pid: worker ? 1000 + id : null,
    port: worker ? 40000 + id : null,
    sessions: 0,
    tabs: 0,
    inflight: 0,
    createdAt: ago(600),
    readyAt: isRunning(state) ? ago(590) : null,
    stoppedAt: worker || state === 'building' ? null : ago(10),
    exitCode: null,
    reason: null,
    unsavedFiles: [],
    ...extra,
  };
}

function session(
  id: string,
  gen: number,
  tabs: number,
  seenSecondsAgo: number,
  userAgent: string,
): SessionInfo {
  return {
    id,
    generation: gen,
    tabs,
    lastSeen: ago(seenSecondsAgo),
    userAgent,
    firstPath: null,
    createdAt: ago(60),
  };
}

const CHROME_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';

function state(
  generations: GenerationInfo[],
  sessions: SessionInfo[] = [],
  extra: Partial<GatewayState> = {},
) {
  const live = generations.find((g) => g.state === 'live')?.id ?? null;
  return {
    root: '/app',
    port: 8080,
    affinity: 'tab',
    live,
    watching: true,
    watchError: null,
    missedChanges: [],
    generations,
    sessions,
    configError: null,
    configRestart: [],
    ...extra,
  } as GatewayState;
}

const snapshot = (s: GatewayState, folder = '/app', name = 'app'): GatewaySnapshot => ({
  folder,
  name,
  state: s,
});

describe('rootNodes', () => {
  test('one gateway: its URL, the generations at work newest first, the finished ones folded', () => {
    const [url, ...nodes] = rootNodes([
      snapshot(
        state([
          generation(1, 'stopped', { reason: 'no sessions left' }),
          generation(3, 'live', { sessions: 2, tabs: 3 }),
          generation(2, 'draining', { sessions: 1, tabs: 0, inflight: 1 }),
          generation(4, 'building'),
        ]),
      ),
    ]);
    assert.deepEqual(
      nodes.map((n) => [n.label, n.description, n.icon.id, n.contextValue, n.collapsible]),
      [
        ['generation 4', 'building', 'loading~spin', 'generation.building', 'none'],
        ['generation 3', 'live · 2 sessions · 3 tabs', 'circle-filled', 'generation.live', 'expanded'],
        [
          'generation 2',
          'draining · 1 session · 0 tabs · 1 request',
          'history',
          'generation.draining',
          'expanded',
        ],
        ['1 finished generation', '1 stopped', 'archive', 'finished', 'collapsed'],
      ],
    );
    assert.deepEqual(
      [url.kind, url.label, url.description, url.command],
      ['url', 'http://localhost:8080/', 'open generation 3', 'baton.openInBrowser'],
    );
    assert.equal(nodes[1].icon.color, 'charts.green');
    assert.deepEqual(
      nodes.slice(0, 3).map((n) => [n.kind, n.folder, n.generation, n.id]),
      [4, 3, 2].map((id) => ['generation', '/app', id, `/app#${id}`]),
    );
  });

  test('finished generations: newest first; cleared ones hidden until a newer one finishes', () => {
    const s = snapshot(state([generation(1, 'stopped'), generation(2, 'failed'), generation(3, 'live')]));
    assert.deepEqual(
      finishedGenerations(s).map((g) => g.id),
      [2, 1],
    );
    assert.equal(rootNodes([s]).at(-1)?.description, '1 failed · 1 stopped');
    assert.deepEqual(
      rootNodes([s], new Map([['/app', 2]])).map((n) => n.kind),
      ['url', 'generation'],
    );
  });

  test('saves made while deploy on save is off are marked, with a click to deploy them', () => {
    const [, pending] = rootNodes([
      { ...snapshot(state([generation(1, 'live')], [], { watching: false })), pendingSaves: 2 },
    ]);
    assert.deepEqual(
      [pending.kind, pending.label, pending.command],
      ['pending', '2 saves not deployed', 'baton.deploy'],
    );
  });

  test('failed and crashed generations show the first line of their reason, shortened', () => {
    const long = `build exited with code 2: ${'x'.repeat(100)}\nsecond line`;
    const s = snapshot(
      state([generation(1, 'failed', { reason: long }), generation(2, 'crashed', { exitCode: 1 })]),
    );
    const [crashed, failed] = finishedGenerations(s).map((g) => generationNode('/app', g));
    assert.equal(crashed.description, 'crashed');
    assert.deepEqual(
      [crashed.icon.id, failed.icon.id],
      ['flame', 'error'],
      'crashed and failed look different',
    );
    assert.match(failed.description, /^failed · build exited with code 2: x+…$/);
    assert.equal(failed.description.length, 'failed · '.length + 60);
    assert.ok(!failed.description.includes('second line'));
  });

  test('several gateways: one node per workspace folder', () => {
    const nodes = rootNodes([
      snapshot(state([generation(2, 'live')]), '/a', 'shop'),
      snapshot(state([generation(1, 'building')], [], { port: 8081 }), '/b', 'blog'),
    ]);
    assert.deepEqual(
      nodes.map((n) => [n.kind, n.label, n.description, n.contextValue]),
      [
        ['gateway', 'shop', 'http://localhost:8080/ · gen 2 live', 'gateway'],
        ['gateway', 'blog', 'http://localhost:8081/ · no live generation', 'gateway'],
      ],
    );
  });

  test('no gateway: no nodes (the welcome view shows instead)', () => {
    assert.deepEqual(rootNodes([]), []);
  });
});

describe('generationChildren', () => {
  const gens = [
    generation(1, 'draining', { sessions: 1, tabs: 1 }),
    generation(2, 'live', { sessions: 2, tabs: 3 }),
  ];
  const sessions = [
    session('aaaaaaaaaaaa', 2, 1, 120, FIREFOX_UA),
    session('bbbbbbbbbbbb', 1, 1, 5, CHROME_UA),
    { ...session('cccccccccccc', 2, 2, 0, CHROME_UA), firstPath: '/cart' },
  ];
  const s = state(gens, sessions);

  test('the worker first (pid, port, uptime, memory), then its own sessions, most recent first', () => {
    const nodes = generationChildren('/app', s, gens[1], { now: NOW, memoryBytes: 52_428_800 });
    assert.deepEqual(
      nodes.map((n) => [n.kind, n.label, n.description, n.icon.id]),
      [
        ['worker', 'worker', 'pid 1002 · port 40002 · up 9m 50s · 50.0 MB', 'server-process'],
        ['session', 'Chrome · /cart', '2 tabs · started 1m 0s ago · seen just now', 'globe'],
        ['session', 'Firefox session', '1 tab · started 1m 0s ago · seen 2m 0s ago', 'globe'],
      ],
    );
    assert.equal(new Set(nodes.map((n) => n.id)).size, 3);
    assert.ok(nodes.every((n) => n.generation === 2 && n.collapsible === 'none'));
    assert.match(nodes[2].tooltip ?? '', /user agent: .*Firefox/);
  });

  test('without a memory reading the worker leaves memory out', () => {
    const [worker] = generationChildren('/app', s, gens[0], { now: NOW, memoryBytes: null });
    assert.equal(worker.description, 'pid 1001 · port 40001 · up 9m 50s');
  });

  test('a stopped generation has no worker and no sessions', () => {
    const stopped = generation(3, 'stopped');
    assert.deepEqual(
      generationChildren('/app', state([stopped]), stopped, { now: NOW, memoryBytes: null }),
      [],
    );
  });
});

describe('generationTooltip', () => {
  test('a running generation: pid, port, uptime, memory, started', () => {
    const tip = generationTooltip(generation(2, 'live', { sessions: 1, tabs: 1 }), {
      now: NOW,
      memoryBytes: 3 << 20,
    });
    assert.match(tip, /^\*\*Generation 2\*\* · live · 1 session · 1 tab {2}\n/);
    for (const expected of [
      /pid: 1002/,
      /port: 40002/,
      /uptime: 9m 50s/,
      /memory: 3\\\.0 MB/,
      /started: /,
      /ready: /,
    ]) {
      assert.match(tip, expected);
    }
  });

  test('a failed generation: the reason, with Markdown escaped, and no process facts', () => {
    const tip = generationTooltip(generation(5, 'failed', { reason: 'exit *2* <b>' }), {
      now: NOW,
      memoryBytes: null,
    });
    assert.match(tip, /reason: exit \\\*2\\\* \\<b\\>/);
    assert.doesNotMatch(tip, /pid|uptime|memory/);
  });
});

test('a generation with more sessions than the state lists ends its list with how many more', () => {
  const g = generation(2, 'live', { sessions: 250 });
  const listed = [session('a', 2, 1, 5, ''), session('b', 2, 0, 1, '')];
  const nodes = generationChildren('/app', state([g], listed), g, { now: Date.now(), memoryBytes: null });
  assert.deepEqual(
    nodes.map((n) => n.kind),
    ['worker', 'session', 'session', 'session'],
  );
  assert.equal(nodes.at(-1)!.label, '248 more sessions');
  assert.equal(nodes.at(-1)!.description, 'not seen as recently as those above');
  assert.equal(summarize([snapshot(state([g], listed))]).sessions, 250, "the count is the generation's own");
});

describe('summarize', () => {
  test('one gateway: the live generation and the session count', () => {
    const s = state(
      [generation(3, 'live', { sessions: 2 })],
      [session('a', 3, 1, 0, ''), session('b', 3, 2, 0, '')],
    );
    const summary = summarize([snapshot(s)]);
    assert.equal(summary.text, '$(layers) gen 3 · 2 sessions');
    assert.equal(summary.sessions, 2);
    assert.equal(summary.tooltip, 'app: generation 3 live on port 8080, 2 sessions, deploy on save on');
  });

  test('no live generation yet: what is being built', () => {
    const summary = summarize([snapshot(state([generation(1, 'building')], [], { watching: false }))]);
    assert.equal(summary.text, '$(layers) gen 1 building · 0 sessions');
    assert.match(summary.tooltip, /no live generation.*deploy on save off/);
  });

  test('deploy on save that stopped by itself says why', () => {
    const why = 'deploy on save is off: the system limit of file watches is reached';
    const s = state([generation(1, 'live')], [], { watching: false, watchError: why });
    assert.match(summarize([snapshot(s)]).tooltip, /deploy on save is off: the system limit/);
  });

  test('several gateways and none', () => {
    const one = state([generation(1, 'live', { sessions: 1 })], [session('a', 1, 1, 0, '')]);
    assert.equal(
      summarize([snapshot(one, '/a'), snapshot(one, '/b')]).text,
      '$(layers) 2 gateways · 2 sessions',
    );
    assert.equal(summarize([]).text, '$(layers) Baton');
    assert.equal(summarize([]).sessions, 0);
  });
});

test('busyGenerations lists building and starting generations of every gateway, oldest first', () => {
  const a = state([generation(2, 'starting'), generation(1, 'live'), generation(3, 'building')]);
  const b = state([generation(1, 'failed')]);
  assert.deepEqual(busyGenerations([snapshot(a, '/a', 'a'), snapshot(b, '/b', 'b')]), [
    { folder: '/a', name: 'a', id: 2, state: 'starting' },
    { folder: '/a', name: 'a', id: 3, state: 'building' },
  ]);
});

// A starting generation takes no traffic yet: it is not running (the gateway's meaning), so no counts.
test('generationDescription leaves counts out while nothing runs', () => {
  assert.equal(generationDescription(generation(1, 'building')), 'building');
  assert.equal(generationDescription(generation(1, 'starting')), 'starting');
  assert.equal(generationDescription(generation(1, 'draining')), 'draining · 0 sessions · 0 tabs');
});

test('browserName', () => {
  const cases: [string, string][] = [
    [CHROME_UA, 'Chrome'],
    [FIREFOX_UA, 'Firefox'],
    [`${CHROME_UA} Edg/124.0.2478.51`, 'Edge'],
    [CHROME_UA.replace('Chrome/', 'HeadlessChrome/'), 'Headless Chrome'],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
      'Safari',
    ],
    ['curl/8.5.0', 'curl'],
    ['node', 'Node.js'],
    ['MyBot/1.0 (+https://example.com)', 'MyBot'],
    ['', 'unknown client'],
  ];
  for (const [ua, name] of cases) assert.equal(browserName(ua), name, ua);
});

test('formatDuration and formatBytes', () => {
  assert.deepEqual([0, 59_999, 60_000, 3_599_000, 3_600_000, 90_000_000, -5].map(formatDuration), [
    '0s',
    '59s',
    '1m 0s',
    '59m 59s',
    '1h 0m',
    '1d 1h',
    '0s',
  ]);
  assert.deepEqual([512_000, 52_428_800, 3 * 1024 ** 3].map(formatBytes), ['500 KB', '50.0 MB', '3.00 GB']);
});

// The menus in package.json match contextValue with regular expressions: check that each state gets
// exactly the inline actions the design asks for.
test('package.json item menus fit the contextValues', () => {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as {
    contributes: { menus: Record<string, { command: string; when: string; group?: string }[]> };
  };
  const inline = manifest.contributes.menus['view/item/context'].filter((m) => m.group?.startsWith('inline'));
  const actionsFor = (contextValue: string) =>
    inline
      .filter((m) => {
        const viewItem = /viewItem (==|=~) (\S+)/.exec(m.when);
        assert.ok(viewItem, m.when);
        if (viewItem[1] === '==') return viewItem[2] === contextValue;
        const [, source, flags] = /^\/(.*)\/(\w*)$/.exec(viewItem[2]) ?? [];
        return new RegExp(source, flags).test(contextValue);
      })
      .map((m) => m.command.replace('baton.', ''))
      .sort();
  const nodeFor = (g: GenerationInfo) => generationNode('/app', g).contextValue;
  const expected: Record<GenerationState, string[]> = {
    building: ['killWorker'],
    starting: ['killWorker', 'openGeneration'],
    live: ['killWorker', 'openGeneration'],
    draining: ['killWorker', 'openGeneration', 'promote'],
    stopped: [],
    failed: [],
    crashed: [],
  };
  for (const [s, actions] of Object.entries(expected)) {
    assert.deepEqual(actionsFor(nodeFor(generation(1, s as GenerationState))), actions, s);
  }
  assert.deepEqual(actionsFor('gateway'), ['deploy', 'openInBrowser', 'stopGateway']);
  assert.deepEqual(actionsFor('worker'), []);
  assert.deepEqual(actionsFor('finished'), ['clearFinished']);
  assert.deepEqual(actionsFor('url'), []);
});
