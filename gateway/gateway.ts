// The home gateway: one process that owns the public port, the generations and the sessions. This file only
// wires the parts together (see ARCHITECTURE.md); requests flow one way through http/frontDoor.ts:
// Host check → `/__baton/…` or the app → routing decision → session → generation → worker.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { CONFIG_FILE, type BatonConfig } from './config/config';
import { LiveConfig, type ConfigReport } from './config/liveConfig';
import type { ControlTarget } from './control/controlApi';
import { newToken } from './control/auth';
import { EventsChannel } from './control/events';
import { Holds } from './holders/holds';
import { SessionStore } from './holders/sessions';
import { TabChannel } from './holders/tabs';
import { frontDoor } from './http/frontDoor';
import { guardRequests, guardUpgrades } from './http/guard';
import { limitConnections } from './http/limits';
import { Moves } from './http/move';
import { createGatewayServer } from './http/server';
import { upgrade } from './http/upgrade';
import type { Generation } from './lifecycle/generation';
import { Generations } from './lifecycle/generations';
import type { GatewayParts } from './parts';
import { snapshotRules } from './process/shared';
import { releaseFolderLock, takeFolderLock } from './process/folderLock';
import { createSnapshotBase, keptSnapshotDir, snapshotBase } from './process/snapshotBase';
import { ChangeWatcher } from './process/watcher';
import { gatewayFilePath } from './protocol/controlClient';
import { removeGatewayFile, writeGatewayFile } from './protocol/gatewayFile';
import type { GatewayState, GenerationState, OutputStream } from './protocol/types';
import { LogFiles, readLogFile } from './lifecycle/logFiles';
import { WorkerProxy } from './proxy/proxy';

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
  /** File changes deployed generation `id`; null: they deployed nothing (only a broken baton.json). */
  onChanges?: (files: string[], id: number | null) => void;
  /** Watching stopped by itself (an OS limit): deploy on save is off; the message says why and the fix. */
  onWatchError?: (message: string) => void;
  /** baton.json was edited: applied, or refused. */
  onConfig?: (report: ConfigReport) => void;
  /** The gateway stopped by itself (managed idle, shutdown call). */
  onStop?: (why: string) => void;
  /** A generation's build or worker wrote output (for `baton up`'s terminal). */
  onOutput?: (generation: number, text: string, stream: OutputStream) => void;
  /** Something went wrong that the user should read (the gateway carries on). */
  onWarning?: (message: string) => void;
}

export class GatewayStartError extends Error {}

const MANAGED_IDLE_MS = 60_000;
/** Per generation, how many sessions the state lists (the most recently seen; counts stay exact). */
const SESSIONS_LISTED = 100;

