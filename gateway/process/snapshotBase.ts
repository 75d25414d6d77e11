// Where snapshots live: a folder only this user can enter. A predictable shared name in /tmp is only safe
// when it is verified: another local user who created it first could otherwise swap files in a snapshot
// and have them run as this user (as root, for a root gateway). `$XDG_RUNTIME_DIR` (private per user, on
// tmpfs) is preferred where there is one.
import * as os from 'node:os';
import * as path from 'node:path';
import { ensurePrivateDir, isPrivateDir } from '../protocol/ownedDir';

/** This user's folder for every gateway's snapshots, created or verified (UnsafeFolderError when unsafe). */
function userBase(): string {
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
