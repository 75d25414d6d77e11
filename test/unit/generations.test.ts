// The lifecycle state machine (gateway/lifecycle/generations.ts) with a fake runtime: no process is started,
// the test decides when a build ends, a worker answers or exits; timers are mocked where time matters.
// Snapshots are real, of a one-file app in a temporary folder.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseConfig, type BatonConfig } from '../../gateway/config/config';
import { Generations } from '../../gateway/lifecycle/generations';
import type { Job, Runtime } from '../../gateway/lifecycle/runtime';
import type { GenerationState } from '../../gateway/protocol/types';

class FakeJob extends EventEmitter implements Job {
  constructor(
    readonly pid: number,
    readonly command: string,
    readonly env: NodeJS.ProcessEnv,
  ) {
    super();
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.emit('exit', code, signal);
  }
}

/** The OS as the test wants it: each started job and each readiness probe is the test's to settle. */
class FakeRuntime implements Runtime {
  readonly jobs: FakeJob[] = [];
  readonly stopped: number[] = [];
  private nextPid = 1000;
  private nextPort = 40_000;
  private readonly probes = new Map<number, (address: string | null) => void>();

  run(command: string, _cwd: string, env: NodeJS.ProcessEnv): Job {
    const job = new FakeJob(this.nextPid++, command, env);
    this.jobs.push(job);
    return job;
  }
  async freePort(): Promise<number> {
    return this.nextPort++;
  }
  /** Like the real probe, it gives up (null) once the lifecycle cancels it: the worker exited, or a kill. */
  waitReady(
    port: number,
    _hosts: () => readonly string[],
    _path: string | null,
    _timeoutMs: number,
    cancelled: () => boolean,
  ): Promise<string | null> {
    return new Promise((resolve) => {
      this.probes.set(port, resolve);
      const check = () => {
        if (!this.probes.has(port)) return;
        if (!cancelled()) return void setImmediate(check);
        this.probes.delete(port);
        resolve(null);
      };
      setImmediate(check);
    });
  }
  watchListen(): Promise<null> {
    return new Promise(() => undefined); // never learns anything: the probe decides
  }
  async stopTree(pid: number): Promise<void> {
    this.stopped.push(pid);
    const job = this.jobs.find((j) => j.pid === pid);
    if (job && job.listenerCount('exit') > 0) job.exit(null, 'SIGTERM');
  }

  job(command: string): FakeJob {
    const found = this.jobs.filter((j) => j.command === command).at(-1);
    assert.ok(found, `no job "${command}" was started`);
    return found;
  }
  /** The worker on `port` answers its probe (or, with null, the probe gives up). */
  ready(port: number, address: string | null = '127.0.0.1'): void {
    const resolve = this.probes.get(port);
    assert.ok(resolve, `no probe is waiting on port ${port}`);
    this.probes.delete(port);
    resolve(address);
  }
  get probing(): number[] {
    return [...this.probes.keys()];
  }
}

/** Lets real I/O (the snapshot) and promise chains run, until `done()` or 10 s of real time. */
async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

let root: string;
let snapshots: string;
let runtime: FakeRuntime;
let config: BatonConfig;
let generations: Generations;
let transitions: string[];

function setUp(fields: Record<string, unknown> = {}): void {
  config = parseConfig(JSON.stringify({ start: 'serve', ...fields }));
  generations = new Generations(
    root,
    {
      get current() {
        return config;
      },
      refresh: () => config,
    },
    'test',
    snapshots,
    null,
    runtime,
  );
  generations.on('transition', (gen, from, to) => transitions.push(`${gen.id}:${from ?? 'new'}→${to}`));
}

const stateOf = (id: number): GenerationState | undefined => generations.get(id)?.state;

/** Deploys and brings the new generation live (its worker answers at once). */
async function deployLive(): Promise<number> {
  const id = generations.deploy();
  await until(`gen ${id} starting`, () => stateOf(id) === 'starting' && runtime.probing.length > 0);
  runtime.ready(generations.get(id)!.port!);
  await until(`gen ${id} live`, () => stateOf(id) === 'live');
  return id;
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-gens-'));
  fs.writeFileSync(path.join(root, 'server.js'), '// the app\n');
  snapshots = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-gens-snap-'));
  runtime = new FakeRuntime();
  transitions = [];
});
afterEach(async () => {
  await generations.shutdown();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(snapshots, { recursive: true, force: true });
});

