import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { ignoreMatcher } from '../../gateway/process/snapshot';
import { covered } from '../../gateway/process/snapshotCopy';
import { ChangeWatcher, watchBases, watchLimitMessage } from '../../gateway/process/watcher';
import { sleep, waitFor } from '../support/gateway';

const temp: string[] = [];
const watchers: ChangeWatcher[] = [];
after(async () => {
  for (const watcher of watchers) await watcher.close();
  temp.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true }));
});

function app(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-watch-'));
  temp.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A watcher whose deploy batches are collected in order. */
function watch(root: string, globs: string[]) {
  const batches: string[][] = [];
  const watcher = new ChangeWatcher(root, globs, ignoreMatcher([]), (files) => batches.push(files.sort()));
  watchers.push(watcher);
  return { watcher, batches };
}

describe('watch bases', () => {
  test('a glob is watched from its base folder, a literal path through its own folder only', () => {
    assert.deepEqual(watchBases(['**']), { recursive: [''], flat: [] });
    assert.deepEqual(watchBases(['src/**', 'src/lib/**/*.js', 'server.js', 'views/*.html']), {
      recursive: ['src'],
      flat: ['', 'views'],
    });
    assert.deepEqual(watchBases(['**', 'server.js', '!**/*.tmp']), { recursive: [''], flat: [] });
  });
});

describe('ChangeWatcher', () => {
  test('is ready however late ready() is asked (readiness exists from construction)', async () => {
    const { watcher } = watch(app({ 'a.js': '' }), ['**']);
    await sleep(300); // the start race: a caller that asks after the watcher got ready
    await watcher.ready();
    assert.equal(watcher.error, null);
  });

  test("an editor's atomic save (temp file, rename, chmod) is one change", async () => {
    const root = app({ 'server.js': 'one', 'marker.js': '' });
    const { watcher, batches } = watch(root, ['**']);
    await watcher.ready();
    const tmp = path.join(root, '.server.js.tmp-4711');
    fs.writeFileSync(tmp, 'two');
    fs.renameSync(tmp, path.join(root, 'server.js'));
    fs.chmodSync(path.join(root, 'server.js'), 0o644);
    await waitFor('the save seen', () => batches.length >= 1, 5000);
    assert.ok(batches[0].includes('server.js'));
    // Any later event of that save would come before the marker's and share its batch: the next batch is
    // the marker's alone.
    fs.writeFileSync(path.join(root, 'marker.js'), 'x');
    await waitFor('the marker seen', () => batches.length >= 2, 5000);
    assert.deepEqual(batches[1], ['marker.js']);
    assert.equal(batches.length, 2);
  });

  test('only the globs deploy; every change (and new folders) is kept for the next snapshot', async () => {
    const root = app({ 'src/a.js': '', 'notes/n.txt': '', 'server.js': '' });
    const { watcher, batches } = watch(root, ['src/**']);
    await watcher.ready();
    assert.equal(watcher.takeChanges(), null, 'before the first snapshot: unknown, read the whole app');
    fs.mkdirSync(path.join(root, 'src/new/deeper'), { recursive: true });
    await waitFor('the new folder seen', () => watcher.takeChanges()?.dirty.has('src/new'), 5000);
    fs.writeFileSync(path.join(root, 'src/new/deeper/b.js'), 'b');
    await waitFor(
      'a file in the new folder deploys',
      () => batches.flat().includes('src/new/deeper/b.js'),
      5000,
    );
    const changes = watcher.takeChanges()!;
    assert.ok(changes.dirty.has('src/new/deeper/b.js'));
    assert.equal(covered(changes, 'src/new'), true);
    assert.equal(covered(changes, 'notes'), false, 'outside the globs: not watched, read again by snapshots');
    watcher.giveBack(changes);
    assert.ok(watcher.takeChanges()!.dirty.has('src/new/deeper/b.js'), 'given back: counted again');
    watcher.giveBack(null);
    assert.equal(watcher.takeChanges(), null, 'unsure after a lost snapshot base');
  });

  test('an OS limit on watches stops deploy on save with one message that names the limit and the fix', () => {
    const root = app({ 'a/b.js': '' });
    // Every descriptor in use: the OS refuses the watch as it does at the inotify limit.
    const script = `
      const fs = require('node:fs');
      const { ChangeWatcher } = require(${JSON.stringify(require.resolve('../../gateway/process/watcher'))});
      try { for (;;) fs.openSync('/dev/null', 'r'); } catch {}
      const messages = [];
      const watcher = new ChangeWatcher(${JSON.stringify(root)}, ['**'], () => false, () => {}, (m) => messages.push(m));
      watcher.ready().then(() => console.log(JSON.stringify({ messages, error: watcher.error })));`;
    const run = spawnSync('sh', ['-c', 'ulimit -n 64 && exec "$0" -e "$1"', process.execPath, script], {
      encoding: 'utf8',
    });
    const { messages, error } = JSON.parse(run.stdout) as { messages: string[]; error: string };
    assert.equal(messages.length, 1, run.stderr);
    assert.equal(error, messages[0]);
    assert.match(error, /^deploy on save is off: the limit of open files or of file watchers is reached/);
    assert.match(error, /fs\.inotify\.max_user_instances = \d+/);
    assert.match(
      watchLimitMessage('ENOSPC', { watches: '8192', instances: '128' })!,
      /max_user_watches = 8192.*sudo sysctl fs\.inotify\.max_user_watches=524288/,
    );
  });
});
