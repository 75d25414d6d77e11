// Resident memory of a worker and its descendants. The extension runs on the gateway's machine, so it can
// ask the OS directly: /proc on Linux, `ps` elsewhere.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';

/** Bytes of resident memory of `pid` plus its descendants, or null when the process is gone. */
export async function processTreeMemory(pid: number): Promise<number | null> {
  return process.platform === 'linux' ? linuxTreeRss(pid) : psRss(pid);
}

async function linuxTreeRss(root: number): Promise<number | null> {
  const seen = new Set<number>();
  const pending = [root];
  let total: number | null = null;
  while (pending.length > 0 && seen.size < 1000) {
    const pid = pending.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const rss = await linuxRss(pid);
    if (rss === null) continue;
    total = (total ?? 0) + rss;
    pending.push(...(await linuxChildren(pid)));
  }
  return total;
}

async function linuxRss(pid: number): Promise<number | null> {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

async function linuxChildren(pid: number): Promise<number[]> {
  try {
    // Children are listed per thread; a process may spawn from any of its threads.
    const tasks = await fs.readdir(`/proc/${pid}/task`);
    const lists = await Promise.all(
      tasks.map((tid) => fs.readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '')),
    );
    return lists.flatMap((list) => list.split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

function psRss(pid: number): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'rss=', '-p', String(pid)], (err, stdout) => {
      const kb = Number.parseInt(stdout, 10);
      resolve(err || Number.isNaN(kb) ? null : kb * 1024);
    });
  });
}
