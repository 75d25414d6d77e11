// The gateway's side of the snapshot worker thread (snapshotWorker.ts, bundled as dist/snapshot-worker.js):
// walking, copying and linking thousands of files there never holds the event loop that proxies requests to
// the live generation. The worker keeps each snapshot's record (what it holds, with the stamps of the files it
// came from) and the start it gets ready for the next deploy (snapshotMaker.ts); the gateway names folders.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Changes } from './snapshot';
import type { Written } from './runtimeFiles';
import { removeTree } from './snapshotCopy';

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
}

export type Request =
  | ({ type: 'create'; id: number } & CreateJob)
  | { type: 'retire'; id: number; dir: string }
  | { type: 'forget'; dir: string };
export type Reply =
  | { id: number; appDir: string }
  | { id: number; written: Written }
  | { id: number; error: string; code?: string };

interface Waiting {
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

export class SnapshotService {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;

  /** Makes a snapshot; on failure no folder is left. */
  async create(job: CreateJob): Promise<SnapshotPlace> {
    const reply = await this.call({ type: 'create', id: this.nextId++, ...job });
    return { dir: job.dir, appDir: 'appDir' in reply ? reply.appDir : '' };
  }

  /**
   * A generation stopped: returns what its processes wrote inside its snapshot (shared data among it is
   * moved into the workspace meanwhile). The folder is gone from `dir` once this settles: reused for the
   * next snapshot, or being removed.
   */
  async retire(dir: string): Promise<Written> {
    const reply = await this.call({ type: 'retire', id: this.nextId++, dir });
    return 'written' in reply ? reply.written : { notes: [], unsaved: [] };
  }

  /** Removes a snapshot's folder; the worker forgets its record. */
  remove(dir: string): Promise<void> {
    this.worker?.postMessage({ type: 'forget', dir } satisfies Request);
    return removeTree(dir);
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
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(path.join(__dirname, 'snapshot-worker.js'));
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
