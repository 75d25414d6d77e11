// Data is shared, code is versioned (README, "Code and data"). Paths that match `shared` in baton.json, or
// the built-in SQLite patterns, are never copied into a snapshot: the snapshot holds a symbolic link to the
// workspace's own file or folder, so every generation reads and writes the same data and nothing written
// there goes when a snapshot is removed. SQLite resolves the link before it names its journal, WAL and shm
// files, so those sit beside the real database (measured with SQLite 3.40), and two generations share one WAL.
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import type { BatonConfig } from '../config/config';
import { ignoreMatcher } from './snapshot';

/** SQLite databases and their rollback journal, WAL and shared-memory files, anywhere in the tree. */
export const DEFAULT_SHARED = [
  '**/*.{sqlite,sqlite3,db}',
  '**/*.{sqlite,sqlite3,db}-{journal,wal,shm}',
] as const;

const GLOB_CHARS = /[*?[\]{}()!+@]/;

/** A path to link before it exists: a folder (`uploads/`, `storage/**`) or one file (`db/app.sqlite3`). */
interface Literal {
  rel: string;
  folder: boolean;
}

export class SharedPaths {
  private readonly test: (rel: string) => boolean;
  private readonly literals: Literal[] = [];

  constructor(shared: readonly string[]) {
    const patterns: string[] = [...DEFAULT_SHARED];
    for (const raw of shared) {
      const folder = raw.endsWith('/') || raw.endsWith('/**');
      const rel = raw
        .replace(/^\.\//, '')
        .replace(/\/\*\*$/, '')
        .replace(/\/+$/, '');
      if (!rel) continue;
      patterns.push(rel);
      if (!GLOB_CHARS.test(rel)) this.literals.push({ rel, folder });
    }
    // `X/**` as well, so that a path inside a shared folder is shared too (the watcher asks about those).
    this.test = picomatch(
      patterns.flatMap((p) => [p, `${p}/**`]),
      { dot: true },
    );
  }

  /** Whether a relative POSIX path is shared data, or lies inside a shared folder. */
  matches(rel: string): boolean {
    return this.test(rel);
  }

  /** Puts a link to the workspace's `rel` at the same place in the snapshot (for the copy loop). */
  link(root: string, appDir: string, rel: string): Promise<void> {
    return fs.promises.symlink(path.join(root, rel), path.join(appDir, rel));
  }

  /**
   * After the copy: links the literal shared paths that did not exist yet, so that a database the app creates
   * on its first run, or an upload folder, ends up in the workspace. A missing folder is created in the
   * workspace; for a missing file, its parent folders are, and the link dangles until the app creates it.
   */
  async linkMissing(root: string, appDir: string): Promise<void> {
    for (const { rel, folder } of this.literals) {
      const parent = path.posix.dirname(rel);
      if (parent !== '.' && this.matches(parent)) continue; // inside a shared folder: already reachable
      const inWorkspace = path.join(root, rel);
      const inSnapshot = path.join(appDir, rel);
      await fs.promises.mkdir(folder ? inWorkspace : path.dirname(inWorkspace), { recursive: true });
      if (await exists(inSnapshot)) continue;
      await fs.promises.mkdir(path.dirname(inSnapshot), { recursive: true });
      await fs.promises.symlink(inWorkspace, inSnapshot);
    }
  }

  /**
   * A file matching a shared glob that a worker created inside its snapshot (the pattern could not link a
   * name that did not exist yet) is moved into the workspace once its worker is gone, unless the workspace
   * has that path by now. Returns whether it was moved.
   */
  async adopt(root: string, appDir: string, rel: string): Promise<boolean> {
    const target = path.join(root, rel);
    try {
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.copyFile(path.join(appDir, rel), target, fs.constants.COPYFILE_EXCL);
      return true;
    } catch {
      return false;
    }
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** What a snapshot leaves out and what it links, for one config. */
export interface SnapshotRules {
  ignored: (rel: string) => boolean;
  shared: SharedPaths;
  /** For the file watcher: neither ignored paths nor shared data deploy. */
  unwatched: (rel: string) => boolean;
}

const rulesCache = new WeakMap<BatonConfig, SnapshotRules>();

/** The rules of one config object (computed once per config: an edited baton.json is a new object). */
export function snapshotRules(config: BatonConfig): SnapshotRules {
  let rules = rulesCache.get(config);
  if (!rules) {
    const ignored = ignoreMatcher(config.ignore);
    const shared = new SharedPaths(config.shared);
    rules = { ignored, shared, unwatched: (rel) => ignored(rel) || shared.matches(rel) };
    rulesCache.set(config, rules);
  }
  return rules;
}
