// The control API, the events WebSocket and the `baton` CLI (README, "Control API").
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readGatewayFile } from '../../gateway/protocol/controlClient';
import type { GatewayState } from '../../gateway/protocol/types';
import {
  Browser,
  closeSocket,
  openSocket,
  pidAlive,
  request,
  runCli,
  RunningGateway,
  taggedProcesses,
  tinyApp,
  waitFor,
  writeApp,
} from '../support/gateway';

/** The field names the state has; `watching`, `watchError`, `missedChanges`, `configError` and `configRestart` are Baton's additions (see README). */
const STATE_FIELDS = [
  'affinity',
  'configError',
  'configRestart',
  'generations',
  'live',
  'missedChanges',
  'port',
  'root',
  'sessions',
  'watchError',
  'watching',
];
const GENERATION_FIELDS = [
  'createdAt',
  'exitCode',
  'id',
  'inflight',
  'pid',
  'port',
  'readyAt',
  'reason',
  'sessions',
  'state',
  'stoppedAt',
  'tabs',
  'unsavedFiles',
];
const SESSION_FIELDS = ['createdAt', 'firstPath', 'generation', 'id', 'lastSeen', 'tabs', 'userAgent'];
const ORDER = ['building', 'starting', 'live', 'draining', 'stopped'];

const isIso = (value: unknown) => typeof value === 'string' && new Date(value).toISOString() === value;

/** One error line on stderr, nothing on stdout, and a non-zero exit. */
function assertOneLineError(
  result: { code: number | null; stdout: string; stderr: string },
  message: RegExp,
): void {
  assert.notEqual(result.code, 0);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, `one line, got:\n${result.stderr}`);
  assert.match(result.stderr.trimEnd(), message);
}

