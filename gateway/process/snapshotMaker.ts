// What the snapshot worker thread does (snapshotWorker.ts carries the messages): it makes each snapshot and
// keeps its record, and it gets the next one ready before the next deploy asks. Best is the folder of a
// generation that stopped (snapshotRecycle.ts): it holds an older state of the app, and the watcher's changes
// since then bring it up to date. Without one (older generations still hold tabs), a clone of the newest
// snapshot is made once the deploy has settled (snapshotPrepare.ts). Either way the deploy itself only
// touches what changed; if neither is ready, it reads the app as before (snapshotCopy.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SharedPaths } from './shared';
import { createSnapshot, ignoreMatcher, isDependencyDir, type Changes, type Snapshot } from './snapshot';
import { removeTree } from './snapshotCopy';
import { prepareSnapshot, type Prepared } from './snapshotPrepare';
import { RuntimeFiles, type Written } from './runtimeFiles';
import { cleanSnapshot, recycle } from './snapshotRecycle';
import type { CreateJob } from './snapshotService';

/** How long after a snapshot the clone for the next deploy waits for a stopped generation's folder instead. */
const CLONE_AFTER_MS = 1000;
/** How many snapshots back the chain of changes is kept (a stopped generation's folder older than that is
 *  removed, not reused). */
const KEEP_STEPS = 50;

interface Spare {
  prepared: Prepared;
  /** What changed from what it holds to the newest snapshot, and the folders watched meanwhile. */
  dirty: Set<string>;
  recursive: readonly string[];
  /** The newest snapshot's folder: it fits a deploy whose previous snapshot this is. */
  upTo: string;
  madeAt: number;
}

const sameBases = (a: readonly string[], b: readonly string[]) => a.join('\0') === b.join('\0');

/** What a job's config leaves out of its snapshot, and what it links to the workspace instead of copying. */
export function jobRules(job: Pick<CreateJob, 'ignore' | 'shared'>) {
  const shared = new SharedPaths(job.shared);
  return {
    ignored: ignoreMatcher(job.ignore),
    // Dependency folders and shared data are the workspace's own (shared data even where `ignore` names it).
    linked: (rel: string) => isDependencyDir(rel) || shared.matches(rel),
    shared,
  };
}

export class SnapshotMaker {
  /** Each snapshot's record and when it was complete, by folder, until its generation stops. */
  private readonly made = new Map<string, { snapshot: Snapshot; madeAt: number; job: CreateJob }>();
  /** For the latest snapshots: the one each was made from and what changed in between (null: unknown). */
  private readonly steps = new Map<string, { previous: string | null; changes: Changes | null }>();
  private newest: string | null = null;
  private spare: Spare | null = null;
  private clone: { done: Promise<Prepared | null>; abandon(): void } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private names = 0;

