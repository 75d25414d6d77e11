// Test support: runs the real `baton up` (dist/cli.js) on a temporary copy of an app and talks to it the way
// a browser or client would: connecting to 127.0.0.1 with the Host header it would send.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { ControlClient, readGatewayFile } from '../../gateway/protocol/controlClient';
import type { GatewayState } from '../../gateway/protocol/types';
import { isAlive as pidAlive } from '../../gateway/protocol/procStat';
import { keptSnapshotDir } from '../../gateway/process/snapshotBase';

export const REPO = path.resolve(__dirname, '../../..');
export const CLI = path.join(REPO, 'dist', 'cli.js');

/** Copies `examples/<name>` (or any folder) into a fresh temp dir with a node_modules link to the repo's. */
export function copyApp(source: string, overrides: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-test-'));
  fs.cpSync(path.isAbsolute(source) ? source : path.join(REPO, 'examples', source), dir, {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}.baton`),
  });
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  const configFile = path.join(dir, 'baton.json');
  const config = fs.existsSync(configFile) ? JSON.parse(fs.readFileSync(configFile, 'utf8')) : {};
  fs.writeFileSync(configFile, JSON.stringify({ ...config, port: 0, ...overrides }, null, 2));
  return dir;
}

/** Writes a small app from a map of file name → contents. */
export function writeApp(files: Record<string, string>, config: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-test-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  fs.writeFileSync(path.join(dir, 'baton.json'), JSON.stringify({ port: 0, ...config }, null, 2));
  return dir;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await sleep(25);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`,
  );
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request to 127.0.0.1:port with the given Host; resolves with the whole answer. */
export function request(
  port: number,
  options: {
    path?: string;
    method?: string;
    host?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: string;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: { Host: options.host ?? `localhost:${port}`, ...options.headers },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A browser-like cookie jar for one host. */
export class Browser {
  private readonly cookies = new Map<string, string>();
  constructor(
    readonly port: number,
    public host: string,
    readonly userAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
  ) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async get(
    p: string,
    options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
  ): Promise<Reply> {
    const reply = await request(this.port, {
      path: p,
      host: this.host,
      method: options.method,
      body: options.body,
      headers: {
        'User-Agent': this.userAgent,
        ...(this.cookies.size ? { Cookie: this.cookieHeader } : {}),
        ...options.headers,
      },
    });
    for (const line of reply.headers['set-cookie'] ?? []) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const cleared = attrs.some((a) => /max-age=0|expires=thu, 01 jan 1970/i.test(a.trim()));
      if (cleared) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
    return reply;
  }

  /** A page navigation, as a browser sends it. */
  navigate(p: string): Promise<Reply> {
    return this.get(p, {
      headers: { Accept: 'text/html,application/xhtml+xml', 'Sec-Fetch-Mode': 'navigate' },
    });
  }
}

/** A running `baton up` process for an app folder. */
export class RunningGateway {
  output = '';
  private constructor(
    readonly dir: string,
    readonly child: ChildProcess,
    public port = 0,
    public client: ControlClient | null = null,
  ) {}

  /**
   * `cli`: another build of baton (the benchmarks compare one). `shell`, when given, runs before the gateway
   * in `sh` and ends with `exec` (e.g. "ulimit -n 256; exec").
   */
  static async start(
    dir: string,
    args: string[] = [],
    waitLive = true,
    { cli = CLI, shell }: { cli?: string; shell?: string } = {},
  ): Promise<RunningGateway> {
    const argv = [cli, 'up', dir, ...args];
    const child = shell
      ? spawn('sh', ['-c', `${shell} "$0" "$@"`, process.execPath, ...argv], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const gw = new RunningGateway(dir, child);
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (gw.output += t));
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (gw.output += t));
    const file = await waitFor(`gateway.json in ${dir}\n${gw.output}`, () => {
      if (child.exitCode !== null) throw new Error(`baton up exited with ${child.exitCode}: ${gw.output}`);
      const data = readGatewayFile(dir);
      return data && data.pid === child.pid ? data : null;
    });
    gw.port = file.port;
    gw.client = new ControlClient(file.port, file.token);
    if (waitLive) await gw.waitState('generation 1 live', (s) => s.live === 1, 20_000);
    return gw;
  }

  state(): Promise<GatewayState> {
    return this.client!.state();
  }

  async waitState(
    what: string,
    test: (s: GatewayState) => boolean,
    timeoutMs = 10_000,
  ): Promise<GatewayState> {
    return waitFor(
      what,
      async () => {
        const s = await this.state();
        return test(s) ? s : null;
      },
      timeoutMs,
    );
  }

  async generation(id: number) {
    return (await this.state()).generations.find((g) => g.id === id);
  }

  host(generation: number): string {
    return `g${generation}.localhost:${this.port}`;
  }

  /** Stops the gateway with SIGTERM and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

  /** Stops the gateway and removes the app with what Baton kept of it between runs (big apps only). */
  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
    const kept = keptSnapshotDir(this.dir);
    if (kept) fs.rmSync(kept, { recursive: true, force: true });
  }
}

export { pidAlive };

// ---- more helpers for the gateway's integration tests ----------------------------------------------------

/**
 * A minimal worker (plain node:http, no packages) whose routes let a test drive each gateway behaviour:
 * `/` an HTML page, `/info` who answered and from where, `/login` + `/logout` its own `sid` cookie,
 * `/sse` an endless event stream, `/crash` exits, `/hangup` drops the connection, `/redirect-self` and
 * `/redirect-bare` absolute redirects to the worker's own and to the bare gateway address, `/upload` a body.
 */
export const TINY_SERVER = `const http = require('node:http');
const fs = require('node:fs');
const generation = process.env.BATON_GENERATION;
const version = () => (fs.existsSync('version.txt') ? fs.readFileSync('version.txt', 'utf8').trim() : null);
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://worker');
  const json = (status, value, headers = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  };
  switch (url.pathname) {
    case '/':
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end('<!doctype html><html><head><title>tiny</title></head><body>generation ' + generation + '</body></html>');
    case '/info':
      return json(200, { generation: Number(generation), pid: process.pid, cwd: process.cwd(), version: version(), host: req.headers.host });
    case '/login':
      return json(200, { user: 'ann' }, { 'Set-Cookie': 'sid=s3cret; Path=/; HttpOnly' });
    case '/logout':
      return json(200, { user: null }, { 'Set-Cookie': 'sid=; Path=/; Max-Age=0' });
    case '/sse': {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      let n = 0;
      const timer = setInterval(() => res.write('data: ' + ++n + '\\n\\n'), 200);
      res.write('data: 0\\n\\n');
      return req.on('close', () => clearInterval(timer));
    }
    case '/crash':
      res.end('bye');
      return setTimeout(() => process.exit(7), 20);
    case '/hangup':
      return req.socket.destroy();
    case '/redirect-self':
      res.writeHead(302, { Location: 'http://127.0.0.1:' + process.env.PORT + '/info?from=self' });
      return res.end();
    case '/redirect-bare':
      res.writeHead(302, { Location: 'http://localhost:' + req.headers['x-forwarded-port'] + '/info?from=bare' });
      return res.end();
    case '/upload': {
      let bytes = 0;
      req.on('data', (chunk) => (bytes += chunk.length));
      return req.on('end', () => json(200, { bytes }));
    }
    default:
      return json(404, { error: 'not found' });
  }
});
server.listen(Number(process.env.PORT), process.env.HOST || '127.0.0.1', () => {
  console.log('tiny worker ' + generation + ' listening on ' + process.env.PORT);
});
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * Writes the tiny worker app with `config` (start defaults to `node server.js`). Every process it starts
 * carries `BATON_TEST_TAG=<tag>` in its environment, so a test can find all of them (see `taggedProcesses`).
 */
export function tinyApp(
  config: Record<string, unknown> = {},
  files: Record<string, string> = {},
): { dir: string; tag: string } {
  const tag = randomBytes(8).toString('hex');
  const { env, ...rest } = config as { env?: Record<string, string> };
  const dir = writeApp(
    { 'server.js': TINY_SERVER, ...files },
    { start: 'node server.js', ...rest, env: { ...env, BATON_TEST_TAG: tag } },
  );
  return { dir, tag };
}

/** Live (non-zombie) processes whose environment holds every one of `entries` ("NAME=value"). */
export function taggedProcesses(...entries: string[]): number[] {
  const wanted = entries.map((e) => Buffer.from(`${e}\0`));
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = Buffer.concat([Buffer.from('\0'), fs.readFileSync(`/proc/${name}/environ`)]);
      if (
        wanted.every((w) => environ.includes(Buffer.concat([Buffer.from('\0'), w]))) &&
        pidAlive(Number(name))
      ) {
        out.push(Number(name));
      }
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

/** An open WebSocket, the 101's headers, and every message it has received so far (none can be missed). */
export interface OpenSocket {
  ws: WebSocket;
  headers: http.IncomingHttpHeaders;
  messages: string[];
  /** Waits for a received message that passes `test` (already received ones count), parsed as JSON. */
  message<T = unknown>(test?: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves with the close code once the socket is closed. */
  closed: Promise<number>;
}

/** Opens a WebSocket to 127.0.0.1:port with the given Host; resolves once open. */
export function openSocket(
  port: number,
  host: string,
  p: string,
  headers: Record<string, string> = {},
): Promise<OpenSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${p}`, { headers: { Host: host, ...headers } });
    const messages: string[] = [];
    // Attached before the upgrade: a message in the same packet as the 101 is emitted right after 'open'.
    ws.on('message', (data) => messages.push(data.toString()));
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)));
    let upgradeHeaders: http.IncomingHttpHeaders = {};
    const message = <T>(test: (value: T) => boolean = () => true, timeoutMs = 10_000) =>
      waitFor(
        `a WebSocket message on ${p}`,
        () => messages.map((m) => JSON.parse(m) as T).find(test),
        timeoutMs,
      );
    ws.once('upgrade', (res) => (upgradeHeaders = res.headers));
    ws.once('open', () => resolve({ ws, headers: upgradeHeaders, messages, message, closed }));
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`WebSocket refused with ${res.statusCode}`)),
    );
    ws.once('error', reject);
  });
}

