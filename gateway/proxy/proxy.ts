// Forwarding requests and WebSockets to a generation's worker (README, "How it works"): keep-alive to workers,
// bodies piped (never buffered), `X-Baton-Generation` on every answer, the gateway's cookies appended to the
// worker's, `Location` kept on the tab's host, the tab client injected into HTML.
// HTTP requests take a lean path: undici's connection pools (a quarter less CPU per request than node:http's
// client, see bench/README.md) with header arrays as received and no URL parsing; WebSockets go through
// http-proxy-3.
import * as http from 'node:http';
import type { Duplex, Writable } from 'node:stream';
import { PassThrough, pipeline } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { Pool, type Dispatcher } from 'undici';
import { clearsCookie } from '../http/cookies';
import { createInjection, isInjectable } from './inject';
import { rewriteLocation } from '../http/location';
import { send, sendJson, workerErrorPage } from '../http/pages';
import { resetHead } from '../http/guard';

/** How long a WebSocket upgrade may wait for the worker's answer (`BATON_UPGRADE_TIMEOUT_MS` for tests). */
const UPGRADE_TIMEOUT_MS = 30_000;
const upgradeTimeoutMs = () => Number(process.env.BATON_UPGRADE_TIMEOUT_MS) || UPGRADE_TIMEOUT_MS;

/** What the gateway decided about one request, carried from routing to the response. */
export interface ProxyContext {
  generation: number;
  workerPort: number;
  /** The address the worker listens on: 127.0.0.1, ::1 or another of its own. */
  workerAddress: string;
  /** Set-Cookie headers of the gateway's own to add (a new `baton_sid`, a `baton_gen` pin). */
  cookies: string[];
  page: boolean;
  /** Inject the tab client into an HTML answer. */
  inject: boolean;
  /** The app's session cookie: its removal in this answer is a logout. */
  appCookie: string | null;
  onLogout: (() => void) | null;
}

const CONTEXT = Symbol('baton.proxyContext');
type WithContext = http.IncomingMessage & { [CONTEXT]?: ProxyContext };

/** Worker response headers not passed on: those of the worker's connection, and a forged generation. */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'proxy-connection',
  'x-baton-generation',
]);

/** Request headers that belong to the client's connection (undici refuses most of them). `Expect` was
 *  answered by the gateway's own server already. */
const HOP_BY_HOP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'expect',
  'trailer',
]);

/**
 * The request's headers as received (names keep their case, repeats stay repeated) without the hop-by-hop
 * ones, plus `X-Forwarded-For/-Port/-Proto` (appended to what the client sent) and `X-Forwarded-Host`, always
 * the gateway's own (a client's value would let it pose as another host to the app). A DELETE or OPTIONS
 * without a body gets `Content-Length: 0`.
 */
function forwardHeaders(req: http.IncomingMessage, bodyless: boolean): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let sentFor = '';
  let sentPort = '';
  let sentProto = '';
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (HOP_BY_HOP_REQUEST.has(lower)) continue;
    if (lower.startsWith('x-forwarded-')) {
      const value = raw[i + 1];
      // Repeated lines join with ", " as in IncomingMessage.headers.
      if (lower === 'x-forwarded-for') sentFor = sentFor ? `${sentFor}, ${value}` : value;
      else if (lower === 'x-forwarded-port') sentPort = sentPort ? `${sentPort}, ${value}` : value;
      else if (lower === 'x-forwarded-proto') sentProto = sentProto ? `${sentProto}, ${value}` : value;
      else if (lower !== 'x-forwarded-host') out.push(raw[i], value);
      continue;
    }
    out.push(raw[i], raw[i + 1]);
  }
  const host = req.headers.host ?? '';
  const append = (sent: string, mine: string) => (sent ? `${sent},${mine}` : mine);
  out.push('X-Forwarded-For', append(sentFor, req.socket.remoteAddress ?? ''));
  out.push('X-Forwarded-Port', append(sentPort, hostPort(host)));
  out.push('X-Forwarded-Proto', append(sentProto, 'http'));
  out.push('X-Forwarded-Host', host);
  if (bodyless && (req.method === 'DELETE' || req.method === 'OPTIONS')) out.push('Content-Length', '0');
  return out;
}

/** The port of a Host header (`[::1]:8080` included), 80 when it has none. */
function hostPort(host: string): string {
  return /:(\d+)$/.exec(host)?.[1] ?? '80';
}

