// The gateway's side of the snapshot worker thread (snapshotWorker.ts, bundled as dist/snapshot-worker.js):
// walking, copying and linking thousands of files there never holds the event loop that proxies requests to
// the live generation. The worker keeps each snapshot's record (what it holds, with the stamps of the files it
// came from) and the start it gets ready for the next deploy (snapshotMaker.ts); the gateway names folders.
// A small app's snapshots are made by the same code on the gateway's thread: no worker's memory for them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Changes } from './snapshot';
import type { Written } from './runtimeFiles';
import { removeTree } from './snapshotCopy';
import { jobRules, SnapshotMaker } from './snapshotMaker';

/** A snapshot as the gateway knows it: its folder, removed when its generation stops, and the app's root in it. */
export interface SnapshotPlace {
  dir: string;
  appDir: string;
}

export interface CreateJob {
  root: string;
  dir: string;
  /** baton.json's `ignore` and `shared`: what is left out, and what is linked to the workspace. */
  ignore: readonly string[];
  shared: readonly string[];
  /** The folder of the newest snapshot, whose unchanged files are reused. */
  previous: string | null;
  /** What changed since `previous`; null when unknown (then the whole app is read). */
  changes: Changes | null;
  /** Where the snapshot kept from the last run is (snapshotKept.ts); null: none is kept for this app. */
  kept: string | null;
}

export type Request =
  | ({ type: 'create'; id: number } & CreateJob)
  | { type: 'retire'; id: number; dir: string }
  | { type: 'keep'; id: number; dir: string }
  | { type: 'forget'; dir: string };
export type Reply =
  | { id: number; appDir: string }
  | { id: number; written: Written }
  | { id: number; kept: boolean }
  | { id: number; error: string; code?: string };

interface Waiting {
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

/** Below this many files an app's snapshots are made on the gateway's own thread, in slices of a few
 *  milliseconds: a worker thread would cost more memory (about 8 MB) than its copies take time. */
const SMALL_APP_FILES = 2000;

/** How many files the app's snapshot copies, counted up to `limit`. */
function countFiles(job: Pick<CreateJob, 'root' | 'ignore' | 'shared'>, limit: number): number {
  const { ignored, linked } = jobRules(job);
  let count = 0;
  const walk = (rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(job.root, rel), { withFileTypes: true });
    } catch {
      return; // unreadable or gone: the snapshot says why
    }
    for (const entry of entries) {
      if (count >= limit) return;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (linked(child) || ignored(child)) continue;
      if (entry.isDirectory()) walk(child);
      else count++;
    }
  };
  walk('');
  return count;
}

export class SnapshotService {
  /** @param kept where this app's newest snapshot is kept between runs; null: never (snapshotBase.ts). */
  constructor(private readonly kept: string | null) {}

  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  /** Decided at the first snapshot: whether this app is small enough to be copied here. */
  private small: boolean | null = null;
  private local: { maker: SnapshotMaker; queue: Promise<unknown> } | null = null;

  /** Makes a snapshot; on failure no folder is left. */
  async create(job: Omit<CreateJob, 'kept'>): Promise<SnapshotPlace> {
    this.small ??= countFiles(job, SMALL_APP_FILES) < SMALL_APP_FILES;
    if (this.small) {
      const snapshot = await this.here((maker) => maker.create({ ...job, kept: null }));
      return { dir: job.dir, appDir: snapshot.appDir };
    }
    // A small app's first copy is fast: only a big one's newest snapshot is kept between runs.
    const reply = await this.call({ type: 'create', id: this.nextId++, ...job, kept: this.kept });
    return { dir: job.dir, appDir: 'appDir' in reply ? reply.appDir : '' };
  }

  /**
   * A generation stopped: returns what its processes wrote inside its snapshot (shared data among it is
   * moved into the workspace meanwhile). The folder is gone from `dir` once this settles: reused for the
   * next snapshot, or being removed.
   */
  async retire(dir: string): Promise<Written> {
    if (this.small) return this.here((maker) => maker.retire(dir));
    const reply = await this.call({ type: 'retire', id: this.nextId++, dir });
    return 'written' in reply ? reply.written : { notes: [], unsaved: [] };
  }

  /** The gateway is stopping and every generation has stopped: keeps the newest snapshot for the next run.
   *  Resolves to whether one was kept. */
  async keep(): Promise<boolean> {
    if (this.small || !this.kept || !this.worker) return false;
    const reply = await this.call({ type: 'keep', id: this.nextId++, dir: this.kept });
    return 'kept' in reply && reply.kept;
  }

  /** Removes a snapshot's folder; its record is forgotten. */
  remove(dir: string): Promise<void> {
    this.local?.maker.forget(dir);
    this.worker?.postMessage({ type: 'forget', dir } satisfies Request);
    return removeTree(dir);
  }

  /** One job at a time, as in the worker. */
  private here<T>(work: (maker: SnapshotMaker) => Promise<T>): Promise<T> {
    const local = (this.local ??= { maker: new SnapshotMaker(), queue: Promise.resolve() });
    const result = local.queue.then(() => work(local.maker));
    local.queue = result.catch(() => undefined);
    return result;
  }

  private call(req: Request & { id: number }): Promise<Reply> {
    const worker = this.start();
    return new Promise((resolve, reject) => {
      this.waiting.set(req.id, { resolve, reject });
      worker.postMessage(req);
    });
  }

  /** Stops the worker (before the snapshot folder is removed: it may be writing a clone there). */
  async close(): Promise<void> {
    this.local?.maker.close();
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // A small young generation: the worker allocates in bursts (a walk's entries), and V8's default would keep
    // tens of MB of it resident between deploys (measured: 118 → 100 MB of gateway RSS, 20,000 files).
    const worker = new Worker(path.join(__dirname, 'snapshot-worker.js'), {
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    worker.unref(); // a gateway that is done exits without waiting for a clone nobody will use
    worker.on('message', (reply: Reply) => {
      const waiting = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) waiting?.reject(Object.assign(new Error(reply.error), { code: reply.code }));
      else waiting?.resolve(reply);
    });
    // A worker that dies fails what it was doing; the next snapshot starts a new one (and reads the whole app).
    const lost = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const waiting of this.waiting.values()) waiting.reject(err);
      this.waiting.clear();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the snapshot worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