describe('control API, events and CLI against a running gateway', () => {
  let gw: RunningGateway;
  let token: string;
  const call = (method: string, p: string) =>
    request(gw.port, { method, path: `/__baton/api${p}`, headers: { Authorization: `Bearer ${token}` } });

  before(async () => {
    gw = await RunningGateway.start(tinyApp().dir, ['--no-watch']);
    token = readGatewayFile(gw.dir)!.token;
  });
  after(() => gw.dispose());

  it("baton up prints its URL and each generation's progress", () => {
    assert.match(gw.output, new RegExp(`baton    open http://localhost:${gw.port}/ `));
    assert.match(gw.output, /^gen 1  building$/m);
    assert.match(
      gw.output,
      new RegExp(`^gen 1  live      after \\d+\\.\\d+ s  →  http://g1\\.localhost:${gw.port}/$`, 'm'),
    );
  });

  it('GET /state has exactly the contract fields', async () => {
    const browser = new Browser(gw.port, gw.host(1));
    await browser.navigate('/');
    await browser.get('/info');
    const reply = await call('GET', '/state');
    assert.equal(reply.status, 200);
    assert.match(reply.headers['content-type']!, /^application\/json/);
    const state = JSON.parse(reply.body) as GatewayState;
    assert.deepEqual(Object.keys(state).sort(), STATE_FIELDS);
    assert.equal(state.root, fs.realpathSync(gw.dir));
    assert.equal(state.port, gw.port);
    assert.equal(state.affinity, 'tab');
    assert.equal(state.live, 1);
    assert.equal(state.watching, false);

    assert.equal(state.generations.length, 1);
    const gen = state.generations[0];
    assert.deepEqual(Object.keys(gen).sort(), GENERATION_FIELDS);
    assert.equal(gen.id, 1);
    assert.equal(gen.state, 'live');
    assert.ok(Number.isInteger(gen.pid) && pidAlive(gen.pid!));
    assert.ok(Number.isInteger(gen.port) && gen.port !== gw.port);
    assert.deepEqual([gen.sessions, gen.tabs, gen.inflight], [1, 0, 0]);
    assert.ok(isIso(gen.createdAt) && isIso(gen.readyAt) && gen.readyAt! >= gen.createdAt);
    assert.deepEqual([gen.stoppedAt, gen.exitCode, gen.reason], [null, null, null]);
    assert.deepEqual(gen.unsavedFiles, []);
    assert.deepEqual([state.configError, state.configRestart], [null, []]);

    assert.equal(state.sessions.length, 1);
    const session = state.sessions[0];
    assert.deepEqual(Object.keys(session).sort(), SESSION_FIELDS);
    assert.equal(session.generation, 1);
    assert.equal(session.tabs, 0);
    assert.ok(isIso(session.lastSeen));
    assert.equal(session.userAgent, browser.userAgent);
    assert.ok(
      !session.id.includes(browser.cookie('baton_sid')!),
      'the public id never holds the whole cookie',
    );
  });

  it('the events socket sends the full state first, then every change, and output with ?logs=1', async () => {
    const events = await openSocket(gw.port, `127.0.0.1:${gw.port}`, '/__baton/api/events?logs=1', {
      Authorization: `Bearer ${token}`,
    });
    await events.message();
    const first = JSON.parse(events.messages[0]) as GatewayState;
    assert.deepEqual(Object.keys(first).sort(), STATE_FIELDS);
    assert.equal(first.live, 1);
    assert.equal(first.sessions.length, 1);

    const deploy = await call('POST', '/deploy');
    assert.equal(deploy.status, 202);
    assert.deepEqual(JSON.parse(deploy.body), { id: 2 });
    await events.message<GatewayState>(
      (s) => s.live === 2 && s.generations.find((g) => g.id === 1)?.state === 'draining',
    );
    const states = events.messages.map((m) => JSON.parse(m)).filter((m) => !('log' in m)) as GatewayState[];
    const seen = states
      .map((s) => s.generations.find((g) => g.id === 2)?.state)
      .filter((s) => s !== undefined);
    assert.ok(seen.length >= 2, `gen 2 seen as ${seen}`);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)),
      `in lifecycle order: ${seen}`,
    );
    await events.message<{ log?: { generation: number; text: string } }>(
      (m) => m.log?.generation === 2 && m.log.text.includes('tiny worker 2 listening'),
    );
    await closeSocket(events.ws);
  });

  it('promote and kill answer 200; bad calls get 404, 405 or 409 with a message', async () => {
    const promote = await call('POST', '/generations/1/promote');
    assert.equal(promote.status, 200);
    assert.equal((await gw.state()).live, 1);
    await gw.waitState('gen 2 drained', (s) => s.generations[1].state === 'stopped', 5000);

    const kill = await call('POST', '/generations/1/kill');
    assert.equal(kill.status, 200);
    const state = await gw.state();
    assert.equal(state.generations[0].state, 'stopped');
    assert.equal(state.live, null);

    assert.equal((await call('POST', '/generations/1/promote')).status, 409);
    assert.match(
      JSON.parse((await call('POST', '/generations/1/promote')).body).error,
      /only a running generation/,
    );
    assert.equal((await call('POST', '/generations/9/kill')).status, 404);
    const wrongMethod = await call('GET', '/deploy');
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.allow, 'POST');
    assert.equal((await call('POST', '/state')).status, 405);
    assert.equal((await call('GET', '/nothing')).status, 404);
    assert.equal((await call('GET', '/generations/1/reboot')).status, 404);
  });

  it("GET /generations/N/logs is the generation's output as text", async () => {
    const logs = await call('GET', '/generations/1/logs');
    assert.equal(logs.status, 200);
    assert.match(logs.headers['content-type']!, /^text\/plain/);
    assert.match(logs.body, /\$ node server\.js/);
    assert.match(logs.body, /tiny worker 1 listening/);
    assert.match(logs.body, /stopping generation 1: killed on request/);
    assert.equal((await call('GET', '/generations/99/logs')).status, 404);
  });

  it('baton deploy, status, status --json, promote, kill and logs', async () => {
    const deploy = await runCli(['deploy', gw.dir]);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.equal(deploy.stdout, 'deploying generation 3\n');
    await gw.waitState('gen 3 live', (s) => s.live === 3, 20_000);

    const status = await runCli(['status', gw.dir]);
    assert.equal(status.code, 0, status.stderr);
    const lines = status.stdout.split('\n');
    assert.match(
      lines[0],
      new RegExp(`^gateway  http://localhost:${gw.port}/  live: gen 3  affinity: tab  watching: off$`),
    );
    assert.match(status.stdout, /^GEN\s+STATE\s+PID\s+PORT\s+SESSIONS\s+TABS\s+INFLIGHT\s+AGE\s+REASON$/m);
    assert.match(status.stdout, /^3\s+live\s+\d+\s+\d+\s+0\s+0\s+0\s+\d+s$/m);
    assert.match(status.stdout, /^1\s+stopped\s+\d+\s+\d+\s+\d+\s+0\s+0\s+\S+\s+killed on request$/m);

    const asJson = await runCli(['status', '--json', gw.dir]);
    assert.equal(asJson.code, 0);
    const state = JSON.parse(asJson.stdout) as GatewayState;
    assert.deepEqual(Object.keys(state).sort(), STATE_FIELDS);
    assert.equal(state.live, 3);

    const kill = await runCli(['kill', '3', gw.dir]);
    assert.deepEqual(kill, { code: 0, stdout: 'generation 3 stopped\n', stderr: '' });
    assert.equal((await gw.generation(3))?.state, 'stopped');

    const logs = await runCli(['logs', '3', gw.dir]);
    assert.equal(logs.code, 0);
    assert.match(logs.stdout, /tiny worker 3 listening/);

    const promote = await runCli(['promote', '3', gw.dir]);
    assertOneLineError(
      promote,
      /^baton: generation 3 is stopped: only a running generation can be promoted$/,
    );
  });

  it('baton up refuses a second gateway for the same folder', async () => {
    assertOneLineError(await runCli(['up', gw.dir]), /^baton: a gateway is already running for .* \(pid \d+/);
  });

  it('baton down stops the gateway and removes gateway.json', async () => {
    const down = await runCli(['down', gw.dir]);
    assert.deepEqual(down, { code: 0, stdout: 'gateway stopped\n', stderr: '' });
    assert.ok(!pidAlive(gw.child.pid!), 'the gateway exited before down returned');
    const exited = gw.child.exitCode !== null || gw.child.signalCode !== null;
    if (!exited) await new Promise((resolve) => gw.child.once('exit', resolve));
    assert.equal(gw.child.exitCode, 0);
    assert.ok(!fs.existsSync(path.join(gw.dir, '.baton', 'gateway.json')));
  });
});

