// The `baton` command (README, "CLI"): `up` runs the gateway in the foreground; the other commands talk
// to the running gateway of a folder through the control API. Errors are one line and a non-zero exit.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { version } from '../../package.json';
import { ConfigError, loadConfig } from '../config/config';
import { ControlClient, ControlError, readGatewayFile } from '../protocol/controlClient';
import { Gateway, GatewayStartError } from '../gateway';
import type { Generation } from '../lifecycle/generation';
import { writeInitConfig } from '../config/init';
import { describeConfigReport } from '../config/liveConfig';
import { unsavedWarning } from '../protocol/unsaved';
import { isAlive } from '../process/processes';
import { UnsafeFolderError } from '../protocol/ownedDir';
import type { GatewayState, GenerationState } from '../protocol/types';
import { outputPrinter } from './output';
import { table } from './table';
import { readLogFile } from '../lifecycle/logFiles';

const USAGE = `Usage: baton <command> [dir]

  up [dir] [--port N] [--no-watch] [--quiet-workers]
                                     run the gateway for the app in dir (default .) in the foreground;
                                     every generation's output is shown, prefixed "gen N | " ("gen N ! "
                                     for stderr), unless --quiet-workers
  deploy [dir]                       deploy a new generation
  status [dir] [--json]              show generations and sessions
  kill N [dir]                       stop generation N now
  promote N [dir]                    make running generation N live again (rollback)
  logs N [dir]                       print generation N's build and worker output (kept in
                                     .baton/logs/ after the gateway stopped, until the next "up")
  down [dir]                         stop the gateway and every worker
  init [dir]                         write a baton.json inferred from the app
`;

class UsageError extends Error {}

interface Args {
  command: string;
  positional: string[];
  flags: ReturnType<typeof parseCommandLine>['values'];
}

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'no-watch': { type: 'boolean' },
      'quiet-workers': { type: 'boolean' },
      managed: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
}

