// The shape of bench/results.json (numbers rounded; null where a tool was missing or a value not measured).
import type { DeployResults } from './deploys';
import type { ScaleResults } from './scale';

export interface BenchResults {
  date: string;
  machine: string;
  proxy: {
    directRps: number | null;
    batonRps: number | null;
    httpProxyRps: number | null;
    nginxRps: number | null;
    directP50Ms: number | null;
    batonP50Ms: number | null;
    batonP99Ms: number | null;
    httpProxyP50Ms: number | null;
    nginxP50Ms: number | null;
    directCpuUs: number | null;
    batonCpuUs: number | null;
    httpProxyCpuUs: number | null;
    nginxCpuUs: number | null;
  };
  deploys: DeployResults;
  swap: {
    deployOverheadMs: number | null;
    saveToLiveMs: number | null;
    workerBootMs: number | null;
    plainBootMs: number | null;
    detectMs: number | null;
    prepareMs: number | null;
    probeMs: number | null;
  };
  drain: { lastSessionToStoppedMs: number | null; byLastSocketMs: number | null; byLogoutMs: number | null };
  sessions: { count: number; gatewayRssMB: number | null; baselineRssMB: number | null };
  scale: ScaleResults | null;
}
