// Faults: workers that fail mid-request, never become ready or hang their build; a taken port; a gateway killed
// outright; clients that abort midway; and a flood of malformed and hostile requests. Each scenario prints
// what it measured.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  connectionsTo,
  copyApp,
  openSocket,
  openStream,
  pidAlive,
  REPO,
  RunningGateway,
  runCli,
  taggedProcesses,
  waitFor,
} from '../support/gateway';
import { get, within } from './client';
import { fdCount } from './proc';

const APP = path.join(REPO, 'test', 'reliability', 'app');
const API = { Accept: 'application/json' };
const PAGE = { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' };

/** The app with every process it starts marked `BATON_RELIABILITY=<tag>`, so a test can find them all. */
function taggedApp(overrides: Record<string, unknown> = {}): { dir: string; tag: string } {
  const tag = randomBytes(6).toString('hex');
  return { dir: copyApp(APP, { ...overrides, env: { BATON_RELIABILITY: tag } }), tag };
}

describe('a worker that fails mid-request', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(copyApp(APP), ['--no-watch']);
  });
  after(() => gw.dispose());

  it('a dropped connection gives that one request a clear 502 and the others their answers', async (t) => {
    const host = gw.host(1);
    const [api, page, ...others] = await Promise.all([
      get(gw.port, '/hangup', { Host: host, ...API }),
      get(gw.port, '/hangup', { Host: host, ...PAGE }),
      ...Array.from({ length: 20 }, () => get(gw.port, '/api', { Host: host, ...API })),
    ]);
    t.diagnostic(`dropped: ${api.status} ${api.body}`);
    t.diagnostic(
      `dropped page: ${page.status}, ${page.body.length} bytes of HTML; the 20 others: ${others.map((r) => r.status).join(' ')}`,
    );
    assert.equal(api.status, 502);
    assert.equal(api.headers['x-baton-generation'], '1');
    assert.match(JSON.parse(api.body).error, /generation 1 failed to answer/);
    assert.equal(page.status, 502);
    assert.match(page.body, /Generation 1 did not answer/);
    assert.ok(others.every((r) => r.status === 200 && JSON.parse(r.body).generation === 1));
  });

  it('a body cut off halfway ends the answer at once instead of leaving the client waiting', async (t) => {
    const started = Date.now();
    const outcome = await within(
      5000,
      'the cut-off answer',
      new Promise<string>((resolve) => {
        http.get(
          { host: '127.0.0.1', port: gw.port, path: '/partial', headers: { Host: gw.host(1) }, agent: false },
          (res) => {
            res.on('data', () => undefined);
            res.on('error', (err) => resolve(`${res.statusCode}, then ${err.message}`));
            res.on('end', () => resolve(`${res.statusCode}, complete (${res.complete})`));
          },
        );
      }),
    );
    const ms = Date.now() - started;
    t.diagnostic(`cut-off answer: ${outcome} after ${ms} ms`);
    assert.match(outcome, /^200, then aborted/);
  });

  it('a worker that exits mid-request: that request gets a 502, the older generation keeps serving, a deploy recovers', async (t) => {
    const hold = await openStream(gw.port, { path: '/events', host: gw.host(1) }); // keeps gen 1 running
    await gw.client!.deploy();
    await gw.waitState('gen 2 live', (s) => s.live === 2, 20_000);
    const crash = await get(gw.port, '/exit', { Host: gw.host(2), ...API });
    const state = await gw.waitState(
      'gen 2 crashed',
      (s) => s.generations.find((g) => g.id === 2)?.state === 'crashed',
    );
    const old = await get(gw.port, '/api', { Host: gw.host(1), ...API });
    const bare = await get(gw.port, '/api', { Host: `localhost:${gw.port}`, ...API });
    const eventsBefore = hold.chunks.length;
    t.diagnostic(`crashing request: ${crash.status} ${crash.body}`);
    t.diagnostic(
      `gen 2: ${state.generations.find((g) => g.id === 2)?.reason}; gen 1: ${old.status}; bare host: ${bare.status} ${bare.body}`,
    );
    assert.equal(crash.status, 502);
    assert.match(JSON.parse(crash.body).error, /generation 2 failed to answer/);
    assert.equal(old.status, 200);
    await waitFor("gen 1's event stream going on", () => hold.chunks.length > eventsBefore, 20_000);
    assert.equal(bare.status, 503);
    await gw.client!.deploy();
    await gw.waitState('gen 3 live', (s) => s.live === 3, 20_000);
    assert.equal((await get(gw.port, '/api', { Host: `localhost:${gw.port}`, ...API })).status, 200);
    hold.abort();
  });
});