describe('Generations: the lifecycle', () => {
  test('building → starting → live; the next one makes it drain, and with nothing holding it, it stops', async () => {
    setUp();
    await deployLive();
    const worker = runtime.job('serve');
    assert.equal(worker.env.PORT, String(generations.get(1)!.port));
    assert.equal(worker.env.BATON_GENERATION, '1');
    assert.equal(worker.env.BATON_WORKER, 'test.1', 'the marker the process sweep looks for');
    assert.ok(
      fs.existsSync(path.join(generations.get(1)!.snapshot!.appDir, 'server.js')),
      'it runs in a snapshot',
    );

    await deployLive();
    await until('gen 1 stopped', () => stateOf(1) === 'stopped');
    assert.deepEqual(transitions, [
      '1:new→building',
      '1:building→starting',
      '1:starting→live',
      '2:new→building',
      '2:building→starting',
      '2:starting→live',
      '1:live→draining',
      '1:draining→stopped',
    ]);
    assert.deepEqual(runtime.stopped, [worker.pid]);
    assert.equal(generations.get(1)!.reason, 'drained: its last session, tab and request are gone');
    assert.equal(generations.live?.id, 2);
  });

  test('a draining generation lives while something holds it, and stops when the last holder lets go', async () => {
    setUp();
    await deployLive();
    const gen1 = generations.get(1)!;
    gen1.sessions = 1;
    await deployLive();
    assert.equal(stateOf(1), 'draining');
    assert.deepEqual(runtime.stopped, [], 'a session holds it');
    gen1.sessions = 0;
    generations.checkDrain(gen1);
    await until('gen 1 stopped', () => stateOf(1) === 'stopped');
  });

  test('deploys during a build coalesce into one follow-up', async () => {
    setUp({ build: 'compile' });
    assert.equal(generations.deploy(), 1);
    assert.deepEqual([generations.deploy(), generations.deploy(), generations.deploy()], [2, 2, 2]);
    runtime.job('compile').exit(0);
    await until('gen 1 starting', () => stateOf(1) === 'starting' && runtime.probing.length === 1);
    runtime.ready(generations.get(1)!.port!);
    await until('the follow-up building', () => stateOf(2) === 'building');
    assert.equal(runtime.jobs.filter((j) => j.command === 'compile').length, 2);
    runtime.job('compile').exit(0);
    await until('gen 2 starting', () => stateOf(2) === 'starting' && runtime.probing.length === 1);
    runtime.ready(generations.get(2)!.port!);
    await until('gen 2 live', () => stateOf(2) === 'live');
    assert.deepEqual(
      generations.all().map((g) => g.id),
      [1, 2],
    );
  });

  test('a failed build fails its generation, keeps its output, and the live one stays', async () => {
    setUp({ build: 'compile' });
    const first = generations.deploy();
    runtime.job('compile').exit(0);
    await until('gen 1 probing', () => runtime.probing.length === 1);
    runtime.ready(generations.get(first)!.port!);
    await until('gen 1 live', () => stateOf(1) === 'live');
    generations.deploy();
    const build = runtime.job('compile');
    build.exit(3);
    await until('gen 2 failed', () => stateOf(2) === 'failed');
    assert.equal(generations.get(2)!.reason, 'build exited with code 3');
    assert.match(
      generations.get(2)!.output.text(),
      /\$ compile\n[\s\S]*generation 2 failed: build exited with code 3/,
    );
    assert.equal(generations.live?.id, 1);
  });

  test('a build still running after buildTimeoutSeconds is stopped and fails its generation', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    setUp({ build: 'compile', buildTimeoutSeconds: 5 });
    generations.deploy();
    const build = runtime.job('compile');
    t.mock.timers.tick(4_999);
    assert.deepEqual(runtime.stopped, []);
    t.mock.timers.tick(2);
    assert.deepEqual(runtime.stopped, [build.pid]);
    await until('gen 1 failed', () => stateOf(1) === 'failed');
    assert.match(generations.get(1)!.reason!, /^build timed out after 5 s/);
  });

  test('a worker that exits before it is ready fails; one that never answers fails after the probe gives up', async () => {
    setUp();
    generations.deploy();
    await until('gen 1 probing', () => runtime.probing.length === 1);
    runtime.job('serve').exit(5);
    await until('gen 1 failed', () => stateOf(1) === 'failed');
    assert.equal(
      generations.get(1)!.reason,
      'the worker exited with code 5 before it became ready (see its output)',
    );

    assert.equal(generations.deploy(), 2);
    await until('gen 2 probing', () => stateOf(2) === 'starting' && runtime.probing.length === 1);
    runtime.ready(generations.get(2)!.port!, null);
    await until('gen 2 failed', () => stateOf(2) === 'failed');
    assert.match(generations.get(2)!.reason!, /^the worker did not answer GET \/ on \$PORT within 30 s/);
    assert.equal(generations.live, null, 'a failed generation never takes traffic');
    assert.deepEqual(runtime.stopped.length, 2, 'both workers were stopped');
  });

  test('a live worker that exits by itself is crashed, and no generation is live', async () => {
    setUp();
    await deployLive();
    runtime.job('serve').exit(7);
    await until('gen 1 crashed', () => stateOf(1) === 'crashed');
    assert.equal(generations.get(1)!.reason, 'the worker exited by itself with code 7');
    assert.equal(generations.live, null);
  });

  test('promote makes a draining generation live again; the one it replaces drains', async () => {
    setUp();
    await deployLive();
    generations.get(1)!.sessions = 1;
    await deployLive();
    generations.get(2)!.sessions = 1;
    generations.promote(1);
    assert.equal(generations.live?.id, 1);
    assert.deepEqual([stateOf(1), stateOf(2)], ['live', 'draining']);
    assert.throws(() => generations.promote(9), /there is no generation 9/);
  });

  test('kill stops a generation that is still building, and it never starts', async () => {
    setUp({ build: 'compile' });
    generations.deploy();
    const build = runtime.job('compile');
    await generations.kill(1);
    assert.equal(stateOf(1), 'stopped');
    assert.deepEqual(runtime.stopped, [build.pid]);
    await until('the deploy ended', () => generations.deploy() === 2);
    assert.equal(runtime.jobs.filter((j) => j.command === 'serve').length, 0, 'its worker never started');
    assert.equal(generations.get(1)!.snapshot, null, 'nor was it snapshotted');
  });

  test('retireAfterSeconds stops a draining generation that still holds a session', async (t) => {
    setUp({ retireAfterSeconds: 60 });
    await deployLive();
    generations.get(1)!.sessions = 1;
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() });
    await deployLive();
    assert.equal(stateOf(1), 'draining');
    t.mock.timers.tick(59_000);
    assert.deepEqual(runtime.stopped, []);
    t.mock.timers.tick(1_100);
    t.mock.timers.reset();
    await until('gen 1 stopped', () => stateOf(1) === 'stopped');
    assert.equal(generations.get(1)!.reason, 'retired after 60 s of draining');
  });
});
