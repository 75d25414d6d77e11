// Folders another local user can reach: the snapshot base in the shared temp folder, and `.baton/` in a
// workspace someone else can write. Each test prepares the hostile folder as one user and runs the gateway
// as another (root → `nobody`, or root on `nobody`'s workspace) when the tests run as root.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { request, tinyApp, waitFor } from '../support/gateway';
import { chownTree, isRoot, NOBODY, servesOrExits, sharedTemp, stop, up } from './users';

const temps: string[] = [];
const temp = () => {
  const dir = sharedTemp();
  temps.push(dir);
  return dir;
};
const app = (files: Record<string, string> = {}) => {
  const { dir } = tinyApp({}, files);
  temps.push(dir);
  return dir;
};
/** The gateway's user and the attacker: nobody and root when root, else both this user. */
const victim = isRoot ? NOBODY : null;
const victimUid = victim?.uid ?? process.getuid!();
const noXdg = { XDG_RUNTIME_DIR: '' };

async function refused(dir: string, env: NodeJS.ProcessEnv, pattern: RegExp): Promise<string> {
  if (victim) chownTree(dir, victim);
  const run = up(dir, victim, { ...noXdg, ...env });
  if (await servesOrExits(run)) {
    await stop(run);
    assert.fail(`baton up served with an unsafe folder:\n${run.output}`);
  }
  assert.equal(await run.exited, 1);
  const lines = run.output.trim().split('\n');
  assert.equal(lines.length, 1, run.output);
  assert.match(lines[0], pattern);
  return lines[0];
}

describe('folders another user can reach', () => {
  after(() => {
    for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(
    isRoot
      ? 'refuses a snapshot base in the temp folder created by another user (root) for nobody, writable by all'
      : 'refuses a snapshot base in the temp folder writable by all (no second user: not root)',
    async () => {
      const tmp = temp();
      const base = path.join(tmp, `baton-${victimUid}`);
      fs.mkdirSync(base);
      fs.chmodSync(base, 0o777);
      const line = await refused(app(), { TMPDIR: tmp }, /rm -rf/);
      assert.ok(line.includes(base), line);
      assert.match(line, isRoot ? /owned by uid 0/ : /writable by other users/);
      assert.deepEqual(fs.readdirSync(base), [], 'nothing was written into it');
    },
  );

  it('refuses a snapshot base that is a symbolic link planted in the temp folder', async () => {
    const tmp = temp();
    const elsewhere = temp();
    const base = path.join(tmp, `baton-${victimUid}`);
    fs.symlinkSync(elsewhere, base);
    if (victim) fs.lchownSync(base, victim.uid, victim.gid); // even a link that seems to be the victim's own
    const line = await refused(app(), { TMPDIR: tmp }, /is a symbolic link/);
    assert.ok(line.includes(base), line);
  });

  it(
    isRoot
      ? 'keeps snapshots private: a file under a 0700 folder is not readable by another user through them'
      : 'keeps snapshots private: the snapshot folders have no group or other access (not root: modes only)',
    async () => {
      const tmp = temp();
      const dir = app({ 'secret/key.txt': 'k3y\n' });
      fs.chmodSync(path.join(dir, 'secret'), 0o700);
      const run = up(dir, null, { ...noXdg, TMPDIR: tmp });
      try {
        assert.ok(await servesOrExits(run), run.output);
        const port = Number(/localhost:(\d+)/.exec(run.output)![1]);
        const info = await waitFor('generation 1 to answer', async () => {
          const reply = await request(port, { host: `g1.localhost:${port}`, path: '/info' });
          return reply.status === 200 ? (JSON.parse(reply.body) as { cwd: string }) : null;
        });
        const key = path.join(info.cwd, 'secret', 'key.txt');
        assert.equal(fs.readFileSync(key, 'utf8'), 'k3y\n');
        for (let at = path.dirname(key); at !== tmp; at = path.dirname(at)) {
          if ((fs.statSync(at).mode & 0o077) === 0) break;
          assert.notEqual(path.dirname(at), tmp, `no folder above ${key} keeps other users out`);
        }
        if (isRoot) {
          const cat = spawn('cat', [key], { ...NOBODY, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          cat.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
          cat.stderr.setEncoding('utf8').on('data', (t: string) => (out += t));
          const code = await new Promise((resolve) => cat.once('close', resolve));
          assert.notEqual(code, 0, `nobody read the key: ${out}`);
          assert.match(out, /Permission denied/);
        }
      } finally {
        await stop(run);
      }
    },
  );

  it(
    isRoot
      ? 'a root gateway refuses a .baton folder another user (nobody) owns, and writes through none of its links'
      : 'refuses a .baton that is a symbolic link (no second user: not root)',
    async () => {
      const dir = app();
      const victimFile = path.join(temp(), 'victim.txt');
      fs.writeFileSync(victimFile, 'precious\n');
      if (isRoot) {
        fs.mkdirSync(path.join(dir, '.baton'));
        fs.symlinkSync(victimFile, path.join(dir, '.baton', '.gitignore'));
        chownTree(dir, NOBODY);
        const run = up(dir, null, noXdg);
        if (await servesOrExits(run)) await stop(run);
        assert.equal(
          fs.readFileSync(victimFile, 'utf8'),
          'precious\n',
          'the file behind the link is untouched',
        );
        assert.equal(run.child.exitCode, 1, run.output);
        assert.match(run.output, /\.baton is owned by uid 65534.*rm -rf/);
      } else {
        fs.symlinkSync(path.dirname(victimFile), path.join(dir, '.baton'));
        const run = up(dir, null, noXdg);
        if (await servesOrExits(run)) await stop(run);
        assert.equal(run.child.exitCode, 1, run.output);
        assert.match(run.output, /\.baton is a symbolic link/);
        assert.deepEqual(fs.readdirSync(path.dirname(victimFile)), ['victim.txt']);
      }
    },
  );

  it('replaces links planted as files inside its own .baton instead of writing through them', async () => {
    const dir = app();
    const elsewhere = temp();
    fs.mkdirSync(path.join(dir, '.baton'));
    for (const name of ['.gitignore', 'gateway.json', 'gateway.lock']) {
      fs.writeFileSync(path.join(elsewhere, name), 'precious\n');
      fs.symlinkSync(path.join(elsewhere, name), path.join(dir, '.baton', name));
    }
    const run = up(dir, null, noXdg);
    try {
      assert.ok(await servesOrExits(run), run.output);
      for (const name of ['.gitignore', 'gateway.json', 'gateway.lock']) {
        assert.equal(fs.readFileSync(path.join(elsewhere, name), 'utf8'), 'precious\n', name);
      }
      assert.ok(fs.lstatSync(path.join(dir, '.baton', '.gitignore')).isFile());
      assert.equal(fs.readFileSync(path.join(dir, '.baton', '.gitignore'), 'utf8'), '*\n');
    } finally {
      await stop(run);
    }
  });
});