describe('a worker that never becomes ready', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(copyApp(APP, { ready: { path: '/api', timeoutSeconds: 2 } }), [
      '--no-watch',
    ]);
  });
  after(() => gw.dispose());

  it('fails its generation after the readiness timeout, stops its worker, and the live one keeps serving', async (t) => {
    fs.writeFileSync(path.join(gw.dir, 'no-listen'), '');
    const started = Date.now();
    const { id } = await gw.client!.deploy();
    const state = await gw.waitState(
      `gen ${id} failed`,
      (s) => s.generations.find((g) => g.id === id)?.state === 'failed',
      20_000,
    );
    const ms = Date.now() - started;
    const gen = state.generations.find((g) => g.id === id)!;
    const logged = /worker \{"generation":\d+,"pid":(\d+)\} will never listen/.exec(
      await gw.client!.logs(id),
    );
    const pids = [gen.pid!, Number(logged?.[1])];
    await waitFor('its processes gone', () => !pids.some(pidAlive), 3000);
    const answer = await get(gw.port, '/api', { Host: `localhost:${gw.port}`, ...API });
    t.diagnostic(
      `gen ${id} failed after ${ms} ms: ${gen.reason}; processes ${pids.join(', ')} gone; live: gen ${state.live}`,
    );
    assert.ok(logged, 'the worker logged its pid');
    assert.match(gen.reason!, /did not answer GET \/api on \$PORT within 2 s/);
    assert.equal(state.live, 1);
    assert.equal(JSON.parse(answer.body).generation, 1);
  });
});

describe('a build that hangs', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(copyApp(APP, { buildTimeoutSeconds: 1 }), ['--no-watch']);
  });
  after(() => gw.dispose());

  it('is stopped after the build timeout with its children, its generation failed, the live one serving', async (t) => {
    fs.writeFileSync(path.join(gw.dir, 'hang-build'), '');
    const started = Date.now();
    const { id } = await gw.client!.deploy();
    const state = await gw.waitState(
      `gen ${id} failed`,
      (s) => s.generations.find((g) => g.id === id)?.state === 'failed',
      20_000,
    );
    const ms = Date.now() - started;
    const pids = fs.readFileSync(path.join(gw.dir, 'build.pids'), 'utf8').trim().split(' ').map(Number);
    await waitFor('the build and its child gone', () => !pids.some(pidAlive), 3000);
    const reason = state.generations.find((g) => g.id === id)!.reason!;
    t.diagnostic(`gen ${id} failed after ${ms} ms: ${reason}; build processes ${pids.join(', ')} gone`);
    assert.match(reason, /build timed out after 1 s/);
    assert.equal(state.live, 1);
    assert.equal((await get(gw.port, '/api', { Host: `localhost:${gw.port}`, ...API })).status, 200);
  });
});

