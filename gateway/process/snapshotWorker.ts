// The snapshot worker thread (bundled as dist/snapshot-worker.js; the gateway's side is snapshotService.ts,
// the work itself snapshotMaker.ts). Jobs run one at a time, in the order they came.
import { parentPort } from 'node:worker_threads';
import { SnapshotMaker } from './snapshotMaker';
import type { Reply, Request } from './snapshotService';

const port = parentPort!;
const maker = new SnapshotMaker();
let queue: Promise<void> = Promise.resolve();

port.on('message', (req: Request) => {
  queue = queue.then(async () => {
    if (req.type === 'forget') return maker.forget(req.dir);
    let reply: Reply;
    try {
      if (req.type === 'create') reply = { id: req.id, appDir: (await maker.create(req)).appDir };
      else if (req.type === 'keep') reply = { id: req.id, kept: maker.keep(req.dir) };
      else reply = { id: req.id, written: await maker.retire(req.dir) };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      reply = { id: req.id, error: e.message, code: e.code };
    }
    port.postMessage(reply);
  });
});