  async create(job: CreateJob): Promise<Snapshot> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const spare = this.fitting(job);
    if (!spare) this.drop(this.spare);
    this.spare = null;
    if (spare) this.clone?.abandon();
    const cloned = (await this.clone?.done) ?? null;
    this.clone = null;
    let start: { prepared: Prepared | null; previous: Snapshot | null; changes: Changes | null };
    if (spare) {
      if (cloned) this.discard(cloned.dir);
      const changes = { dirty: new Set([...spare.dirty, ...job.changes!.dirty]), recursive: spare.recursive };
      start = { prepared: spare.prepared, previous: spare.prepared.base, changes };
    } else {
      const previous = (job.previous && this.made.get(job.previous)?.snapshot) || null;
      start = { prepared: cloned, previous, changes: job.changes };
    }
    const { ignored, linked } = jobRules(job);
    const snapshot = await createSnapshot(job.root, job.dir, { ignored, linked, ...start });
    this.made.set(job.dir, { snapshot, madeAt: Date.now() + 1, job });
    this.step(job);
    this.timer = setTimeout(() => this.startClone(snapshot), CLONE_AFTER_MS);
    this.timer.unref();
    return snapshot;
  }

  /**
   * The generation of the snapshot in `dir` stopped: the files its processes wrote there are named (shared
   * data moved into the workspace), then the folder is reused for the next snapshot when it can be, else
   * removed. Either way it is gone from `dir` on return.
   */
  async retire(dir: string): Promise<Written> {
    const record = this.made.get(dir);
    this.made.delete(dir);
    if (!record) {
      this.discard(dir);
      throw new Error('the snapshot worker restarted since it was made');
    }
    const { snapshot, madeAt, job } = record;
    const runtime = new RuntimeFiles(job.root, snapshot.appDir, jobRules(job).shared);
    try {
      const cleaned = await cleanSnapshot(snapshot, madeAt, runtime);
      const changes = this.changesSince(dir);
      // Of two stopped generations' folders, the newer one is kept: fewer changes bring it up to date.
      if (!changes || (this.spare && this.spare.madeAt > madeAt)) this.discard(dir);
      else {
        const prepared = recycle(snapshot, cleaned.tree, this.place('spare'));
        this.drop(this.spare);
        for (const rel of cleaned.changed) changes.dirty.add(rel);
        this.spare = { prepared, ...changes, upTo: this.newest!, madeAt };
        this.clone?.abandon();
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
      }
    } catch (err) {
      this.discard(dir);
      throw err;
    }
    return runtime.written;
  }

  /** The record of a snapshot the gateway removed itself (a generation killed while it was being made). */
  forget(dir: string): void {
    this.made.delete(dir);
  }

  /** Records the step to the new snapshot (its changes bring an older spare up to date). */
  private step(job: CreateJob): void {
    this.steps.set(job.dir, { previous: job.previous, changes: job.changes });
    if (this.steps.size > KEEP_STEPS) this.steps.delete(this.steps.keys().next().value!);
    this.newest = job.dir;
  }

  /** The spare, if the watcher's changes take it from what it holds to what this job's snapshot must. */
  private fitting(job: CreateJob): Spare | null {
    const spare = this.spare;
    if (!spare || !job.changes || spare.upTo !== job.previous) return null;
    return sameBases(spare.recursive, job.changes.recursive) ? spare : null;
  }

  /** What changed from the snapshot in `dir` to the newest one; null when not known all the way. */
  private changesSince(dir: string): { dirty: Set<string>; recursive: readonly string[] } | null {
    const dirty = new Set<string>();
    let recursive: readonly string[] | null = null;
    for (let at = this.newest; at !== dir;) {
      const step = at === null ? undefined : this.steps.get(at);
      if (!step?.changes || (recursive && !sameBases(recursive, step.changes.recursive))) return null;
      recursive = step.changes.recursive;
      for (const rel of step.changes.dirty) dirty.add(rel);
      at = step.previous;
    }
    return recursive && { dirty, recursive };
  }

  private startClone(base: Snapshot): void {
    this.timer = null;
    if (this.spare || this.newest !== base.dir || !this.made.has(base.dir)) return;
    let abandoned = false;
    const done = prepareSnapshot(base, this.place('next'), () => abandoned);
    this.clone = { done, abandon: () => (abandoned = true) };
  }

  private place(kind: string): string {
    return path.join(path.dirname(this.newest!), `${kind}-${++this.names}`);
  }

  private drop(spare: Spare | null): void {
    if (spare) this.discard(spare.prepared.dir);
  }

  /** Moves a folder out of the way at once, then removes it in the background. */
  private discard(dir: string): void {
    const trash = path.join(path.dirname(dir), `trash-${++this.names}`);
    let gone = dir;
    try {
      fs.renameSync(dir, trash);
      gone = trash;
    } catch {
      // already gone, or it cannot move: removed where it is
    }
    void removeTree(gone).catch(() => undefined);
  }

  /** Stops the timer (the folders go with the snapshot folder). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.clone?.abandon();
  }
}
