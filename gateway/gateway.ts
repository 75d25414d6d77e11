// The home gateway: one process that owns the public port, the generations and the sessions (DESIGN.md).
// Data flows one way: request → Host/cookie → session → generation → worker.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { authorized, newToken } from './control/auth';
import { gatewayFilePath } from './protocol/controlClient';
import type { BatonConfig } from './config/config';
import { handleControl } from './control/controlApi';
import { pinCookie, PIN_COOKIE, readCookie, sidCookie } from './http/cookies';
import { EventsChannel } from './control/events';
import type { Generation } from './lifecycle/generation';
import { removeGatewayFile, writeGatewayFile } from './protocol/gatewayFile';
import { Generations } from './lifecycle/generations';
import { generationHost, isAllowedHost, parseHost, type ParsedHost } from './http/hosts';
import { gonePage, send, sendJson, unavailablePage } from './http/pages';
import { WorkerProxy } from './proxy/proxy';
import { isNavigation, route, type RouteInput } from './http/route';
import { SessionStore, type Session } from './holders/sessions';
import { ignoreMatcher } from './process/snapshot';
import { createSnapshotBase, snapshotBase } from './process/snapshotBase';
import { releaseFolderLock, takeFolderLock } from './process/folderLock';
import { answerError, guardRequests, guardUpgrades } from './http/guard';
import { isCrossSite } from './http/crossSite';
import { newTabLocation } from './http/newTab';
import { limitConnections, validSid } from './http/limits';
import { hostProblem } from './http/requestChecks';
import { TabChannel, type Tab } from './holders/tabs';
import type { GatewayState, GenerationState } from './protocol/types';
import { ChangeWatcher } from './process/watcher';

export interface GatewayOptions {
  root: string;
  config: BatonConfig;
  /** Overrides the config's port. */
  port?: number;
  /** Started by an editor: stop once no editor has been connected for a minute and no tab is open. */
  managed?: boolean;
  watch?: boolean;
  /** Lifecycle transitions, for `baton up`'s progress lines. */
  onTransition?: (generation: Generation, from: GenerationState | null, to: GenerationState) => void;
  /** A deploy was triggered by file changes. */
  onChanges?: (files: string[], id: number) => void;
  /** The gateway stopped by itself (managed idle, shutdown call). */
  onStop?: (why: string) => void;
  /** Something the user should know about (a limit reached). */
  onWarning?: (text: string) => void;
}

export class GatewayStartError extends Error {}

const MANAGED_IDLE_MS = 60_000;

export class Gateway {
  readonly token = newToken();
  readonly id = randomBytes(6).toString('hex');
  readonly server: http.Server;
  readonly generations: Generations;
  private readonly sessions: SessionStore;
  private readonly proxy: WorkerProxy;
  private readonly tabs: TabChannel;
  private readonly events: EventsChannel;
  private readonly config: BatonConfig;
  private watcher: ChangeWatcher | null = null;
  private watchdog: ChildProcess | null = null;
  private clientScript: Buffer | null = null;
  private port = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushUrgent = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly snapshotDir: string;

