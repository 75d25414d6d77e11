// The generation lifecycle (ARCHITECTURE.md, "How a deploy flows"): building → starting → live → draining → stopped, plus failed and
// crashed; coalesced deploys, kill, promote, drain and retire.
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import type { BatonConfig } from '../config/config';
import type { ConfigSource } from '../config/liveConfig';
import { drainVerdict } from '../holders/drain';
import { Generation } from './generation';
import { MARKER_ENV } from '../process/processes';
import { adoptPortEnv } from '../process/adoptPortEnv';
import { foreignPortMessage, wrongPortMessage } from '../process/portAdvice';
import { snapshotRules } from '../process/shared';
import { removeTree } from '../process/snapshotCopy';
import { LOOPBACK } from '../process/worker';
import type { Changes } from '../process/snapshot';
import { SnapshotService, type SnapshotPlace } from '../process/snapshotService';
import type { GenerationState, OutputStream } from '../protocol/types';
import { osRuntime, type Job, type Runtime } from './runtime';
import { toWorkspacePaths } from './workspacePaths';

/** What the lifecycle tells the rest of the gateway. */
export interface LifecycleEvents {
  /** A generation's lifecycle state, port or liveness changed. */
  stateChanged: [];
  /** A generation moved from one lifecycle state to another (null: it was just created). */
  transition: [generation: Generation, from: GenerationState | null, to: GenerationState];
  /** A generation's output grew (snapshot paths already shown as the workspace paths they came from). */
  output: [generation: Generation, text: string, stream: OutputStream];
  /** A process group was started / is gone (for the watchdog). */
  groupStarted: [pgid: number];
  groupEnded: [pgid: number];
  /** A generation became live or stopped running (tabs are told). */
  liveChanged: [];
  /** A generation's processes are gone: its sessions and tabs end. */
  stopped: [generation: Generation];
}

/**
 * The gateway's environment as builds and workers inherit it, less what only the gateway's own launch needed:
 * the editor starts the gateway with Electron's binary as Node (`ELECTRON_RUN_AS_NODE`), which would make
 * every Electron-based tool in a build run as plain Node.
 */
function inheritedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  return env;
}

/** How many stopped, failed or crashed generations the state keeps listing. */
const KEEP_FINISHED = 20;

export interface ChangeSource {
  takeChanges(): Changes | null;
  giveBack(changes: Changes | null): void;
}

export class Generations extends EventEmitter<LifecycleEvents> {
  private readonly byId = new Map<number, Generation>();
  live: Generation | null = null;
  private nextId = 1;
  /** The deploy in progress, and the id reserved for one follow-up that coalesces every later request. */
  private deploying: Promise<void> | null = null;
  private followUp: number | null = null;
  private readonly snapshots: SnapshotService;
  private lastSnapshot: SnapshotPlace | null = null;
  private lastSnapshotConfig: BatonConfig | null = null;
  private shuttingDown = false;
  /** What changed since the last snapshot (the watcher); without one every snapshot reads the whole app. */
  changes: ChangeSource | null = null;

  constructor(
    private readonly root: string,
    /** baton.json can be edited while the gateway runs (see config/liveConfig): each build reads it again. */
    private readonly configs: ConfigSource,
    private readonly gatewayId: string,
    /** This gateway's snapshot folder, and where the app's newest snapshot is kept between runs (or null). */
    private readonly snapshotDir: string,
    kept: string | null,
    private readonly runtime: Runtime = osRuntime,
  ) {
    super();
    this.snapshots = new SnapshotService(kept);
  }

  /** The config in force, without reading baton.json: drain checks run at any moment, even mid-save. */
  private get config(): BatonConfig {
    return this.configs.current;
  }

  get(id: number): Generation | undefined {
    return this.byId.get(id);
  }

  all(): Generation[] {
    return [...this.byId.values()];
  }

  /** Starts a deploy, or coalesces into the one follow-up of the deploy under way. Returns its id. */
  deploy(): number {
    if (this.shuttingDown) throw new Error('the gateway is shutting down');
    if (this.deploying) {
      if (this.followUp === null) this.followUp = this.nextId++;
      return this.followUp;
    }
    const id = this.nextId++;
    this.run(id);
    return id;
  }

  private run(id: number): void {
    this.deploying = this.build(id).finally(() => {
      this.deploying = null;
      const next = this.followUp;
      this.followUp = null;
      if (next !== null && !this.shuttingDown) this.run(next);
    });
  }