export class Gateway implements GatewayParts {
  readonly token = newToken();
  readonly id = randomBytes(6).toString('hex');
  readonly server: http.Server;
  private readonly live: LiveConfig;
  readonly generations: Generations;
  readonly sessions: SessionStore;
  readonly holds: Holds;
  readonly proxy: WorkerProxy;
  readonly tabs: TabChannel;
  readonly moves: Moves;
  readonly events: EventsChannel;
  readonly control: ControlTarget;
  clientScript: Buffer | null = null;
  private readonly sockets: Set<Socket>;
  private readonly snapshotDir: string;
  private watcher: ChangeWatcher | null = null;
  private watchdog: ChildProcess | null = null;
  private logFiles: LogFiles | null = null;
  private port = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: GatewayOptions) {
    this.live = new LiveConfig(options.root, options.config, (report) => {
      options.onConfig?.(report);
      this.stateChanged();
    });
    this.sessions = new SessionStore(this.config.session, (session) => {
      this.generations.checkDrain(session.generation);
      this.stateChanged();
    });
    this.snapshotDir = snapshotBase(this.id);
    const kept = keptSnapshotDir(options.root);
    this.generations = new Generations(options.root, this.live, this.id, this.snapshotDir, kept);
    this.generations
      .on('stateChanged', () => this.stateChanged())
      .on('transition', (gen, from, to) => options.onTransition?.(gen, from, to))
      .on('output', (gen, text, stream) => {
        this.events.broadcastLog(gen.id, text, stream);
        this.logFiles?.append(gen.id, text, () => gen.output.text());
        options.onOutput?.(gen.id, text, stream);
      })
      .on('groupStarted', (pgid) => this.watchdog?.stdin?.write(`+${pgid}\n`))
      .on('groupEnded', (pgid) => this.watchdog?.stdin?.write(`-${pgid}\n`))
      .on('liveChanged', () => this.tabs.liveChanged())
      .on('stopped', (gen) => {
        this.sessions.endAll(gen);
        this.tabs.generationGone(gen);
      });
    this.holds = new Holds({
      changed: () => this.countsChanged(),
      letGo: (gen) => this.generations.checkDrain(gen),
      sessionIdle: (session) => this.sessions.schedule(session),
    });
    this.proxy = new WorkerProxy(() => this.port);
    this.tabs = new TabChannel(
      () => this.generations.live?.id ?? null,
      (gen, session) => this.holds.tab(gen, session),
      this.config.follow,
    );
    this.moves = new Moves({
      affinity: this.config.affinity,
      live: () => this.generations.live?.id ?? null,
      stateOf: (n) => this.generations.get(n)?.state ?? null,
      port: () => this.port,
    });
    this.events = new EventsChannel(() => this.state());
    this.control = {
      state: () => this.state(),
      exists: (id) => this.generations.get(id) !== undefined,
      deploy: () => this.generations.deploy(),
      kill: (id) => this.generations.kill(id),
      promote: (id) => this.generations.promote(id),
      logs: (id) => this.generations.get(id)?.output.text() ?? readLogFile(this.options.root, id),
      setWatching: (enabled) => this.setWatching(enabled),
      shutdown: () => void this.stop('stopped through the control API'),
    };
    ({ server: this.server, sockets: this.sockets } = createGatewayServer());
    // Whatever a handler throws costs that one request an error answer, never the gateway.
    this.server.on('request', guardRequests(frontDoor(this)));
    this.server.on(
      'upgrade',
      guardUpgrades((req, socket, head) => upgrade(req, socket, head, this)),
    );
    limitConnections(this.server, (text) => options.onWarning?.(text));
    if (options.watch !== false) {
      const unwatched = (rel: string) => snapshotRules(this.config).unwatched(rel);
      this.watcher = new ChangeWatcher(
        options.root,
        this.config.watch,
        unwatched,
        (files) => {
          if (this.stopping) return;
          if (files.every((f) => f === CONFIG_FILE)) {
            // A save that only broke baton.json deploys nothing: its error says what to fix.
            this.live.refresh();
            if (this.live.error) return options.onChanges?.(files, null);
          }
          options.onChanges?.(files, this.generations.deploy());
        },
        (message) => {
          options.onWatchError?.(message);
          this.stateChanged();
        },
        () => this.stateChanged(),
      );
      this.generations.changes = this.watcher;
    }
  }

  /** Listens, writes `.baton/gateway.json`, starts the watchdog and deploys generation 1. */
  async start(): Promise<void> {
    const port = this.options.port ?? this.config.port;
    // One gateway per folder, decided before listening: two started at once cannot both win.
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
    this.server.on('error', (err) =>
      this.options.onWarning?.(`the gateway's server reported: ${err.message}`),
    );
    try {
      this.clientScript = fs.readFileSync(path.join(__dirname, 'client.js'));
    } catch {
      this.options.onWarning?.(
        'the tab client (dist/client.js) is missing: run "npm run build"; tabs are not counted',
      );
    }
    createSnapshotBase(this.snapshotDir);
    this.startWatchdog();
    writeGatewayFile(this.options.root, {
      pid: process.pid,
      port: this.port,
      token: this.token,
      startedAt: new Date().toISOString(),
    });
    this.logFiles = new LogFiles(this.options.root);
    if (this.options.managed) {
      this.idleTimer = setInterval(() => this.checkManagedIdle(), 2000);
      this.idleTimer.unref();
    }
    await this.watcher?.ready();
    this.generations.deploy();
  }

  /** The config in force (baton.json as last read successfully). */
  get config(): BatonConfig {
    return this.live.current;
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
      watching: (this.watcher?.enabled && !this.watcher.error) ?? false,
      watchError: this.watcher?.error ?? null,
      missedChanges: [...(this.watcher?.missed ?? [])],
      generations: this.generations
        .all()
        .sort((a, b) => a.id - b.id)
        .map((g) => g.info()),
      sessions: this.sessions.listed(SESSIONS_LISTED).map((s) => s.info()),
      configError: this.live.error,
      configRestart: this.live.restart,
    };
  }

  /** A lifecycle change: every listener hears of it at once. */
  private stateChanged(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.flush(), 0);
  }

  /** Counts changed (requests, tabs, sessions): listeners hear of it at most 4 times a second. */
  private countsChanged(): void {
    if (this.events.size === 0 || this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(), 250);
  }

  private flush(): void {
    this.flushTimer = null;
    this.events.broadcastState();
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
    this.stateChanged();
  }

  /** Stops every worker, closes every socket, removes gateway.json. Idempotent. */
  stop(why = 'stopped'): Promise<void> {
    this.stopping ??= (async () => {
      if (this.idleTimer) clearInterval(this.idleTimer);
      if (this.flushTimer) clearTimeout(this.flushTimer);
      await this.watcher?.close();
      this.live.close();
      this.server.close();
      await this.generations.shutdown();
      this.tabs.close();
      this.moves.close();
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
