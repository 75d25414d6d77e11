// Running `baton up` as another (unprivileged) user, for the tests where one local user attacks another.
// When the test process is root, the gateway runs as `nobody` and hostile folders are prepared by root (or
// the other way round); otherwise those tests run what needs no user switch, as their names say.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, REPO, waitFor } from '../support/gateway';

export const isRoot = process.getuid?.() === 0;
/** `nobody`, present on every Linux system. */
export const NOBODY = { uid: 65534, gid: 65534 };

/** A temp folder anyone may create entries in, like /tmp (mode 1777). */
export function sharedTemp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-sec-'));
  fs.chmodSync(dir, 0o1777);
  return dir;
}

let publicCli: string | null = null;

/** dist/cli.js, or a world-readable copy of dist/ when another user could not reach the repository's. */
export function cliFor(user: { uid: number } | null): string {
  if (!user) return CLI;
  if (!publicCli) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-dist-'));
    fs.chmodSync(dir, 0o755);
    fs.cpSync(path.join(REPO, 'dist'), dir, { recursive: true });
    publicCli = path.join(dir, 'cli.js');
  }
  return publicCli;
}

/** Gives `dir` and everything in it to `user`. */
export function chownTree(dir: string, user: { uid: number; gid: number }): void {
  fs.chownSync(dir, user.uid, user.gid);
  for (const entry of fs.readdirSync(dir, { recursive: true }) as string[])
    fs.lchownSync(path.join(dir, entry), user.uid, user.gid);
}

export interface Up {
  child: ChildProcess;
  output: string;
  /** Resolves with the exit code once `baton up` exited. */
  exited: Promise<number | null>;
}

/** Starts `baton up dir --no-watch`, as `user` when given, with extra environment. */
export function up(dir: string, user: { uid: number; gid: number } | null, env: NodeJS.ProcessEnv = {}): Up {
  const child = spawn(process.execPath, [cliFor(user), 'up', dir, '--no-watch'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    ...(user ?? {}),
  });
  const run: Up = { child, output: '', exited: new Promise((resolve) => child.once('exit', resolve)) };
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (run.output += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (run.output += t));
  return run;
}

/** Waits until `baton up` either exited or says it serves; true when it serves. */
export async function servesOrExits(run: Up): Promise<boolean> {
  return (
    (await waitFor(
      `baton up to serve or exit\n${run.output}`,
      () => (run.child.exitCode !== null ? 'exited' : /open http/.test(run.output) ? 'serves' : null),
      30_000,
    )) === 'serves'
  );
}

/** Stops a `baton up` that serves. */
export async function stop(run: Up): Promise<void> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM');
  await run.exited;
}
