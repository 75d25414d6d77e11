// baton.json edits apply while the gateway runs: the next generation uses the edited file. An invalid edit is
// reported once and the config in force stays; fields that only a restart can apply are named.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_FILE, loadConfig, type BatonConfig } from './config';

/** Read when the gateway starts (the listening socket, the file watcher, the session timers). */
const RESTART_FIELDS = ['port', 'host', 'watch', 'session'] as const;

/** What a reader of the config needs: the config in force, and reading baton.json again before a build. */
export interface ConfigSource {
  readonly current: BatonConfig;
  refresh(): BatonConfig;
}

export type ConfigReport = { kind: 'error'; message: string } | { kind: 'applied'; restart: string[] };

/** An editor that truncates then writes fires several events: the file is read once they settle. */
const SETTLE_MS = 100;

export class LiveConfig implements ConfigSource {
  private config: BatonConfig;
  private readonly file: string;
  private stamp: string;
  private timer: NodeJS.Timeout | null = null;
  private readonly watcher: fs.FSWatcher | null;
  /** Why the last edit was refused, or null. */
  error: string | null = null;
  /** Edited fields still waiting for a restart. */
  restart: string[] = [];

  constructor(
    private readonly root: string,
    private readonly started: BatonConfig,
    private readonly report: (report: ConfigReport) => void,
  ) {
    this.config = started;
    this.file = path.join(root, CONFIG_FILE);
    this.stamp = this.stat();
    // The folder, not the file: atomic saves replace the file, and a watch on the old one would go quiet.
    let watcher: fs.FSWatcher | null = null;
    try {
      watcher = fs.watch(root, (_event, name) => {
        if (name !== CONFIG_FILE) return;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => this.refresh(), SETTLE_MS);
      });
      watcher.on('error', () => undefined);
    } catch {
      // no watching here (e.g. inotify limits): edits still apply to the next deploy through refresh()
    }
    this.watcher = watcher;
  }

  /** The config in force, as last read. */
  get current(): BatonConfig {
    return this.config;
  }

  /** The config in force after reading baton.json again if it changed since it was last read. */
  refresh(): BatonConfig {
    const stamp = this.stat();
    if (stamp === this.stamp) return this.config;
    this.stamp = stamp;
    try {
      const next = loadConfig(this.root);
      const restart = RESTART_FIELDS.filter(
        (field) => JSON.stringify(next[field]) !== JSON.stringify(this.started[field]),
      );
      const same = JSON.stringify(next) === JSON.stringify(this.config) && this.error === null;
      this.config = next;
      this.error = null;
      this.restart = restart;
      if (!same) this.report({ kind: 'applied', restart }); // a save without a change says nothing
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.error) {
        this.error = message;
        this.report({ kind: 'error', message });
      }
    }
    return this.config;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
  }

  private stat(): string {
    try {
      const s = fs.statSync(this.file);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'missing';
    }
  }
}

/** One line for the terminal. */
export function describeConfigReport(report: ConfigReport): string {
  if (report.kind === 'error')
    return `${report.message} — the running config stays in force until baton.json is fixed`;
  const base = 'baton.json reloaded: the next generation uses it';
  return report.restart.length
    ? `${base}; ${report.restart.map((f) => `"${f}"`).join(', ')} ${report.restart.length === 1 ? 'applies' : 'apply'} after a restart ("baton down", then "baton up")`
    : base;
}
