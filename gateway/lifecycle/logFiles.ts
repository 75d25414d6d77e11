// Each generation's output under `<root>/.baton/logs/g<N>.log`, so that `baton logs N` works after the
// generation stopped and after the gateway is gone. Bounded: a file past MAX_BYTES is rewritten with the
// newest output only, and only the newest KEEP generations keep a file. A new gateway run starts over
// (its generations are numbered from 1 again).
import * as fs from 'node:fs';
import * as path from 'node:path';

const MAX_BYTES = 1024 * 1024;
const KEEP = 20;
// O_NOFOLLOW: a symlink planted at a log's name is never followed (the write fails instead).
const APPEND = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW;
const REPLACE = fs.constants.O_WRONLY | fs.constants.O_TRUNC | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW;

export function logsDir(root: string): string {
  return path.join(root, '.baton', 'logs');
}

export function logFilePath(root: string, generation: number): string {
  return path.join(logsDir(root), `g${generation}.log`);
}

/** The kept output of generation N, or null when there is none. */
export function readLogFile(root: string, generation: number): string | null {
  try {
    const fd = fs.openSync(logFilePath(root, generation), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      return fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}

export class LogFiles {
  private readonly sizes = new Map<number, number>();
  /** False once the folder proved unusable: output still reaches memory and the terminal. */
  private usable = true;

  /** Empties the folder of an earlier run's logs (creating it when missing). */
  constructor(private readonly root: string) {
    const dir = logsDir(root);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const stat = fs.lstatSync(dir);
      if (!stat.isDirectory() || (process.getuid && stat.uid !== process.getuid())) throw new Error(dir);
      for (const name of fs.readdirSync(dir)) if (/^g\d+\.log$/.test(name)) fs.rmSync(path.join(dir, name));
    } catch {
      this.usable = false;
    }
  }

  /** Appends output; `newest()` is the generation's bounded in-memory output, used when the file is full. */
  append(generation: number, text: string, newest: () => string): void {
    if (!this.usable) return;
    if (!this.sizes.has(generation)) this.forgetOlderThan(generation - KEEP + 1);
    const size = (this.sizes.get(generation) ?? 0) + Buffer.byteLength(text);
    try {
      if (size <= MAX_BYTES) {
        this.write(generation, text, APPEND);
        this.sizes.set(generation, size);
      } else {
        const kept = newest();
        this.write(generation, kept, REPLACE);
        this.sizes.set(generation, Buffer.byteLength(kept));
      }
    } catch {
      this.usable = false;
    }
  }

  private write(generation: number, text: string, flags: number): void {
    const fd = fs.openSync(logFilePath(this.root, generation), flags, 0o600);
    try {
      fs.writeSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
  }

  private forgetOlderThan(oldest: number): void {
    for (const id of this.sizes.keys()) {
      if (id >= oldest) continue;
      this.sizes.delete(id);
      fs.rmSync(logFilePath(this.root, id), { force: true });
    }
  }
}
