// Where snapshots live: a folder only this user can enter. A predictable shared name in /tmp is only safe
// when it is verified: another local user who created it first could otherwise swap files in a snapshot
// and have them run as this user (as root, for a root gateway). `$XDG_RUNTIME_DIR` (private per user, on
// tmpfs) is preferred where there is one.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensurePrivateDir, isPrivateDir } from '../protocol/ownedDir';
import { removeTree } from './snapshotCopy';
import { keptPlace, staleKept } from './snapshotKept';

/** statfs types of filesystems held in memory: tmpfs, ramfs. */
const IN_MEMORY = new Set([0x01021994, 0x858458f6]);

/** This user's folder for every gateway's snapshots, created or verified (UnsafeFolderError when unsafe). */
export function userBase(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  const base =
    runtime && path.isAbsolute(runtime) && isPrivateDir(runtime)
      ? path.join(runtime, 'baton')
      : path.join(os.tmpdir(), `baton-${process.getuid?.() ?? 'user'}`);
  ensurePrivateDir(
    base,
    `remove it (rm -rf "${base}") if nothing of yours is in it, or point TMPDIR to a folder of your own`,
  );
  return base;
}

/** The base folder for this gateway's snapshots (not created yet: see `createSnapshotBase`). */
export function snapshotBase(gatewayId: string): string {
  return path.join(userBase(), gatewayId);
}

/** Creates this gateway's snapshot folder, mode 0700. */
export function createSnapshotBase(dir: string): void {
  ensurePrivateDir(dir, `remove it (rm -rf "${dir}")`);
}

/** Where the newest snapshot of the app in `root` is kept between runs; null when snapshots live in memory
 *  (tmpfs, as `$XDG_RUNTIME_DIR` mostly is): there a first copy is fast, and a kept one would hold memory while
 *  Baton is not running. Kept folders unused for weeks are removed meanwhile. */
export function keptSnapshotDir(root: string): string | null {
  const base = userBase();
  for (const stale of staleKept(base)) void removeTree(stale).catch(() => undefined);
  return IN_MEMORY.has(fs.statfsSync(base).type) ? null : keptPlace(base, root);
}
