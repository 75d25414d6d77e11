// The snapshot worker thread (bundled as dist/snapshot-worker.js; the gateway's side is snapshotService.ts).
// It makes each snapshot, then at once a clone of it for the next deploy (snapshotPrepare.ts). One job at a
// time: a deploy that comes while the clone is being made waits for it, which is never longer than linking
// every file again would be.
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { SharedPaths } from './shared';
import { createSnapshot, ignoreMatcher, isDependencyDir, type Snapshot } from './snapshot';
import type { CreateJob, Reply, Request } from './snapshotService';
import { prepareSnapshot, type Prepared } from './snapshotPrepare';

const port = parentPort!;
/** Each snapshot's record, by folder, until the gateway removes it. */
const snapshots = new Map<string, Snapshot>();
let prepared: Promise<Prepared | null> = Promise.resolve(null);
let clones = 0;
let queue: Promise<void> = Promise.resolve();

async function create(job: CreateJob): Promise<Snapshot> {
  const shared = new SharedPaths(job.shared);
  const clone = await prepared; // createSnapshot uses it or removes it
  prepared = Promise.resolve(null);
  const snapshot = await createSnapshot(job.root, job.dir, {
    ignored: ignoreMatcher(job.ignore),
    // Dependency folders and shared data are the workspace's own (shared data even where `ignore` names it).
    linked: (rel) => isDependencyDir(rel) || shared.matches(rel),
    previous: (job.previous && snapshots.get(job.previous)) || null,
    changes: job.changes,
    prepared: clone,
  });
  snapshots.set(job.dir, snapshot);
  prepared = prepareSnapshot(snapshot, path.join(path.dirname(job.dir), `next-${++clones}`));
  return snapshot;
}

port.on('message', (req: Request) => {
  if (req.type === 'forget') {
    snapshots.delete(req.dir);
    return;
  }
  queue = queue.then(async () => {
    let reply: Reply;
    try {
      reply = { id: req.id, appDir: (await create(req)).appDir };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      reply = { id: req.id, error: e.message, code: e.code };
    }
    port.postMessage(reply);
  });
});
