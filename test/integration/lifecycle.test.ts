// The generation lifecycle with real workers (ARCHITECTURE.md, "How a deploy flows"): failures, crashes, coalesced deploys, kill, promote, retiring, expiry, snapshots, watching.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Browser,
  closeSocket,
  openSocket,
  pidAlive,
  request,
  RunningGateway,
  taggedProcesses,
  tinyApp,
  waitFor,
} from '../support/gateway';

const json = { Accept: 'application/json' };

/** A browser on generation N that holds a session there (its second request sends baton_sid back). */
async function sessionOn(gw: RunningGateway, generation: number): Promise<Browser> {
  const browser = new Browser(gw.port, gw.host(generation));
  await browser.navigate('/');
  const info = await browser.get('/info');
  assert.equal(JSON.parse(info.body).generation, generation);
  return browser;
}

describe('failed builds, failed starts and crashes', () => {
  let gw: RunningGateway;
  let dir: string;
  let tag: string;
  const touch = (name: string) => fs.writeFileSync(path.join(dir, name), '');
  const remove = (name: string) => fs.rmSync(path.join(dir, name));
  let killedWhileBuilding = 0;

  before(async () => {
    ({ dir, tag } = tinyApp({
      build:
        'if [ -e broken ]; then echo "compile error in server.js"; exit 3; fi; ' +
        'if [ -e slow ]; then sleep 1; fi; if [ -e forever ]; then sleep 300; fi',
      buildTimeoutSeconds: 2.5,
      // The start command runs in the snapshot, so marker files copied into it choose how the worker behaves.
      start:
        'if [ -e hang ]; then exec sleep 300; fi; if [ -e exit ]; then echo "missing module"; exit 5; fi; exec node server.js',
      ready: { timeoutSeconds: 2 },
    }));
    gw = await RunningGateway.start(dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('a failed build fails its generation with the output kept, and the previous one stays live', async () => {
    touch('broken');
    const { id } = await gw.client!.deploy();
    assert.equal(id, 2);
    const state = await gw.waitState('gen 2 failed', (s) => s.generations[1]?.state === 'failed', 20_000);
    remove('broken');
    assert.equal(state.live, 1);
    assert.equal(state.generations[1].reason, 'build exited with code 3');
    assert.equal(state.generations[1].pid, null, 'no worker was started');
    const logs = await gw.client!.logs(2);
    assert.match(logs, /\$ if \[ -e broken \]/);
    assert.match(logs, /compile error in server\.js/);
    assert.match(logs, /generation 2 failed: build exited with code 3/);
    const reply = await request(gw.port, { path: '/info', headers: json });
    assert.equal(reply.headers['x-baton-generation'], '1');
  });

  it('a worker that never becomes ready fails after ready.timeoutSeconds, and its process is gone', async () => {
    touch('hang');
    const { id } = await gw.client!.deploy();
    await gw.waitState('gen 3 starting', (s) => s.generations[2]?.state === 'starting', 20_000);
    remove('hang');
    const pid = (await gw.generation(id))!.pid!;
    assert.ok(pidAlive(pid), 'the worker runs while it is probed');
    const state = await gw.waitState('gen 3 failed', (s) => s.generations[2].state === 'failed', 20_000);
    assert.match(state.generations[2].reason!, /did not answer GET \/ on \$PORT within 2 s/);
    assert.equal(state.live, 1);
    await waitFor(
      'the hanging worker gone',
      () => !pidAlive(pid) && taggedProcesses(`BATON_TEST_TAG=${tag}`, 'BATON_GENERATION=3').length === 0,
      5000,
    );
  });

  it('a worker that exits before it is ready fails its generation', async () => {
    touch('exit');
    await gw.client!.deploy();
    const state = await gw.waitState('gen 4 failed', (s) => s.generations[3]?.state === 'failed', 20_000);
    remove('exit');
    assert.match(state.generations[3].reason!, /the worker exited with code 5 before it became ready/);
    assert.equal(state.generations[3].exitCode, 5);
    assert.match(await gw.client!.logs(4), /missing module/);
    assert.equal(state.live, 1);
  });

  it('a crash of the live worker leaves no live generation, and the gateway keeps serving', async () => {
    await request(gw.port, { host: gw.host(1), path: '/crash' });
    const state = await gw.waitState('gen 1 crashed', (s) => s.generations[0].state === 'crashed', 10_000);
    assert.equal(state.live, null);
    assert.equal(state.generations[0].exitCode, 7);
    assert.equal(state.generations[0].reason, 'the worker exited by itself with code 7');
    const api = await request(gw.port, { path: '/info', headers: json });
    assert.equal(api.status, 503);
    assert.equal(JSON.parse(api.body).state, 'crashed');
    const page = await new Browser(gw.port, gw.host(1)).navigate('/');
    assert.equal(page.status, 410);
    assert.match(page.body, /Generation 1 is crashed: the worker exited by itself with code 7/);
    assert.match(await gw.client!.logs(1), /the worker exited by itself with code 7/);
  });

  it('coalesces deploys that arrive during a build into one follow-up', async () => {
    touch('slow');
    const first = await gw.client!.deploy();
    const more = [await gw.client!.deploy(), await gw.client!.deploy(), await gw.client!.deploy()];
    remove('slow');
    assert.equal(first.id, 5);
    assert.deepEqual(more, [{ id: 6 }, { id: 6 }, { id: 6 }]);
    const state = await gw.waitState('gen 6 live', (s) => s.live === 6, 30_000);
    assert.notEqual(state.generations.find((g) => g.id === 5)?.readyAt, null, 'gen 5 became live first');
    // A second follow-up would have been created in the same tick as gen 6's deploy ended, before any state
    // that shows gen 6 live went out.
    assert.deepEqual(
      state.generations.map((g) => g.id),
      [1, 2, 3, 4, 5, 6],
      'no generation beyond the one follow-up',
    );
  });

  it('a build still running after buildTimeoutSeconds is killed and fails its generation', async () => {
    touch('forever');
    const { id } = await gw.client!.deploy();
    const building = () => taggedProcesses(`BATON_TEST_TAG=${tag}`, `BATON_GENERATION=${id}`);
    await waitFor('the build running', () => building().length > 0);
    const state = await gw.waitState('gen 7 failed', (s) => s.generations[6]?.state === 'failed', 20_000);
    remove('forever');
    assert.match(state.generations[6].reason!, /^build timed out after 2.5 s \(raise "buildTimeoutSeconds"/);
    assert.match(await gw.client!.logs(id), /build still running after 2.5 s: stopping it/);
    assert.equal(state.live, 6);
    await waitFor('the build stopped', () => building().length === 0, 5000);
  });

  it('kill N stops a generation that is still building, and its build', async () => {
    touch('forever');
    const { id } = await gw.client!.deploy();
    const building = () => taggedProcesses(`BATON_TEST_TAG=${tag}`, `BATON_GENERATION=${id}`);
    await waitFor('the build running', () => building().length > 0);
    remove('forever');
    await gw.client!.kill(id);
    const state = await gw.state();
    assert.equal(state.generations[id - 1].state, 'stopped');
    assert.equal(state.generations[id - 1].reason, 'killed on request');
    assert.equal(state.live, 6);
    await waitFor('the build stopped', () => building().length === 0, 10_000);
    killedWhileBuilding = id;
  });

  it('kill N stops a generation that is still starting, and its worker', async () => {
    touch('hang');
    const { id } = await gw.client!.deploy();
    const starting = await gw.waitState(
      'starting',
      (s) => s.generations[id - 1]?.state === 'starting',
      20_000,
    );
    // Deploys run one at a time: this one started only after the previous one, killed during its build, ended.
    const killed = starting.generations[killedWhileBuilding - 1];
    assert.deepEqual(
      [killed.state, killed.pid],
      ['stopped', null],
      'a generation killed while building never starts',
    );
    remove('hang');
    await gw.client!.kill(id);
    const state = await gw.state();
    assert.equal(state.generations[id - 1].state, 'stopped');
    assert.equal(state.live, 6);
    await waitFor(
      'the worker stopped',
      () => taggedProcesses(`BATON_TEST_TAG=${tag}`, `BATON_GENERATION=${id}`).length === 0,
      10_000,
    );
  });
});

describe('kill and promote', () => {
  let gw: RunningGateway;
  let tag: string;
  before(async () => {
    const app = tinyApp({ start: 'sleep 300 & setsid sleep 300 & exec node server.js' });
    tag = app.tag;
    gw = await RunningGateway.start(app.dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('kill N stops the worker with its children and a setsid grandchild, and removes its snapshot', async () => {
    const processes = taggedProcesses(`BATON_TEST_TAG=${tag}`, 'BATON_GENERATION=1');
    assert.ok(processes.length >= 3, `node and two sleeps, found ${processes.length}`);
    const cwd = JSON.parse((await request(gw.port, { host: gw.host(1), path: '/info' })).body).cwd;
    assert.ok(fs.existsSync(cwd));
    await gw.client!.kill(1);
    const state = await gw.state();
    assert.equal(state.generations[0].state, 'stopped');
    assert.equal(state.generations[0].reason, 'killed on request');
    assert.equal(state.live, null);
    await waitFor('every process of generation 1 gone', () => processes.every((pid) => !pidAlive(pid)), 3000);
    assert.deepEqual(taggedProcesses(`BATON_TEST_TAG=${tag}`, 'BATON_GENERATION=1'), []);
    await waitFor('the snapshot removed', () => !fs.existsSync(cwd), 3000);
  });

  it('promote N makes a draining generation live again; kill and promote refuse what cannot be done', async () => {
    await gw.client!.deploy();
    await gw.waitState('gen 2 live', (s) => s.live === 2, 20_000);
    await sessionOn(gw, 2);
    await gw.client!.deploy();
    await gw.waitState('gen 3 live', (s) => s.live === 3, 20_000);
    assert.equal((await gw.generation(2))?.state, 'draining');

    await gw.client!.promote(2);
    const state = await gw.waitState('gen 3 stopped', (s) => s.generations[2].state === 'stopped', 5000);
    assert.equal(state.live, 2);
    assert.equal(state.generations[1].state, 'live');
    const nav = await request(gw.port, { headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' } });
    assert.equal(nav.headers.location, `http://g2.localhost:${gw.port}/`);

    await assert.rejects(gw.client!.promote(3), { status: 409, message: /generation 3 is stopped/ });
    await assert.rejects(gw.client!.promote(42), { status: 404, message: 'there is no generation 42' });
    await assert.rejects(gw.client!.kill(42), { status: 404 });
  });
});

describe('"retireAfterSeconds"', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(tinyApp({ retireAfterSeconds: 1 }).dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('stops a draining generation that still has a session once it has drained that long', async () => {
    await sessionOn(gw, 1);
    await gw.client!.deploy();
    const state = await gw.waitState('gen 1 stopped', (s) => s.generations[0].state === 'stopped', 30_000);
    const gen1 = state.generations[0];
    assert.equal(gen1.reason, 'retired after 1 s of draining');
    const drained = Date.parse(gen1.stoppedAt!) - Date.parse(state.generations[1].readyAt!);
    assert.ok(drained >= 950, `retired after ${drained} ms of draining, not before 1 s`);
  });
});

describe('session expiry', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(
      tinyApp({ session: { idleTimeoutSeconds: 2, tabGraceSeconds: 0.3 } }).dir,
      ['--no-watch'],
    );
  });
  after(() => gw.dispose());

  it('ends an idle session after idleTimeoutSeconds, which drains its generation', async () => {
    const beforeLast = Date.now();
    await sessionOn(gw, 1);
    await gw.client!.deploy();
    await gw.waitState('gen 2 live', (s) => s.live === 2, 20_000);
    assert.equal((await gw.generation(1))?.state, 'draining');
    const state = await gw.waitState('gen 1 stopped', (s) => s.generations[0].state === 'stopped', 30_000);
    const stoppedAt = Date.parse(state.generations[0].stoppedAt!);
    assert.equal(state.generations[0].reason, 'drained: its last session, tab and request are gone');
    assert.ok(
      stoppedAt - beforeLast >= 2000,
      `stopped ${stoppedAt - beforeLast} ms after the last request began, not before idleTimeoutSeconds`,
    );
    assert.deepEqual(
      state.sessions.filter((s) => s.generation === 1),
      [],
    );
  });

  it('an open tab holds its session past the idle timeout; closing it ends the session after tabGraceSeconds', async () => {
    const browser = await sessionOn(gw, 2);
    const tab = await openSocket(gw.port, gw.host(2), '/__baton/tab', {
      Origin: `http://${gw.host(2)}`,
      Cookie: browser.cookieHeader,
    });
    assert.deepEqual(await tab.message(), { generation: 2, live: 2, follow: false });
    const held = await gw.waitState(
      'the tab counted',
      (s) => s.sessions.find((x) => x.generation === 2)?.tabs === 1,
    );
    assert.equal(held.generations[1].tabs, 1);
    // A second browser on generation 2, used after the first one's last request and without a tab: once its
    // session has expired, the first one has been idle longer than idleTimeoutSeconds too.
    const witness = await sessionOn(gw, 2);

    await gw.client!.deploy();
    await gw.waitState('gen 3 live', (s) => s.live === 3, 20_000);
    assert.deepEqual(await tab.message<{ live: number }>((m) => m.live === 3), {
      generation: 2,
      live: 3,
      follow: false,
    });
    const witnessId = `2-${witness.cookie('baton_sid')!.slice(0, 8)}`;
    const mine = `2-${browser.cookie('baton_sid')!.slice(0, 8)}`;
    const expired = await gw.waitState(
      'the tabless session expired',
      (s) => !s.sessions.some((x) => x.id === witnessId),
      30_000,
    );
    assert.ok(
      expired.sessions.some((x) => x.id === mine),
      'the open tab keeps its session past the idle timeout',
    );
    assert.equal(expired.generations[1].state, 'draining');

    const t0 = Date.now();
    await closeSocket(tab.ws);
    const stopped = await gw.waitState('gen 2 stopped', (s) => s.generations[1].state === 'stopped', 30_000);
    const after = Date.parse(stopped.generations[1].stoppedAt!) - t0;
    assert.ok(after >= 250, `stopped ${after} ms after the tab closed, not before tabGraceSeconds`);
  });
});

describe('snapshots and deploy on save', () => {
  let gw: RunningGateway;
  let dir: string;
  before(async () => {
    ({ dir } = tinyApp({ ignore: ['*.log'] }, { 'version.txt': 'one\n' }));
    gw = await RunningGateway.start(dir);
  });
  after(() => gw.dispose());

  const info = async (generation: number) =>
    JSON.parse((await request(gw.port, { host: gw.host(generation), path: '/info' })).body) as {
      version: string;
      cwd: string;
    };

  it('runs each generation in its own snapshot, which later saves never change, and deploys on save', async () => {
    const first = await info(1);
    assert.equal(first.version, 'one');
    assert.notEqual(
      fs.realpathSync(first.cwd),
      fs.realpathSync(dir),
      'the worker runs in a snapshot, not in the workspace',
    );
    await sessionOn(gw, 1);

    fs.writeFileSync(path.join(dir, 'debug.log'), 'ignored\n');
    fs.writeFileSync(path.join(dir, 'version.txt'), 'two\n');
    await gw.waitState('gen 2 live after the save', (s) => s.live === 2, 20_000);
    // Had the ignored file counted, it would be named in the deploy's change line, or have deployed gen 2 alone.
    assert.match(gw.output, /change +version\.txt → gen 2\n/);
    assert.doesNotMatch(gw.output, /debug\.log/);
    const second = await info(2);
    assert.equal(second.version, 'two');
    assert.equal((await info(1)).version, 'one', 'generation 1 still serves what it started with');
    assert.equal(fs.readFileSync(path.join(first.cwd, 'version.txt'), 'utf8'), 'one\n');
    assert.ok(!fs.existsSync(path.join(second.cwd, 'debug.log')), 'ignored files stay out of snapshots');
    assert.ok(!fs.existsSync(path.join(second.cwd, '.baton')), '.baton stays out of snapshots');

    await gw.client!.kill(1);
    assert.ok(!fs.existsSync(first.cwd), "a stopped generation's snapshot is removed");
    assert.ok(fs.existsSync(second.cwd));
  });

  it('deploy on save can be turned off and on through the control API', async () => {
    await gw.client!.setWatching(false);
    assert.equal((await gw.state()).watching, false);
    fs.writeFileSync(path.join(dir, 'version.txt'), 'three\n');
    const off = await gw.waitState('the save noted as missed', (s) =>
      s.missedChanges.includes('version.txt'),
    );
    assert.equal(off.generations.length, 2, 'no deploy while off');

    await gw.client!.setWatching(true);
    assert.equal((await gw.state()).watching, true);
    fs.writeFileSync(path.join(dir, 'version.txt'), 'four\n');
    await gw.waitState('gen 3 live after the save', (s) => s.live === 3, 20_000);
    assert.equal((await info(3)).version, 'four');
  });

  it('a save that breaks baton.json deploys nothing, and the next good save deploys as usual', async () => {
    const file = path.join(dir, 'baton.json');
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, '{ "start": 5 }');
    await waitFor('the save refused', () =>
      /^change +baton\.json → nothing deployed until baton\.json is fixed$/m.test(gw.output),
    );
    assert.match((await gw.state()).configError!, /"start" must be a non-empty string/);
    fs.writeFileSync(file, good);
    const fixed = await gw.waitState('gen 4 live after the fix', (s) => s.live === 4, 20_000);
    assert.equal(fixed.configError, null);
    assert.deepEqual(
      fixed.generations.map((g) => g.id),
      [1, 2, 3, 4],
      'the broken save made no generation',
    );
  });
});
