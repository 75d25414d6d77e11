// Nothing written is lost silently (README, "Code and data"): a snapshot is removed (or reused, see
// snapshotRecycle.ts) when its generation stops, so the files its processes created or changed inside it are
// named then, with the fix. Interpreter caches are left out (they are rebuilt), and so is shared data, which
// lives in the workspace already. The files are found by the snapshot worker's walk (snapshotRecycle.ts).
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

/** What a stopped generation's processes wrote inside its snapshot. */
export interface Written {
  /** One line per file moved into the workspace. */
  notes: string[];
  /** The other files, as paths relative to the app's root. */
  unsaved: string[];
}

export class RuntimeFiles {
  readonly written: Written = { notes: [], unsaved: [] };

  constructor(
    private readonly root: string,
    private readonly appDir: string,
    private readonly shared: SharedPaths,
  ) {}

  /**
   * A file the generation's processes created or changed (found while the snapshot is still whole): a
   * shared-pattern file it created moves into the workspace (if it has no such file yet), the others are named.
   */
  async found(rel: string): Promise<void> {
    if (CACHES(rel)) return;
    if (this.shared.matches(rel) && (await this.shared.adopt(this.root, this.appDir, rel)))
      this.written.notes.push(
        `[baton] ${rel} was created inside the snapshot; it is now in the workspace, shared by later generations\n`,
      );
    else this.written.unsaved.push(rel);
  }
}
