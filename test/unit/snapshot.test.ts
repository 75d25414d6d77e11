import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  appRelOf,
  createSnapshot,
  ignoreMatcher,
  isDependencyDir,
  removeSnapshot,
  type Changes,
  type Snapshot,
  type SnapshotOptions,
} from '../../gateway/process/snapshot';
import { SnapshotMaker } from '../../gateway/process/snapshotMaker';
import type { CreateJob } from '../../gateway/process/snapshotService';
import { prepareSnapshot } from '../../gateway/process/snapshotPrepare';
import { waitFor } from '../support/gateway';

const temp: string[] = [];
after(() => temp.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-snap-'));
  temp.push(dir);
  return dir;
}

function write(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
}

/** Files a generation writes into its snapshot while it runs: stamped a second later than now, as a worker's
 *  writes are (one written in the same clock tick as the snapshot was made would look like a snapshot's own). */
function writeLater(appDir: string, files: Record<string, string>): void {
  write(appDir, files);
  const later = new Date(Date.now() + 1000);
  for (const name of Object.keys(files)) fs.utimesSync(path.join(appDir, name), later, later);
}

/** Every path under `dir` (links not followed) → file text, "->target" for a link, "/" for a folder. */
function listing(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      const full = path.join(dir, child);
      if (entry.isSymbolicLink()) out[child] = `->${fs.readlinkSync(full)}`;
      else if (entry.isDirectory()) {
        out[child] = '/';
        walk(child);
      } else out[child] = fs.readFileSync(full, 'utf8');
    }
  };
  walk('');
  return out;
}

/** The whole app is watched. */
const everything: Changes['recursive'] = [''];

function options(previous: Snapshot | null, changes: Changes | null, more: Partial<SnapshotOptions> = {}) {
  return { ignored: ignoreMatcher([]), linked: isDependencyDir, previous, changes, ...more };
}

