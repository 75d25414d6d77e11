// `npm run bench`: starts everything on loopback, measures Baton against a direct worker, a plain http-proxy-3
// proxy, nginx and nodemon, prints a table and writes bench/results.json, bench/results.svg and bench/results.png.
// Env: BENCH_ROUNDS (3), BENCH_SECONDS (5) for the proxy runs; BENCH_ONLY=proxy,deploys,swap,drain,sessions,scale
// runs a subset and writes nothing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, REPO } from '../test/support/gateway';
import { renderChart } from './chart';
import { writePng } from './png';
import { benchDeploys } from './deploys';
import { benchDrain, benchSessions, benchSwap } from './lifecycle';
import { benchProxy } from './proxyBench';
import { benchScale, scaleRows } from './scale';
import type { BenchResults } from './results';
import { findNginx } from './servers';
import { round } from './stats';
import { haveWrk } from './wrk';
import { table } from '../gateway/cli/table';

const BENCH = path.join(REPO, 'bench');
const APP = path.join(BENCH, 'app');
const SCENARIOS = ['proxy', 'deploys', 'swap', 'drain', 'sessions', 'scale'] as const;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number ≥ 1 (got "${raw}")`);
  return value;
}

function selected(): Set<string> {
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!only) return new Set(SCENARIOS);
  const unknown = only.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length)
    throw new Error(`BENCH_ONLY: unknown scenario "${unknown[0]}" (known: ${SCENARIOS.join(', ')})`);
  return new Set(only);
}

const log = (line: string) => process.stdout.write(line + '\n');

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Linux ${os.release()}, Node ${process.version}, load ${os.loadavg()[0].toFixed(1)} at start`;
}

const show = (value: number | null, unit: string, digits = 0) =>
  value === null ? 'n/a' : `${value.toFixed(digits)}${unit}`;
const verdict = (ok: boolean | null) => (ok === null ? '-' : ok ? 'ok' : 'MISSED');