function readArgs(argv: string[]): Args {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (see "baton help")`);
  }
  const positional = [...parsed.positionals];
  return { command: positional.shift() ?? 'help', positional, flags: parsed.values };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m ${s % 60}s`
      : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function formatStatus(state: GatewayState): string {
  const head = `gateway  http://localhost:${state.port}/  live: ${state.live === null ? 'none' : `gen ${state.live}`}  affinity: ${state.affinity}  watching: ${state.watching ? 'on' : 'off'}`;
  const gens = [...state.generations].sort((a, b) => b.id - a.id);
  const rows = [['GEN', 'STATE', 'PID', 'PORT', 'SESSIONS', 'TABS', 'INFLIGHT', 'AGE', 'REASON']];
  for (const g of gens) {
    rows.push([
      String(g.id),
      g.state,
      g.pid === null ? '-' : String(g.pid),
      g.port === null ? '-' : String(g.port),
      String(g.sessions),
      String(g.tabs),
      String(g.inflight),
      ago(g.createdAt),
      g.reason ?? '',
    ]);
  }
  return `${head}\n\n${gens.length ? table(rows) : 'no generations yet'}\n`;
}

function clientFor(dir: string): ControlClient {
  const file = readGatewayFile(dir);
  if (!file || !isAlive(file.pid)) {
    throw new ControlError(
      `no gateway is running for ${dir} — start one with "baton up ${dir === process.cwd() ? '' : dir}"`.trimEnd(),
    );
  }
  return new ControlClient(file.port, file.token);
}

function generationArg(args: Args): number {
  const raw = args.positional.shift();
  const id = Number(raw);
  if (!raw || !Number.isInteger(id) || id < 1)
    throw new UsageError(`"baton ${args.command}" needs a generation number, e.g. "baton ${args.command} 2"`);
  return id;
}

function dirArg(args: Args): string {
  return path.resolve(args.positional.shift() ?? '.');
}

async function up(args: Args): Promise<void> {
  // Workers are stopped through process groups and found through /proc or ps: Windows has neither, and a
  // gateway there would leave every worker behind.
  if (process.platform === 'win32')
    throw new GatewayStartError(
      'Windows is not supported yet: run Baton in WSL, a dev container or a Linux/macOS machine',
    );
  const dir = dirArg(args);
  const config = loadConfig(dir);
  const existing = readGatewayFile(dir);
  if (existing && existing.pid !== process.pid && isAlive(existing.pid)) {
    throw new GatewayStartError(
      `a gateway is already running for ${dir} (pid ${existing.pid}, http://localhost:${existing.port}/) — stop it with "baton down" first`,
    );
  }
  let port: number | undefined;
  if (args.flags.port !== undefined) {
    port = Number(args.flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError('--port needs a number from 0 to 65535');
  }
  const started = new Map<number, number>();
  // A terminal that went away (a closed pipe) stops the printing, never the gateway: writing to it again
  // would only raise EPIPE again.
  let terminalGone = false;
  process.stdout.on('error', () => (terminalGone = true));
  const write = (text: string) => {
    if (!terminalGone && process.stdout.writable) process.stdout.write(text);
  };
  const printOutput = args.flags['quiet-workers']
    ? undefined
    : outputPrinter(write, process.stdout.isTTY === true && !process.env.NO_COLOR);
  const print = (text: string) => {
    printOutput?.flush();
    write(text + '\n');
  };
  const gateway = new Gateway({
    root: dir,
    config,
    port,
    managed: args.flags.managed === true,
    watch: !args.flags['no-watch'],
    onTransition: (gen: Generation, _from, to: GenerationState) => {
      const since = Date.now() - (started.get(gen.id) ?? gen.createdAt);
      const label = `gen ${gen.id}`.padEnd(7);
      if (to === 'building') {
        started.set(gen.id, gen.createdAt);
        print(`${label}building${config.build ? ` (${config.build})` : ''}`);
      } else if (to === 'starting') print(`${label}starting  after ${seconds(since)}`);
      else if (to === 'live') {
        print(
          `${label}live      after ${seconds(since)}  →  http://g${gen.id}.localhost:${gateway.listeningPort}/`,
        );
      } else if (to === 'draining') print(`${label}draining  (${gen.sessions} sessions, ${gen.tabs} tabs)`);
      else if (to === 'stopped') print(`${label}stopped   ${gen.reason ?? ''}`);
      else print(`${label}${to.padEnd(10)}${gen.reason ?? ''}  (see "baton logs ${gen.id}")`);
      const unsaved = unsavedWarning(gen.info());
      if (unsaved) print(`warning  ${unsaved}`);
    },
    onConfig: (report) => print(`config   ${describeConfigReport(report)}`),
    onChanges: (files, id) => {
      const names = `${files.slice(0, 3).join(', ')}${files.length > 3 ? ` +${files.length - 3}` : ''}`;
      print(
        `change   ${names} → ${id === null ? 'nothing deployed until baton.json is fixed' : `gen ${id}`}`,
      );
    },
    onWatchError: (message) => print(`baton    ${message}`),
    onStop: (why) => print(`baton    gateway stopped: ${why}`),
    onWarning: (message) => print(`baton    warning: ${message}`),
    onOutput: printOutput,
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      print(`baton    ${signal} again: exiting now (the watchdog stops what is left)`);
      process.exit(130);
    }
    stopping = true;
    print(`baton    ${signal}: stopping every worker…`);
    void gateway.stop(`${signal} received`).then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  // Last resort behind the request guards: a stray error costs one log line, not every worker and tab.
  const survive = (err: unknown) => {
    if ((err as NodeJS.ErrnoException | null)?.code === 'EPIPE') return; // the terminal is gone
    print(`baton    internal error (the gateway keeps running): ${String(err)}`);
  };
  process.on('uncaughtException', survive);
  process.on('unhandledRejection', survive);
  await gateway.start();
  print(`baton    gateway for ${dir}`);
  print(`baton    open ${gateway.url}  (control: "baton status", Ctrl-C stops every worker)`);
  await new Promise<void>((resolve) => gateway.server.once('close', () => resolve()));
  await gateway.stop();
  process.exit(0);
}

async function main(argv: string[]): Promise<void> {
  const args = readArgs(argv);
  if (args.flags.version || args.command === 'version') {
    process.stdout.write(`${version}\n`);
    return;
  }
  if (args.flags.help || args.command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  switch (args.command) {
    case 'up':
      return up(args);
    case 'init': {
      const { file, warnings } = await writeInitConfig(dirArg(args));
      // For the editor's Create baton.json, which runs this command.
      if (args.flags.json) return void process.stdout.write(JSON.stringify({ file, warnings }) + '\n');
      for (const warning of warnings) process.stderr.write(`baton: note: ${warning}\n`);
      process.stdout.write(`wrote ${file} — check "start", "watch" and "shared", then run "baton up"\n`);
      return;
    }
    case 'deploy': {
      const { id } = await clientFor(dirArg(args)).deploy();
      process.stdout.write(`deploying generation ${id}\n`);
      return;
    }
    case 'status': {
      const state = await clientFor(dirArg(args)).state();
      process.stdout.write(args.flags.json ? JSON.stringify(state, null, 2) + '\n' : formatStatus(state));
      return;
    }
    case 'kill': {
      const id = generationArg(args);
      await clientFor(dirArg(args)).kill(id);
      process.stdout.write(`generation ${id} stopped\n`);
      return;
    }
    case 'promote': {
      const id = generationArg(args);
      await clientFor(dirArg(args)).promote(id);
      process.stdout.write(`generation ${id} is live\n`);
      return;
    }
    case 'logs': {
      const id = generationArg(args);
      const dir = dirArg(args);
      const file = readGatewayFile(dir);
      if (file && isAlive(file.pid)) {
        process.stdout.write(await clientFor(dir).logs(id));
        return;
      }
      // No gateway: what the last one kept.
      const kept = readLogFile(dir, id);
      if (kept === null) {
        throw new ControlError(
          `no gateway is running for ${dir} and no output of generation ${id} is kept in .baton/logs/`,
        );
      }
      process.stdout.write(kept);
      return;
    }
    case 'down': {
      const dir = dirArg(args);
      const file = readGatewayFile(dir);
      await clientFor(dir).shutdown();
      // Wait until the gateway really exited, so that "down && up" never races.
      for (let i = 0; i < 200 && file && isAlive(file.pid); i++) await new Promise((r) => setTimeout(r, 50));
      process.stdout.write('gateway stopped\n');
      return;
    }
    default:
      throw new UsageError(`unknown command "${args.command}" (see "baton help")`);
  }
}

main(process.argv.slice(2)).catch((err: Error) => {
  const known =
    err instanceof ConfigError ||
    err instanceof ControlError ||
    err instanceof GatewayStartError ||
    err instanceof UnsafeFolderError ||
    err instanceof UsageError;
  process.stderr.write(`baton: ${known ? err.message : (err.stack ?? err.message)}\n`);
  process.exit(known || err.message ? 1 : 2);
});
