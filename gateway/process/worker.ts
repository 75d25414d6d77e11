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

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
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

/** The loopback addresses a worker may listen on, IPv4 first (`HOST` says 127.0.0.1). */
const LOOPBACK = ['127.0.0.1', '::1'];

/**
 * Polls the worker until it answers (the address that answered), it is given up on (`cancelled()` → null) or
 * the timeout passes (null). Tries `address()` once it is known (the address the worker listens on), else each
 * loopback address. Polls every 10–25 ms: the probe's delay is part of every deploy's overhead, and a refused
 * connect costs next to nothing.
 */
export async function waitReady(
  port: number,
  address: () => string | null,
  path: string | null,
  timeoutMs: number,
  cancelled: () => boolean,
): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (Date.now() < deadline && !cancelled()) {
    const known = address();
    for (const host of known ? [known] : LOOPBACK) {
      if (await probeOnce(host, port, path)) return cancelled() ? null : host;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 1.5, 25);
  }
  return null;
}
