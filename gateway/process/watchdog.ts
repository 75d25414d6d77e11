// The watchdog: a tiny process the gateway starts with a pipe on its stdin. When the pipe closes — the gateway
// exited, however it died, even by SIGKILL — it stops every worker process the gateway started (found by their
// BATON_WORKER marker and by the process groups the gateway reported), so no worker outlives its gateway.
// It then removes the gateway's snapshots and its gateway.json, as the gateway would have.
// Usage: node watchdog.js <gatewayId> <snapshotDir> <gatewayFile> <gatewayPid>; stdin lines "+<pgid>" / "-<pgid>".
import * as fs from 'node:fs';
import { markedProcesses } from './processes';

const [gatewayId, snapshotDir, gatewayFile, gatewayPid] = process.argv.slice(2);
const groups = new Set<number>();
let buffered = '';

const kill = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
};

function sweep(sig: NodeJS.Signals): number {
  for (const pgid of groups) kill(-pgid, sig);
  const marked = markedProcesses(gatewayId, true);
  for (const pid of marked) kill(pid, sig);
  return marked.length;
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
  process.exit(0);
}

process.stdin.on('close', () => {
  if (sweep('SIGTERM') === 0 && groups.size === 0) return cleanUp();
  setTimeout(() => {
    sweep('SIGKILL');
    setTimeout(() => {
      sweep('SIGKILL');
      cleanUp();
    }, 100);
  }, 1000);
});
