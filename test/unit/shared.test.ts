// Shared data (README, "Code and data"): which paths are linked instead of copied, and how a path that does
// not exist yet still ends up in the workspace.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { SharedPaths, snapshotRules } from '../../gateway/process/shared';
import { DEFAULTS } from '../../gateway/config/config';

describe('SharedPaths', () => {
  test('SQLite files and their journal, WAL and shm files are shared anywhere, by default', () => {
    const shared = new SharedPaths([]);
    for (const rel of [
      'app.db',
      'db/app.sqlite3',
      'a/b/c.sqlite',
      'app.db-wal',
      'x/y.sqlite3-journal',
      'z.db-shm',
    ])
      assert.ok(shared.matches(rel), rel);
    for (const rel of ['db.py', 'app.dbx', 'db', 'db/schema.sql', 'notes.sqlite3.bak'])
      assert.ok(!shared.matches(rel), rel);
  });

  test('folders are shared with everything inside them; globs match what they name', () => {
    const shared = new SharedPaths(['uploads/', './storage/**', 'db/*.json']);
    for (const rel of ['uploads', 'uploads/a.png', 'uploads/deep/b', 'storage', 'storage/x', 'db/data.json'])
      assert.ok(shared.matches(rel), rel);
    for (const rel of ['upload', 'src/uploads.ts', 'db/schema.sql', 'db'])
      assert.ok(!shared.matches(rel), rel);
  });

  test('literal paths are linked before they exist: a folder is created, a file link waits for the app', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-shared-'));
    const appDir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-snap-'));
    try {
      fs.mkdirSync(path.join(appDir, 'data'));
      fs.writeFileSync(path.join(appDir, 'exists.txt'), 'copied');
      const shared = new SharedPaths([
        'uploads/',
        'data/app.sqlite3',
        'var/cache/',
        'uploads/inner.txt',
        'exists.txt',
      ]);
      await shared.linkMissing(root, appDir);
      assert.ok(fs.statSync(path.join(root, 'uploads')).isDirectory(), 'uploads/ created in the workspace');
      assert.equal(fs.readlinkSync(path.join(appDir, 'uploads')), path.join(root, 'uploads'));
      assert.ok(fs.statSync(path.join(root, 'var', 'cache')).isDirectory());
      assert.equal(fs.readlinkSync(path.join(appDir, 'var', 'cache')), path.join(root, 'var', 'cache'));
      assert.equal(
        fs.readlinkSync(path.join(appDir, 'data', 'app.sqlite3')),
        path.join(root, 'data', 'app.sqlite3'),
      );
      assert.ok(!fs.existsSync(path.join(root, 'data', 'app.sqlite3')), "the file is the app's to create");
      fs.writeFileSync(path.join(appDir, 'data', 'app.sqlite3'), 'rows');
      assert.equal(
        fs.readFileSync(path.join(root, 'data', 'app.sqlite3'), 'utf8'),
        'rows',
        'written through the link',
      );
      assert.equal(
        fs.readFileSync(path.join(appDir, 'exists.txt'), 'utf8'),
        'copied',
        'what the copy made stays',
      );
      assert.ok(!fs.lstatSync(path.join(root, 'uploads')).isSymbolicLink(), 'no link inside a shared folder');
      assert.ok(!fs.existsSync(path.join(root, 'uploads', 'inner.txt')));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(appDir, { recursive: true, force: true });
    }
  });

  test('the watcher leaves out ignored paths and shared data alike', () => {
    const rules = snapshotRules({ ...DEFAULTS, start: 'x', ignore: ['*.log'], shared: ['uploads/'] });
    for (const rel of ['node_modules', 'a.log', 'uploads/x.png', 'app.db-wal'])
      assert.ok(rules.unwatched(rel), rel);
    assert.ok(!rules.unwatched('server.js'));
  });
});