  private setState(gen: Generation, state: GenerationState): void {
    const from = gen.state;
    gen.state = state;
    if (state === 'failed' || state === 'crashed') gen.endedAt = Date.now();
    this.emit('transition', gen, from, state);
    this.emit('stateChanged');
  }

  private log(gen: Generation, raw: string, stream: OutputStream = 'baton'): void {
    const text = gen.snapshot ? toWorkspacePaths(raw, gen.snapshot.appDir, this.root) : raw;
    gen.output.push(text);
    this.emit('output', gen, text, stream);
  }

  private async build(id: number): Promise<void> {
    const gen = new Generation(id);
    this.byId.set(id, gen);
    this.emit('transition', gen, null, 'building');
    this.emit('stateChanged');
    // One config for the whole build and start, even if baton.json is edited meanwhile.
    const config = this.configs.refresh();
    const env = {
      ...inheritedEnv(),
      ...config.env,
      BATON_GENERATION: String(id),
      [MARKER_ENV]: `${this.gatewayId}.${id}`, // builds too, so that a stray build child is found
    };
    try {
      if (config.build) {
        this.log(gen, `$ ${config.build}\n`);
        const failure = await this.runBuild(gen, config, env);
        if (gen.halted) return; // stopped meanwhile
        if (failure) return this.fail(gen, failure);
        gen.child = null;
      }
      const { shared } = snapshotRules(config);
      await new Promise((resolve) => setImmediate(resolve)); // file events already queued count for this one
      const changes = this.changes?.takeChanges() ?? null;
      let snapshot: SnapshotPlace;
      try {
        snapshot = await this.snapshots.create({
          root: this.root,
          dir: path.join(this.snapshotDir, `g${id}`),
          ignore: config.ignore,
          shared: config.shared,
          previous: this.lastSnapshot?.dir ?? null,
          // An edited baton.json may have changed what is ignored or shared: then read everything again.
          changes: this.lastSnapshot && this.lastSnapshotConfig === config ? changes : null,
        });
        await shared.linkMissing(this.root, snapshot.appDir).catch(async (err) => {
          await this.snapshots.remove(snapshot.dir);
          throw err;
        });
      } catch (err) {
        this.changes?.giveBack(changes);
        throw err;
      }
      if (gen.halted) {
        this.changes?.giveBack(changes);
        return await this.snapshots.remove(snapshot.dir); // killed while it was being copied
      }
      gen.snapshot = this.lastSnapshot = snapshot;
      this.lastSnapshotConfig = config;
      await this.start(gen, config, env);
    } catch (err) {
      this.fail(gen, `could not prepare the generation: ${(err as Error).message}`);
    }
  }

