// Forwarding requests and WebSockets to a generation's worker (DESIGN.md, "Routing"): keep-alive to workers,
// bodies piped (never buffered), `X-Baton-Generation` on every answer, the gateway's cookies appended to the
// worker's, `Location` kept on the tab's host, the tab client injected into HTML.
// HTTP requests take a lean path of their own on node:http (header arrays as received, no URL parsing, no
// per-request option objects); WebSockets go through http-proxy-3.
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { clearsCookie } from './cookies';
import { createInjection, isInjectable } from './inject';
import { rewriteLocation } from './location';
import { send, sendJson, workerErrorPage } from './pages';

/** What the gateway decided about one request, carried from routing to the response. */
export interface ProxyContext {
  generation: number;
  workerPort: number;
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

/**
 * The request's headers as received (names keep their case, repeats stay repeated) without `Trailer`, plus
 * `X-Forwarded-For/-Port/-Proto` (appended to what the client sent) and `X-Forwarded-Host` (unless sent), the
 * same as http-proxy-3's `xfwd`. A DELETE or OPTIONS without a body gets `Content-Length: 0`.
 */
function forwardHeaders(req: http.IncomingMessage, bodyless: boolean): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let sentFor = '';
  let sentPort = '';
  let sentProto = '';
  let sentHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (lower === 'trailer') continue;
    if (lower.startsWith('x-forwarded-')) {
      const value = raw[i + 1];
      // Repeated lines join with ", " as in IncomingMessage.headers.
      if (lower === 'x-forwarded-for') sentFor = sentFor ? `${sentFor}, ${value}` : value;
      else if (lower === 'x-forwarded-port') sentPort = sentPort ? `${sentPort}, ${value}` : value;
      else if (lower === 'x-forwarded-proto') sentProto = sentProto ? `${sentProto}, ${value}` : value;
      else {
        sentHost ||= lower === 'x-forwarded-host';
        out.push(raw[i], value);
      }
      continue;
    }
    out.push(raw[i], raw[i + 1]);
  }
  const host = req.headers.host ?? '';
  const append = (sent: string, mine: string) => (sent ? `${sent},${mine}` : mine);
  out.push('X-Forwarded-For', append(sentFor, req.socket.remoteAddress ?? ''));
  out.push('X-Forwarded-Port', append(sentPort, /:(\d+)/.exec(host)?.[1] ?? '80'));
  out.push('X-Forwarded-Proto', append(sentProto, 'http'));
  if (!sentHost) out.push('X-Forwarded-Host', host);
  if (bodyless && (req.method === 'DELETE' || req.method === 'OPTIONS')) out.push('Content-Length', '0');
  return out;
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

export class WorkerProxy {
  private readonly agent = new http.Agent({ keepAlive: true, scheduling: 'lifo', maxFreeSockets: 64 });
  private readonly wsProxy = createProxyServer({ agent: this.agent, xfwd: true, ws: true });

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
    const proxyReq = http.request({
      host: '127.0.0.1',
      port: ctx.workerPort,
      method: req.method,
      path: req.url,
      headers: forwardHeaders(req, bodyless),
      agent: this.agent,
    });
    const onError = (err: NodeJS.ErrnoException) => {
      // The client went away mid-request: nothing to answer.
      if (req.socket.destroyed && err.code === 'ECONNRESET') proxyReq.destroy();
      else this.failed(err, res, ctx);
    };
    req.on('error', onError);
    proxyReq.on('error', onError);
    res.once('close', () => {
      if (!res.writableFinished) proxyReq.destroy();
    });
    proxyReq.once('response', (proxyRes) => this.respond(proxyRes, req, res, ctx));
    if (bodyless) proxyReq.end();
    else req.pipe(proxyReq);
  }

  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer, ctx: ProxyContext): void {
    (req as WithContext)[CONTEXT] = ctx;
    this.wsProxy.ws(req, socket, head, { target: { host: '127.0.0.1', port: ctx.workerPort } });
  }

  private respond(
    proxyRes: http.IncomingMessage,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    ctx: ProxyContext,
  ): void {
    const raw = proxyRes.rawHeaders;
    const headers: string[] = [];
    let setCookies: string[] | undefined;
    let html = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      const lower = name.toLowerCase();
      if (DROPPED.has(lower)) continue;
      const value = raw[i + 1];
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
    const status = proxyRes.statusCode ?? 502;
    // A worker that fails mid-answer: the client must see a broken answer at once, not wait for the rest.
    proxyRes.on('error', () => res.destroy());
    if (html && ctx.inject && isInjectable(req.method ?? 'GET', status, proxyRes.headers)) {
      const injection = createInjection(headerObject(headers), `ws://${req.headers.host}/__baton/tab`);
      res.writeHead(status, proxyRes.statusMessage, injection.headers);
      pipeline(proxyRes, injection.body, res, () => undefined);
      return;
    }
    res.writeHead(status, proxyRes.statusMessage, headers);
    proxyRes.pipe(res);
    // A client that leaves (an event stream closed) must not leave the upstream connection open.
    res.once('close', () => {
      if (!proxyRes.complete) proxyRes.destroy();
    });
  }

  private guardUpgrade(proxyReq: http.ClientRequest, req: WithContext, socket: Duplex): void {
    const ctx = req[CONTEXT]!;
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

  private failed(err: NodeJS.ErrnoException, res: http.ServerResponse, ctx: ProxyContext): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const message = `The worker of generation ${ctx.generation} failed to answer this request (${err.code ?? err.message}).`;
    const headers = { 'X-Baton-Generation': String(ctx.generation) };
    if (ctx.page)
      send(res, 502, 'text/html; charset=utf-8', workerErrorPage(ctx.generation, message), headers);
    else sendJson(res, 502, { error: message, generation: ctx.generation }, headers);
  }

  close(): void {
    this.wsProxy.close();
    this.agent.destroy();
  }
}
