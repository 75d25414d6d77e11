// Deploy on change (DESIGN.md, "watch"): chokidar reports changes under the root, `watch` globs select
// them, and a trailing debounce turns a burst of saves (an atomic save, a git checkout) into one deploy.
import * as path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';

/** Files that change without anyone saving source: logs, editor swap and backup files, Python bytecode. */
const NOISE = picomatch(
  ['**/*.log', '**/*.swp', '**/*.swx', '**/*~', '**/.#*', '**/.DS_Store', '**/__pycache__/**', '**/*.pyc'],
  {
    dot: true,
  },
);

export class ChangeWatcher {
  private readonly watcher: FSWatcher;
  private timer: NodeJS.Timeout | null = null;
  private readonly matches: (rel: string) => boolean;
  enabled = true;

  constructor(
    root: string,
    globs: string[],
    ignored: (rel: string) => boolean,
    onChange: (files: string[]) => void,
    debounceMs = 120,
  ) {
    this.matches = picomatch(globs, { dot: true });
    const pending = new Set<string>();
    const toRel = (file: string) => path.relative(root, file).split(path.sep).join('/');
    this.watcher = chokidar.watch(root, {
      ignoreInitial: true,
      ignored: (file: string) => {
        const rel = toRel(file);
        return rel !== '' && !rel.startsWith('..') && ignored(rel);
      },
    });
    this.watcher.on('all', (_event, file) => {
      const rel = toRel(file);
      if (!this.enabled || NOISE(rel) || !this.matches(rel)) return;
      pending.add(rel);
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        const files = [...pending];
        pending.clear();
        onChange(files);
      }, debounceMs);
    });
    this.watcher.on('error', () => undefined); // a vanished folder must not stop the gateway
  }

  /** Resolves once the initial scan is done (changes before that are not seen). */
  ready(): Promise<void> {
    return new Promise((resolve) => this.watcher.once('ready', () => resolve()));
  }

  close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    return this.watcher.close();
  }
}
