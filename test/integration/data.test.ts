// Code is versioned, data is shared (README, "Code and data"): a real SQLite app (examples/notes, Python's
// sqlite3) keeps every row across deploys, two generations writing at once and `baton down`; its writes
// deploy nothing; what it writes inside its snapshot is named when its generation stops; baton.json edits
// apply to the next generation. Also run as an unprivileged user (scripts/test-unprivileged.mjs).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Browser, copyApp, runCli, RunningGateway, waitFor, type Reply } from '../support/gateway';

/** A form POST, with the Content-Length a browser sends (Python's server reads exactly that much). */
function post(browser: Browser, p: string, body = ''): Promise<Reply> {
  return browser.get(p, {
    method: 'POST',
    body,
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'Content-Length': String(Buffer.byteLength(body)),
    },
  });
}

const json = <T>(reply: Reply): T => JSON.parse(reply.body) as T;

interface Info {
  generation: string;
  label: string | null;
  cwd: string;
  database: string;
  journal: string;
  integrity: string;
  user: string | null;
}

interface Note {
  user: string;
  text: string;
  generation: string;
}

/** Runs Python's sqlite3 on the workspace's database, outside the gateway. */
function sql(dir: string, query: string, db = 'notes.sqlite3'): string {
  return execFileSync(
    'python3',
    [
      '-c',
      'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()[0][0])',
      path.join(dir, db),
      query,
    ],
    { encoding: 'utf8' },
  ).trim();
}

function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

