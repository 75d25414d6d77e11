// Snapshots of the app for one generation (ARCHITECTURE.md, "building"). They live outside the workspace, in
// the system temp folder, so the user's TypeScript, ESLint, Jest and file watchers never see the copies; the
// folders above the app are mirrored and their node_modules linked, so Node resolves the app's packages from
// the snapshot exactly as from the workspace (npm workspaces included). Unchanged files are hard links to the
// previous snapshot's copy, made read-only so that no worker can change a file another generation reads.
// What the watcher saw change since the previous snapshot is all that is read from the workspace again; the
// copy itself is in snapshotCopy.ts, the clone made ahead of the next deploy in snapshotPrepare.ts, and all of
// it runs in a worker thread (snapshotWorker.ts), off the gateway's event loop.
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { copyInto, removeTree, type DirNode } from './snapshotCopy';
import { applyChanges, type Prepared } from './snapshotPrepare';

/** Folders of installed packages: linked to the workspace's own (never copied, never watched). */
export const DEPENDENCY_DIRS = ['node_modules', '.venv', 'venv'];
/** Folders tools rebuild by themselves: neither copied nor watched. Not dist, build, .next or target: a
 *  `build` may produce them for `start` to run. */
const CACHE_DIRS = ['__pycache__', '.pytest_cache', '.mypy_cache', '.tox', 'coverage', '.cache'];
/** Always left out of snapshots and watching (dependency folders are linked instead). */
export const ALWAYS_IGNORED = [...DEPENDENCY_DIRS, '.git', '.baton', ...CACHE_DIRS];

export interface Snapshot {
  /** The generation's own folder (removed when it stops). */
  dir: string;
  /** Where the app's root is inside `dir`: the worker's working directory. */
  appDir: string;
  /** What was put into `appDir`, with the stamps of the workspace files it came from. */
  tree: DirNode;
}

/** What changed in the workspace since the previous snapshot, as the watcher saw it (plain data: it is sent
 *  to the snapshot worker). */
export interface Changes {
  /** Relative paths that were created, changed or removed (a folder: anything inside it too). */
  dirty: ReadonlySet<string>;
  /** The folders watched recursively ('' is the whole app): every change inside them is in `dirty`. */
  recursive: readonly string[];
}

/** A test for relative POSIX paths: true when the path is left out (ALWAYS_IGNORED anywhere, or `ignore`). */
export function ignoreMatcher(ignore: readonly string[]): (rel: string) => boolean {
  const user = ignore.length ? picomatch(ignore as string[], { dot: true }) : () => false;
  return (rel) => {
    const parts = rel.split('/');
    for (let i = 0; i < parts.length; i++) {
      if (ALWAYS_IGNORED.includes(parts[i])) return true;
      if (parts[i] === 'cache' && parts[i - 1] === '.next') return true;
    }
    return user(rel) || user(`${rel}/`);
  };
}

/** True for a dependency folder (anywhere in the app): the snapshot links the workspace's own. */
export function isDependencyDir(rel: string): boolean {
  return DEPENDENCY_DIRS.includes(rel.slice(rel.lastIndexOf('/') + 1));
}

/** The highest folder at or above `root` that has a node_modules (Node resolves from any of them): a snapshot
 *  mirrors the folders from there down to the app. */
function resolutionTop(root: string): string {
  let top = root;
  for (let dir = root; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'node_modules'))) top = dir;
    if (path.dirname(dir) === dir) return top;
  }
}

/** Where the app's root is inside a snapshot's folder. */
export function appRelOf(root: string): string {
  return path.relative(resolutionTop(root), root);
}

export interface SnapshotOptions {
  ignored: (rel: string) => boolean;
  /** Paths the snapshot links to the workspace's own file or folder instead of copying. */
  linked: (rel: string) => boolean;
  /** The newest snapshot, whose unchanged files are hard-linked. */
  previous: Snapshot | null;
  /** What changed since `previous`; null when unknown (no watcher, or it may have missed something). */
  changes: Changes | null;
  /** A clone of `previous` made ahead (snapshotPrepare.ts): used when it fits, else removed. */
  prepared?: Prepared | null;
}

/** Makes the snapshot in `dir`; on failure (a full disk…) nothing of it is left behind. */
export async function createSnapshot(root: string, dir: string, options: SnapshotOptions): Promise<Snapshot> {
  const top = resolutionTop(root);
  const appRel = path.relative(top, root);
  const appDir = path.join(dir, appRel);
  const { prepared, previous, changes } = options;
  // The clone holds `previous` exactly: only what the watcher saw change is left to do.
  const usePrepared = !!prepared && prepared.base === previous && !!changes && prepared.appRel === appRel;
  if (prepared && !usePrepared) void removeSnapshot(prepared.dir).catch(() => undefined);
  try {
    if (usePrepared) fs.renameSync(prepared.dir, dir);
    else fs.mkdirSync(appDir, { recursive: true });
    // The app's own dependency folders are linked by the copy; these are the ones above it.
    for (let src = root; src !== top;) {
      src = path.dirname(src);
      const modules = path.join(src, 'node_modules');
      if (fs.existsSync(modules))
        fs.symlinkSync(modules, path.join(dir, path.relative(top, src), 'node_modules'));
    }
    const tree = usePrepared
      ? await applyChanges(root, appDir, options)
      : await copyInto(root, appDir, options);
    return { dir, appDir, tree };
  } catch (err) {
    await removeSnapshot(dir);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT')
      throw new Error(
        `the disk holding ${path.dirname(dir)} is full (${e.code}): free some space, then deploy again`,
      );
    throw err;
  }
}

export function removeSnapshot(dir: string): Promise<void> {
  return removeTree(dir);
}
