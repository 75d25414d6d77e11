// Each generation's output kept under .baton/logs/ (gateway/lifecycle/logFiles.ts): bounded, only the newest
// generations, never through a symlink, and emptied by the next gateway run.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { LogFiles, logFilePath, readLogFile } from '../../gateway/lifecycle/logFiles';

function withRoot(run: (root: string) => void): void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-logs-'));
  try {
    run(root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

describe('LogFiles', () => {
  test('appends per generation; a new run starts with no files of the last one', () => {
    withRoot((root) => {
      const logs = new LogFiles(root);
      logs.append(1, 'a\n', () => '');
      logs.append(1, 'b\n', () => '');
      logs.append(2, 'c\n', () => '');
      assert.equal(readLogFile(root, 1), 'a\nb\n');
      assert.equal(readLogFile(root, 2), 'c\n');
      assert.equal((fs.statSync(logFilePath(root, 1)).mode & 0o777).toString(8), '600');
      new LogFiles(root);
      assert.equal(readLogFile(root, 1), null);
    });
  });

  test('a file past 1 MiB is rewritten with the newest output only', () => {
    withRoot((root) => {
      const logs = new LogFiles(root);
      const chunk = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 16; i++) logs.append(1, chunk, () => 'newest');
      assert.equal(fs.statSync(logFilePath(root, 1)).size, 1024 * 1024);
      logs.append(1, 'y', () => 'newest');
      assert.equal(readLogFile(root, 1), 'newest');
      logs.append(1, 'z', () => 'unused');
      assert.equal(readLogFile(root, 1), 'newestz');
    });
  });

  test('only the newest 20 generations keep a file', () => {
    withRoot((root) => {
      const logs = new LogFiles(root);
      for (let id = 1; id <= 22; id++) logs.append(id, `${id}\n`, () => '');
      assert.equal(readLogFile(root, 2), null);
      assert.equal(readLogFile(root, 3), '3\n');
      assert.equal(readLogFile(root, 22), '22\n');
    });
  });

  test('a symlink at a log name is not followed, and a symlinked folder is not used', () => {
    withRoot((root) => {
      const target = path.join(root, 'target');
      fs.writeFileSync(target, 'keep');
      const logs = new LogFiles(root);
      fs.symlinkSync(target, logFilePath(root, 1));
      logs.append(1, 'evil', () => '');
      assert.equal(fs.readFileSync(target, 'utf8'), 'keep');
      assert.equal(readLogFile(root, 1), null);
    });
    withRoot((root) => {
      const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-elsewhere-'));
      try {
        fs.mkdirSync(path.join(root, '.baton'));
        fs.symlinkSync(elsewhere, path.join(root, '.baton', 'logs'));
        new LogFiles(root).append(1, 'evil', () => '');
        assert.deepEqual(fs.readdirSync(elsewhere), []);
      } finally {
        fs.rmSync(elsewhere, { recursive: true, force: true });
      }
    });
  });
});
