// Folders the gateway writes into, checked so that another local user cannot redirect a write (a symbolic
// link planted in place of a file or folder) or plant a file the gateway later runs. On Linux a checked
// folder is used through an open descriptor (`/proc/self/fd/N/name`), so swapping the folder for a link
// after the check changes nothing.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A folder is not safe to write into. The message names the folder, the problem and the fix. */
export class UnsafeFolderError extends Error {}

const uid = process.getuid?.();
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
const hasFdPaths = process.platform === 'linux' && fs.existsSync('/proc/self/fd');

/** What is wrong with `stat` as a folder of ours (null when nothing); `private` also refuses group/other writes. */
function problem(stat: fs.Stats, privateDir: boolean): string | null {
  if (stat.isSymbolicLink()) return 'is a symbolic link';
  if (!stat.isDirectory()) return 'is not a folder';
  if (uid !== undefined && stat.uid !== uid)
    return `is owned by uid ${stat.uid}, not by this user (uid ${uid})`;
  if (privateDir && uid !== undefined && stat.mode & 0o022)
    return `is writable by other users (mode ${(stat.mode & 0o777).toString(8)})`;
  return null;
}

/**
 * Creates `dir` (mode 0700) or accepts it when it is a real folder owned by this user that no other user can
 * write to; then takes away every group/other permission, so nothing inside is readable by other users.
 * Throws UnsafeFolderError otherwise.
 */
export function ensurePrivateDir(dir: string, fix: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const wrong = problem(fs.lstatSync(dir), true);
  if (wrong)
    throw new UnsafeFolderError(`${dir} ${wrong}: another user could plant or read files there — ${fix}`);
  if (uid !== undefined) fs.chmodSync(dir, 0o700);
}

/** True when `dir` is a real folder owned by this user with no group or other access at all. */
export function isPrivateDir(dir: string): boolean {
  try {
    const stat = fs.lstatSync(dir);
    return problem(stat, true) === null && (uid === undefined || (stat.mode & 0o077) === 0);
  } catch {
    return false;
  }
}

/**
 * Runs `use` with a way to name entries of `dir`, a folder owned by this user (created if missing). Refuses
 * a symbolic link, a non-folder and another user's folder with UnsafeFolderError.
 */
export function withOwnedDir<T>(dir: string, fix: string, use: (entry: (name: string) => string) => T): T {
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const refuse = (wrong: string) =>
    new UnsafeFolderError(`${dir} ${wrong}: the gateway does not write into it — ${fix}`);
  if (!hasFdPaths) {
    const wrong = problem(fs.lstatSync(dir), false);
    if (wrong) throw refuse(wrong);
    return use((name) => path.join(dir, name));
  }
  let fd: number;
  try {
    fd = fs.openSync(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'ELOOP') throw refuse(problem(fs.lstatSync(dir), false) ?? code);
    throw err;
  }
  try {
    const wrong = problem(fs.fstatSync(fd), false);
    if (wrong) throw refuse(wrong);
    return use((name) => `/proc/self/fd/${fd}/${name}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Creates `file` (a name from `withOwnedDir`) with `text`, failing if anything is there; never follows a link. */
export function createExclusive(file: string, text: string, mode = 0o600): void {
  const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces `name` in the folder atomically: a new temp file, renamed over it (a link there is replaced, not followed). */
export function replaceFile(entry: (name: string) => string, name: string, text: string, mode = 0o600): void {
  const temp = entry(`${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  createExclusive(temp, text, mode);
  fs.renameSync(temp, entry(name));
}
