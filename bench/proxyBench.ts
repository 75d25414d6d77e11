// Proxy throughput and latency: the same worker measured directly, through Baton (a pinned tab host with its
// session cookie, as a browser tab sends it), through a plain keep-alive http-proxy-3 server and through nginx
// with upstream keep-alive. Runs are interleaved (the order rotates every round) and the medians reported.
import { copyApp, RunningGateway } from '../test/support/gateway';
import { childrenOf, cpuMs } from '../test/reliability/proc';
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
  /** CPU time (user + system) of the serving process per request under load, µs: steadier than req/s on a
   *  busy machine. For direct, the worker's; for the proxies, the proxy's own (the worker's not included). */
  directCpuUs: number;
  batonCpuUs: number;
  httpProxyCpuUs: number;
  nginxCpuUs: number;
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
  pids: () => number[];
  throughput: WrkResult[];
  latency: WrkResult[];
  cpuUs: number[];
}

/** Null when wrk is missing (the caller says how to install it). */
export async function benchProxy(options: ProxyOptions): Promise<ProxyResults | null> {
  if (!haveWrk()) return null;
  const gw = await RunningGateway.start(copyApp(options.appDir), ['--no-watch']);
  const servers: Server[] = [];
  try {
    const worker = (await gw.generation(1))!;
    const target = (
      name: Target['name'],
      port: number,
      pids: () => number[],
      headers?: Record<string, string>,
    ): Target => ({
      name,
      url: `http://127.0.0.1:${port}/`,
      headers,
      pids,
      throughput: [],
      latency: [],
      cpuUs: [],
    });
    const targets = [
      // The worker runs under a shell: its node process is the shell's child.
      target('direct', worker.port!, () => [worker.pid!, ...childrenOf(worker.pid!)]),
      target('baton', gw.port, () => [gw.child.pid!], {
        Host: gw.host(1),
        Cookie: 'baton_sid=bench-session',
      }),
    ];
    const plain = await startPlainProxy(worker.port!);
    servers.push(plain);
    targets.push(target('httpProxy', plain.port, plain.pids));
    const nginx = findNginx();
    if (nginx) {
      const server = await startNginx(nginx, worker.port!);
      servers.push(server);
      targets.push(target('nginx', server.port, server.pids));
    } else {
      options.log('nginx is not installed: its column is null (Debian: sudo apt-get install -y nginx-light)');
    }
    for (const t of targets)
      await runWrk(t.url, { connections: options.connections, seconds: 2, headers: t.headers }); // warm-up
    for (let round = 0; round < options.rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const t of order) {
        const pids = t.pids();
        const cpuBefore = pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
        const load = await runWrk(t.url, {
          connections: options.connections,
          seconds: options.seconds,
          headers: t.headers,
        });
        const cpu = ((pids.reduce((sum, pid) => sum + cpuMs(pid), 0) - cpuBefore) * 1000) / load.requests;
        const one = await runWrk(t.url, {
          connections: 1,
          seconds: options.latencySeconds,
          headers: t.headers,
        });
        t.throughput.push(load);
        t.latency.push(one);
        t.cpuUs.push(cpu);
        options.log(
          `  round ${round + 1} ${t.name.padEnd(9)} ${Math.round(load.rps).toString().padStart(6)} req/s ${cpu.toFixed(0).padStart(4)} µs CPU/req` +
            `  p50@1 ${one.p50Ms.toFixed(3)} ms  p99@1 ${one.p99Ms.toFixed(3)} ms${load.errors + one.errors ? `  errors ${load.errors + one.errors}` : ''}`,
        );
      }
    }
    const of = (name: Target['name']) => targets.find((t) => t.name === name);
    const rps = (name: Target['name']) => median(of(name)?.throughput.map((r) => r.rps) ?? []);
    const p50 = (name: Target['name']) => median(of(name)?.latency.map((r) => r.p50Ms) ?? []);
    const cpu = (name: Target['name']) => median(of(name)?.cpuUs ?? []);
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
      directCpuUs: cpu('direct'),
      batonCpuUs: cpu('baton'),
      httpProxyCpuUs: cpu('httpProxy'),
      nginxCpuUs: cpu('nginx'),
      batonErrors: [...baton.throughput, ...baton.latency].reduce((sum, r) => sum + r.errors, 0),
    };
  } finally {
    for (const server of servers) await server.stop();
    await gw.dispose();
  }
}
