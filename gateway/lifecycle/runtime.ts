// What the lifecycle state machine (generations.ts) asks of the operating system: run a command, find a free
// port, probe a worker, learn where it listens, stop a process tree. Behind this small interface the state
// machine is unit tested with fakes and mock timers (test/unit/generations.test.ts); `osRuntime` is the real one.
import type { OutputStream } from '../protocol/types';
import { watchListen, type ListenVerdict } from '../process/ports';
import { stopTree } from '../process/processes';
import { freePort, runCommand, waitReady } from '../process/worker';

/** A started command (a build or a worker): its pid, and how it ends. */
export interface Job {
  readonly pid?: number;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

export interface Runtime {
  /** Runs a shell command in its own process group; its output goes to `onOutput`. */
  run(
    command: string,
    cwd: string,
    env: NodeJS.ProcessEnv,
    onOutput: (text: string, stream: OutputStream) => void,
  ): Job;
  freePort(): Promise<number>;
  /**
   * Probes the worker on the addresses `hosts()` gives until it answers: the address it answered on, or null
   * (timed out, or cancelled).
   */
  waitReady(
    port: number,
    hosts: () => readonly string[],
    path: string | null,
    timeoutMs: number,
    cancelled: () => boolean,
  ): Promise<string | null>;
  /**
   * Learns where a starting worker's processes listen: on $PORT (and which address), or elsewhere; or that
   * another process listens on $PORT, or that this system cannot tell.
   */
  watchListen(pid: number, port: number, cancelled: () => boolean): Promise<ListenVerdict | null>;
  /** Ends a process group and every descendant or marked process; resolves once none is left. */
  stopTree(pid: number, marker: string | null): Promise<void>;
}

export const osRuntime: Runtime = {
  run: runCommand,
  freePort,
  waitReady,
  watchListen: (pid, port, cancelled) => watchListen(pid, port, cancelled),
  stopTree: (pid, marker) => stopTree(pid, marker),
};
