// Snapshots made from what changed, through a real gateway: a Python-style virtualenv start command, an
// editor's atomic save, and hard links that outlive the generation they were first made for. The app has
// 2,000 more files, so that its snapshots are made in the gateway's snapshot worker thread (smaller apps'
// snapshots, as in the other tests, are made on the gateway's own thread, and never kept between runs).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keptSnapshotDir } from '../../gateway/process/snapshotBase';
import { request, RunningGateway, tinyApp, waitFor } from '../support/gateway';

describe('snapshots of a changing app', () => {
  let gw: RunningGateway;
  let dir: string;
  before(async () => {
    // A virtualenv's interpreter, as `python -m venv` makes it: the start command runs it from the snapshot.
    const fakePython = `#!/bin/sh\nexec "${process.execPath}" "$@"\n`;
    ({ dir } = tinyApp(
      { start: '.venv/bin/python server.js' },
      {
        '.venv/bin/python': fakePython,
        'version.txt': 'one\n',
        'lib/data.txt': 'kept\n',
        ...Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`lib/many/m${i % 40}/f${i}.js`, ''])),
      },
    ));
    fs.chmodSync(path.join(dir, '.venv/bin/python'), 0o755);
    gw = await RunningGateway.start(dir);
  });
  after(() => gw.dispose());

  const info = async (generation: number) =>
    JSON.parse((await request(gw.port, { host: gw.host(generation), path: '/info' })).body) as {
      version: string;
      cwd: string;
    };

  it('runs a start command from a linked .venv', async () => {
    const { cwd } = await info(1);
    assert.equal(fs.readlinkSync(path.join(cwd, '.venv')), path.join(dir, '.venv'));
  });

  it("deploys an editor's atomic save (temp file, rename, chmod) as one generation", async () => {
    const tmp = path.join(dir, '.version.txt.tmp-9');
    fs.writeFileSync(tmp, 'two\n');
    fs.renameSync(tmp, path.join(dir, 'version.txt'));
    fs.chmodSync(path.join(dir, 'version.txt'), 0o644);
    await gw.waitState('gen 2 live after the save', (s) => s.live === 2, 20_000);
    assert.equal((await info(2)).version, 'two');
    // The next save is the next generation: the atomic save left no second deploy behind.
    fs.writeFileSync(path.join(dir, 'lib/data.txt'), 'changed\n');
    await gw.waitState('gen 3 live after the next save', (s) => s.live === 3, 20_000);
    await waitFor('its change line', () => /change +lib\/data\.txt → gen 3/.test(gw.output));
    assert.doesNotMatch(gw.output, /→ gen 4/);
    assert.equal((await info(3)).version, 'two');
  });

  it('keeps serving hard-linked files when the generation that first copied them is gone', async () => {
    const first = await info(1);
    await gw.client!.kill(1);
    await gw.client!.kill(2);
    assert.ok(!fs.existsSync(first.cwd));
    const third = await info(3);
    assert.equal(fs.readFileSync(path.join(third.cwd, 'lib/data.txt'), 'utf8'), 'changed\n');
    fs.writeFileSync(path.join(dir, 'version.txt'), 'four\n');
    await gw.waitState('gen 4 live', (s) => s.live === 4, 20_000);
    assert.equal((await info(4)).version, 'four');
    assert.equal(fs.readFileSync(path.join((await info(4)).cwd, 'lib/data.txt'), 'utf8'), 'changed\n');
  });

  it('keeps the newest snapshot through baton down; the next baton up copies only what changed', async () => {
    // Null where snapshots live in memory (tmpfs): then nothing is kept and the next up copies the app again.
    // (dispose() removes what the last stop keeps.)
    const kept = keptSnapshotDir(dir);
    const inode = (cwd: string) => fs.statSync(path.join(cwd, 'lib/data.txt')).ino;
    const before = inode((await info(4)).cwd);
    await gw.stop();
    if (kept) assert.ok(fs.existsSync(path.join(kept, 'record.json')), `a kept snapshot in ${kept}`);

    fs.writeFileSync(path.join(dir, 'version.txt'), 'edited while Baton was down\n');
    gw = await RunningGateway.start(dir);
    const first = await info(1);
    assert.equal(first.version, 'edited while Baton was down');
    if (kept) {
      assert.equal(inode(first.cwd), before, 'the unchanged file is the kept copy');
      await waitFor('the kept folder taken', () => !fs.existsSync(kept));
    }
  });
});