describe('snapshots', () => {
  test('the next snapshot reads only what the watcher saw change, and hard-links the rest', async () => {
    const root = tempDir();
    const base = tempDir();
    write(root, {
      'server.js': 'one',
      'src/a.js': 'a',
      'src/deep/b.js': 'b',
      'src/old/c.js': 'c',
      'gone.js': 'x',
    });
    const first = await createSnapshot(root, path.join(base, 'g1'), options(null, null));
    assert.deepEqual(listing(first.appDir), listing(root));

    write(root, { 'server.js': 'two', 'src/new/d.js': 'd', 'src/deep/e.js': 'e' });
    fs.rmSync(path.join(root, 'gone.js'));
    fs.renameSync(path.join(root, 'src/old'), path.join(root, 'src/moved'));
    const reported = ['server.js', 'src/new', 'src/deep/e.js', 'gone.js', 'src/old', 'src/moved'];
    // Changed but not reported: proof that unreported paths come from the previous snapshot, unread.
    write(root, { 'src/a.js': 'A' });
    const second = await createSnapshot(
      root,
      path.join(base, 'g2'),
      options(first, { dirty: new Set(reported), recursive: everything }),
    );
    const expected = listing(root);
    expected['src/a.js'] = 'a';
    assert.deepEqual(listing(second.appDir), expected);
    const inode = (s: Snapshot, rel: string) => fs.statSync(path.join(s.appDir, rel)).ino;
    assert.equal(inode(second, 'src/deep/b.js'), inode(first, 'src/deep/b.js'), 'unchanged: a hard link');
    assert.notEqual(inode(second, 'server.js'), inode(first, 'server.js'), 'changed: a copy');

    // Without the watcher (or when it is unsure) the whole workspace is read again.
    const third = await createSnapshot(root, path.join(base, 'g3'), options(second, null));
    assert.deepEqual(listing(third.appDir), listing(root));
    assert.equal(
      inode(third, 'src/deep/b.js'),
      inode(first, 'src/deep/b.js'),
      'unchanged stamps: a hard link',
    );
  });

  test('hard-linked files keep working when the older snapshot is removed', async () => {
    const root = tempDir();
    const base = tempDir();
    write(root, { 'a.js': 'a', 'lib/b.js': 'b' });
    const first = await createSnapshot(root, path.join(base, 'g1'), options(null, null));
    write(root, { 'a.js': 'A' });
    const second = await createSnapshot(
      root,
      path.join(base, 'g2'),
      options(first, { dirty: new Set(['a.js']), recursive: everything }),
    );
    await removeSnapshot(first.dir);
    assert.ok(!fs.existsSync(first.dir));
    assert.deepEqual(listing(second.appDir), { 'a.js': 'A', lib: '/', 'lib/b.js': 'b' });
    assert.equal(fs.statSync(path.join(second.appDir, 'lib/b.js')).mode & 0o222, 0, 'read-only');
    // A snapshot made from one whose own base is gone is whole too.
    write(root, { 'lib/c.js': 'c' });
    const third = await createSnapshot(
      root,
      path.join(base, 'g3'),
      options(second, { dirty: new Set(['lib/c.js']), recursive: everything }),
    );
    assert.deepEqual(listing(third.appDir), listing(root));
  });

  test('symbolic links are copied as links, never followed or chmodded through', async () => {
    const root = tempDir();
    const outside = tempDir();
    write(outside, { 'secret.txt': 'outside', 'dir/x.txt': 'x' });
    fs.chmodSync(path.join(outside, 'secret.txt'), 0o644);
    write(root, { 'a.js': 'a' });
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'link.txt'));
    fs.symlinkSync(path.join(outside, 'dir'), path.join(root, 'linkdir'));
    fs.symlinkSync('a.js', path.join(root, 'relative.js'));
    const snap = await createSnapshot(root, path.join(tempDir(), 'g1'), options(null, null));
    const listed = listing(snap.appDir);
    assert.equal(listed['link.txt'], `->${path.join(outside, 'secret.txt')}`);
    assert.equal(listed['linkdir'], `->${path.join(outside, 'dir')}`);
    assert.equal(listed['relative.js'], '->a.js');
    assert.equal(fs.statSync(path.join(outside, 'secret.txt')).mode & 0o777, 0o644, 'target untouched');
  });

  test('dependency folders are linked, caches left out, build output kept', async () => {
    const root = tempDir();
    write(root, {
      '.venv/bin/python': '#!/bin/sh\n',
      'venv/lib/x.py': '',
      'node_modules/m/index.js': '',
      'pkg/node_modules/n/index.js': '',
      '__pycache__/a.pyc': '',
      'app/__pycache__/b.pyc': '',
      '.pytest_cache/v': '',
      '.mypy_cache/v': '',
      '.tox/v': '',
      '.next/cache/v': '',
      '.next/server/page.js': 'page',
      'coverage/lcov.info': '',
      '.cache/x': '',
      'dist/app.js': 'dist',
      'build/app.js': 'build',
      'target/app.jar': 'jar',
      'app/main.py': 'main',
    });
    const snap = await createSnapshot(root, path.join(tempDir(), 'g1'), options(null, null));
    const listed = listing(snap.appDir);
    for (const dep of ['.venv', 'venv', 'node_modules', 'pkg/node_modules'])
      assert.equal(listed[dep], `->${path.join(root, dep)}`, dep);
    for (const cache of [
      '__pycache__',
      'app/__pycache__',
      '.pytest_cache',
      '.mypy_cache',
      '.tox',
      '.next/cache',
    ])
      assert.equal(listed[cache], undefined, cache);
    assert.equal(listed['coverage'], undefined);
    assert.equal(listed['.cache'], undefined);
    for (const kept of [
      '.next/server/page.js',
      'dist/app.js',
      'build/app.js',
      'target/app.jar',
      'app/main.py',
    ])
      assert.ok(listed[kept], kept);
  });

  test('a file or folder that vanishes while the snapshot is made is skipped', async () => {
    const root = tempDir();
    write(root, { 'a.js': 'a', '.a.js.swp': 'swap', 'tmp/x': 'x' });
    const ignored = ignoreMatcher([]);
    // The editor removes its swap file (and a tool its temp folder) after the folder was listed, before it is read.
    const vanishing: SnapshotOptions['ignored'] = (rel) => {
      if (rel === '.a.js.swp' || rel === 'tmp') fs.rmSync(path.join(root, rel), { recursive: true });
      return ignored(rel);
    };
    const first = await createSnapshot(
      root,
      path.join(tempDir(), 'g1'),
      options(null, null, { ignored: vanishing }),
    );
    assert.deepEqual(listing(first.appDir), { 'a.js': 'a' });
    // A reported path that is already gone again (an atomic save's temporary file) is skipped too.
    write(root, { 'a.js': 'A' });
    const second = await createSnapshot(
      root,
      path.join(tempDir(), 'g2'),
      options(first, { dirty: new Set(['a.js.tmp-123', 'a.js']), recursive: everything }),
    );
    assert.deepEqual(listing(second.appDir), { 'a.js': 'A' });
  });

  test('a snapshot that fails (file size limit, as a full disk) leaves no folder behind', () => {
    const root = tempDir();
    write(root, { 'small.js': 'a', 'lib/x.js': 'x' });
    fs.writeFileSync(path.join(root, 'big.bin'), Buffer.alloc(1024 * 1024));
    const dest = path.join(tempDir(), 'g1');
    const script = `
      process.on('SIGXFSZ', () => {});
      const { createSnapshot, ignoreMatcher, isDependencyDir } = require(${JSON.stringify(require.resolve('../../gateway/process/snapshot'))});
      createSnapshot(${JSON.stringify(root)}, ${JSON.stringify(dest)},
        { ignored: ignoreMatcher([]), linked: isDependencyDir, previous: null, changes: null })
        .then(() => console.log('made'), (err) => console.log('failed: ' + err.code));`;
    const run = spawnSync('sh', ['-c', 'ulimit -f 64 && exec "$0" -e "$1"', process.execPath, script], {
      encoding: 'utf8',
    });
    assert.match(run.stdout, /failed: EFBIG/, run.stderr);
    assert.ok(!fs.existsSync(dest), 'the half-made snapshot is removed');
  });
});