  constructor(private readonly options: GatewayOptions) {
    this.config = options.config;
    const ignored = ignoreMatcher(this.config.ignore);
    this.sessions = new SessionStore(this.config.session, (session) => this.sessionEnded(session));
    this.snapshotDir = snapshotBase(this.id);
    this.generations = new Generations(options.root, this.config, this.id, this.snapshotDir, ignored, {
      changed: (urgent) => this.changed(urgent),
      transition: (gen, from, to) => options.onTransition?.(gen, from, to),
      output: (gen, text) => this.events.broadcastLog(gen.id, text),
      groupStarted: (pgid) => this.watchdog?.stdin?.write(`+${pgid}\n`),
      groupEnded: (pgid) => this.watchdog?.stdin?.write(`-${pgid}\n`),
      liveChanged: () => this.tabs.liveChanged(),
      stopped: (gen) => {
        this.sessions.endAll(gen);
        this.tabs.generationGone(gen);
      },
    });
    this.proxy = new WorkerProxy(() => this.port);
    this.tabs = new TabChannel(
      () => this.generations.live?.id ?? null,
      (tab) => this.tabOpened(tab),
      (tab) => this.tabClosed(tab),
    );
    this.events = new EventsChannel(() => this.state());
    this.server = http.createServer({ maxHeaderSize: 32 * 1024, requestTimeout: 0, headersTimeout: 20_000 });
    this.server.keepAliveTimeout = 30_000;
    this.server.on(
      'request',
      guardRequests((req, res) => this.handle(req, res)),
    );
    this.server.on(
      'upgrade',
      guardUpgrades((req, socket, head) => this.upgrade(req, socket, head)),
    );
    limitConnections(this.server, (text) => options.onWarning?.(text));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable || (socket as Socket).pending) return void socket.destroy();
      const status =
        err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      setTimeout(() => socket.destroy(), 1000).unref();
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    if (options.watch !== false) {
      this.watcher = new ChangeWatcher(options.root, this.config.watch, ignored, (files) => {
        if (this.stopping) return;
        options.onChanges?.(files, this.generations.deploy());
      });
    }
  }

  /** Listens, writes `.baton/gateway.json`, starts the watchdog and deploys generation 1. */
  async start(): Promise<void> {
    const port = this.options.port ?? this.config.port;
    const holder = takeFolderLock(this.options.root);
    if (holder !== null)
      throw new GatewayStartError(
        `a gateway (pid ${holder}) is already running for ${this.options.root} — stop it with "baton down" first`,
      );
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        releaseFolderLock(this.options.root);
        reject(
          new GatewayStartError(
            err.code === 'EADDRINUSE'
              ? `port ${port} on ${this.config.host} is already in use — stop what uses it, or set "port" in baton.json (0 = any free port)`
              : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
                ? `cannot listen on host "${this.config.host}" — check "host" in baton.json`
                : `cannot listen on ${this.config.host}:${port}: ${err.message}`,
          ),
        );
      };
      this.server.once('error', onError);
      this.server.listen(port, this.config.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.port = (this.server.address() as { port: number }).port;
    this.server.on('error', () => undefined);
    try {
      this.clientScript = fs.readFileSync(path.join(__dirname, 'client.js'));
    } catch {
      this.clientScript = null;
    }
    createSnapshotBase(this.snapshotDir);
    this.startWatchdog();
    writeGatewayFile(this.options.root, {
      pid: process.pid,
      port: this.port,
      token: this.token,
      startedAt: new Date().toISOString(),
    });
    if (this.options.managed) {
      this.idleTimer = setInterval(() => this.checkManagedIdle(), 2000);
      this.idleTimer.unref();
    }
    await this.watcher?.ready();
    this.generations.deploy();
  }

  get url(): string {
    return `http://localhost:${this.port}/`;
  }

  get listeningPort(): number {
    return this.port;
  }

  private startWatchdog(): void {
    const script = path.join(__dirname, 'watchdog.js');
    if (!fs.existsSync(script)) return;
    const args = [script, this.id, this.snapshotDir, gatewayFilePath(this.options.root), String(process.pid)];
    this.watchdog = spawn(process.execPath, args, {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.watchdog.on('error', () => (this.watchdog = null));
    this.watchdog.stdin!.on('error', () => undefined);
    this.watchdog.unref();
    (this.watchdog.stdin as unknown as Socket).unref();
  }

  // ---- state and events ---------------------------------------------------------------------------

  state(): GatewayState {
    return {
      root: this.options.root,
      port: this.port,
      affinity: this.config.affinity,
      live: this.generations.live?.id ?? null,
      watching: this.watcher?.enabled ?? false,
      generations: this.generations
        .all()
        .sort((a, b) => a.id - b.id)
        .map((g) => g.info()),
      sessions: [...this.sessions.all()].map((s) => s.info()),
    };
  }

  /** State changes are flushed to listeners: lifecycle changes at once, count changes at most 4 times a second. */
  private changed(urgent: boolean): void {
    if (!urgent && this.events.size === 0) return;
    this.flushUrgent ||= urgent;
    if (this.flushTimer && !urgent) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.flush(), urgent ? 0 : 250);
  }

  private flush(): void {
    this.flushTimer = null;
    this.flushUrgent = false;
    this.events.broadcastState();
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  /** Host allow-list (DNS rebinding); answers and returns null when the request must go no further. */
  private checkHost(req: http.IncomingMessage): ParsedHost | { status: number; message: string } {
    const problem = hostProblem(req);
    if (problem) return { status: 400, message: problem };
    const host = parseHost(req.headers.host);
    if (!host) return { status: 400, message: 'Bad Request: missing or malformed Host header' };
    if (!isAllowedHost(host.hostname, this.config.allowedHosts)) {
      return {
        status: 403,
        message: `Forbidden: Host "${host.hostname}" is not allowed. If you reach this gateway through that name, add it to "allowedHosts" in baton.json.`,
      };
    }
    return host;
  }

  private routeInput(req: http.IncomingMessage, host: ParsedHost, sid: string | null): RouteInput {
    const pin = Number(readCookie(req.headers.cookie, PIN_COOKIE));
    return {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      host,
      accept: req.headers.accept,
      secFetchMode: req.headers['sec-fetch-mode'] as string | undefined,
      userAgent: req.headers['user-agent'],
      pin: Number.isInteger(pin) && pin > 0 ? pin : null,
      affinity: this.config.affinity,
      live: this.generations.live?.id ?? null,
      isRunning: (n) => this.generations.get(n)?.running ?? false,
      isKnown: (n) => this.generations.get(n) !== undefined,
      closedTo: (n) =>
        this.generations.get(n)?.state === 'draining' && (sid === null || this.sessions.hasLoggedOut(n, sid)),
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const host = this.checkHost(req);
    if ('status' in host) return send(res, host.status, 'text/plain; charset=utf-8', host.message + '\n');
    const url = req.url ?? '/';
    if (!url.startsWith('/'))
      return send(res, 400, 'text/plain; charset=utf-8', 'Bad Request: the path must start with "/"\n');
    if (url.startsWith('/__baton/')) return this.internal(req, res, url);

    const sid = validSid(req);
    const decision = route(this.routeInput(req, host, sid));
    switch (decision.kind) {
      case 'redirect':
        res.writeHead(307, { Location: decision.location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
        return void res.end();
      case 'unavailable':
        return this.unavailable(res, decision.page);
      case 'gone':
        return this.gone(res, host, decision.generation, decision.known, decision.page);
      case 'proxy':
        return this.forward(req, res, this.generations.get(decision.generation)!, sid, decision.pin);
    }
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    gen: Generation,
    sid: string | null,
    pin: boolean,
  ): void {
    const cookies: string[] = [];
    let session: Session | undefined;
    if (sid) session = this.sessions.touch(gen, sid, req.headers['user-agent']);
    else cookies.push(sidCookie(randomBytes(16).toString('base64url')));
    if (pin) cookies.push(pinCookie(gen.id));
    // Released exactly once: when the answer closes, or when its socket closes first (Node fires neither
    // `finish` nor `close` on pipelined answers still queued when the client leaves).
    this.hold(gen, session);
    const socket = req.socket;
    let released = false;
    const release = () => {
      socket.off('close', release);
      if (released) return; // an emit already under way still calls a listener just removed
      released = true;
      this.release(gen, session);
    };
    res.once('close', release);
    socket.once('close', release);
    const logoutSession = session;
    this.proxy.web(req, res, {
      generation: gen.id,
      workerPort: gen.port!,
      cookies,
      page: isNavigation(
        req.method ?? 'GET',
        req.headers['sec-fetch-mode'] as string | undefined,
        req.headers.accept,
      ),
      inject: this.config.inject,
      appCookie: this.config.session.cookie,
      onLogout: logoutSession ? () => this.sessions.end(logoutSession, 'logout') : null,
    });
  }

  private hold(gen: Generation, session: Session | undefined): void {
    gen.inflight++;
    if (session) session.inflight++;
    this.changed(false);
  }

  private release(gen: Generation, session: Session | undefined): void {
    gen.inflight--;
    if (session) {
      session.inflight--;
      session.lastSeen = Date.now();
      if (session.inflight === 0 && session.tabs === 0) this.sessions.schedule(session);
    }
    if (gen.state === 'draining') this.generations.checkDrain(gen);
    this.changed(false);
  }

  private unavailable(res: http.ServerResponse, page: boolean): void {
    // A deploy under way explains it best; else the failure or crash that happened last (an older generation
    // may have failed while a newer one that since crashed was live). Still being stopped = just now.
    const all = this.generations.all();
    const last =
      all.filter((g) => g.state === 'building' || g.state === 'starting').sort((a, b) => b.id - a.id)[0] ??
      all
        .filter((g) => g.state === 'failed' || g.state === 'crashed')
        .sort((a, b) => (b.stoppedAt ?? Infinity) - (a.stoppedAt ?? Infinity) || b.id - a.id)[0];
    const reason = !last
      ? 'No generation is live: none has been deployed yet.'
      : last.state === 'building' || last.state === 'starting'
        ? `Generation ${last.id} is ${last.state}; no generation is live yet.`
        : `No generation is live: generation ${last.id} ${last.state} — ${last.reason}`;
    if (page)
      send(res, 503, 'text/html; charset=utf-8', unavailablePage(reason, last?.output.tail(30) ?? ''));
    else
      sendJson(res, 503, {
        error: reason,
        live: null,
        generation: last?.id ?? null,
        state: last?.state ?? null,
      });
  }

  private gone(res: http.ServerResponse, host: ParsedHost, id: number, known: boolean, page: boolean): void {
    const gen = this.generations.get(id);
    const why = !known
      ? `There is no generation ${id} in this gateway run.`
      : `Generation ${id} is ${gen!.state}${gen!.reason ? `: ${gen!.reason}` : ''}.`;
    const live = this.generations.live;
    const liveUrl = live ? `http://${generationHost(live.id, host.port)}/` : null;
    if (page) send(res, 410, 'text/html; charset=utf-8', gonePage(id, why, liveUrl));
    else
      sendJson(res, 410, { error: why, generation: id, state: gen?.state ?? null, live: live?.id ?? null });
  }

  /** The gateway's own routes under `/__baton/`. */
  private internal(req: http.IncomingMessage, res: http.ServerResponse, url: string): void {
    const parsed = new URL(url, 'http://gateway');
    const pathname = parsed.pathname;
    if (pathname === '/__baton/client.js') {
      if (!this.clientScript)
        return send(res, 404, 'text/plain; charset=utf-8', 'the tab client is not built (npm run build)\n');
      res.writeHead(200, {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Content-Length': this.clientScript.length,
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      });
      return void res.end(req.method === 'HEAD' ? undefined : this.clientScript);
    }
    if (pathname === '/__baton/live') return sendJson(res, 200, { live: this.generations.live?.id ?? null });
    if (isCrossSite(req) && (pathname === '/__baton/new' || pathname.startsWith('/__baton/api/')))
      return answerError(res, 403, `Forbidden: ${pathname} does not answer requests from other sites`);
    if (pathname === '/__baton/new') {
      res.writeHead(303, {
        Location: newTabLocation(parsed.searchParams.get('path')),
        'Set-Cookie': pinCookie(null),
        'Cache-Control': 'no-store',
        'Content-Length': 0,
      });
      return void res.end();
    }
    if (pathname.startsWith('/__baton/api/')) {
      if (req.headers.origin)
        return sendJson(res, 403, { error: 'the control API does not answer browsers' });
      if (!authorized(req.headers.authorization, this.token)) {
        return sendJson(res, 401, {
          error: 'missing or wrong token: send "Authorization: Bearer <token from .baton/gateway.json>"',
        });
      }
      void handleControl(req, res, pathname.slice('/__baton/api'.length), parsed.searchParams, {
        state: () => this.state(),
        deploy: () => this.generations.deploy(),
        kill: (id) => this.generations.kill(id),
        promote: (id) => this.generations.promote(id),
        logs: (id) => this.generations.get(id)?.output.text() ?? null,
        setWatching: (enabled) => this.setWatching(enabled),
        shutdown: () => void this.stop('stopped through the control API'),
      });
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', `Not found: ${pathname} is not a Baton route\n`);
  }

  // ---- WebSockets ---------------------------------------------------------------------------------

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string, body = '') => {
      if (socket.writable)
        socket.end(
          `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      socket.destroy();
    };
    if (req.headers.upgrade?.toLowerCase() !== 'websocket')
      return refuse(400, 'Bad Request', 'Bad Request: this gateway upgrades connections to WebSocket only\n');
    const host = this.checkHost(req);
    if ('status' in host) return refuse(host.status, host.status === 403 ? 'Forbidden' : 'Bad Request');
    const url = req.url ?? '/';
    const pathname = url.split('?')[0];
    if (pathname === '/__baton/api/events') {
      if (req.headers.origin) return refuse(403, 'Forbidden');
      if (!authorized(req.headers.authorization, this.token)) return refuse(401, 'Unauthorized');
      return this.events.accept(req, socket, head);
    }
    const sid = validSid(req);
    const decision = route(this.routeInput(req, host, sid));
    if (pathname === '/__baton/tab') {
      const origin = req.headers.origin;
      if (origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`)
        return refuse(403, 'Forbidden');
      if (decision.kind === 'gone' && decision.known) {
        return this.tabs.accept(req, socket, head, this.generations.get(decision.generation)!, undefined);
      }
      if (decision.kind !== 'proxy')
        return refuse(
          decision.kind === 'gone' ? 410 : 503,
          decision.kind === 'gone' ? 'Gone' : 'Service Unavailable',
        );
      const gen = this.generations.get(decision.generation)!;
      const session = sid ? this.sessions.touch(gen, sid, req.headers['user-agent']) : undefined;
      return this.tabs.accept(req, socket, head, gen, session);
    }
    if (url.startsWith('/__baton/')) return refuse(404, 'Not Found');
    if (decision.kind === 'gone') return refuse(410, 'Gone');
    if (decision.kind !== 'proxy') return refuse(503, 'Service Unavailable');
    const gen = this.generations.get(decision.generation)!;
    const session = sid ? this.sessions.touch(gen, sid, req.headers['user-agent']) : undefined;
    this.hold(gen, session);
    socket.once('close', () => this.release(gen, session));
    this.proxy.ws(req, socket, head, {
      generation: gen.id,
      workerPort: gen.port!,
      cookies: [],
      page: false,
      inject: false,
      appCookie: null,
      onLogout: null,
    });
  }

  private tabOpened(tab: Tab): void {
    tab.generation.tabs++;
    if (tab.session) {
      tab.session.tabs++;
      tab.session.tabsClosedAt = null;
      this.sessions.schedule(tab.session);
    } else tab.generation.looseTabs++;
    this.changed(false);
  }

  private tabClosed(tab: Tab): void {
    tab.generation.tabs--;
    if (tab.session) {
      tab.session.tabs--;
      tab.session.lastSeen = Date.now();
      if (tab.session.tabs === 0) {
        tab.session.tabsClosedAt = Date.now();
        this.sessions.schedule(tab.session);
      }
    } else tab.generation.looseTabs--;
    this.generations.checkDrain(tab.generation);
    this.changed(false);
  }

  private sessionEnded(session: Session): void {
    this.generations.checkDrain(session.generation);
    this.changed(true);
  }

  private checkManagedIdle(): void {
    if (this.events.size > 0 || this.tabs.size > 0) return;
    if (Date.now() - this.events.lastClientAt >= MANAGED_IDLE_MS) {
      void this.stop('no editor has been connected for a minute and no tab is open');
    }
  }

  // ---- shutdown -----------------------------------------------------------------------------------

  setWatching(enabled: boolean): void {
    if (this.watcher) this.watcher.enabled = enabled;
    this.changed(true);
  }

  /** Stops every worker, closes every socket, removes gateway.json. Idempotent. */
  stop(why = 'stopped'): Promise<void> {
    this.stopping ??= (async () => {
      if (this.idleTimer) clearInterval(this.idleTimer);
      if (this.flushTimer) clearTimeout(this.flushTimer);
      await this.watcher?.close();
      this.server.close();
      await this.generations.shutdown();
      this.tabs.close();
      this.events.close();
      this.proxy.close();
      for (const socket of this.sockets) socket.destroy();
      removeGatewayFile(this.options.root);
      releaseFolderLock(this.options.root);
      this.watchdog?.stdin?.end();
      this.options.onStop?.(why);
    })();
    return this.stopping;
  }
}
