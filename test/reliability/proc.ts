// What a process holds, read from Linux's /proc: open file descriptors, resident memory, CPU time, children.
import * as fs from 'node:fs';
import { readStat } from '../../gateway/protocol/procStat';

/** Number of open file descriptors of `pid`. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of `pid` in MB (VmRSS). */
export function rssMB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/** Direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(name) && readStat(Number(name))?.ppid === pid) out.push(Number(name));
  }
  return out;
}

/** CPU time (user + system) that `pid` has used so far, in ms. */
export function cpuMs(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`no process ${pid}`);
  return stat.cpuTicks * 10; // clock ticks, 100 per second on Linux
}