describe('CLI errors', () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-empty-'));
  after(() => fs.rmSync(empty, { recursive: true, force: true }));

  it('an unknown command is one line and a non-zero exit', async () => {
    assertOneLineError(await runCli(['frobnicate']), /^baton: unknown command "frobnicate"/);
  });

  it('a command without a running gateway is one line and a non-zero exit', async () => {
    for (const args of [
      ['status', empty],
      ['deploy', empty],
      ['logs', '1', empty],
      ['down', empty],
    ]) {
      assertOneLineError(await runCli(args), /^baton: no gateway is running for /);
    }
  });

  it('a missing or malformed generation number is one line and a non-zero exit', async () => {
    assertOneLineError(await runCli(['kill']), /^baton: "baton kill" needs a generation number/);
    assertOneLineError(
      await runCli(['promote', 'two', empty]),
      /^baton: "baton promote" needs a generation number/,
    );
  });

  it('a stale gateway.json (its gateway died) is treated as no gateway', async () => {
    const dir = writeApp({}, { start: 'true' });
    try {
      fs.mkdirSync(path.join(dir, '.baton'));
      fs.writeFileSync(
        path.join(dir, '.baton', 'gateway.json'),
        JSON.stringify({ pid: 2 ** 22 + 1, port: 1, token: 'x', startedAt: new Date().toISOString() }),
      );
      assertOneLineError(await runCli(['status', dir]), /^baton: no gateway is running for /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('baton up refusing to start', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  /** The tiny app, removed after these tests whatever happens. */
  const app = () => {
    const made = tinyApp();
    dirs.push(made.dir);
    return made;
  };
  const broken: [Record<string, unknown>, RegExp][] = [
    [
      { start: 'node server.js', prot: 8080 },
      /baton\.json: unknown field "prot" \(did you mean "port"\?\) \(line \d+, column \d+\)$/,
    ],
    [
      { start: 'node server.js', port: '8080' },
      /baton\.json: "port" must be a whole number from 0 to 65535 \(got "8080"\) \(line \d+, column \d+\)$/,
    ],
    [
      { start: 'node server.js', session: { cookie: 1 } },
      /baton\.json: "session\.cookie" must be a non-empty string/,
    ],
    [{ build: 'true' }, /baton\.json: "start" is missing/],
  ];
  for (const [config, message] of broken) {
    it(`a broken baton.json (${Object.keys(config).join(', ')}) is one line naming the field; nothing starts`, async () => {
      const { dir, tag } = app();
      fs.writeFileSync(
        path.join(dir, 'baton.json'),
        JSON.stringify({ ...config, env: { BATON_TEST_TAG: tag } }),
      );
      assertOneLineError(await runCli(['up', dir]), message);
      assert.ok(!fs.existsSync(path.join(dir, '.baton')), 'no gateway.json written');
      assert.deepEqual(taggedProcesses(`BATON_TEST_TAG=${tag}`), []);
    });
  }

  it('a port in use is one clear line; nothing starts', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const { dir, tag } = app();
    try {
      for (const args of [
        ['up', dir, '--port', String(port)],
        ['up', dir, `--port=${port}`],
      ]) {
        assertOneLineError(
          await runCli(args),
          new RegExp(`^baton: port ${port} on 127\\.0\\.0\\.1 is already in use`),
        );
      }
      fs.writeFileSync(
        path.join(dir, 'baton.json'),
        JSON.stringify({ start: 'node server.js', port, env: { BATON_TEST_TAG: tag } }),
      );
      assertOneLineError(
        await runCli(['up', dir]),
        new RegExp(`^baton: port ${port} on 127\\.0\\.0\\.1 is already in use`),
      );
      await waitFor('no worker', () => taggedProcesses(`BATON_TEST_TAG=${tag}`).length === 0, 2000);
      assert.ok(!fs.existsSync(path.join(dir, '.baton', 'gateway.json')));
    } finally {
      blocker.close();
    }
  });

  it('a bad --port is one line', async () => {
    assertOneLineError(
      await runCli(['up', app().dir, '--port', 'x']),
      /^baton: --port needs a number from 0 to 65535$/,
    );
  });
});
