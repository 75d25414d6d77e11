// Finding and stopping a worker's whole process tree (DESIGN.md, "Generation lifecycle": SIGTERM to the
// group, SIGKILL after a grace, then a sweep). Descendants are collected *before* signalling, because a child
// whose parent already died is re-parented and can no longer be found through the tree.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/** Environment variable that marks every process of a worker: `<gatewayId>.<generation>`. */
export const MARKER_ENV = 'BATON_WORKER';

interface ProcessRow {
  pid: number;
  ppid: number;
}

const hasProc = process.platform === 'linux' && fs.existsSync('/proc/self/stat');

function listProcesses(): ProcessRow[] {
  if (hasProc) {
    const rows: ProcessRow[] = [];
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
        // The command name is in parentheses and may contain spaces: the fields after ")" are fixed.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        rows.push({ pid: Number(name), ppid: Number(fields[1]) });
      } catch {
        // the process exited while we looked
      }
    }
    return rows;
  }
  try {
    return execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).map(Number))
      .map(([pid, ppid]) => ({ pid, ppid }));
  } catch {
    return [];
  }
}

/** Every descendant of `root` (not `root` itself). */
export function descendants(root: number, rows = listProcesses()): number[] {
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

/** Processes whose environment carries `BATON_WORKER=<marker>` (or starts with `<marker>.` when prefix). Linux only. */
export function markedProcesses(marker: string, prefix = false): number[] {
  if (!hasProc) return [];
  const wanted = Buffer.from(`${MARKER_ENV}=${marker}${prefix ? '.' : '\0'}`);
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${name}/environ`);
      if (environ.includes(wanted)) out.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isZombie(pid: number): boolean {
  if (!hasProc) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops a process group leader and everything it started: collect descendants and marked processes, SIGTERM
 * the group and each of them, wait up to `graceMs`, SIGKILL what is left, then sweep for escapees again.
 * Resolves once all of them are gone (or after a final SIGKILL round).
 */
export async function stopTree(pid: number, marker: string | null, graceMs = 2000): Promise<void> {
  const collect = () => new Set([pid, ...descendants(pid), ...(marker ? markedProcesses(marker) : [])]);
  let pids = collect();
  signal(-pid, 'SIGTERM');
  for (const p of pids) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let delay = 10;
  while (Date.now() < deadline) {
    for (const p of collect()) pids.add(p);
    pids = new Set([...pids].filter(isAlive));
    if (pids.size === 0) return;
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  for (let round = 0; round < 3; round++) {
    signal(-pid, 'SIGKILL');
    for (const p of collect()) pids.add(p);
    for (const p of pids) signal(p, 'SIGKILL');
    await sleep(50);
    pids = new Set([...pids].filter(isAlive));
    if (pids.size === 0) return;
  }
}
