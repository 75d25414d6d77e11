// Starts the bundled gateway (dist/cli.js) for one folder as a process of its own and waits until it
// listens. Detached and unref'd, so that it outlives a window reload; `--managed` makes it stop by itself
// once no editor has been connected for a minute and no tab is open.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readGatewayFile } from '../gateway/protocol/controlClient';
import { isAlive } from '../gateway/protocol/procStat';

export interface LaunchOptions {
  /** Absolute path of the bundled CLI. */
  cliPath: string;
  folder: string;
  /** Overrides baton.json's "port". */
  port?: number;
  /** false: start with deploy-on-change off. */
  watch: boolean;
  timeoutMs?: number;
}

/** The gateway did not come up; `message` is the CLI's own one-line reason when it gave one. */
export class GatewayLaunchError extends Error {
  constructor(
    message: string,
    readonly logPath: string,
  ) {
    super(message);
  }
}

export function gatewayLogPath(folder: string): string {
  return path.join(folder, '.baton', 'gateway.log');
}

export async function launchGateway(options: LaunchOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const logPath = gatewayLogPath(options.folder);
  await fs.promises.mkdir(path.dirname(logPath), { recursive: true });
  // Worker output reaches the editor through the events socket and .baton/logs/: not the launch log too.
  const args = [options.cliPath, 'up', options.folder, '--managed', '--quiet-workers'];
  if (options.port !== undefined) args.push('--port', String(options.port));
  if (!options.watch) args.push('--no-watch');

  const launchedAt = Date.now();
  // The log file, not a pipe: a pipe would break (and take the gateway with it) when the window reloads.
  const fd = fs.openSync(logPath, 'w');
  let exited: string | undefined;
  try {
    const child = spawn(process.execPath, args, {
      cwd: options.folder,
      // The editor's Node: Electron's binary acts as plain Node with this variable.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      detached: true,
      stdio: ['ignore', fd, fd],
      windowsHide: true,
    });
    child.on('error', (err) => (exited = `could not run the gateway: ${err.message}`));
    child.on('exit', (code, signal) => (exited = `the gateway exited (${signal ?? `code ${code}`})`));
    child.unref();

    while (Date.now() - launchedAt < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (exited !== undefined) throw new GatewayLaunchError(lastLine(logPath) ?? exited, logPath);
      const file = readGatewayFile(options.folder);
      // A gateway.json left behind by an older gateway does not count.
      if (file && (file.pid === child.pid || Date.parse(file.startedAt) >= launchedAt - 1000)) return;
    }
    if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    throw new GatewayLaunchError(
      `the gateway did not start listening within ${timeoutMs / 1000} s (see .baton/gateway.log)`,
      logPath,
    );
  } finally {
    fs.closeSync(fd);
  }
}

/** Waits until the gateway process `pid` has exited (its gateway.json is removed a moment earlier). */
export async function waitForExit(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** The CLI ends a failed start with one clear line on stderr: the log's last non-empty line. */
function lastLine(logPath: string): string | undefined {
  try {
    const lines = fs
      .readFileSync(logPath, 'utf8')
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    // The CLI's own "baton: " prefix would double the notification's "Baton: ".
    return lines.at(-1)?.replace(/^baton:\s*/, '');
  } catch {
    return undefined;
  }
}
