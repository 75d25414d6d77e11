// Deploys under load: 50 sessions send requests without pause while the app's source changes 20 times, first
// under Baton (deploy on save), then under nodemon (restart on save). Every failed answer counts; under Baton
// an answer from another generation than the session's also counts (misrouted).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { copyApp, REPO, RunningGateway, sleep, waitFor } from '../test/support/gateway';
import { FailureTally, get } from '../test/reliability/client';
import { freePort, waitListening } from './servers';

export interface DeployResults {
  count: number;
  requests: number;
  batonFailed: number;
  /** Part of batonFailed: answered, but by another generation than the session's. */
  batonMisrouted: number;
  nodemonRequests: number;
  nodemonFailed: number;
}

export interface DeployOptions {
  appDir: string;
  count: number;
  sessions: number;
  /** Time the app stays on each version before the next change. */
  dwellMs: number;
  log: (line: string) => void;
}

/** One side's counters; the first five failures are kept to be printed. */
class Tally extends FailureTally {
  requests = 0;

  constructor() {
    super(5);
  }
}

/** Sets the app's VERSION constant, the way an editor saves a change. */
function change(dir: string, version: number): void {
  const file = path.join(dir, 'server.mjs');
  fs.writeFileSync(
    file,
    fs.readFileSync(file, 'utf8').replace(/const VERSION = \d+;/, `const VERSION = ${version};`),
  );
}

async function servesVersion(port: number, version: number): Promise<boolean> {
  const answer = await get(port, '/api', { Host: `localhost:${port}`, Accept: 'application/json' });
  return answer.status === 200 && JSON.parse(answer.body).version === version;
}

/**
 * A browser tab under Baton: it opens on the bare host (307 to the live generation's `gN.localhost`), keeps
 * its cookie and requests without pause, and every `reopenEvery` requests opens a fresh tab (the old session
 * then idles out, so old generations drain while the load goes on).
 */
async function batonTab(port: number, tally: Tally, running: () => boolean, reopenEvery = 25): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let host = '';
  let generation = 0;
  let cookie: string | undefined;
  let left = 0; // requests until this tab is replaced by a fresh one
  try {
    while (running()) {
      tally.requests++;
      try {
        if (left === 0) {
          const nav = await get(
            port,
            '/',
            { Host: `localhost:${port}`, Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' },
            agent,
          );
          const match = /^http:\/\/g(\d+)\.localhost:\d+\/$/.exec(nav.headers.location ?? '');
          if (nav.status !== 307 || !match) {
            tally.fail(`navigation answered ${nav.status} ${nav.body.slice(0, 120)}`);
            continue;
          }
          generation = Number(match[1]);
          host = `g${generation}.localhost:${port}`;
          cookie = undefined;
          left = reopenEvery;
          continue;
        }
        left--;
        const answer = await get(
          port,
          '/api',
          { Host: host, Accept: 'application/json', ...(cookie ? { Cookie: cookie } : {}) },
          agent,
        );
        const sid = answer.headers['set-cookie']?.find((c) => c.startsWith('baton_sid='));
        if (sid) cookie = sid.split(';')[0];
        if (answer.status !== 200)
          tally.fail(`gen ${generation}: ${answer.status} ${answer.body.slice(0, 120)}`);
        else if (
          answer.headers['x-baton-generation'] !== String(generation) ||
          JSON.parse(answer.body).generation !== generation
        ) {
          tally.fail(
            `gen ${generation} answered by ${answer.headers['x-baton-generation']}: ${answer.body}`,
            true,
          );
        }
      } catch (err) {
        tally.fail(`gen ${generation}: ${(err as Error).message}`);
        await sleep(10);
      }
    }
  } finally {
    agent.destroy();
  }
}

/** A client of the nodemon-run app: the same requests without pause, on the one port there is. */
async function nodemonClient(port: number, tally: Tally, running: () => boolean): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (running()) {
      tally.requests++;
      try {
        const answer = await get(
          port,
          '/api',
          { Host: `localhost:${port}`, Accept: 'application/json' },
          agent,
        );
        if (answer.status !== 200) tally.fail(`${answer.status} ${answer.body.slice(0, 120)}`);
      } catch (err) {
        tally.fail((err as Error).message);
        await sleep(10); // a refused connection answers at once: do not spin
      }
    }
  } finally {
    agent.destroy();
  }
}

/** Changes the source `count` times under load; each change waits until the new version answers. Resolves
 *  with the seconds it took. */
async function underLoad(
  options: DeployOptions,
  dir: string,
  port: number,
  client: (running: () => boolean) => Promise<void>,
): Promise<number> {
  const started = Date.now();
  let running = true;
  const clients = Array.from({ length: options.sessions }, () => client(() => running));
  try {
    await sleep(options.dwellMs);
    for (let version = 1; version <= options.count; version++) {
      change(dir, version);
      await waitFor(`version ${version} to answer`, () => servesVersion(port, version), 30_000);
      await sleep(options.dwellMs);
    }
  } finally {
    running = false;
    await Promise.all(clients);
  }
  return (Date.now() - started) / 1000;
}

export async function benchDeploys(options: DeployOptions): Promise<DeployResults> {
  const baton = new Tally();
  const batonDir = copyApp(options.appDir, { session: { cookie: 'app_sid', idleTimeoutSeconds: 2 } });
  const gw = await RunningGateway.start(batonDir);
  try {
    const seconds = await underLoad(options, batonDir, gw.port, (running) =>
      batonTab(gw.port, baton, running),
    );
    const state = await gw.state();
    options.log(
      `  baton:   ${baton.requests} requests in ${seconds.toFixed(0)} s, ${baton.failed} failed (${baton.misrouted} misrouted), live gen ${state.live}`,
    );
  } finally {
    await gw.dispose();
  }
  for (const s of baton.samples) options.log(`    e.g. ${s}`);

  const nodemon = new Tally();
  const nodemonDir = copyApp(options.appDir);
  const port = await freePort();
  const child = spawn(
    path.join(REPO, 'node_modules', '.bin', 'nodemon'),
    ['--quiet', '--watch', 'server.mjs', 'server.mjs'],
    {
      cwd: nodemonDir,
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
      detached: true, // its own process group, so that stopping it takes the app with it
    },
  );
  try {
    await waitListening(port);
    const seconds = await underLoad(options, nodemonDir, port, (running) =>
      nodemonClient(port, nodemon, running),
    );
    options.log(
      `  nodemon: ${nodemon.requests} requests in ${seconds.toFixed(0)} s, ${nodemon.failed} failed`,
    );
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    fs.rmSync(nodemonDir, { recursive: true, force: true });
  }
  for (const s of nodemon.samples) options.log(`    e.g. ${s}`);
  return {
    count: options.count,
    requests: baton.requests,
    batonFailed: baton.failed,
    batonMisrouted: baton.misrouted,
    nodemonRequests: nodemon.requests,
    nodemonFailed: nodemon.failed,
  };
}
