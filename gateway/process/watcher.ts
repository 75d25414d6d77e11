// Deploy on change (ARCHITECTURE.md, "watch"): one OS watch per folder (inotify, FSEvents, ReadDirectoryChanges
// through fs.watch), only under the base folders of the `watch` globs; the globs select which changes deploy,
// and a trailing debounce turns a burst (an atomic save: write, rename, chmod; a git checkout) into one deploy.
// It also keeps every path that changed since the last snapshot, so the next one reads only those again.
// Per folder, not per file: on 20,000 files in 1,400 folders chokidar 4 held ~21,000 watches, +190 MB and
// 6–9 s before it was ready; this holds 1,400 (see bench/scale.ts for the numbers).
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import type { Changes } from './snapshot';
import { Slicer } from './snapshotCopy';

/** Files that change without anyone saving source: logs, editor swap and backup files, Python bytecode. */
const NOISE = picomatch(
  ['**/*.log', '**/*.swp', '**/*.swx', '**/*~', '**/.#*', '**/.DS_Store', '**/__pycache__/**', '**/*.pyc'],
  {
    dot: true,
  },
);

/** The folders to watch for these globs: recursively under a glob's base, or only a literal path's folder. */
export function watchBases(globs: readonly string[]): { recursive: string[]; flat: string[] } {
  const recursive = new Set<string>();
  const flat = new Set<string>();
  for (const glob of globs) {
    const scan = picomatch.scan(glob);
    if (scan.negated) continue;
    const base = scan.base.replace(/^\.\/?/, '').replace(/\/+$/, '');
    if (!scan.isGlob) flat.add(base.includes('/') ? base.slice(0, base.lastIndexOf('/')) : '');
    else if (scan.glob.includes('**') || scan.glob.includes('/')) recursive.add(base);
    else flat.add(base);
  }
  const under = (rel: string, base: string) => base === '' || rel === base || rel.startsWith(`${base}/`);
  const roots = [...recursive].filter((r) => ![...recursive].some((b) => b !== r && under(r, b)));
  return {
    recursive: roots,
    flat: [...flat].filter((f) => !roots.some((b) => under(f, b))),
  };
}

/** The OS limits on file watches (Linux), read before they are reached: then no file may open any more. */
export function watchLimits(): { watches: string; instances: string } {
  const read = (name: string) => {
    try {
      return fs.readFileSync(`/proc/sys/fs/inotify/${name}`, 'utf8').trim();
    } catch {
      return 'unknown';
    }
  };
  return { watches: read('max_user_watches'), instances: read('max_user_instances') };
}

/** The message for an OS limit on watches: which limit, its value, and how to raise it. */
export function watchLimitMessage(
  code: string | undefined,
  limits: ReturnType<typeof watchLimits>,
): string | null {
  const off = 'deploy on save is off';
  const by = 'deploy with "baton deploy" (or Deploy Generation) meanwhile';
  if (code === 'ENOSPC')
    return (
      `${off}: the system limit of file watches is reached (fs.inotify.max_user_watches = ${limits.watches}). ` +
      `Raise it: sudo sysctl fs.inotify.max_user_watches=524288 (add the line to /etc/sysctl.d/ to keep it), ` +
      `or narrow "watch" in baton.json; ${by}`
    );
  if (code === 'EMFILE')
    return (
      `${off}: the limit of open files or of file watchers is reached (ulimit -n; fs.inotify.max_user_instances = ` +
      `${limits.instances}). Raise it: sudo sysctl fs.inotify.max_user_instances=1024, or "ulimit -n" ` +
      `before "baton up"; ${by}`
    );
  return null;
}

/** Read at start: once a limit on open files is reached, they could not be read any more. */
const LIMITS = watchLimits();
const gone = (err: NodeJS.ErrnoException) => err.code === 'ENOENT' || err.code === 'ENOTDIR';
const join = (rel: string, name: string) => (rel ? `${rel}/${name}` : name);

export class ChangeWatcher {
  /** Watched folder → its watch and inode (a folder removed and made again is a new one). */
  private readonly folders = new Map<string, { watcher: fs.FSWatcher; ino: number }>();
  private readonly recursive: string[];
  private readonly matches: (rel: string) => boolean;
  private readonly pending = new Set<string>();
  private readonly started: Promise<void>;
  private timer: NodeJS.Timeout | null = null;
  /** Paths changed since the last snapshot; `known` is false until a full snapshot follows a gap. */
  private dirty = new Set<string>();
  private known = false;
  private closed = false;
  enabled = true;
  /** Why the watcher stopped by itself (an OS limit); deploy on save is then off. */
  error: string | null = null;
  /** Saves seen while deploy on save was off: the next snapshot takes them (cleared then). */
  readonly missed = new Set<string>();

