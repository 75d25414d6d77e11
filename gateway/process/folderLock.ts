// One gateway per folder: `.baton/gateway.lock` holds "<pid> <start time>" of the gateway that owns the
// folder. It is taken with link(2) of a complete file, which either creates the name or fails, so of two
// gateways started at the same moment exactly one gets it. A lock whose process is gone (or whose pid now
// belongs to a process started later) is stale and is broken.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { batonDir, withBatonDir } from '../protocol/gatewayFile';
import { createExclusive } from '../protocol/ownedDir';
import { readStat } from '../protocol/procStat';
import { isAlive } from './processes';

const LOCK = 'gateway.lock';

function lockText(pid: number): string {
  return `${pid} ${readStat(pid)?.startTime ?? 0}\n`;
}

/** The pid in a lock file when that process still runs, else null (stale, unreadable, gone). */
function liveHolder(file: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const [pid, started] = text.trim().split(' ').map(Number);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  const now = readStat(pid)?.startTime;
  return now === undefined || !started || now === started ? pid : null;
}

/** Takes the folder's lock for this process; returns the pid of the running gateway that holds it instead. */
export function takeFolderLock(root: string): number | null {
  return withBatonDir(root, (entry) => {
    const lock = entry(LOCK);
    const mine = entry(`${LOCK}.${process.pid}.tmp`);
    fs.rmSync(mine, { force: true }); // left by a crashed process that had our pid
    createExclusive(mine, lockText(process.pid));
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          fs.linkSync(mine, lock);
          return null;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const holder = liveHolder(lock);
        if (holder === process.pid) return null;
        if (holder !== null) return holder;
        // Stale: move it aside. Another gateway may have broken it and taken the lock in between; then what was
        // moved is that live lock, and it is put back.
        const aside = entry(`${LOCK}.${process.pid}.stale`);
        try {
          fs.renameSync(lock, aside);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw err;
        }
        if (liveHolder(aside) !== null) {
          try {
            fs.linkSync(aside, lock);
          } catch {
            // a third one has it now: the next round tells
          }
        }
        fs.unlinkSync(aside);
      }
      throw new Error(`could not take ${path.join(batonDir(root), LOCK)}: it keeps changing`);
    } finally {
      fs.rmSync(mine, { force: true });
    }
  });
}

/** Removes the folder's lock if process `pid` holds it. */
export function releaseFolderLock(root: string, pid = process.pid): void {
  const file = path.join(batonDir(root), LOCK);
  try {
    if (Number(fs.readFileSync(file, 'utf8').split(' ')[0]) === pid) fs.unlinkSync(file);
  } catch {
    // gone already
  }
}
