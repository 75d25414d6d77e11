// One generation: its lifecycle state, worker, snapshot, output and the counts of what holds it.
import { RingBuffer } from './ringBuffer';
import type { Job } from './runtime';
import type { SnapshotPlace } from '../process/snapshotService';
import { isPending, isRunning } from '../protocol/states';
import type { GenerationInfo, GenerationState } from '../protocol/types';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class Generation {
  state: GenerationState = 'building';
  readonly createdAt = Date.now();
  readyAt: number | null = null;
  stoppedAt: number | null = null;
  /** When it became failed or crashed (its processes may still be going). */
  endedAt: number | null = null;
  drainingSince: number | null = null;
  exitCode: number | null = null;
  reason: string | null = null;
  child: Job | null = null;
  port: number | null = null;
  /** The address the worker listens on (null until known): 127.0.0.1, ::1 or another of its own. */
  address: string | null = null;
  snapshot: SnapshotPlace | null = null;
  /** What the worker wrote inside the snapshot, named when it stops. */
  unsavedFiles: string[] = [];
  readonly output = new RingBuffer();

  /** Sessions alive on this generation. */
  sessions = 0;
  /** Open tabs (with or without a session) and those not attached to a session. */
  tabs = 0;
  looseTabs = 0;
  /** Requests, event streams and WebSockets in flight. */
  inflight = 0;
  /** Set once stopping has begun: it takes no traffic from then on, and it happens once. */
  halted = false;
  stopping: Promise<void> | null = null;

  constructor(readonly id: number) {}

  get running(): boolean {
    return isRunning(this.state) && !this.halted;
  }

  /** Not live yet (building or starting), and not being stopped. */
  get pending(): boolean {
    return isPending(this.state) && !this.halted;
  }

  /** The worker's pid (kept after it stopped, so that one can check it is gone). */
  workerPid: number | null = null;

  info(): GenerationInfo {
    return {
      id: this.id,
      state: this.state,
      pid: this.workerPid,
      port: this.port,
      sessions: this.sessions,
      tabs: this.tabs,
      inflight: this.inflight,
      createdAt: iso(this.createdAt)!,
      readyAt: iso(this.readyAt),
      stoppedAt: iso(this.stoppedAt),
      exitCode: this.exitCode,
      reason: this.reason,
      unsavedFiles: this.unsavedFiles,
    };
  }
}
