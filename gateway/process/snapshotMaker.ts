// What the snapshot worker thread does (snapshotWorker.ts carries the messages): it makes each snapshot and
// keeps its record, and it gets the next one ready before the next deploy asks. Best is the folder of a
// generation that stopped (snapshotRecycle.ts): it holds an older state of the app, and the watcher's changes
// since then bring it up to date. Without one (older generations still hold tabs), a clone of the newest
// snapshot is made once the deploy has settled (snapshotPrepare.ts). Either way the deploy itself only
// touches what changed; if neither is ready, it reads the app as before (snapshotCopy.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SharedPaths } from './shared';
import {
  appRelOf,
  createSnapshot,
  ignoreMatcher,
  isDependencyDir,
  type Changes,
  type Snapshot,
} from './snapshot';
import { claimKept, keepSnapshot, type KeptRules } from './snapshotKept';
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
  /** What changed from what it holds to the newest snapshot, and the folders watched meanwhile; null when
   *  not known (then every file is compared with the workspace's). */
  since: { dirty: Set<string>; recursive: readonly string[] } | null;
  /** The newest snapshot's folder: it fits a deploy whose previous snapshot this is. */
  upTo: string | null;
  madeAt: number;
  /** The rules it was made with: with others, an entry in it could be one that must be left out or linked. */
  rules: KeptRules;
}

/** Nothing known about what changed: every folder is read and every file compared with the workspace's. */
const UNKNOWN: Changes = { dirty: new Set(), recursive: [] };

const sameList = (a: readonly string[], b: readonly string[]) => a.join('\0') === b.join('\0');
const sameRules = (a: KeptRules, b: KeptRules) =>
  a.root === b.root && sameList(a.ignore, b.ignore) && sameList(a.shared, b.shared);

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
    const first = this.newest === null && !this.spare && job.kept;
    if (first) this.spare = this.claim(first, job);
    const spare = this.spare && sameRules(this.spare.rules, job) ? this.spare : null;
    if (!spare) this.drop(this.spare);
    this.spare = null;
    const exact = spare && this.fits(spare, job);
    if (exact) this.clone?.abandon();
    const cloned = (await this.clone?.done) ?? null;
    this.clone = null;
    const previous = (job.previous && this.made.get(job.previous)?.snapshot) || null;
    let start: { prepared: Prepared | null; previous: Snapshot | null; changes: Changes | null };
    if (spare && (exact || !(cloned && cloned.base === previous && job.changes))) {
      // The spare, brought up to date by the watcher's changes, or else by comparing every file.
      if (cloned) this.discard(cloned.dir);
      const changes = exact
        ? {
            dirty: new Set([...spare.since!.dirty, ...job.changes!.dirty]),
            recursive: spare.since!.recursive,
          }
        : UNKNOWN;
      start = { prepared: spare.prepared, previous: spare.prepared.base, changes };
    } else {
      if (spare) this.drop(spare);
      start = { prepared: cloned, previous, changes: job.changes };
    }
    const { ignored, linked } = jobRules(job);
    const snapshot = await createSnapshot(job.root, job.dir, { ignored, linked, ...start });
    if (first && fs.existsSync(first)) this.discard(first); // what is left of it, or one that did not fit
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
      const since = this.changesSince(dir);
      // Of two stopped generations' folders, the newer one is kept: fewer changes bring it up to date.
      if (this.spare && this.spare.madeAt > madeAt) this.discard(dir);
      else {
        const prepared = recycle(snapshot, cleaned.tree, this.place('spare'));
        this.drop(this.spare);
        for (const rel of since ? cleaned.changed : []) since!.dirty.add(rel);
        this.spare = { prepared, since, upTo: this.newest, madeAt, rules: job };
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

  /** Whether the watcher's changes take the spare from what it holds to what this job's snapshot must. */
  private fits(spare: Spare, job: CreateJob): boolean {
    if (!spare.since || !job.changes || spare.upTo !== job.previous) return false;
    return sameList(spare.since.recursive, job.changes.recursive);
  }

  /** The snapshot kept from the last run, as the spare of the first deploy (compared file by file). */
  private claim(kept: string, job: CreateJob): Spare | null {
    const prepared = claimKept(kept, job, appRelOf(job.root));
    return prepared && { prepared, since: null, upTo: null, madeAt: 0, rules: job };
  }

  /**
   * Every generation stopped (the gateway is stopping): the spare, which holds the newest snapshot that was
   * cleaned, is kept in `dest` for the next run. Returns whether one was.
   */
  keep(dest: string): boolean {
    const spare = this.spare;
    this.spare = null;
    if (!spare) return false;
    try {
      keepSnapshot(spare.prepared, spare.rules, dest);
      return true;
    } catch {
      this.drop(spare);
      this.discard(dest);
      return false;
    }
  }

  /** What changed from the snapshot in `dir` to the newest one; null when not known all the way. */
  private changesSince(dir: string): { dirty: Set<string>; recursive: readonly string[] } | null {
    const dirty = new Set<string>();
    let recursive: readonly string[] | null = null;
    for (let at = this.newest; at !== dir;) {
      const step = at === null ? undefined : this.steps.get(at);
      if (!step?.changes || (recursive && !sameList(recursive, step.changes.recursive))) return null;
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
    const trash = this.trash(dir);
    let gone = dir;
    try {
      fs.renameSync(dir, trash);
      gone = trash;
    } catch {
      // already gone, or it cannot move: removed where it is
    }
    void removeTree(gone).catch(() => undefined);
  }

  /** A name beside `dir` for it on its way out (unique among gateways: the kept folders share a parent). */
  private trash(dir: string): string {
    return path.join(path.dirname(dir), `trash-${process.pid}-${++this.names}`);
  }

  /** Stops the timer (the folders go with the snapshot folder). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.clone?.abandon();
  }
}