describe('the next snapshot, prepared ahead', () => {
  const inode = (s: Snapshot, rel: string) => fs.lstatSync(path.join(s.appDir, rel)).ino;

  test('a deploy that uses the clone holds exactly what a full snapshot would', async () => {
    const root = tempDir();
    const base = tempDir();
    write(root, {
      'server.js': 'one',
      'readme.md': 'r',
      'src/a.js': 'a',
      'src/deep/b.js': 'b',
      'src/old/c.js': 'c',
      'src/gone.js': 'x',
      'src/thing': 'a file that becomes a folder',
      'node_modules/m/index.js': 'm',
      'src/__pycache__/a.pyc': '',
    });
    fs.symlinkSync('a.js', path.join(root, 'src/link.js'));
    const first = await createSnapshot(root, path.join(base, 'g1'), options(null, null));
    const prepared = await prepareSnapshot(first, path.join(base, 'next-1'));
    assert.ok(prepared);
    assert.deepEqual(listing(prepared.dir), listing(first.dir), 'the clone holds the snapshot');

    write(root, { 'server.js': 'two', 'src/new/d.js': 'd', 'src/deep/e.js': 'e', 'readme.md': 'R!' });
    fs.rmSync(path.join(root, 'src/gone.js'));
    fs.renameSync(path.join(root, 'src/old'), path.join(root, 'src/moved'));
    fs.rmSync(path.join(root, 'src/thing'));
    write(root, { 'src/thing/inside.js': 'i' });
    fs.rmSync(path.join(root, 'src/link.js'));
    fs.symlinkSync('deep/b.js', path.join(root, 'src/link.js'));
    // Only src/ is watched: the app's root folder is compared entry by entry (readme.md is not reported).
    const dirty = ['server.js', 'src/new', 'src/deep/e.js', 'src/gone.js', 'src/old', 'src/moved'];
    dirty.push('src/thing', 'src/link.js');
    const second = await createSnapshot(root, path.join(base, 'g2'), {
      ...options(first, { dirty: new Set(dirty), recursive: ['src'] }),
      prepared,
    });
    assert.ok(!fs.existsSync(prepared.dir), 'the clone became the snapshot');
    const full = await createSnapshot(root, path.join(base, 'g3'), options(null, null));
    assert.deepEqual(listing(second.dir), listing(full.dir));
    assert.equal(inode(second, 'src/deep/b.js'), inode(first, 'src/deep/b.js'), 'unchanged: a hard link');
    assert.notEqual(inode(second, 'server.js'), inode(first, 'server.js'), 'changed: a new file');
    assert.equal(
      fs.readFileSync(path.join(first.appDir, 'server.js'), 'utf8'),
      'one',
      'the base is untouched',
    );
    assert.equal(fs.statSync(path.join(second.appDir, 'server.js')).mode & 0o222, 0, 'read-only');
    assert.equal(listing(second.appDir)['node_modules'], `->${path.join(root, 'node_modules')}`);
  });

  test('a change made while the clone is prepared is not lost', async () => {
    const root = tempDir();
    const base = tempDir();
    write(root, { 'a.js': 'a', 'lib/b.js': 'b' });
    const first = await createSnapshot(root, path.join(base, 'g1'), options(null, null));
    const preparing = prepareSnapshot(first, path.join(base, 'next-1'));
    write(root, { 'lib/b.js': 'B', 'lib/c.js': 'c' });
    const second = await createSnapshot(root, path.join(base, 'g2'), {
      ...options(first, { dirty: new Set(['lib/b.js', 'lib/c.js']), recursive: everything }),
      prepared: await preparing,
    });
    assert.deepEqual(listing(second.appDir), listing(root));
  });

  test("the base snapshot's removal breaks neither the clone nor the snapshot made from it", async () => {
    const root = tempDir();
    const base = tempDir();
    write(root, { 'a.js': 'a', 'lib/b.js': 'b' });
    const first = await createSnapshot(root, path.join(base, 'g1'), options(null, null));
    const prepared = await prepareSnapshot(first, path.join(base, 'next-1'));
    await removeSnapshot(first.dir);
    write(root, { 'a.js': 'A' });
    const second = await createSnapshot(root, path.join(base, 'g2'), {
      ...options(first, { dirty: new Set(['a.js']), recursive: everything }),
      prepared,
    });
    assert.deepEqual(listing(second.appDir), listing(root));
    // A clone of a snapshot that is already going fails whole: no half clone is left to be used.
    assert.equal(await prepareSnapshot(first, path.join(base, 'next-2')), null);
    await waitFor('the half clone removed', () => !fs.existsSync(path.join(base, 'next-2')));
  });

  test('a clone that does not fit (the watcher unsure, another base) is removed, and the app read whole', async () => {
    const root = tempDir();
    const base = tempDir();
    write(root, { 'a.js': 'a' });
    const first = await createSnapshot(root, path.join(base, 'g1'), options(null, null));
    const prepared = await prepareSnapshot(first, path.join(base, 'next-1'));
    write(root, { 'a.js': 'A', 'b.js': 'not reported' });
    const second = await createSnapshot(root, path.join(base, 'g2'), { ...options(first, null), prepared });
    assert.deepEqual(listing(second.appDir), listing(root));
    await waitFor('the unused clone removed', () => !fs.existsSync(prepared!.dir));
  });
});