  constructor(
    private readonly root: string,
    globs: string[],
    private readonly ignored: (rel: string) => boolean,
    private readonly onChange: (files: string[]) => void,
    private readonly onError: (message: string) => void = () => undefined,
    /** A save arrived while deploy on save is off (it is listed in `missed`). */
    private readonly onMissed: () => void = () => undefined,
    private readonly debounceMs = 120,
  ) {
    this.matches = picomatch(globs, { dot: true });
    const bases = watchBases(globs);
    const recursive = bases.recursive.filter((base) => base === '' || !ignored(base));
    this.recursive = recursive;
    // Created here, not in ready(): a caller that asks late must not miss it.
    this.started = (async () => {
      for (const base of bases.flat) if (base === '' || !ignored(base)) this.watchFolder(base, false);
      const slicer = new Slicer();
      for (const base of recursive) await this.crawl(base, slicer, false);
    })();
  }

  /** Resolves once every folder is watched (changes before that are not seen). */
  ready(): Promise<void> {
    return this.started;
  }

  /**
   * What changed since the previous call, for the snapshot about to be made (which then reads only that
   * again); null when that is not known (before the first snapshot, after an error).
   */
  takeChanges(): Changes | null {
    const dirty = this.dirty;
    this.dirty = new Set();
    this.missed.clear(); // this snapshot takes them
    const known = this.known && !this.error;
    this.known = true;
    return known ? { dirty, recursive: this.recursive } : null;
  }

  /** The snapshot that took these changes was not kept: they count for the next one again. */
  giveBack(changes: Changes | null): void {
    if (!changes) this.known = false;
    else for (const rel of changes.dirty) this.dirty.add(rel);
  }

  /** Watches a folder and, recursively, the folders below it; `report`: its files are new (changes). */
  private async crawl(rel: string, slicer: Slicer, report: boolean): Promise<void> {
    if (this.closed || this.error || !this.watchFolder(rel, true)) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(this.root, rel), { withFileTypes: true });
    } catch (err) {
      if (!gone(err as NodeJS.ErrnoException)) this.fail(err as NodeJS.ErrnoException);
      return;
    }
    for (const entry of entries) {
      await slicer.pause();
      const child = join(rel, entry.name);
      if (this.ignored(child)) continue;
      if (entry.isDirectory()) await this.crawl(child, slicer, report);
      else if (report) this.changed(child);
    }
  }

  /** False when the folder is gone or cannot be watched. */
  private watchFolder(rel: string, recursive: boolean): boolean {
    if (this.folders.has(rel)) return true;
    let watcher: fs.FSWatcher;
    let ino: number;
    try {
      ino = fs.lstatSync(path.join(this.root, rel)).ino;
      watcher = fs.watch(path.join(this.root, rel), { persistent: false }, (_event, name) =>
        this.event(rel, recursive, name),
      );
    } catch (err) {
      if (!gone(err as NodeJS.ErrnoException)) this.fail(err as NodeJS.ErrnoException);
      return false;
    }
    watcher.on('error', (err: NodeJS.ErrnoException) => {
      if (gone(err) || err.code === 'EPERM')
        this.unwatch(rel); // the folder was removed
      else this.fail(err);
    });
    this.folders.set(rel, { watcher, ino });
    return true;
  }

  private unwatch(rel: string): void {
    for (const [folder, { watcher }] of this.folders) {
      if (folder === rel || folder.startsWith(`${rel}/`)) {
        watcher.close();
        this.folders.delete(folder);
      }
    }
  }

  private event(folder: string, recursive: boolean, name: string | Buffer | null): void {
    if (this.closed || this.error) return;
    if (name === null) {
      this.known = false; // the OS did not say what changed
      return;
    }
    const rel = join(folder, name.toString());
    if (this.ignored(rel)) return;
    if (recursive) this.follow(rel);
    this.changed(rel);
  }

  /** A folder that appeared gets watched (its files are changes too); one that went is dropped. */
  private follow(rel: string): void {
    let stat: fs.Stats | null = null;
    try {
      stat = fs.lstatSync(path.join(this.root, rel));
    } catch {
      // gone
    }
    const known = this.folders.get(rel);
    if (known && known.ino === stat?.ino) return;
    if (known) this.unwatch(rel);
    if (stat?.isDirectory()) void this.crawl(rel, new Slicer(), true);
  }

  private changed(rel: string): void {
    this.dirty.add(rel);
    if (NOISE(rel) || !this.matches(rel)) return;
    if (!this.enabled) {
      if (this.missed.has(rel)) return;
      this.missed.add(rel);
      return this.onMissed();
    }
    this.pending.add(rel);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const files = [...this.pending];
      this.pending.clear();
      this.onChange(files);
    }, this.debounceMs);
  }

  /** An OS limit or another error: stop watching and say so once (never silently). */
  private fail(err: NodeJS.ErrnoException): void {
    if (this.error || this.closed) return;
    this.error =
      watchLimitMessage(err.code, LIMITS) ??
      `deploy on save is off: watching ${this.root} failed (${err.message}); deploy with "baton deploy" meanwhile`;
    this.stopWatching();
    this.onError(this.error);
  }

  private stopWatching(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const { watcher } of this.folders.values()) watcher.close();
    this.folders.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopWatching();
  }
}
