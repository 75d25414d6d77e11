// What Baton adds around a deploy and after it: the swap's own overhead, the time a drained generation takes to
// be gone, and the gateway's memory with 10,000 sessions.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { copyApp, pidAlive, RunningGateway, sleep, waitFor } from '../test/support/gateway';
import { rssMB } from '../test/reliability/proc';
import { get } from '../test/reliability/client';
import { freePort } from './servers';
import { median } from './stats';

type Log = (line: string) => void;

export interface SwapResults {
  /** Per save: save → live minus the worker's own boot (its process start → listening), median. */
  deployOverheadMs: number;
  saveToLiveMs: number;
  /** The worker's boot as it logs it (process start → listening), median. */
  workerBootMs: number;
  /** The same boot measured outside Baton: spawning `node server.mjs` → its "listening" line, median. */
  plainBootMs: number;
  /** Where Baton's part goes: save → deploy starts (watcher, debounce), → worker process starts (snapshot,
   *  spawn), listening → live (readiness probe); medians. */
  detectMs: number;
  prepareMs: number;
  probeMs: number;
}

/** The worker's boot outside Baton: from spawning `node server.mjs` to its "listening" line. */
function plainBoot(dir: string): Promise<number> {
  return freePort().then(
    (port) =>
      new Promise((resolve, reject) => {
        const t0 = performance.now();
        const child = spawn(process.execPath, ['server.mjs'], {
          cwd: dir,
          env: { ...process.env, PORT: String(port) },
        });
        child.on('error', reject);
        child.stdout.setEncoding('utf8').on('data', (text: string) => {
          if (!text.includes('listening')) return;
          resolve(performance.now() - t0);
          child.kill();
        });
      }),
  );
}

/** The epoch ms at which the worker process started and began to listen, from its "listening" line. */
function workerTimes(logs: string): { start: number; listen: number } {
  const match = /bench-worker listening pid=\d+ start=([\d.]+) listen=([\d.]+)/.exec(logs);
  if (!match) throw new Error(`no "listening" line in the generation's output:\n${logs}`);
  return { start: Number(match[1]), listen: Number(match[2]) };
}

/**
 * Save → new generation live, minus the worker's own boot to first listen (it logs both ends on the epoch
 * clock). The app has no build command, so there is nothing else to subtract.
 */
export async function benchSwap(appDir: string, saves: number, log: Log): Promise<SwapResults> {
  const dir = copyApp(appDir);
  const gw = await RunningGateway.start(dir);
  const file = path.join(dir, 'server.mjs');
  const rows: Array<{
    total: number;
    boot: number;
    plain: number;
    detect: number;
    prepare: number;
    probe: number;
  }> = [];
  try {
    for (let i = 1; i <= saves; i++) {
      const plain = await plainBoot(dir);
      const before = (await gw.state()).live!;
      const saved = performance.timeOrigin + performance.now();
      fs.writeFileSync(
        file,
        fs.readFileSync(file, 'utf8').replace(/const VERSION = \d+;/, `const VERSION = ${1000 + i};`),
      );
      const state = await gw.waitState(
        'the saved version live',
        (s) => s.live !== null && s.live > before,
        20_000,
      );
      const gen = state.generations.find((g) => g.id === state.live)!;
      const worker = workerTimes(await gw.client!.logs(gen.id));
      const ready = Date.parse(gen.readyAt!);
      rows.push({
        total: ready - saved,
        boot: worker.listen - worker.start,
        plain,
        detect: Date.parse(gen.createdAt) - saved,
        prepare: worker.start - Date.parse(gen.createdAt),
        probe: ready - worker.listen,
      });
      await sleep(200);
    }
  } finally {
    await gw.dispose();
  }
  const of = (key: keyof (typeof rows)[number]) => median(rows.map((r) => r[key]));
  const list = (key: keyof (typeof rows)[number]) => rows.map((r) => Math.round(r[key])).join(' ');
  log(`  save→live ${list('total')} ms`);
  log(`  worker boot (its log) ${list('boot')} ms; outside Baton ${list('plain')} ms`);
  log(`  Baton's part: detect ${list('detect')} · prepare ${list('prepare')} · probe ${list('probe')} ms`);
  return {
    deployOverheadMs: median(rows.map((r) => r.total - r.boot)),
    saveToLiveMs: of('total'),
    workerBootMs: of('boot'),
    plainBootMs: of('plain'),
    detectMs: of('detect'),
    prepareMs: of('prepare'),
    probeMs: of('probe'),
  };
}

