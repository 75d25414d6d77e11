// Nothing written is lost silently (README, "Code and data"): a snapshot is removed when its generation stops,
// so the files its processes created or changed inside it are named then, with the fix. Interpreter caches
// are left out (they are rebuilt), and so is shared data, which lives in the workspace already.
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import type { SharedPaths } from './shared';

/** Written by interpreters and test tools on their own, and rebuilt from the sources. */
const CACHES = picomatch(
  [
    '**/__pycache__/**',
    '**/*.py[co]',
    '**/.pytest_cache/**',
    '**/.mypy_cache/**',
    '**/.ruff_cache/**',
    '**/.sass-cache/**',
  ],
  { dot: true },
);

/** Watches one generation's snapshot from the moment it is complete. */
export class RuntimeFiles {
  /** Files with a later modification time were written by the generation's processes. Date.now() drops the
   *  fraction of a millisecond that file times keep: + 1, or a file copied this very millisecond would count. */
  private readonly since = Date.now() + 1;

  constructor(
    private readonly root: string,
    private readonly appDir: string,
    private readonly shared: SharedPaths,
  ) {}

  /**
   * Once the processes are gone: moves shared-pattern files they created into the workspace (if it has no
   * such file yet), and returns the other files they created or changed, as paths relative to the root.
   * `note` gets one line per file moved. Never throws: a snapshot that is already gone has nothing to say.
   */
  async collect(note: (line: string) => void): Promise<string[]> {
    const unsaved: string[] = [];
    for (const rel of await this.written('')) {
      if (CACHES(rel)) continue;
      if (this.shared.matches(rel) && (await this.shared.adopt(this.root, this.appDir, rel)))
        note(
          `[baton] ${rel} was created inside the snapshot; it is now in the workspace, shared by later generations\n`,
        );
      else unsaved.push(rel);
    }
    return unsaved.sort();
  }

  private async written(rel: string): Promise<string[]> {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(path.join(this.appDir, rel), { withFileTypes: true });
    } catch {
      return [];
    }
    const found: string[] = [];
    // The files of one folder are stat'ed together, folders one after another: a large tree neither takes
    // long nor floods the event loop.
    const files = entries.filter((e) => e.isFile()).map((e) => (rel ? `${rel}/${e.name}` : e.name));
    const stamps = await Promise.all(
      files.map((child) =>
        fs.promises.lstat(path.join(this.appDir, child)).then(
          (stat) => stat.mtimeMs,
          () => 0, // removed meanwhile
        ),
      ),
    );
    found.push(...files.filter((_, i) => stamps[i] > this.since));
    // Links (node_modules, shared data, the app's own) lead out of the snapshot: never followed.
    for (const entry of entries)
      if (entry.isDirectory()) found.push(...(await this.written(rel ? `${rel}/${entry.name}` : entry.name)));
    return found;
  }
}
