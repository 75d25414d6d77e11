// Proxy throughput and latency: the same worker measured directly, through Baton (a pinned tab host with its
// session cookie, as a browser tab sends it), through a plain keep-alive http-proxy-3 server and through nginx
// with upstream keep-alive. Runs are interleaved (the order rotates every round) and the medians reported.
import { copyApp, RunningGateway } from '../test/support/gateway';
import { findNginx, startNginx, startPlainProxy, type Server } from './servers';
import { median } from './stats';
import { haveWrk, runWrk, type WrkResult } from './wrk';

export interface ProxyResults {
  directRps: number;
  batonRps: number;
  httpProxyRps: number;
  nginxRps: number;
  directP50Ms: number;
  batonP50Ms: number;
  batonP99Ms: number;
  httpProxyP50Ms: number;
  nginxP50Ms: number;
  /** Socket errors and non-2xx answers summed over all of Baton's runs (must be 0). */
  batonErrors: number;
}

export interface ProxyOptions {
  appDir: string;
  rounds: number;
  seconds: number;
  latencySeconds: number;
  connections: number;
  log: (line: string) => void;
}

interface Target {
  name: 'direct' | 'baton' | 'httpProxy' | 'nginx';
  url: string;
  headers?: Record<string, string>;
  throughput: WrkResult[];
  latency: WrkResult[];
}

/** Null when wrk is missing (the caller says how to install it). */
export async function benchProxy(options: ProxyOptions): Promise<ProxyResults | null> {
  if (!haveWrk()) return null;
  const gw = await RunningGateway.start(copyApp(options.appDir), ['--no-watch']);
  const servers: Server[] = [];
  try {
    const workerPort = (await gw.generation(1))!.port!;
    const targets: Target[] = [
      { name: 'direct', url: `http://127.0.0.1:${workerPort}/`, throughput: [], latency: [] },
      {
        name: 'baton',
        url: `http://127.0.0.1:${gw.port}/`,
        headers: { Host: gw.host(1), Cookie: 'baton_sid=bench-session' },
        throughput: [],
        latency: [],
      },
    ];
    const plain = await startPlainProxy(workerPort);
    servers.push(plain);
    targets.push({ name: 'httpProxy', url: `http://127.0.0.1:${plain.port}/`, throughput: [], latency: [] });
    const nginx = findNginx();
    if (nginx) {
      const server = await startNginx(nginx, workerPort);
      servers.push(server);
      targets.push({ name: 'nginx', url: `http://127.0.0.1:${server.port}/`, throughput: [], latency: [] });
    } else {
      options.log('nginx is not installed: its column is null (Debian: sudo apt-get install -y nginx-light)');
    }
    for (const t of targets) await runWrk(t.url, { connections: options.connections, seconds: 2, headers: t.headers }); // warm-up
    for (let round = 0; round < options.rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const t of order) {
        const load = await runWrk(t.url, { connections: options.connections, seconds: options.seconds, headers: t.headers });
        const one = await runWrk(t.url, { connections: 1, seconds: options.latencySeconds, headers: t.headers });
        t.throughput.push(load);
        t.latency.push(one);
        options.log(
          `  round ${round + 1} ${t.name.padEnd(9)} ${Math.round(load.rps).toString().padStart(6)} req/s` +
            `  p50@1 ${one.p50Ms.toFixed(3)} ms  p99@1 ${one.p99Ms.toFixed(3)} ms${load.errors + one.errors ? `  errors ${load.errors + one.errors}` : ''}`,
        );
      }
    }
    const of = (name: Target['name']) => targets.find((t) => t.name === name);
    const rps = (name: Target['name']) => median(of(name)?.throughput.map((r) => r.rps) ?? []);
    const p50 = (name: Target['name']) => median(of(name)?.latency.map((r) => r.p50Ms) ?? []);
    const baton = of('baton')!;
    return {
      directRps: rps('direct'),
      batonRps: rps('baton'),
      httpProxyRps: rps('httpProxy'),
      nginxRps: rps('nginx'),
      directP50Ms: p50('direct'),
      batonP50Ms: p50('baton'),
      batonP99Ms: median(baton.latency.map((r) => r.p99Ms)),
      httpProxyP50Ms: p50('httpProxy'),
      nginxP50Ms: p50('nginx'),
      batonErrors: [...baton.throughput, ...baton.latency].reduce((sum, r) => sum + r.errors, 0),
    };
  } finally {
    for (const server of servers) await server.stop();
    await gw.dispose();
  }
}
