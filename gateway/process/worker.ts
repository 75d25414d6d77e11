// Running the app's commands: a build, a worker, and the readiness probe of a worker.
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';

/**
 * Runs a shell command in its own process group (so the whole tree can be stopped), output to `onOutput`;
 * stdout and stderr stay apart, so that errors can be told from the rest wherever output is shown.
 */
export function runCommand(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  onOutput: (text: string, stream: 'stdout' | 'stderr') => void,
): ChildProcess {
  const child = spawn(command, { cwd, env, shell: true, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (text: string) => onOutput(text, 'stdout'));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => onOutput(text, 'stderr'));
  return child;
}

function listenOnce(port: number, host: string): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen(port, host, () => resolve(server));
  });
}

const closeServer = (server: net.Server | null) =>
  new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

/**
 * A port that was free a moment ago on 127.0.0.1 and on ::1 (where the host has IPv6): a port that some other
 * process holds on ::1 would make the worker's generation fail for a listener it does not own.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const v4 = await listenOnce(0, '127.0.0.1');
    if (!v4) throw new Error('cannot listen on 127.0.0.1 to find a free port');
    const { port } = v4.address() as net.AddressInfo;
    const v6 = await listenOnce(port, '::1');
    await Promise.all([closeServer(v4), closeServer(v6)]);
    // No IPv6 at all (null every time) is fine; taken on ::1 only is tried again with another port.
    if (v6 || attempt >= 20 || !(await hasIpv6())) return port;
  }
}

let ipv6: Promise<boolean> | null = null;

/** Whether this host can listen on ::1 at all (no IPv6, or IPv6 disabled: no). */
export function hasIpv6(): Promise<boolean> {
  ipv6 ??= listenOnce(0, '::1').then(async (server) => {
    await closeServer(server);
    return server !== null;
  });
  return ipv6;
}

function probeOnce(host: string, port: number, path: string | null): Promise<boolean> {
  return new Promise((resolve) => {
    if (path === null) {
      const socket = net.connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      return;
    }
    const req = http.get(
      { host, port, path, headers: { Host: `localhost:${port}` }, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(true); // any HTTP answer means the worker serves
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

/**
 * The loopback addresses a worker may listen on, IPv4 first (`HOST` says 127.0.0.1): probed blindly only on a
 * system that cannot tell which sockets are the worker's.
 */
export const LOOPBACK: readonly string[] = ['127.0.0.1', '::1'];

/**
 * Polls the worker until it answers (the address that answered), it is given up on (`cancelled()` → null) or
 * the timeout passes (null). Tries the addresses `hosts()` gives: none until the worker's own listening socket
 * is known, never one that any other process could have bound. Polls every 10–25 ms: the probe's delay is part
 * of every deploy's overhead, and a refused connect costs next to nothing.
 */
export async function waitReady(
  port: number,
  hosts: () => readonly string[],
  path: string | null,
  timeoutMs: number,
  cancelled: () => boolean,
): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (Date.now() < deadline && !cancelled()) {
    for (const host of hosts()) {
      if (await probeOnce(host, port, path)) return cancelled() ? null : host;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 1.5, 25);
  }
  return null;
}