export interface DrainResults {
  lastSessionToStoppedMs: number;
  byLastSocketMs: number;
  byLogoutMs: number;
}

/** Polls until every pid is gone; resolves with the ms since `t0`. */
async function goneAfter(pids: number[], t0: number): Promise<number> {
  while (pids.some(pidAlive)) {
    if (performance.now() - t0 > 10_000) throw new Error(`pids ${pids.join(', ')} still alive after 10 s`);
    await sleep(2);
  }
  return performance.now() - t0;
}

/**
 * A draining generation whose last holder leaves, two ways: a cookie-less client closes the event stream that
 * held it, or the last session logs out (the app clears its session cookie). Measured until its worker's
 * processes (the shell and node) are gone.
 */
export async function benchDrain(appDir: string, repeats: number, log: Log): Promise<DrainResults> {
  const gw = await RunningGateway.start(copyApp(appDir), ['--no-watch']);
  const bySocket: number[] = [];
  const byLogout: number[] = [];
  try {
    for (let i = 0; i < repeats * 2; i++) {
      const logout = i % 2 === 1;
      const id = (await gw.state()).live!;
      const host = gw.host(id);
      const cookie = `baton_sid=drain-${i}`;
      let workerPid: number;
      let stream: http.ClientRequest | null = null;
      if (logout) {
        workerPid = JSON.parse((await get(gw.port, '/api', { Host: host, Cookie: cookie })).body).pid;
      } else {
        const opened = await new Promise<{ req: http.ClientRequest; pid: number }>((resolve, reject) => {
          const req = http.get(
            { host: '127.0.0.1', port: gw.port, path: '/stream', headers: { Host: host }, agent: false },
            (res) => {
              res.setEncoding('utf8');
              res.once('data', (text: string) =>
                resolve({ req, pid: JSON.parse(text.slice('data: '.length)).pid }),
              );
            },
          );
          req.on('error', reject);
        });
        stream = opened.req;
        workerPid = opened.pid;
      }
      await gw.client!.deploy();
      const state = await gw.waitState(`gen ${id} draining`, (s) => s.live === id + 1);
      const gen = state.generations.find((g) => g.id === id)!;
      if (gen.state !== 'draining') throw new Error(`gen ${id} is ${gen.state}, not draining`);
      const pids = [gen.pid!, workerPid];
      const t0 = performance.now();
      if (stream) stream.destroy();
      else await get(gw.port, '/logout', { Host: host, Cookie: cookie }, false, 'POST');
      (logout ? byLogout : bySocket).push(await goneAfter(pids, t0));
    }
  } finally {
    await gw.dispose();
  }
  log(
    `  last socket closed: ${bySocket.map((ms) => Math.round(ms)).join(' ')} ms; logout: ${byLogout.map((ms) => Math.round(ms)).join(' ')} ms`,
  );
  return {
    lastSessionToStoppedMs: median([...bySocket, ...byLogout]),
    byLastSocketMs: median(bySocket),
    byLogoutMs: median(byLogout),
  };
}

export interface SessionResults {
  count: number;
  gatewayRssMB: number;
  baselineRssMB: number;
}

/** `count` browsers (distinct `baton_sid` cookies) each make a request on generation 1; the gateway's RSS after. */
export async function benchSessions(appDir: string, count: number, log: Log): Promise<SessionResults> {
  const gw = await RunningGateway.start(copyApp(appDir), ['--no-watch']);
  try {
    const pid = gw.child.pid!;
    const baselineRssMB = rssMB(pid);
    let next = 0;
    const client = async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (next < count) {
        const answer = await get(
          gw.port,
          '/api',
          { Host: gw.host(1), Cookie: `baton_sid=bench-${next++}-${'x'.repeat(14)}` },
          agent,
        );
        if (answer.status !== 200) throw new Error(`session request answered ${answer.status}`);
      }
      agent.destroy();
    };
    await Promise.all(Array.from({ length: 20 }, client));
    const gen = await waitFor('every session counted', async () => {
      const g = await gw.generation(1);
      return g && g.sessions >= count ? g : null;
    });
    await sleep(1000);
    const gatewayRssMB = rssMB(pid);
    log(
      `  ${gen.sessions} sessions on gen 1: gateway RSS ${baselineRssMB.toFixed(1)} → ${gatewayRssMB.toFixed(1)} MB`,
    );
    return { count: gen.sessions, gatewayRssMB, baselineRssMB };
  } finally {
    await gw.dispose();
  }
}