describe("the snapshot worker's maker", () => {
  const makers: SnapshotMaker[] = [];
  let fulls = 0;
  after(() => makers.forEach((maker) => maker.close()));

  function setup() {
    const root = tempDir();
    const base = tempDir();
    const maker = new SnapshotMaker();
    makers.push(maker);
    const job = (
      name: string,
      previous: Snapshot | null,
      dirty: string[] | null,
      more: Partial<CreateJob> = {},
    ): CreateJob => ({
      root,
      dir: path.join(base, name),
      ignore: [],
      shared: [],
      previous: previous?.dir ?? null,
      changes: dirty && { dirty: new Set(dirty), recursive: everything },
      kept: null,
      ...more,
    });
    /** A snapshot read whole, with the same rules, to compare with. */
    const full = async (more: Partial<CreateJob> = {}) => {
      const whole = new SnapshotMaker();
      makers.push(whole);
      return listing((await whole.create(job(`full-${++fulls}`, null, null, more))).appDir);
    };
    const inode = (file: string) => fs.statSync(file).ino;
    return { root, base, maker, job, full, inode };
  }

  test("a stopped generation's folder becomes the next snapshot; what it wrote is named, then goes", async () => {
    const { root, maker, job, full, inode } = setup();
    write(root, { 'a.js': 'a', 'lib/b.js': 'b', 'lib/c.js': 'c' });
    const g1 = await maker.create(job('g1', null, null));
    write(root, { 'a.js': 'A' });
    const g2 = await maker.create(job('g2', g1, ['a.js']));
    // Generation 1 writes inside its snapshot: a report, a SQLite database, and over one of its sources.
    writeLater(g1.appDir, { 'out/report.txt': 'r', 'notes.db': 'rows' });
    fs.rmSync(path.join(g1.appDir, 'lib/c.js'));
    writeLater(g1.appDir, { 'lib/c.js': 'overwritten' });
    const lib = inode(path.join(g1.appDir, 'lib'));

    const written = await maker.retire(g1.dir);
    assert.deepEqual(written.unsaved.sort(), ['lib/c.js', 'out/report.txt']);
    assert.match(written.notes.join(''), /notes\.db was created inside the snapshot/);
    assert.equal(
      fs.readFileSync(path.join(root, 'notes.db'), 'utf8'),
      'rows',
      'shared data: moved to the workspace',
    );
    assert.ok(!fs.existsSync(g1.dir));

    write(root, { 'lib/d.js': 'd' });
    const g3 = await maker.create(job('g3', g2, ['lib/d.js', 'notes.db']));
    assert.equal(inode(path.join(g3.appDir, 'lib')), lib, "generation 1's folder, reused");
    assert.deepEqual(listing(g3.appDir), await full());
    assert.equal(fs.readFileSync(path.join(g3.appDir, 'a.js'), 'utf8'), 'A', 'changed since generation 1');
    assert.equal(fs.readFileSync(path.join(g3.appDir, 'lib/c.js'), 'utf8'), 'c', 'overwritten: read again');
    assert.equal(fs.readFileSync(path.join(g2.appDir, 'lib/c.js'), 'utf8'), 'c');
  });

  test('when the changes since a stopped generation are not known, its folder is reused file by file', async () => {
    const { root, maker, job, full, inode } = setup();
    write(root, { 'a.js': 'a', 'lib/b.js': 'b' });
    const g1 = await maker.create(job('g1', null, null));
    const b = inode(path.join(g1.appDir, 'lib/b.js'));
    write(root, { 'c.js': 'not reported' });
    const g2 = await maker.create(job('g2', g1, null)); // the watcher was unsure: read whole
    assert.deepEqual(await maker.retire(g1.dir), { notes: [], unsaved: [] });
    write(root, { 'a.js': 'A, not reported either' });
    const g3 = await maker.create(job('g3', g2, []));
    assert.deepEqual(listing(g3.appDir), await full());
    assert.equal(inode(path.join(g3.appDir, 'lib/b.js')), b, "generation 1's copy");
  });

  test('the newest snapshot is kept when the gateway stops; the next run brings it up to date', async () => {
    const { root, base, maker, job, full, inode } = setup();
    const kept = path.join(base, 'kept-app');
    write(root, { 'a.js': 'a', 'lib/b.js': 'b', 'lib/c.js': 'c' });
    const g1 = await maker.create(job('g1', null, null, { kept }));
    write(root, { 'a.js': 'A' });
    const g2 = await maker.create(job('g2', g1, ['a.js'], { kept }));
    writeLater(g2.appDir, { 'out/report.txt': 'written by generation 2' });
    const b = inode(path.join(g2.appDir, 'lib/b.js'));
    assert.deepEqual((await maker.retire(g2.dir)).unsaved, ['out/report.txt']);
    await maker.retire(g1.dir);
    assert.equal(maker.keep(kept), true);
    maker.close();
    assert.ok(fs.existsSync(path.join(kept, 'record.json')));

    // Between runs: one file edited, one added, one removed.
    write(root, { 'a.js': 'edited while Baton was down', 'lib/new.js': 'new' });
    fs.rmSync(path.join(root, 'lib/c.js'));
    const next = new SnapshotMaker();
    makers.push(next);
    const first = await next.create(job('run2-g1', null, null, { kept }));
    assert.deepEqual(listing(first.appDir), await full());
    assert.equal(inode(path.join(first.appDir, 'lib/b.js')), b, 'the kept copy, not a new one');
    await waitFor('the kept folder used up', () => !fs.existsSync(kept));
  });

  test('a kept snapshot made with other rules, or cut short, is removed and the app read whole', async () => {
    const { root, base, maker, job, full, inode } = setup();
    const kept = path.join(base, 'kept-app');
    write(root, { 'a.js': 'a', 'lib/b.js': 'b' });
    const g1 = await maker.create(job('g1', null, null, { kept }));
    await maker.retire(g1.dir);
    assert.equal(maker.keep(kept), true);

    const other = new SnapshotMaker();
    makers.push(other);
    const ignoring = { kept, ignore: ['lib/**'] };
    const first = await other.create(job('other-g1', null, null, ignoring));
    assert.deepEqual(listing(first.appDir), await full(ignoring));
    await waitFor('the kept folder removed', () => !fs.existsSync(kept));

    // A keep cut short: the snapshot moved there, the record never written.
    const g2 = await other.create(job('other-g2', first, [], ignoring));
    await other.retire(first.dir);
    await other.retire(g2.dir);
    assert.equal(other.keep(kept), true);
    const keptA = inode(path.join(kept, 'snapshot', appRelOf(root), 'a.js'));
    fs.rmSync(path.join(kept, 'record.json'));
    const third = new SnapshotMaker();
    makers.push(third);
    const again = await third.create(job('third-g1', null, null, ignoring));
    assert.deepEqual(listing(again.appDir), await full(ignoring));
    assert.notEqual(inode(path.join(again.appDir, 'a.js')), keptA, 'copied anew');
    await waitFor('the kept folder removed', () => !fs.existsSync(kept));
  });

  test('with no stopped generation, the next deploy uses a clone made once the last one settled', async () => {
    const { root, base, maker, job, full, inode } = setup();
    write(root, { 'a.js': 'a', 'lib/b.js': 'b' });
    const g1 = await maker.create(job('g1', null, null));
    const next = await waitFor('the clone', () =>
      fs.readdirSync(base).find((name) => name.startsWith('next-')),
    );
    const clone = inode(path.join(base, next));
    write(root, { 'lib/b.js': 'B' });
    const g2 = await maker.create(job('g2', g1, ['lib/b.js']));
    assert.equal(inode(g2.dir), clone);
    assert.deepEqual(listing(g2.appDir), await full());
    assert.equal(fs.readFileSync(path.join(g1.appDir, 'lib/b.js'), 'utf8'), 'b');
  });
});