  /** Runs the build command in the workspace; resolves to a failure reason, or null on success. */
  private runBuild(gen: Generation, config: BatonConfig, env: NodeJS.ProcessEnv): Promise<string | null> {
    return new Promise((resolve) => {
      const child = this.runtime.run(config.build!, this.root, env, (text, stream) =>
        this.log(gen, text, stream),
      );
      gen.child = child;
      this.track(child);
      const limit = config.buildTimeoutSeconds;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.log(gen, `\n[baton] build still running after ${limit} s: stopping it\n`);
        void this.runtime.stopTree(child.pid!, `${this.gatewayId}.${gen.id}`);
      }, limit * 1000);
      child.on('error', (err) => {
        clearTimeout(timer);
        resolve(`build could not start: ${err.message}`);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) {
          resolve(
            `build timed out after ${limit} s (raise "buildTimeoutSeconds" in baton.json if it needs longer)`,
          );
        } else if (code === 0) resolve(null);
        else resolve(code !== null ? `build exited with code ${code}` : `build was stopped by ${signal}`);
      });
    });
  }

  private track(child: Job): void {
    if (!child.pid) return;
    const pgid = child.pid;
    this.emit('groupStarted', pgid);
    child.on('exit', () => this.emit('groupEnded', pgid));
  }

  private async start(gen: Generation, config: BatonConfig, env: NodeJS.ProcessEnv): Promise<void> {
    this.setState(gen, 'starting');
    gen.port = await this.runtime.freePort();
    this.emit('stateChanged');
    this.log(gen, `$ ${config.start}   (generation ${gen.id}, PORT=${gen.port})\n`);
    const child = this.runtime.run(
      config.start,
      gen.snapshot!.appDir,
      {
        ...env,
        PORT: String(gen.port),
        HOST: '127.0.0.1',
        [MARKER_ENV]: `${this.gatewayId}.${gen.id}`,
        ...(config.adoptPort ? adoptPortEnv(env.NODE_OPTIONS) : {}),
      },
      (text, stream) => this.log(gen, text, stream),
    );
    gen.child = child;
    gen.workerPid = child.pid ?? null;
    this.track(child);
    let exited = false;
    child.on('error', (err) => this.log(gen, `[baton] could not start the worker: ${err.message}\n`));
    child.on('exit', (code, signal) => {
      exited = true;
      gen.exitCode = code;
      this.onExit(gen, code, signal);
    });
    const { path: probePath, timeoutSeconds } = config.ready;
    const misplaced = this.watchPort(gen, child, config.start, () => exited);
    // Only the worker's own socket is probed; blindly each loopback address where nobody can tell whose it is.
    const hosts = () => (gen.address ? [gen.address] : misplaced.blind ? LOOPBACK : []);
    const ready = await this.runtime.waitReady(
      gen.port,
      hosts,
      probePath,
      timeoutSeconds * 1000,
      () => exited || gen.halted || misplaced.reason !== null,
    );
    if (gen.halted || gen.state !== 'starting') return; // exited, killed or shut down meanwhile
    if (misplaced.reason !== null) return this.fail(gen, misplaced.reason);
    if (ready === null) {
      return this.fail(
        gen,
        `the worker did not answer ${probePath === null ? 'a TCP connect' : `GET ${probePath}`} on $PORT within ${timeoutSeconds} s ` +
          `(does it listen on process.env.PORT? raise "ready.timeoutSeconds" if it needs longer)`,
      );
    }
    gen.address = ready;
    gen.readyAt = Date.now();
    this.makeLive(gen);
  }

  /**
   * While `gen` starts, learns the address its worker listens on, or why it will never answer on $PORT
   * (`reason`), or that this system cannot tell (`blind`).
   */
  private watchPort(
    gen: Generation,
    child: Job,
    start: string,
    exited: () => boolean,
  ): { reason: string | null; blind: boolean } {
    const verdict = { reason: null as string | null, blind: false };
    if (!child.pid) return verdict;
    const cancelled = () => exited() || gen.halted || gen.state !== 'starting';
    void this.runtime.watchListen(child.pid, gen.port!, cancelled).then((found) => {
      if (found?.kind === 'listening') gen.address = found.address;
      else if (found?.kind === 'unknown') verdict.blind = true;
      else if (found?.kind === 'foreign') verdict.reason = foreignPortMessage(found.holder);
      else if (found) verdict.reason = wrongPortMessage(found.listeners, gen.port!, start);
    });
    return verdict;
  }

  private onExit(gen: Generation, code: number | null, signal: NodeJS.Signals | null): void {
    const how = code !== null ? `code ${code}` : `signal ${signal}`;
    if (gen.halted) return;
    if (gen.state === 'starting') {
      this.fail(gen, `the worker exited with ${how} before it became ready (see its output)`);
    } else if (gen.running) {
      const wasLive = this.live === gen;
      gen.reason = `the worker exited by itself with ${how}`;
      this.setState(gen, 'crashed');
      this.log(gen, `\n[baton] ${gen.reason}\n`);
      if (wasLive) this.live = null;
      void this.finish(gen);
    }
  }

  private fail(gen: Generation, reason: string): void {
    if (gen.halted || gen.state === 'failed') return;
    gen.reason = reason;
    this.setState(gen, 'failed');
    this.log(gen, `\n[baton] generation ${gen.id} failed: ${reason}\n`);
    void this.finish(gen);
  }

  private makeLive(gen: Generation): void {
    const previous = this.live;
    this.setState(gen, 'live');
    gen.drainingSince = null;
    this.live = gen;
    if (previous && previous !== gen && previous.running) this.drain(previous);
    this.emit('liveChanged');
    this.emit('stateChanged');
  }

  private drain(gen: Generation): void {
    this.setState(gen, 'draining');
    gen.drainingSince = Date.now();
    const retire = this.config.retireAfterSeconds;
    if (retire > 0) setTimeout(() => this.checkDrain(gen), retire * 1000 + 5).unref();
    this.checkDrain(gen);
  }

  /** Called whenever something let go of `gen`: stops it if it drains and nothing holds it any more. */
  checkDrain(gen: Generation): void {
    if (gen.halted) return; // stopping already (its sessions end as it stops, and let go of it again)
    const verdict = drainVerdict(gen, Date.now(), this.config.retireAfterSeconds);
    if (verdict.stop) void this.stop(gen, verdict.reason);
  }

  /**
   * Stops a generation's worker and removes its snapshot. It takes no new traffic at once; its state becomes
   * `stopped` once its processes are gone, so that "stopped" always means no process is left.
   */
  stop(gen: Generation, reason: string): Promise<void> {
    if (gen.stopping) return gen.stopping;
    if (gen.state === 'stopped' || gen.state === 'failed' || gen.state === 'crashed')
      return Promise.resolve();
    gen.reason = reason;
    this.log(gen, `\n[baton] stopping generation ${gen.id}: ${reason}\n`);
    return this.finish(gen, 'stopped');
  }

  /** Kills whatever is left of the worker, removes the snapshot and tells everyone. */
  private finish(gen: Generation, finalState: GenerationState | null = null): Promise<void> {
    if (gen.stopping) return gen.stopping;
    gen.halted = true;
    if (this.live === gen) this.live = null;
    this.emit('stateChanged');
    this.emit('liveChanged');
    // Never rejects: a failure to signal a process or remove a folder is logged, and the stop goes on.
    gen.stopping = (async () => {
      if (gen.child?.pid) {
        await this.runtime
          .stopTree(gen.child.pid, `${this.gatewayId}.${gen.id}`)
          .catch((err: Error) =>
            this.log(gen, `[baton] could not stop every process of generation ${gen.id}: ${err.message}\n`),
          );
      }
      if (gen.snapshot) {
        if (gen.snapshot === this.lastSnapshot) this.replaceBase(gen);
        // What its processes wrote there is named (shared data moved into the workspace); the folder is then
        // reused for the next snapshot, or removed.
        const written = await this.snapshots.retire(gen.snapshot.dir).catch((err: Error) => {
          this.log(gen, `[baton] could not look for files generation ${gen.id} wrote: ${err.message}\n`);
          return null;
        });
        for (const line of written?.notes ?? []) this.log(gen, line);
        gen.unsavedFiles = written ? written.unsaved.sort() : [];
      }
      gen.stoppedAt = Date.now();
      if (finalState) this.setState(gen, finalState);
      this.emit('stopped', gen);
      this.forgetOldest();
      this.emit('stateChanged');
    })();
    return gen.stopping;
  }

  /** The newest snapshot is going: the newest one left becomes the base, read whole once (the changes the
   *  watcher kept are relative to the one that goes). */
  private replaceBase(going: Generation): void {
    const left = this.all().filter((g) => g !== going && g.snapshot && !g.stopping);
    this.lastSnapshot = left.sort((a, b) => b.id - a.id)[0]?.snapshot ?? null;
    this.changes?.giveBack(null);
  }

  /** Keeps the newest finished generations (their state and output) and forgets older ones: a long day of
   *  saves must not grow the gateway without bound. */
  private forgetOldest(): void {
    const finished = this.all().filter((g) => g.stoppedAt !== null);
    for (const gen of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)))
      this.byId.delete(gen.id);
  }

  kill(id: number): Promise<void> {
    const gen = this.byId.get(id);
    if (!gen) throw new Error(`there is no generation ${id}`);
    return this.stop(gen, 'killed on request');
  }

  promote(id: number): void {
    const gen = this.byId.get(id);
    if (!gen) throw new Error(`there is no generation ${id}`);
    if (!gen.running)
      throw new Error(`generation ${id} is ${gen.state}: only a running generation can be promoted`);
    if (this.live === gen) return;
    this.log(gen, `\n[baton] generation ${gen.id} promoted to live\n`);
    this.makeLive(gen);
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(
      this.all().map((gen) => {
        return this.stop(gen, 'the gateway stopped');
      }),
    );
    if (this.deploying) await this.deploying.catch(() => undefined);
    // The newest snapshot is kept for the next `baton up` of this app (process/snapshotKept.ts).
    await this.snapshots.keep().catch(() => false);
    await this.snapshots.close(); // it may be writing the next clone into the folder
    await removeTree(this.snapshotDir).catch(() => undefined); // the watchdog removes it too
  }
}