describe('data is shared by every generation (a SQLite app)', () => {
  let gw: RunningGateway;
  let dir: string;
  before(async () => {
    dir = copyApp('notes');
    gw = await RunningGateway.start(dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('the database the app creates on its first run is the workspace one, reached through a link', async () => {
    const info = json<Info>(await new Browser(gw.port, gw.host(1)).get('/info'));
    assert.equal(info.database, fs.realpathSync(path.join(dir, 'notes.sqlite3')));
    assert.notEqual(info.cwd, dir, 'the worker runs in its snapshot');
    assert.equal(fs.readlinkSync(path.join(info.cwd, 'notes.sqlite3')), path.join(dir, 'notes.sqlite3'));
    assert.equal(info.integrity, 'ok');
  });

  it('an old tab and a new one write on their own generations and each sees the other', async () => {
    const old = new Browser(gw.port, gw.host(1));
    assert.equal((await post(old, '/login', 'user=ann')).status, 200);
    assert.equal((await post(old, '/notes', 'text=before the deploy')).status, 201);

    assert.equal((await gw.client!.deploy()).id, 2);
    await gw.waitState('gen 2 live', (s) => s.live === 2, 30_000);

    const again = await post(old, '/notes', 'text=old tab after the deploy');
    assert.equal(again.status, 201, again.body);
    assert.equal(again.headers['x-baton-generation'], '1');

    // A new tab on generation 2: the session that generation 1 stored is there too.
    const fresh = new Browser(gw.port, gw.host(2));
    assert.equal((await post(fresh, '/login', 'user=bob')).status, 200);
    assert.equal((await post(fresh, '/notes', 'text=written by gen 2')).status, 201);
    const seenBy2 = json<Note[]>(await fresh.get('/notes'));
    assert.deepEqual(
      seenBy2.map((n) => [n.text, n.generation]),
      [
        ['before the deploy', '1'],
        ['old tab after the deploy', '1'],
        ['written by gen 2', '2'],
      ],
    );
    const seenBy1 = await old.get('/notes');
    assert.equal(seenBy1.headers['x-baton-generation'], '1');
    assert.deepEqual(json<Note[]>(seenBy1), seenBy2);
    assert.equal(json<Info>(await old.get('/info')).user, 'ann', 'gen 1 still has its session');
  });

  it('after "baton down" the workspace holds every row and every upload', async () => {
    const tab = new Browser(gw.port, gw.host(2));
    const saved = await tab.get('/upload?name=photo.txt', {
      method: 'POST',
      body: 'pixels',
      headers: { 'Content-Length': '6' },
    });
    assert.equal(saved.status, 201, saved.body);
    const down = await runCli(['down', dir]);
    assert.equal(down.code, 0, down.stderr);
    await waitFor('baton up exited', () => gw.child.exitCode !== null, 20_000);
    assert.equal(sql(dir, 'SELECT count(*) FROM notes'), '3');
    assert.equal(sql(dir, "SELECT text FROM notes WHERE generation = '2'"), 'written by gen 2');
    assert.equal(sql(dir, 'PRAGMA integrity_check'), 'ok');
    assert.equal(fs.readFileSync(path.join(dir, 'uploads', 'photo.txt'), 'utf8'), 'pixels');
  });
});

describe('data survives a SIGKILLed gateway', () => {
  let gw: RunningGateway;
  let dir: string;
  before(async () => {
    dir = copyApp('notes');
    gw = await RunningGateway.start(dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('the watchdog removes the snapshot, not the data its links reach', async () => {
    const tab = new Browser(gw.port, gw.host(1));
    await post(tab, '/login', 'user=ann');
    await post(tab, '/notes', 'text=before the kill');
    const { cwd } = json<Info>(await tab.get('/info'));
    gw.child.kill('SIGKILL');
    await waitFor('the snapshot removed by the watchdog', () => !exists(cwd), 20_000);
    assert.equal(sql(dir, 'SELECT text FROM notes'), 'before the kill');
    assert.equal(sql(dir, 'PRAGMA integrity_check'), 'ok');
    assert.ok(fs.statSync(path.join(dir, 'uploads')).isDirectory());
  });
});

for (const journal of ['wal', 'delete'] as const) {
  describe(`two generations write at once (journal_mode=${journal})`, () => {
    let gw: RunningGateway;
    let dir: string;
    let gen1: Browser;
    let gen2: Browser;
    before(async () => {
      // The database exists before the gateway starts (as after "flask init-db"): the built-in SQLite
      // patterns share it, with no "shared" entry.
      dir = copyApp('notes', { shared: [], env: { NOTES_JOURNAL: journal } });
      execFileSync('python3', ['app.py', 'init'], {
        cwd: dir,
        env: { ...process.env, NOTES_JOURNAL: journal },
      });
      gw = await RunningGateway.start(dir, ['--no-watch']);
      gen1 = new Browser(gw.port, gw.host(1));
      await gen1.get('/info');
      await gen1.get('/info'); // its session now holds generation 1 while 2 is live
      assert.equal((await gw.client!.deploy()).id, 2);
      await gw.waitState('gen 2 live', (s) => s.live === 2, 30_000);
      gen2 = new Browser(gw.port, gw.host(2));
    });
    after(() => gw.dispose());

    it(`keeps the ${journal === 'wal' ? 'WAL and shm files' : 'rollback journal'} beside the real database, not beside the link`, async () => {
      const info = json<Info>(await gen1.get('/info'));
      assert.equal(info.journal, journal);
      assert.equal(json<{ holding: string }>(await post(gen1, '/hold?name=h1')).holding, 'h1');
      // The transaction is open now: its files exist, and only in the workspace.
      const companions = journal === 'wal' ? ['-wal', '-shm'] : ['-journal'];
      for (const suffix of companions) {
        assert.ok(
          exists(path.join(dir, `notes.sqlite3${suffix}`)),
          `notes.sqlite3${suffix} in the workspace`,
        );
        assert.ok(
          !exists(path.join(info.cwd, `notes.sqlite3${suffix}`)),
          `no notes.sqlite3${suffix} in the snapshot`,
        );
      }
      assert.equal(json<{ released: boolean }>(await post(gen1, '/release?name=h1')).released, true);
    });

    it('loses no row and corrupts nothing', async () => {
      const [a, b] = await Promise.all([post(gen1, '/burst?n=150&tag=a'), post(gen2, '/burst?n=150&tag=b')]);
      assert.equal(a.status, 200, a.body);
      assert.equal(b.status, 200, b.body);
      assert.equal(a.headers['x-baton-generation'], '1');
      assert.equal(b.headers['x-baton-generation'], '2');
      for (const tab of [gen1, gen2]) assert.equal(json<Info>(await tab.get('/info')).integrity, 'ok');
      assert.equal(json<Note[]>(await gen1.get('/notes')).length, 301);
      await gw.stop();
      assert.equal(sql(dir, 'SELECT count(*) FROM notes'), '301');
      assert.equal(sql(dir, 'PRAGMA integrity_check'), 'ok');
    });
  });
}

describe('what a generation writes', () => {
  let gw: RunningGateway;
  let dir: string;
  before(async () => {
    // Python writes its bytecode cache unless told not to (an empty value does not tell it).
    dir = copyApp('notes', { env: { PYTHONDONTWRITEBYTECODE: '' } });
    fs.writeFileSync(path.join(dir, 'edit.txt'), 'one\n');
    gw = await RunningGateway.start(dir);
  });
  after(() => gw.dispose());

  it("the app's writes (database, journal, uploads) deploy nothing; an edit does", async () => {
    const tab = new Browser(gw.port, gw.host(1));
    await post(tab, '/login', 'user=ann');
    await post(tab, '/notes', 'text=hello');
    await tab.get('/upload?name=a.txt', { method: 'POST', body: 'a', headers: { 'Content-Length': '1' } });
    assert.ok(exists(path.join(dir, 'uploads', 'a.txt')));
    // A later deliberate edit is the signal: had the writes above been taken for edits, they would be in its
    // change line, or would have deployed generation 2 before it.
    fs.writeFileSync(path.join(dir, 'edit.txt'), 'two\n');
    await gw.waitState('gen 2 live', (s) => s.live === 2, 30_000);
    assert.deepEqual(
      gw.output.split('\n').filter((line) => line.startsWith('change')),
      ['change   edit.txt → gen 2'],
    );
  });

  it('names the files a stopped generation wrote inside its snapshot, interpreter caches excepted', async () => {
    const tab = new Browser(gw.port, gw.host(1));
    assert.equal((await post(tab, '/export')).status, 201);
    const { cwd } = json<Info>(await tab.get('/info'));
    assert.ok(exists(path.join(cwd, '__pycache__')), 'Python cached its bytecode in the snapshot');
    await gw.client!.kill(1);
    const state = await gw.waitState('gen 1 stopped', (s) => s.generations[0].state === 'stopped');
    assert.deepEqual(state.generations[0].unsavedFiles, ['exports/notes.csv']);
    await waitFor('the terminal line', () => /^warning {2}generation 1 wrote a file/m.test(gw.output));
    assert.match(
      gw.output,
      /generation 1 wrote a file inside its snapshot, deleted with it: exports\/notes\.csv — to keep what the app writes, add the path to "shared" in baton\.json/,
    );
    assert.deepEqual((await gw.generation(2))?.unsavedFiles, [], 'a running generation names nothing yet');
  });
});

describe('a database the app creates inside its snapshot', () => {
  let gw: RunningGateway;
  let dir: string;
  before(async () => {
    // Not named in "shared" and not there yet: the built-in pattern cannot link a file that does not exist.
    dir = copyApp('notes', { shared: [], env: { NOTES_DB: 'state.db' } });
    gw = await RunningGateway.start(dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('is moved into the workspace when its generation stops', async () => {
    const tab = new Browser(gw.port, gw.host(1));
    await post(tab, '/login', 'user=ann');
    await post(tab, '/notes', 'text=kept');
    assert.ok(!exists(path.join(dir, 'state.db')));
    await gw.client!.kill(1);
    const state = await gw.waitState('gen 1 stopped', (s) => s.generations[0].state === 'stopped');
    assert.deepEqual(state.generations[0].unsavedFiles, []);
    assert.match(
      await gw.client!.logs(1),
      /state\.db was created inside the snapshot; it is now in the workspace/,
    );
    assert.equal(sql(dir, 'SELECT text FROM notes', 'state.db'), 'kept');
  });
});

describe('baton.json edits while the gateway runs', () => {
  let gw: RunningGateway;
  let dir: string;
  let config: Record<string, unknown>;
  const write = (value: unknown) =>
    fs.writeFileSync(path.join(dir, 'baton.json'), typeof value === 'string' ? value : JSON.stringify(value));
  before(async () => {
    dir = copyApp('notes', { env: { NOTES_LABEL: 'first' } });
    config = JSON.parse(fs.readFileSync(path.join(dir, 'baton.json'), 'utf8'));
    gw = await RunningGateway.start(dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('the next generation uses the edited file', async () => {
    assert.equal(json<Info>(await new Browser(gw.port, gw.host(1)).get('/info')).label, 'first');
    write({ ...config, env: { NOTES_LABEL: 'edited' } });
    await waitFor('the reload line', () => gw.output.includes('config   baton.json reloaded'));
    assert.equal((await gw.client!.deploy()).id, 2);
    await gw.waitState('gen 2 live', (s) => s.live === 2, 30_000);
    assert.equal(json<Info>(await new Browser(gw.port, gw.host(2)).get('/info')).label, 'edited');
  });

  it('a broken edit is reported once and the config in force keeps serving', async () => {
    write('{ "start": 5 }');
    const state = await gw.waitState('the config error', (s) => s.configError !== null);
    assert.match(state.configError!, /baton\.json: "start" must be a non-empty string \(got 5\)/);
    await waitFor('the terminal line', () =>
      /^config {3}.*"start" must be a non-empty string \(got 5\) \(line 1, column 3\) — the running config stays in force/m.test(
        gw.output,
      ),
    );
    assert.equal((await gw.client!.deploy()).id, 3);
    await gw.waitState('gen 3 live', (s) => s.live === 3, 30_000);
    assert.equal(json<Info>(await new Browser(gw.port, gw.host(3)).get('/info')).label, 'edited');
  });

  it('says which edited fields need a restart', async () => {
    write({ ...config, port: 1, env: { NOTES_LABEL: 'edited' } });
    const state = await gw.waitState('the restart notice', (s) => s.configRestart.length > 0);
    assert.equal(state.configError, null);
    assert.deepEqual(state.configRestart, ['port']);
    await waitFor('the terminal line', () =>
      gw.output.includes('"port" applies after a restart ("baton down", then "baton up")'),
    );
  });
});
