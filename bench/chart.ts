// Draws bench/results.json as one SVG: proxy throughput on the left, every target on the right.
import type { BenchResults } from './results';

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (value: number | null, digits = 0) =>
  value === null
    ? 'n/a'
    : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const PASS = '#2e9d5b';
const FAIL = '#d2453b';

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x}" y="${y}" ${attrs}>${esc(content)}</text>`;
}

function throughputPanel(r: BenchResults): string {
  const bars: Array<[string, number | null, number | null, string]> = [
    ['direct', r.proxy.directRps, r.proxy.directCpuUs, '#8a939e'],
    ['Baton', r.proxy.batonRps, r.proxy.batonCpuUs, '#2f6fde'],
    ['http-proxy-3', r.proxy.httpProxyRps, r.proxy.httpProxyCpuUs, '#e08a2b'],
    ['nginx', r.proxy.nginxRps, r.proxy.nginxCpuUs, '#2e9d5b'],
  ];
  const max = Math.max(1, ...bars.map(([, v]) => v ?? 0));
  const top = 84;
  const height = 236;
  const out = [
    text(20, 30, 'Proxy throughput, requests/s', 'class="h"'),
    text(20, 48, 'wrk -t1 -c50 keep-alive, median of interleaved runs;', 'class="s"'),
    text(20, 62, 'under each bar: its own CPU time per request', 'class="s"'),
  ];
  bars.forEach(([label, value, cpu, color], i) => {
    const x = 40 + i * 90;
    const h = value === null ? 0 : (value / max) * height;
    out.push(`<rect x="${x}" y="${top + height - h}" width="60" height="${h}" fill="${color}" rx="3"/>`);
    out.push(text(x + 30, top + height - h - 6, fmt(value), 'class="v" text-anchor="middle"'));
    out.push(text(x + 30, top + height + 18, label, 'class="l" text-anchor="middle"'));
    out.push(text(x + 30, top + height + 33, `${fmt(cpu)} µs CPU/req`, 'class="s" text-anchor="middle"'));
  });
  out.push(`<line x1="30" y1="${top + height}" x2="390" y2="${top + height}" stroke="#c9ced6"/>`);
  return out.join('\n');
}

/** A measure against its target; the bar is measured ÷ target, with the target at the middle. */
interface TargetRow {
  label: string;
  value: number | null;
  target: number;
  /** How the value reads, e.g. "0.12 ms". */
  shown: string;
  higherIsBetter: boolean;
}

/** Two counts side by side (Baton against nodemon), scaled to the larger. */
interface VersusRow {
  label: string;
  a: [string, number];
  b: [string, number];
}

function targetsPanel(r: BenchResults): string {
  const ratio =
    r.proxy.batonRps !== null && r.proxy.httpProxyRps ? r.proxy.batonRps / r.proxy.httpProxyRps : null;
  const addedP50 =
    r.proxy.batonP50Ms !== null && r.proxy.directP50Ms !== null
      ? r.proxy.batonP50Ms - r.proxy.directP50Ms
      : null;
  const rows: Array<TargetRow | VersusRow> = [
    {
      label: 'Baton ÷ http-proxy-3 throughput (≥ 1×, aim 2×)',
      value: ratio,
      target: 1,
      shown: `${fmt(ratio, 2)}×`,
      higherIsBetter: true,
    },
    {
      label: 'added p50 latency, 1 connection (≤ 0.3 ms)',
      value: addedP50,
      target: 0.3,
      shown: `${fmt(addedP50, 3)} ms`,
      higherIsBetter: false,
    },
    {
      label: `failed answers while the source changed ${r.deploys.count} times under load (Baton: 0)`,
      a: ['Baton', r.deploys.batonFailed],
      b: ['nodemon', r.deploys.nodemonFailed],
    },
    {
      label: 'deploy overhead: save → live, minus the worker boot (≤ 300 ms)',
      value: r.swap.deployOverheadMs,
      target: 300,
      shown: `${fmt(r.swap.deployOverheadMs)} ms`,
      higherIsBetter: false,
    },
    {
      label: 'drain: last holder leaves → worker gone (≤ 1 s)',
      value: r.drain.lastSessionToStoppedMs,
      target: 1000,
      shown: `${fmt(r.drain.lastSessionToStoppedMs)} ms`,
      higherIsBetter: false,
    },
    {
      label: 'gateway RSS with 10,000 sessions (≤ 100 MB)',
      value: r.sessions.gatewayRssMB,
      target: 100,
      shown: `${fmt(r.sessions.gatewayRssMB, 1)} MB`,
      higherIsBetter: false,
    },
  ];
  const x0 = 440;
  const width = 330;
  const out = [
    text(x0, 30, 'Against the targets', 'class="h"'),
    text(x0, 48, 'green: met, red: missed; the dashed line is the target', 'class="s"'),
  ];
  const bar = (y: number, share: number, color: string, height = 14) => {
    out.push(`<rect x="${x0}" y="${y}" width="${width}" height="${height}" fill="#eef0f3" rx="2"/>`);
    out.push(`<rect x="${x0}" y="${y}" width="${share * width}" height="${height}" fill="${color}" rx="2"/>`);
  };
  rows.forEach((row, i) => {
    const y = 78 + i * 48;
    out.push(text(x0, y, row.label, 'class="l"'));
    if ('a' in row) {
      const max = Math.max(1, row.a[1], row.b[1]);
      bar(y + 5, row.a[1] / max, row.a[1] === 0 ? PASS : FAIL, 8);
      bar(y + 16, row.b[1] / max, '#8a939e', 8);
      out.push(text(x0 + width + 8, y + 13, `${row.a[0]} ${fmt(row.a[1])}`, 'class="v"'));
      out.push(text(x0 + width + 8, y + 25, `${row.b[0]} ${fmt(row.b[1])}`, 'class="s"'));
      return;
    }
    const ok = row.value !== null && (row.higherIsBetter ? row.value >= row.target : row.value <= row.target);
    bar(
      y + 6,
      row.value === null ? 0 : Math.min(1, row.value / row.target / 2),
      row.value === null ? '#c9ced6' : ok ? PASS : FAIL,
    );
    out.push(
      `<line x1="${x0 + width / 2}" y1="${y + 2}" x2="${x0 + width / 2}" y2="${y + 24}" stroke="#1b1f24" stroke-dasharray="3 2"/>`,
    );
    out.push(text(x0 + width + 8, y + 18, row.shown, 'class="v"'));
  });
  return out.join('\n');
}

export function renderChart(r: BenchResults): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="400" viewBox="0 0 1000 400" font-family="system-ui, sans-serif">
<style>.h{font-size:16px;font-weight:600;fill:#1b1f24}.s{font-size:11px;fill:#6a737d}.l{font-size:12px;fill:#1b1f24}.v{font-size:12px;font-weight:600;fill:#1b1f24}</style>
<rect width="1000" height="400" fill="#ffffff"/>
${throughputPanel(r)}
${targetsPanel(r)}
${text(20, 390, `${r.date} · ${r.machine}`, 'class="s"')}
</svg>
`;
}