describe('the gateway itself', () => {
  it('refuses a port that is taken with one clear line, and starts nothing', async (t) => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const { dir, tag } = taggedApp();
    try {
      const started = Date.now();
      const result = await within(
        15_000,
        'baton up on a taken port',
        runCli(['up', dir, '--port', String(port)]),
      );
      t.diagnostic(`exit ${result.code} after ${Date.now() - started} ms: ${result.stderr.trim()}`);
      assert.notEqual(result.code, 0);
      assert.equal(result.stderr.trim().split('\n').length, 1);
      assert.match(result.stderr, new RegExp(`port ${port} .*already in use`));
      assert.ok(!fs.existsSync(path.join(dir, '.baton', 'gateway.json')));
      assert.deepEqual(taggedProcesses(`BATON_RELIABILITY=${tag}`), []);
    } finally {
      blocker.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGKILLed, leaves no worker behind after 2 s', async (t) => {
    const { dir, tag } = taggedApp();
    const gw = await RunningGateway.start(dir, ['--no-watch']);
    try {
      const hold = await openStream(gw.port, { path: '/events', host: gw.host(1) }); // gen 1 drains, running
      await gw.client!.deploy();
      await gw.waitState('gen 2 live', (s) => s.live === 2, 20_000);
      const workers = taggedProcesses(`BATON_RELIABILITY=${tag}`);
      const killed = Date.now();
      gw.child.kill('SIGKILL');
      const gone = await waitFor(
        'every worker gone',
        () => taggedProcesses(`BATON_RELIABILITY=${tag}`).length === 0,
        2000,
      )
        .then(() => Date.now() - killed)
        .catch(() => null);
      t.diagnostic(
        `${workers.length} worker processes (2 generations); ${gone === null ? `still there after 2 s: ${taggedProcesses(`BATON_RELIABILITY=${tag}`).join(', ')}` : `all gone ${gone} ms after the SIGKILL`}`,
      );
      hold.abort();
      assert.ok(workers.length >= 4, `expected a shell and a node per generation, found ${workers.length}`);
      assert.notEqual(gone, null);
    } finally {
      await gw.dispose();
    }
  });
});

describe('clients that abort midway', () => {
  let gw: RunningGateway;
  let workerPort: number;
  let gatewayFds: number;
  before(async () => {
    gw = await RunningGateway.start(copyApp(APP), ['--no-watch']);
    workerPort = (await gw.generation(1))!.port!;
    // Start from no connection at all to the worker (the readiness probe's closes after its keep-alive
    // timeout), so that every connection counted below is one of the test's.
    await waitFor('no connection to the worker', () => connectionsTo(workerPort) === 0, 15_000);
    gatewayFds = fdCount(gw.child.pid!);
  });
  after(() => gw.dispose());

  /**
   * Waits until the worker has no connection left; resolves with the ms that took. After an aborted answer undici
   * opens one spare keep-alive connection (the aborted request goes back to its queue until a connection finds
   * it aborted), which closes after the worker's keep-alive timeout less 2 s: about 3 s.
   */
  const settled = async () => {
    const started = Date.now();
    await waitFor('every connection to the worker closed', () => connectionsTo(workerPort) === 0, 15_000);
    return Date.now() - started;
  };

  it('event streams aborted after their first event close their upstream connections', async (t) => {
    const streams = await Promise.all(
      Array.from({ length: 50 }, () => openStream(gw.port, { path: '/events', host: gw.host(1) })),
    );
    await waitFor('a first event on every stream', () => streams.every((s) => s.chunks.length > 0));
    const open = connectionsTo(workerPort);
    for (const s of streams) s.abort();
    const ms = await settled();
    t.diagnostic(
      `connections to the worker: 0, ${open} with 50 streams, 0 again ${ms} ms after they were aborted`,
    );
    // One upstream connection per stream at least (under load undici may open a spare one or two).
    assert.ok(open >= 50, `${open} connections for 50 streams`);
  });

  it('WebSocket upgrades abandoned while the worker is still answering leave nothing open', async (t) => {
    const key = randomBytes(16).toString('base64');
    const upgrade = `GET /ws-slow HTTP/1.1\r\nHost: ${gw.host(1)}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`;
    const sockets = Array.from({ length: 50 }, () =>
      net.connect(gw.port, '127.0.0.1').on('error', () => undefined),
    );
    for (const s of sockets) s.write(upgrade);
    // The worker answers them after 5 s: the clients leave while every upgrade is still pending.
    await waitFor('the upgrades at the worker', () => connectionsTo(workerPort) === 50, 4000);
    for (const s of sockets) s.destroy();
    const ms = await settled();
    t.diagnostic(
      `connections to the worker: 0, 50 with upgrades pending, 0 again ${ms} ms after the clients left`,
    );
  });

  it('open WebSockets dropped without a close frame close their upstream connections', async (t) => {
    const sockets = await Promise.all(
      Array.from({ length: 50 }, () => within(10_000, 'WebSocket', openSocket(gw.port, gw.host(1), '/ws'))),
    );
    const open = connectionsTo(workerPort);
    for (const s of sockets) s.ws.terminate();
    const ms = await settled();
    const fds = await waitFor(
      'the gateway back to its descriptors',
      () => (fdCount(gw.child.pid!) <= gatewayFds + 10 ? fdCount(gw.child.pid!) : null),
      5000,
    );
    t.diagnostic(
      `connections to the worker: 0, ${open} with 50 WebSockets, 0 again ${ms} ms after they were dropped; gateway fds ${gatewayFds} → ${fds}`,
    );
    assert.equal(open, 50);
  });
});

