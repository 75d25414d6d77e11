// Forwarding requests and WebSockets to a generation's worker with http-proxy-3 (DESIGN.md, "Routing"):
// keep-alive to workers, bodies piped (never buffered), `X-Baton-Generation` on every answer, the gateway's
// cookies appended to the worker's, `Location` kept on the tab's host, the tab client injected into HTML.
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

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection'];

export class WorkerProxy {
  private readonly agent = new http.Agent({ keepAlive: true, scheduling: 'lifo', maxFreeSockets: 64 });
  private readonly proxy = createProxyServer({
    agent: this.agent,
    selfHandleResponse: true,
    xfwd: true,
    ws: true,
  });

  constructor(private readonly gatewayPort: () => number) {
    this.proxy.on('proxyRes', (proxyRes, req, res) =>
      this.respond(proxyRes, req as WithContext, res as http.ServerResponse),
    );
    this.proxy.on('proxyReqWs', (proxyReq, req, socket) =>
      this.guardUpgrade(proxyReq, req as WithContext, socket),
    );
    this.proxy.on('error', (err, req, res) =>
      this.failed(err as NodeJS.ErrnoException, req as WithContext, res),
    );
    this.proxy.on('econnreset', () => undefined); // the client went away mid-request: nothing to answer
  }

  web(req: http.IncomingMessage, res: http.ServerResponse, ctx: ProxyContext): void {
    (req as WithContext)[CONTEXT] = ctx;
    this.proxy.web(req, res, { target: { host: '127.0.0.1', port: ctx.workerPort } });
  }

  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer, ctx: ProxyContext): void {
    (req as WithContext)[CONTEXT] = ctx;
    this.proxy.ws(req, socket, head, { target: { host: '127.0.0.1', port: ctx.workerPort } });
  }

  private respond(proxyRes: http.IncomingMessage, req: WithContext, res: http.ServerResponse): void {
    const ctx = req[CONTEXT]!;
    const headers = proxyRes.headers;
    for (const name of HOP_BY_HOP) delete headers[name];
    headers['x-baton-generation'] = String(ctx.generation);
    if (headers.location) {
      headers.location = rewriteLocation(
        headers.location,
        req.headers.host!,
        this.gatewayPort(),
        ctx.workerPort,
      );
    }
    if (ctx.appCookie && ctx.onLogout && clearsCookie(headers['set-cookie'], ctx.appCookie)) ctx.onLogout();
    if (ctx.cookies.length) headers['set-cookie'] = [...(headers['set-cookie'] ?? []), ...ctx.cookies];
    const status = proxyRes.statusCode ?? 502;
    if (ctx.inject && isInjectable(req.method ?? 'GET', status, headers)) {
      const injection = createInjection(headers, `ws://${req.headers.host}/__baton/tab`);
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

  private failed(
    err: NodeJS.ErrnoException,
    req: WithContext,
    target: http.ServerResponse | Duplex | undefined,
  ): void {
    const ctx = req[CONTEXT];
    if (!(target instanceof http.ServerResponse)) {
      target?.destroy();
      return;
    }
    if (target.headersSent || target.destroyed || !ctx) {
      target.destroy();
      return;
    }
    const message = `The worker of generation ${ctx.generation} failed to answer this request (${err.code ?? err.message}).`;
    const headers = { 'X-Baton-Generation': String(ctx.generation) };
    if (ctx.page)
      send(target, 502, 'text/html; charset=utf-8', workerErrorPage(ctx.generation, message), headers);
    else sendJson(target, 502, { error: message, generation: ctx.generation }, headers);
  }

  close(): void {
    this.proxy.close();
    this.agent.destroy();
  }
}
