// Reading Linux's /proc/<pid>/stat, and whether a pid is alive. Shared by the gateway, its watchdog, the CLI
// and the editor extension (which may only import this folder), so there is one parser and one liveness test.
import * as fs from 'node:fs';

export interface ProcStat {
  pid: number;
  /** One letter: R, S, D, Z (zombie), T… */
  state: string;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** Session id. */
  session: number;
  /** Clock ticks since boot when the process started (tells a reused pid apart). */
  startTime: number;
  /** User + system CPU time in clock ticks. */
  cpuTicks: number;
}

export const hasProc = process.platform === 'linux' && fs.existsSync('/proc/self/stat');

/** Parses the text of /proc/<pid>/stat; null when it is not one. */
export function parseStat(pid: number, text: string): ProcStat | null {
  // The command name is in parentheses and may contain spaces and ")": the fields after the last ")" are fixed.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 of proc(5): state, ppid, pgrp, session, …, utime (14), stime (15), …, starttime (22).
  if (f.length < 20) return null;
  return {
    pid,
    state: f[0],
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    session: Number(f[3]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    startTime: Number(f[19]),
  };
}

/** /proc/<pid>/stat, parsed; null when the process is gone (or there is no /proc). */
export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(pid, fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** True while `pid` runs (a zombie does not count; a process of another user does). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProc) return true;
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z';
}
