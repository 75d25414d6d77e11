// Test support: runs the real `baton up` (dist/cli.js) on a temporary copy of an app and talks to it the way
// a browser or client would: connecting to 127.0.0.1 with the Host header it would send.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlClient, readGatewayFile } from '../../gateway/controlClient';
import type { GatewayState } from '../../gateway/types';

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

export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
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
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request to 127.0.0.1:port with the given Host; resolves with the whole answer. */
export function request(
  port: number,
  options: { path?: string; method?: string; host?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
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

  async get(p: string, options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {}): Promise<Reply> {
    const reply = await request(this.port, {
      path: p,
      host: this.host,
      method: options.method,
      body: options.body,
      headers: { 'User-Agent': this.userAgent, ...(this.cookies.size ? { Cookie: this.cookieHeader } : {}), ...options.headers },
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
    return this.get(p, { headers: { Accept: 'text/html,application/xhtml+xml', 'Sec-Fetch-Mode': 'navigate' } });
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

  static async start(dir: string, args: string[] = [], waitLive = true): Promise<RunningGateway> {
    const child = spawn(process.execPath, [CLI, 'up', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

  async waitState(what: string, test: (s: GatewayState) => boolean, timeoutMs = 10_000): Promise<GatewayState> {
    return waitFor(what, async () => {
      const s = await this.state();
      return test(s) ? s : null;
    }, timeoutMs);
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

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
