// The watchdog: a tiny process the gateway starts with a pipe on its stdin. When the pipe closes — the gateway
// exited, however it died, even by SIGKILL — it stops every process the gateway started (workers and builds:
// the descendants, sessions and groups the gateway reported, and whatever carries its BATON_WORKER marker),
// so none outlives its gateway. It then removes the gateway's snapshots, its gateway.json and its folder
// lock, as the gateway would have.
// Usage: node watchdog.js <gatewayId> <snapshotDir> <gatewayFile> <gatewayPid>; stdin lines "+<pgid>" / "-<pgid>".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { releaseFolderLock } from './folderLock';
import { isAlive, members } from './processes';

const [gatewayId, snapshotDir, gatewayFile, gatewayPid] = process.argv.slice(2);
const groups = new Set<number>();
/** Everything found so far: a child whose parent died after the first sweep is no longer a descendant. */
const found = new Set<number>();
let buffered = '';

const kill = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
};

/** Collects first, then signals; resolves to how many were still alive. */
async function sweep(sig: NodeJS.Signals): Promise<number> {
  for (const pid of await members([...groups], gatewayId, true)) found.add(pid);
  for (const pgid of groups) kill(-pgid, sig);
  let alive = 0;
  for (const pid of found) {
    if (!isAlive(pid)) continue;
    alive++;
    kill(pid, sig);
  }
  return alive;
}

// Signals meant for the gateway's terminal (Ctrl-C) must not stop the watchdog before the gateway is done.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  const lines = buffered.split('\n');
  buffered = lines.pop()!;
  for (const line of lines) {
    const pgid = Number(line.slice(1));
    if (line.startsWith('+')) groups.add(pgid);
    else if (line.startsWith('-')) groups.delete(pgid);
  }
});
function cleanUp(): void {
  if (snapshotDir) fs.rmSync(snapshotDir, { recursive: true, force: true });
  try {
    if (JSON.parse(fs.readFileSync(gatewayFile, 'utf8')).pid === Number(gatewayPid))
      fs.unlinkSync(gatewayFile);
  } catch {
    // gone already, or another gateway's by now
  }
  releaseFolderLock(path.dirname(path.dirname(gatewayFile)), Number(gatewayPid));
  process.exit(0);
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

process.stdin.on('close', async () => {
  if ((await sweep('SIGTERM')) > 0) {
    await wait(1000);
    await sweep('SIGKILL');
    await wait(100);
    await sweep('SIGKILL');
  }
  cleanUp();
});