/** Node refuses a reason phrase with anything but printable ASCII and tab (`send_response(200, "Olé")`): such
 *  a phrase is replaced by the standard one. */
function reasonPhrase(statusText: string): string | undefined {
  return statusText && /^[\t\x20-\x7e]*$/.test(statusText) ? statusText : undefined;
}

/** A header array as IncomingHttpHeaders: lower-case names, repeats joined (Set-Cookie kept as a list). */
function headerObject(raw: string[]): http.IncomingHttpHeaders {
  const headers: http.IncomingHttpHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'set-cookie') (headers['set-cookie'] ??= []).push(raw[i + 1]);
    else headers[name] = headers[name] === undefined ? raw[i + 1] : `${headers[name]}, ${raw[i + 1]}`;
  }
  return headers;
}

/**
 * One request's way to the worker and back, as an undici dispatch handler: the answer's head is rewritten
 * (`respond`), its body streamed to the client with back-pressure; a failure before the head is a clear 502, one
 * after it cuts the client's answer off at once; a client that leaves aborts the request.
 */
class Exchange implements Dispatcher.DispatchHandlers {
  private abort: ((err?: Error) => void) | null = null;
  private clientGone = false;
  /** Where the body goes: the response, or the injection in front of it. */
  private sink: Writable | null = null;

  constructor(
    private readonly proxy: WorkerProxy,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly ctx: ProxyContext,
  ) {
    res.once('close', () => {
      if (res.writableFinished) return;
      this.clientGone = true;
      this.abort?.(new Error('the client went away'));
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.clientGone) abort(new Error('the client went away'));
    else this.abort = abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true; // 103 Early Hints and other informational answers are not passed on
    this.sink = this.proxy.respond(status, statusText, raw, this.req, this.res, this.ctx);
    this.sink.on('drain', resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.sink!.write(chunk);
  }

  onComplete(): void {
    this.sink!.end();
  }

  onError(err: Error): void {
    if (this.sink) this.sink.destroy();
    else this.proxy.failed(err as NodeJS.ErrnoException, this.res, this.ctx);
  }
}

export class WorkerProxy {
  /** One pool of keep-alive connections per worker address and port, dropped when it has none left. */
  private readonly pools = new Map<string, Pool>();
  private readonly agent = new http.Agent({ keepAlive: true, scheduling: 'lifo', maxFreeSockets: 64 });
  private readonly wsProxy = createProxyServer({ agent: this.agent, xfwd: false, ws: true });

  constructor(private readonly gatewayPort: () => number) {
    this.wsProxy.on('proxyReqWs', (proxyReq, req, socket) =>
      this.guardUpgrade(proxyReq, req as WithContext, socket),
    );
    this.wsProxy.on('error', (_err, _req, socket) => socket?.destroy());
    this.wsProxy.on('econnreset', () => undefined); // the client went away mid-upgrade: nothing to answer
  }

  web(req: http.IncomingMessage, res: http.ServerResponse, ctx: ProxyContext): void {
    const bodyless =
      req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
    this.pool(ctx.workerAddress, ctx.workerPort).dispatch(
      {
        path: req.url!,
        method: req.method as Dispatcher.HttpMethod,
        headers: forwardHeaders(req, bodyless),
        body: bodyless ? null : req,
      },
      new Exchange(this, req, res, ctx),
    );
  }

  private pool(address: string, port: number): Pool {
    const origin = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
    let pool = this.pools.get(origin);
    if (pool) return pool;
    // No time limits: an event stream or a long poll may stay quiet for as long as it likes.
    const created = new Pool(origin, { headersTimeout: 0, bodyTimeout: 0 });
    // Generations come and go: a pool with no connection and no request left (idle, or its worker gone) is
    // dropped.
    const prune = () => {
      if (created.stats.connected === 0 && created.stats.size === 0 && this.pools.get(origin) === created) {
        this.pools.delete(origin);
        void created.close();
      }
    };
    created.on('disconnect', prune).on('connectionError', prune);
    this.pools.set(origin, (pool = created));
    return pool;
  }

  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer, ctx: ProxyContext): void {
    (req as WithContext)[CONTEXT] = ctx;
    // The same X-Forwarded-* as plain requests get (http-proxy-3's own take the port of `[::1]:N` wrong).
    const h = req.headers;
    const host = h.host ?? '';
    const append = (name: string, mine: string) => (h[name] = h[name] ? `${String(h[name])},${mine}` : mine);
    append('x-forwarded-for', req.socket.remoteAddress ?? '');
    append('x-forwarded-port', hostPort(host));
    append('x-forwarded-proto', 'http');
    h['x-forwarded-host'] = host;
    this.wsProxy.ws(req, socket, head, { target: { host: ctx.workerAddress, port: ctx.workerPort } });
  }

  /** Writes the answer's head and returns where its body goes. */
  respond(
    status: number,
    statusText: string,
    raw: Buffer[],
    req: http.IncomingMessage,
    res: http.ServerResponse,
    ctx: ProxyContext,
  ): Writable {
    const headers: string[] = [];
    let setCookies: string[] | undefined;
    let html = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toString('latin1');
      const lower = name.toLowerCase();
      if (DROPPED.has(lower)) continue;
      const value = raw[i + 1].toString('latin1');
      if (lower === 'location') {
        headers.push(name, rewriteLocation(value, req.headers.host!, this.gatewayPort(), ctx.workerPort));
        continue;
      }
      if (lower === 'set-cookie') (setCookies ??= []).push(value);
      else if (lower === 'content-type') html = value.toLowerCase().includes('text/html');
      headers.push(name, value);
    }
    headers.push('X-Baton-Generation', String(ctx.generation));
    for (const cookie of ctx.cookies) headers.push('Set-Cookie', cookie);
    if (ctx.appCookie && ctx.onLogout && clearsCookie(setCookies, ctx.appCookie)) ctx.onLogout();
    if (html && ctx.inject) {
      const all = headerObject(headers);
      if (isInjectable(req.method ?? 'GET', status, all)) {
        const injection = createInjection(all, `ws://${req.headers.host}/__baton/tab`);
        res.writeHead(status, reasonPhrase(statusText), injection.headers);
        const body = new PassThrough();
        pipeline(body, injection.body, res, () => undefined);
        return body;
      }
    }
    // An empty reason phrase gets Node's standard one.
    res.writeHead(status, reasonPhrase(statusText), headers);
    return res;
  }

