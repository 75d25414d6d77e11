// The `baton` command (DESIGN.md, "CLI"): `up` runs the gateway in the foreground; the other commands talk
// to the running gateway of a folder through the control API. Errors are one line and a non-zero exit.
import * as path from 'node:path';
import { version } from '../../package.json';
import { ConfigError, loadConfig } from '../config/config';
import { ControlClient, ControlError, readGatewayFile } from '../protocol/controlClient';
import { Gateway, GatewayStartError } from '../gateway';
import type { Generation } from '../lifecycle/generation';
import { writeInitConfig } from '../config/init';
import { isAlive } from '../process/processes';
import { UnsafeFolderError } from '../protocol/ownedDir';
import type { GatewayState, GenerationState } from '../protocol/types';
import { table } from './table';

const USAGE = `Usage: baton <command> [dir]

  up [dir] [--port N] [--no-watch]   run the gateway for the app in dir (default .) in the foreground
  deploy [dir]                       deploy a new generation
  status [dir] [--json]              show generations and sessions
  kill N [dir]                       stop generation N now
  promote N [dir]                    make running generation N live again (rollback)
  logs N [dir]                       print generation N's build and worker output
  down [dir]                         stop the gateway and every worker
  init [dir]                         write a baton.json inferred from the app
`;

class UsageError extends Error {}

interface Args {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const [name, value] = arg.slice(2).split('=', 2);
      if (value !== undefined) flags.set(name, value);
      else if (name === 'port') flags.set(name, argv[++i] ?? '');
      else flags.set(name, true);
    } else if (arg === '-h') flags.set('help', true);
    else positional.push(arg);
  }
  return { command: positional.shift() ?? 'help', positional, flags };
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
  const dir = dirArg(args);
  const config = loadConfig(dir);
  const existing = readGatewayFile(dir);
  if (existing && existing.pid !== process.pid && isAlive(existing.pid)) {
    throw new GatewayStartError(
      `a gateway is already running for ${dir} (pid ${existing.pid}, http://localhost:${existing.port}/) — stop it with "baton down" first`,
    );
  }
  let port: number | undefined;
  if (args.flags.has('port')) {
    port = Number(args.flags.get('port'));
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError('--port needs a number from 0 to 65535');
  }
  const started = new Map<number, number>();
  const print = (text: string) => process.stdout.write(text + '\n');
  const gateway = new Gateway({
    root: dir,
    config,
    port,
    managed: args.flags.has('managed'),
    watch: !args.flags.has('no-watch'),
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
    },
    onChanges: (files, id) =>
      print(
        `change   ${files.slice(0, 3).join(', ')}${files.length > 3 ? ` +${files.length - 3}` : ''} → gen ${id}`,
      ),
    onStop: (why) => print(`baton    gateway stopped: ${why}`),
    onWarning: (text) => print(`baton    ${text}`),
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
  const args = parseArgs(argv);
  if (args.flags.has('version') || args.command === 'version') {
    process.stdout.write(`${version}\n`);
    return;
  }
  if (args.flags.has('help') || args.command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  switch (args.command) {
    case 'up':
      return up(args);
    case 'init': {
      const file = await writeInitConfig(dirArg(args));
      process.stdout.write(`wrote ${file} — check "start" and "watch", then run "baton up"\n`);
      return;
    }
    case 'deploy': {
      const { id } = await clientFor(dirArg(args)).deploy();
      process.stdout.write(`deploying generation ${id}\n`);
      return;
    }
    case 'status': {
      const state = await clientFor(dirArg(args)).state();
      process.stdout.write(
        args.flags.has('json') ? JSON.stringify(state, null, 2) + '\n' : formatStatus(state),
      );
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
      process.stdout.write(await clientFor(dirArg(args)).logs(id));
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
