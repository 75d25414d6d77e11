// The servers the gateway is compared with, each in its own process on loopback: a plain http-proxy-3 proxy
// and nginx with upstream keep-alive, both in front of the same worker.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { childrenOf } from '../test/reliability/proc';

export interface Server {
  port: number;
  /** The processes that serve (for their CPU time). */
  pids(): number[];
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitListening(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}

export function startPlainProxy(targetPort: number): Promise<Server> {
  const child = spawn(process.execPath, [path.join(__dirname, 'plainProxy.js'), String(targetPort)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the http-proxy-3 server exited with ${code}`)));
    child.stdout!.setEncoding('utf8').once('data', (line: string) => {
      const port = Number(/listening (\d+)/.exec(line)?.[1]);
      resolve({ port, pids: () => [child.pid!], stop: () => stopChild(child) });
    });
  });
}

/** The nginx binary, or null (it lives in /usr/sbin, which is not on every user's PATH). */
export function findNginx(): string | null {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).error === undefined) return candidate;
  }
  return null;
}

export async function startNginx(binary: string, targetPort: number): Promise<Server> {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bench-nginx-'));
  fs.chmodSync(prefix, 0o755); // nginx's worker runs as another user when started by root
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t}_temp_path ${prefix}/${t};`)
    .join(' ');
  const conf = `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${temp}
  upstream worker { server 127.0.0.1:${targetPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://worker;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }
  }
}
`;
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const child = spawn(
    binary,
    [
      '-p',
      prefix,
      '-c',
      path.join(prefix, 'nginx.conf'),
      '-e',
      path.join(prefix, 'error.log'),
      '-g',
      'daemon off;',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`nginx exited with ${code}`))),
  );
  await Promise.race([waitListening(port), exited]);
  exited.catch(() => undefined);
  return {
    port,
    pids: () => [child.pid!, ...childrenOf(child.pid!)],
    stop: async () => {
      await stopChild(child);
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}