describe('10,000 malformed and hostile requests', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(copyApp(APP), ['--no-watch']);
  });
  after(() => gw.dispose());

  /** Sends raw bytes; resolves with the answer's status code, "closed" (no answer) or "timeout" (held open). */
  function hostile(data: string | Buffer, how: 'wait' | 'half-close' | 'abort' = 'wait'): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(gw.port, '127.0.0.1');
      let head = '';
      const done = (result: string) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(result);
      };
      const timer = setTimeout(() => done('timeout'), 5000);
      socket.setEncoding('latin1');
      socket.on('data', (text: string) => {
        head += text;
        const line = head.indexOf('\r\n');
        if (line >= 0) done(head.slice(0, line).split(' ')[1] ?? 'garbage');
      });
      socket.on('error', () => undefined);
      socket.on('close', () => done('closed'));
      if (how === 'half-close') socket.end(data);
      else socket.write(data);
      if (how === 'abort') setTimeout(() => done('aborted'), 10);
    });
  }

  it(
    'keeps serving, answers each with a clear status or closes it, and leaks no descriptor',
    { timeout: 240_000 },
    async (t) => {
      const pid = gw.child.pid!;
      const fdsBefore = fdCount(pid);
      const g1 = gw.host(1);
      let seed = 7;
      const noise = (n: number) =>
        Buffer.from(
          Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) % 2147483648) & 0xff),
        );
      const kinds: Array<[string, () => Promise<string>]> = [
        ['foreign Host', () => hostile('GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n')],
        ['no Host', () => hostile('GET / HTTP/1.1\r\n\r\n')],
        ['malformed Host', () => hostile('GET / HTTP/1.1\r\nHost: local host:1/x\r\n\r\n')],
        ['huge Host', () => hostile(`GET / HTTP/1.1\r\nHost: ${'g'.repeat(5000)}.localhost\r\n\r\n`)],
        [
          'huge headers',
          () => hostile(`GET / HTTP/1.1\r\nHost: ${g1}\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`),
        ],
        ['garbage bytes', () => hostile(noise(300))],
        ['garbage request line', () => hostile('\x16\x03\x01 BLAH \x00\x01\r\n\r\n')],
        ['absolute URL', () => hostile(`GET http://evil.example/ HTTP/1.1\r\nHost: ${g1}\r\n\r\n`)],
        [
          'smuggling',
          () =>
            hostile(
              `POST /echo HTTP/1.1\r\nHost: ${g1}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
            ),
        ],
        ['control characters', () => hostile(`GET / HTTP/1.1\r\nHost: ${g1}\r\nX-A: b\x00c\r\n\r\n`)],
        ['bad version', () => hostile(`GET / HTTP/7.0\r\nHost: ${g1}\r\n\r\n`)],
        ['truncated headers', () => hostile(`GET /api HTTP/1.1\r\nHost: ${g1}\r\nAcc`, 'half-close')],
        [
          'aborted upload',
          () =>
            hostile(
              `POST /echo HTTP/1.1\r\nHost: ${g1}\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`,
              'abort',
            ),
        ],
        [
          'WebSocket, foreign Host',
          () =>
            hostile(
              'GET /ws HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
            ),
        ],
        [
          'control events, no token',
          () =>
            hostile(
              `GET /__baton/api/events HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
            ),
        ],
        [
          'aborted WebSocket upgrade',
          () =>
            hostile(
              `GET /ws-slow HTTP/1.1\r\nHost: ${g1}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
              'abort',
            ),
        ],
        [
          'odd path',
          () => hostile(`GET /__baton/../%%%/..%2f..%2fetc/passwd HTTP/1.1\r\nHost: ${g1}\r\n\r\n`),
        ],
      ];
      const tally = new Map<string, Map<string, number>>();
      const count = (kind: string, result: string) => {
        const byResult = tally.get(kind) ?? new Map<string, number>();
        tally.set(kind, byResult.set(result, (byResult.get(result) ?? 0) + 1));
      };

      // Slow-loris: 100 connections that dribble a header byte every 300 ms while the flood and real requests run.
      const loris = Array.from({ length: 100 }, () =>
        net.connect(gw.port, '127.0.0.1').on('error', () => undefined),
      );
      const dribble = `GET / HTTP/1.1\r\nHost: ${g1}\r\nX-Slow: ${'s'.repeat(1000)}`;
      let dribbled = 0;
      const lorisTimer = setInterval(() => {
        for (const s of loris) if (!s.destroyed) s.write(dribble[dribbled % dribble.length]);
        dribbled++;
      }, 300);

      const TOTAL = 10_000 - loris.length;
      let sent = 0;
      let served = 0;
      let slowest = 0;
      const started = Date.now();
      const lane = async () => {
        while (sent < TOTAL) {
          const i = sent++;
          const [kind, send] = kinds[i % kinds.length];
          count(kind, await send());
          if (i % 500 === 0) {
            const t0 = Date.now();
            const answer = await get(gw.port, '/api', { Host: g1, ...API });
            slowest = Math.max(slowest, Date.now() - t0);
            assert.equal(answer.status, 200, 'a real request during the flood');
            served++;
          }
        }
      };
      await Promise.all(Array.from({ length: 50 }, lane));
      clearInterval(lorisTimer);
      const lorisOpen = loris.filter((s) => !s.destroyed).length;
      for (const s of loris) s.destroy();
      const floodMs = Date.now() - started;

      // Idle keep-alive connections to the worker close once its keep-alive timeout passes; then count.
      const workerPort = (await gw.generation(1))!.port!;
      await waitFor('idle connections to the worker closed', () => connectionsTo(workerPort) === 0, 20_000);
      const fdsAfter = fdCount(pid);
      const final = await get(gw.port, '/api', { Host: g1, ...API });

      for (const [kind, byResult] of tally)
        t.diagnostic(`${kind.padEnd(26)} ${[...byResult].map(([r, n]) => `${r}×${n}`).join(' ')}`);
      t.diagnostic(
        `${TOTAL} hostile requests + ${loris.length} slow-loris connections (${lorisOpen} still open after ${floodMs} ms, ${dribbled} bytes each) in ${floodMs} ms`,
      );
      t.diagnostic(
        `${served} real requests during the flood, slowest ${slowest} ms; gateway fds ${fdsBefore} → ${fdsAfter}; alive: ${pidAlive(pid)}`,
      );

      assert.ok(pidAlive(pid), 'the gateway is alive');
      assert.equal(final.status, 200);
      assert.ok(
        ![...tally.values()].some((byResult) => byResult.has('timeout')),
        'no hostile connection was held open for 5 s',
      );
      assert.ok(Math.abs(fdsAfter - fdsBefore) <= 10, `gateway fds ${fdsBefore} → ${fdsAfter}`);
    },
  );
});
