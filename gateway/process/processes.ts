// Finding and stopping a worker's whole process tree (SIGTERM to the group, SIGKILL after a grace, then a
// sweep). Descendants are collected *before* signalling, because a child whose parent already died is
// re-parented and can no longer be found through the tree. Members are found three ways: descent from the
// group leader, the leader's session or process group (a child that cleared its environment), and the
// BATON_WORKER marker (a child that called setsid). /proc is read asynchronously, a few files at a time, so
// a sweep over hundreds of processes never blocks the gateway's event loop.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { hasProc, isAlive, parseStat, type ProcStat } from '../protocol/procStat';

export { isAlive };

/** Environment variable that marks every process of a worker or build: `<gatewayId>.<generation>`. */
export const MARKER_ENV = 'BATON_WORKER';

/** What one scan of the process table found. */
interface ProcessRow extends Pick<ProcStat, 'pid' | 'ppid' | 'pgrp' | 'session'> {
  /** The process's environment carries the marker asked for. */
  marked: boolean;
}

/** How many /proc files are read at once: enough to be quick, few enough to keep descriptors and memory low. */
const READ_CONCURRENCY = 32;

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** Every process; `marked` is set for those whose environment holds `wanted` (Linux only). */
async function listProcesses(wanted: Buffer | null): Promise<ProcessRow[]> {
  if (!hasProc) {
    const text = await new Promise<string>((resolve) =>
      execFile('ps', ['-A', '-o', 'pid=,ppid=,pgid=,sess='], (err, stdout) => resolve(err ? '' : stdout)),
    );
    return text
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.trim().split(/\s+/).map(Number))
      .map(([pid, ppid, pgrp, session]) => ({ pid, ppid, pgrp, session, marked: false }));
  }
  const names = (await fs.promises.readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const rows = await mapLimited(names, READ_CONCURRENCY, async (name): Promise<ProcessRow | null> => {
    const pid = Number(name);
    try {
      const stat = parseStat(pid, await fs.promises.readFile(`/proc/${name}/stat`, 'utf8'));
      if (!stat) return null;
      let marked = false;
      if (wanted && pid !== process.pid) {
        try {
          marked = (await fs.promises.readFile(`/proc/${name}/environ`)).includes(wanted);
        } catch {
          // not ours to read
        }
      }
      return { pid, ppid: stat.ppid, pgrp: stat.pgrp, session: stat.session, marked };
    } catch {
      return null; // the process exited while we looked
    }
  });
  return rows.filter((row): row is ProcessRow => row !== null);
}

/** Every descendant of `root` (not `root` itself). */
export function descendants(root: number, rows: readonly Pick<ProcessRow, 'pid' | 'ppid'>[]): number[] {
  const children = new Map<number, number[]>();
  for (const row of rows) {
    const list = children.get(row.ppid);
    if (list) list.push(row.pid);
    else children.set(row.ppid, [row.pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    for (const child of children.get(stack.pop()!) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}

/** The marker bytes to look for: `BATON_WORKER=<marker>` exactly, or any `<marker>.*` when `prefix`. */
function markerBytes(marker: string, prefix: boolean): Buffer {
  return Buffer.from(`${MARKER_ENV}=${marker}${prefix ? '.' : '\0'}`);
}

/**
 * Every process that belongs to one of the trees rooted at `leaders` (each started in its own session and
 * process group): their descendants, the members of their sessions and groups, and the processes carrying
 * the marker. `leaders` themselves are included.
 */
export async function members(
  leaders: readonly number[],
  marker: string | null,
  prefix = false,
): Promise<Set<number>> {
  const rows = await listProcesses(marker ? markerBytes(marker, prefix) : null);
  const roots = new Set(leaders);
  const out = new Set<number>(leaders);
  for (const leader of leaders) for (const pid of descendants(leader, rows)) out.add(pid);
  for (const row of rows) {
    if (row.pid === process.pid) continue;
    if (row.marked || roots.has(row.session) || roots.has(row.pgrp)) out.add(row.pid);
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How often the grace period rescans the process table for members started meanwhile. */
const RESCAN_MS = 250;

/**
 * Stops a process group leader and everything it started: collect its members, SIGTERM the group and each
 * of them, wait up to `graceMs`, SIGKILL what is left, then sweep for escapees again. Resolves once all of
 * them are gone (or after a final SIGKILL round).
 */
export async function stopTree(pid: number, marker: string | null, graceMs = 2000): Promise<void> {
  const collect = () => members([pid], marker);
  let pids = await collect();
  signal(-pid, 'SIGTERM');
  for (const p of pids) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let scannedAt = Date.now();
  let delay = 10;
  while (Date.now() < deadline) {
    pids = new Set([...pids].filter(isAlive));
    // Between full scans only the known pids are checked (cheap); a full scan confirms before giving up.
    if (pids.size === 0 || Date.now() - scannedAt >= RESCAN_MS) {
      scannedAt = Date.now();
      for (const p of await collect()) {
        if (pids.has(p) || !isAlive(p)) continue;
        pids.add(p);
        signal(p, 'SIGTERM'); // started during the grace
      }
      if (pids.size === 0) return;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  for (let round = 0; round < 3; round++) {
    signal(-pid, 'SIGKILL');
    for (const p of await collect()) pids.add(p);
    for (const p of pids) signal(p, 'SIGKILL');
    await sleep(50);
    pids = new Set([...pids].filter(isAlive));
    if (pids.size === 0) return;
  }
}