function summary(r: BenchResults): string {
  const p = r.proxy;
  const ratio = p.batonRps !== null && p.httpProxyRps ? p.batonRps / p.httpProxyRps : null;
  const added = p.batonP50Ms !== null && p.directP50Ms !== null ? p.batonP50Ms - p.directP50Ms : null;
  const atMost = (v: number | null, limit: number) => (v === null ? null : v <= limit);
  return table(
    [
      ['measure', 'value', 'target', ''],
      ['throughput direct', show(p.directRps, ' req/s'), '', ''],
      ['throughput Baton', show(p.batonRps, ' req/s'), '', ''],
      ['throughput http-proxy-3', show(p.httpProxyRps, ' req/s'), '', ''],
      ['throughput nginx', show(p.nginxRps, ' req/s'), '', ''],
      [
        'Baton ÷ http-proxy-3',
        show(ratio, '×', 2),
        '≥ 1× (aim 2×)',
        verdict(ratio === null ? null : ratio >= 1),
      ],
      ['CPU/request direct / Baton', `${show(p.directCpuUs, '')} / ${show(p.batonCpuUs, ' µs')}`, '', ''],
      [
        'CPU/request http-proxy-3 / nginx',
        `${show(p.httpProxyCpuUs, '')} / ${show(p.nginxCpuUs, ' µs')}`,
        '',
        '',
      ],
      [
        'p50 @1 conn direct / Baton',
        `${show(p.directP50Ms, '', 3)} / ${show(p.batonP50Ms, ' ms', 3)}`,
        '',
        '',
      ],
      [
        'p50 @1 conn http-proxy-3 / nginx',
        `${show(p.httpProxyP50Ms, '', 3)} / ${show(p.nginxP50Ms, ' ms', 3)}`,
        '',
        '',
      ],
      ['p50 added by Baton', show(added, ' ms', 3), '≤ 0.3 ms', verdict(atMost(added, 0.3))],
      ['p99 @1 conn Baton', show(p.batonP99Ms, ' ms', 3), '', ''],
      [
        `failed over ${r.deploys.count} deploys, Baton`,
        `${r.deploys.batonFailed} of ${r.deploys.requests} (${r.deploys.batonMisrouted} misrouted)`,
        '0',
        verdict(r.deploys.requests ? r.deploys.batonFailed === 0 : null),
      ],
      [
        `failed over ${r.deploys.count} deploys, nodemon`,
        `${r.deploys.nodemonFailed} of ${r.deploys.nodemonRequests}`,
        '',
        '',
      ],
      ['save → live', show(r.swap.saveToLiveMs, ' ms'), '', ''],
      ['worker boot, its log (subtracted)', show(r.swap.workerBootMs, ' ms'), '', ''],
      ['worker boot outside Baton', show(r.swap.plainBootMs, ' ms'), '', ''],
      [
        'deploy overhead',
        show(r.swap.deployOverheadMs, ' ms'),
        '≤ 300 ms',
        verdict(atMost(r.swap.deployOverheadMs, 300)),
      ],
      [
        '  detect / prepare / probe',
        `${show(r.swap.detectMs, '')} / ${show(r.swap.prepareMs, '')} / ${show(r.swap.probeMs, ' ms')}`,
        '',
        '',
      ],
      [
        'drain: last holder → gone',
        show(r.drain.lastSessionToStoppedMs, ' ms'),
        '≤ 1000 ms',
        verdict(atMost(r.drain.lastSessionToStoppedMs, 1000)),
      ],
      [
        '  by last socket / by logout',
        `${show(r.drain.byLastSocketMs, '')} / ${show(r.drain.byLogoutMs, ' ms')}`,
        '',
        '',
      ],
      [
        `gateway RSS, ${r.sessions.count} sessions`,
        show(r.sessions.gatewayRssMB, ' MB', 1),
        '≤ 100 MB',
        verdict(atMost(r.sessions.gatewayRssMB, 100)),
      ],
      ['  gateway RSS before', show(r.sessions.baselineRssMB, ' MB', 1), '', ''],
      ...(r.scale ? scaleRows(r.scale) : []),
    ],
    '   ',
  );
}

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const run = selected();
  const rounds = envInt('BENCH_ROUNDS', 3);
  const seconds = envInt('BENCH_SECONDS', 5);
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: machine(),
    proxy: {
      directRps: null,
      batonRps: null,
      httpProxyRps: null,
      nginxRps: null,
      directP50Ms: null,
      batonP50Ms: null,
      batonP99Ms: null,
      httpProxyP50Ms: null,
      nginxP50Ms: null,
      directCpuUs: null,
      batonCpuUs: null,
      httpProxyCpuUs: null,
      nginxCpuUs: null,
    },
    deploys: {
      count: 20,
      requests: 0,
      batonFailed: 0,
      batonMisrouted: 0,
      nodemonRequests: 0,
      nodemonFailed: 0,
    },
    swap: {
      deployOverheadMs: null,
      saveToLiveMs: null,
      workerBootMs: null,
      plainBootMs: null,
      detectMs: null,
      prepareMs: null,
      probeMs: null,
    },
    drain: { lastSessionToStoppedMs: null, byLastSocketMs: null, byLogoutMs: null },
    sessions: { count: 10_000, gatewayRssMB: null, baselineRssMB: null },
    scale: null,
  };
  log(`baton bench — ${results.machine}`);
  if (!haveWrk())
    log('wrk is not installed: the proxy numbers are null (Debian: sudo apt-get install -y wrk)');
  if (!findNginx())
    log('nginx is not installed: its numbers are null (Debian: sudo apt-get install -y nginx-light)');

  if (run.has('proxy')) {
    log(`\nproxy: ${rounds} rounds × ${seconds} s at 50 connections, plus latency at 1 connection`);
    const proxy = await benchProxy({ appDir: APP, rounds, seconds, latencySeconds: 3, connections: 50, log });
    if (proxy) {
      if (proxy.batonErrors) log(`  warning: ${proxy.batonErrors} errors or non-2xx answers through Baton`);
      results.proxy = {
        directRps: round(proxy.directRps),
        batonRps: round(proxy.batonRps),
        httpProxyRps: round(proxy.httpProxyRps),
        nginxRps: round(proxy.nginxRps),
        directP50Ms: round(proxy.directP50Ms, 3),
        batonP50Ms: round(proxy.batonP50Ms, 3),
        batonP99Ms: round(proxy.batonP99Ms, 3),
        httpProxyP50Ms: round(proxy.httpProxyP50Ms, 3),
        nginxP50Ms: round(proxy.nginxP50Ms, 3),
        directCpuUs: round(proxy.directCpuUs),
        batonCpuUs: round(proxy.batonCpuUs),
        httpProxyCpuUs: round(proxy.httpProxyCpuUs),
        nginxCpuUs: round(proxy.nginxCpuUs),
      };
    }
  }
  if (run.has('deploys')) {
    log('\ndeploys: 50 sessions under load, 20 source changes, Baton then nodemon');
    results.deploys = await benchDeploys({ appDir: APP, count: 20, sessions: 50, dwellMs: 1000, log });
  }
  if (run.has('swap')) {
    log('\nswap: save → new generation live, minus the worker boot');
    const swap = await benchSwap(APP, 10, log);
    results.swap = {
      deployOverheadMs: round(swap.deployOverheadMs),
      saveToLiveMs: round(swap.saveToLiveMs),
      workerBootMs: round(swap.workerBootMs),
      plainBootMs: round(swap.plainBootMs),
      detectMs: round(swap.detectMs),
      prepareMs: round(swap.prepareMs),
      probeMs: round(swap.probeMs),
    };
  }
  if (run.has('drain')) {
    log('\ndrain: last holder of a draining generation leaves → its processes gone');
    const drain = await benchDrain(APP, 3, log);
    results.drain = {
      lastSessionToStoppedMs: round(drain.lastSessionToStoppedMs),
      byLastSocketMs: round(drain.byLastSocketMs),
      byLogoutMs: round(drain.byLogoutMs),
    };
  }
  if (run.has('sessions')) {
    log('\nsessions: 10,000 sessions on one generation');
    const sessions = await benchSessions(APP, 10_000, log);
    results.sessions = {
      count: sessions.count,
      gatewayRssMB: round(sessions.gatewayRssMB, 1),
      baselineRssMB: round(sessions.baselineRssMB, 1),
    };
  }

  if (run.has('scale')) {
    log('\nscale: a 10-file app, 20,000 files + 50 MB of assets, 100,000 files; one file edited per deploy');
    results.scale = await benchScale(log);
  }

  log(`\n${summary(results)}\n`);
  if (run.size < SCENARIOS.length) {
    log('BENCH_ONLY ran a subset: bench/results.json and bench/results.svg were left as they were.');
    return;
  }
  fs.writeFileSync(path.join(BENCH, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  const svg = renderChart(results);
  fs.writeFileSync(path.join(BENCH, 'results.svg'), svg);
  await writePng(svg, path.join(BENCH, 'results.png'));
  log('wrote bench/results.json, bench/results.svg and bench/results.png');
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