/** Closes a WebSocket and waits until it is closed. */
export function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.close();
  });
}

/** An open streaming response: its chunks with the time each arrived, and a way to abort it. */
export interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  chunks: { at: number; text: string }[];
  ended: Promise<void>;
  abort(): void;
}

export function openStream(
  port: number,
  options: { path: string; host: string; headers?: http.OutgoingHttpHeaders },
): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: options.path,
        headers: { Host: options.host, ...options.headers },
        agent: false,
      },
      (res) => {
        const chunks: Stream['chunks'] = [];
        res.setEncoding('utf8');
        res.on('data', (text: string) => chunks.push({ at: Date.now(), text }));
        const ended = new Promise<void>((done) => res.once('close', () => done()));
        resolve({ status: res.statusCode!, headers: res.headers, chunks, ended, abort: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Writes raw bytes to the gateway port and collects whatever comes back until the server closes. */
export function rawExchange(port: number, data: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => (answer += text));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer));
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(
        new Error(`the gateway kept the connection open for ${timeoutMs} ms; got: ${answer.slice(0, 200)}`),
      );
    });
    socket.write(data);
  });
}

/** Runs `baton <args>` to completion. */
export function runCli(
  args: string[],
  cwd = REPO,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** How many established TCP connections have `port` as their local port (the server side of connections to it). */
export function connectionsTo(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const [, local, , st] = line.trim().split(/\s+/);
      if (st === '01' && local.endsWith(`:${hexPort}`)) count++;
    }
  }
  return count;
}

/**
 * Asserts that draining generation N has not begun to stop. Call it once a state shows the live change that
 * made N drain: the gateway checks a generation's holders in the same tick as that change and logs a stop at
 * once, so a wrong stop is already visible here, without waiting to see whether one comes.
 */
export async function assertNotStopping(gw: RunningGateway, id: number): Promise<void> {
  assert.doesNotMatch(await gw.client!.logs(id), /\[baton\] stopping generation/);
  assert.equal((await gw.generation(id))?.state, 'draining');
}
