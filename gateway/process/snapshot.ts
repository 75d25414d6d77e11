// Snapshots of the app for one generation (DESIGN.md, "building"). They live outside the workspace, in the
// system temp folder, so the user's TypeScript, ESLint, Jest and file watchers never see the copies; the
// folders above the app are mirrored and their node_modules linked, so Node resolves the app's packages from
// the snapshot exactly as from the workspace (npm workspaces included). Unchanged files are hard links to the
// previous snapshot's copy, made read-only so that no worker can change a file another generation reads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';

/** Always left out of snapshots and watching. */
export const ALWAYS_IGNORED = ['node_modules', '.git', '.baton'];

export interface FileStamp {
  size: number;
  mtimeMs: number;
}

export interface Snapshot {
  /** The generation's own folder (removed when it stops). */
  dir: string;
  /** Where the app's root is inside `dir`: the worker's working directory. */
  appDir: string;
  /** Relative path → stamp of the source file that was copied. */
  files: Map<string, FileStamp>;
}

/** A test for relative POSIX paths: true when the path is left out (ALWAYS_IGNORED anywhere, or `ignore`). */
export function ignoreMatcher(ignore: readonly string[]): (rel: string) => boolean {
  const user = ignore.length ? picomatch(ignore as string[], { dot: true }) : () => false;
  return (rel) => {
    for (const part of rel.split('/')) if (ALWAYS_IGNORED.includes(part)) return true;
    return user(rel) || user(`${rel}/`);
  };
}

/** The highest folder at or above `root` that has a node_modules (Node resolves from any of them). */
function resolutionTop(root: string): string {
  let top = root;
  for (let dir = root; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'node_modules'))) top = dir;
    if (path.dirname(dir) === dir) return top;
  }
}

export async function createSnapshot(
  root: string,
  dir: string,
  ignored: (rel: string) => boolean,
  previous: Snapshot | null,
): Promise<Snapshot> {
  const top = resolutionTop(root);
  const appDir = path.join(dir, path.relative(top, root));
  await fs.promises.mkdir(appDir, { recursive: true });
  for (let src = root; ; src = path.dirname(src)) {
    const modules = path.join(src, 'node_modules');
    if (fs.existsSync(modules))
      await fs.promises.symlink(modules, path.join(dir, path.relative(top, src), 'node_modules'));
    if (src === top) break;
  }
  const files = new Map<string, FileStamp>();
  await copyTree(root, appDir, '', ignored, previous, files);
  return { dir, appDir, files };
}

async function copyTree(
  srcRoot: string,
  destRoot: string,
  rel: string,
  ignored: (rel: string) => boolean,
  previous: Snapshot | null,
  files: Map<string, FileStamp>,
): Promise<void> {
  const entries = await fs.promises.readdir(path.join(srcRoot, rel), { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (ignored(child)) return;
      const src = path.join(srcRoot, child);
      const dest = path.join(destRoot, child);
      if (entry.isDirectory()) {
        await fs.promises.mkdir(dest);
        return copyTree(srcRoot, destRoot, child, ignored, previous, files);
      }
      if (entry.isSymbolicLink()) {
        return fs.promises.symlink(await fs.promises.readlink(src), dest);
      }
      if (!entry.isFile()) return;
      const stat = await fs.promises.stat(src);
      const stamp = { size: stat.size, mtimeMs: stat.mtimeMs };
      files.set(child, stamp);
      const old = previous?.files.get(child);
      if (old && old.size === stamp.size && old.mtimeMs === stamp.mtimeMs) {
        try {
          return await fs.promises.link(path.join(previous!.appDir, child), dest);
        } catch {
          // the previous snapshot is gone or on another device: copy instead
        }
      }
      await fs.promises.copyFile(src, dest, fs.constants.COPYFILE_FICLONE);
      await fs.promises.chmod(dest, stat.mode & 0o555);
    }),
  );
}

export async function removeSnapshot(dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