  private guardUpgrade(proxyReq: http.ClientRequest, req: WithContext, socket: Duplex): void {
    const ctx = req[CONTEXT]!;
    // A worker that never answers the upgrade, or a client that gives up waiting (even by only half-closing),
    // must not keep both sockets and the generation's in-flight count forever.
    const abandon = () => {
      proxyReq.destroy();
      socket.destroy();
    };
    const timer = setTimeout(abandon, upgradeTimeoutMs());
    const settled = () => {
      clearTimeout(timer);
      socket.off('end', abandon);
    };
    socket.once('end', abandon);
    socket.once('close', () => {
      clearTimeout(timer);
      proxyReq.destroy();
    });
    proxyReq.once('response', settled);
    proxyReq.once('upgrade', settled);
    proxyReq.on('upgrade', (proxyRes: http.IncomingMessage, proxySocket: Duplex) => {
      // http-proxy-3 leaves the upstream socket open when the client left during the upgrade.
      if (socket.destroyed) {
        proxySocket.destroy();
        return;
      }
      proxyRes.headers['x-baton-generation'] = String(ctx.generation);
      socket.once('close', () => proxySocket.destroy());
      proxySocket.once('close', () => socket.destroy());
    });
  }

  /** Answers a request the worker failed before its answer began: a clear 502 (unless the client left). */
  failed(err: NodeJS.ErrnoException, res: http.ServerResponse, ctx: ProxyContext): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    resetHead(res); // after a `writeHead` that threw
    // undici names a connection that the worker closed unanswered UND_ERR_SOCKET: say it the way Node does.
    const code = err.code === 'UND_ERR_SOCKET' ? 'ECONNRESET' : (err.code ?? err.message);
    const message = `The worker of generation ${ctx.generation} failed to answer this request (${code}).`;
    const headers = { 'X-Baton-Generation': String(ctx.generation) };
    if (ctx.page)
      send(res, 502, 'text/html; charset=utf-8', workerErrorPage(ctx.generation, message), headers);
    else sendJson(res, 502, { error: message, generation: ctx.generation }, headers);
  }

  close(): void {
    this.wsProxy.close();
    this.agent.destroy();
    for (const pool of this.pools.values()) void pool.destroy();
    this.pools.clear();
  }
}
