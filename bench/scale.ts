// The `scale` part of `npm run bench`, also runnable alone: `node out/bench/scale.js` (then it prints and
// stores its numbers under "scale" in bench/results.json). A 10-file app against the same tiny Node worker in a
// folder of 20,000 source files in nested folders plus 50 binary assets of 1 MB, then a 100,000-file tree: one
// file edited per deploy; save → live, gateway RSS after the deploys, the longest wait of a request to the
// live generation while the deploys run, `baton up` → generation 1 live, and the same again after `baton down`
// (the first snapshot then starts from the one kept, process/snapshotKept.ts). BATON_CLI=path/to/cli.js
// measures another build (for before/after numbers).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, REPO, RunningGateway } from '../test/support/gateway';
import { rssMB } from '../test/reliability/proc';
import { table } from '../gateway/cli/table';
import { userBase } from '../gateway/process/snapshotBase';
import { keptPlace } from '../gateway/process/snapshotKept';
import { median, round } from './stats';

type Log = (line: string) => void;

export interface ScaleRun {
  files: number;
  upToLiveMs: number | null;
  /** `baton up` again after `baton down` (a big app's first snapshot then starts from the kept one). */
  againUpToLiveMs?: number | null;
  saveToLiveMs: number | null;
  rssAfterDeploysMB: number | null;
  longestWaitMs: number | null;
}

export interface ScaleResults {
  deploys: number;
  tiny: ScaleRun;
  big: ScaleRun;
  huge: ScaleRun;
}

interface Measured {
  upToLiveMs: number;
  againUpToLiveMs: number;
  saveToLiveMs: number;
  rssAfterDeploysMB: number;
  longestWaitMs: number;
}

const SERVER = `const http = require('node:http');
// edit 0
http.createServer((req, res) => res.end('gen ' + process.env.BATON_GENERATION)).listen(process.env.PORT, '127.0.0.1');
`;

/** An app folder: the tiny worker plus `files` source files (10 per folder, nested 3 deep) and `assets` MB files. */
function makeApp(files: number, assets: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-scale-'));
  fs.writeFileSync(path.join(dir, 'server.js'), SERVER);
  fs.writeFileSync(path.join(dir, 'baton.json'), JSON.stringify({ start: 'node server.js', port: 0 }));
  const text = 'export const x = 1;\n'.repeat(300); // ~6 KB, like source
  for (let i = 0; i < files - 2; i++) {
    const folder = path.join(
      dir,
      'src',
      `m${i % 20}`,
      `p${Math.floor(i / 20) % 7}`,
      `c${Math.floor(i / 140) % 10}`,
    );
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, `f${i}.js`), text);
  }
  const blob = Buffer.alloc(1024 * 1024, 7);
  if (assets) fs.mkdirSync(path.join(dir, 'assets'));
  for (let i = 0; i < assets; i++) fs.writeFileSync(path.join(dir, 'assets', `a${i}.bin`), blob);
  return dir;
}

/** Sends one request after another to the live generation (bare host, no cookies); keeps the longest. */
function prober(port: number): { stop(): Promise<number> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let longest = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const req = http.get(
          { port, host: '127.0.0.1', path: '/', agent, headers: { Host: `localhost:${port}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', () => resolve());
      });
      longest = Math.max(longest, performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return longest;
    },
  };
}

async function measure(dir: string, deploys: number, cli: string, log: Log): Promise<Measured> {
  const t0 = performance.now();
  const gw = await RunningGateway.start(dir, [], false, { cli });
  let probe: ReturnType<typeof prober> | null = null;
  const times: number[] = [];
  try {
    await gw.waitState('generation 1 live', (s) => s.live === 1, 300_000);
    const upToLiveMs = performance.now() - t0;
    probe = prober(gw.port);
    for (let i = 1; i <= deploys; i++) {
      const saved = Date.now();
      fs.writeFileSync(path.join(dir, 'server.js'), SERVER.replace('edit 0', `edit ${i}`));
      const state = await gw.waitState(`gen ${i + 1} live`, (s) => s.live === i + 1, 120_000);
      const ready = state.generations.find((g) => g.id === i + 1)!.readyAt!;
      times.push(Date.parse(ready) - saved);
    }
    const longestWaitMs = await probe.stop();
    const rss = rssMB(gw.child.pid!);
    log(
      `  up → live ${upToLiveMs.toFixed(0)} ms; save → live median ${median(times).toFixed(0)} ms ` +
        `(${times.map((t) => t.toFixed(0)).join(' ')}); RSS ${rss.toFixed(1)} MB; longest wait ${longestWaitMs.toFixed(0)} ms`,
    );
    await gw.stop();
    const againUpToLiveMs = await upToLive(dir, cli);
    log(`  baton down, then up again → live ${againUpToLiveMs.toFixed(0)} ms`);
    return {
      upToLiveMs,
      againUpToLiveMs,
      saveToLiveMs: median(times),
      rssAfterDeploysMB: rss,
      longestWaitMs,
    };
  } finally {
    await probe?.stop();
    await gw.stop();
  }
}

/** `baton up` → generation 1 live, in ms. */
async function upToLive(dir: string, cli: string): Promise<number> {
  const t0 = performance.now();
  const gw = await RunningGateway.start(dir, [], false, { cli });
  try {
    await gw.waitState('generation 1 live', (s) => s.live === 1, 300_000);
    return performance.now() - t0;
  } finally {
    await gw.stop();
  }
}

async function run(files: number, assets: number, deploys: number, cli: string, log: Log): Promise<ScaleRun> {
  log(
    `${files.toLocaleString('en')} files${assets ? ` + ${assets} × 1 MB` : ''}, ${deploys} one-file deploys`,
  );
  const dir = makeApp(files, assets);
  try {
    const r = await measure(dir, deploys, cli, log);
    return {
      files,
      upToLiveMs: round(r.upToLiveMs),
      againUpToLiveMs: round(r.againUpToLiveMs),
      saveToLiveMs: round(r.saveToLiveMs),
      rssAfterDeploysMB: round(r.rssAfterDeploysMB, 1),
      longestWaitMs: round(r.longestWaitMs),
    };
  } finally {
    fs.rmSync(keptPlace(userBase(), dir), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchScale(log: Log, cli = CLI): Promise<ScaleResults> {
  const deploys = 10;
  log(
    `apps and snapshots in ${os.tmpdir()} (TMPDIR): the first copy of a big app follows how fast that disk creates files`,
  );
  const tiny = await run(10, 0, deploys, cli, log);
  const big = await run(20_000, 50, deploys, cli, log);
  const huge = await run(100_000, 0, 3, cli, log);
  return { deploys, tiny, big, huge };
}

/** The targets, as lines of a table: measure, value, target, verdict. */
export function scaleRows(s: ScaleResults): string[][] {
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  const ok = (pass: boolean | null) => (pass === null ? '-' : pass ? 'ok' : 'MISSED');
  const ratio =
    s.big.saveToLiveMs !== null && s.tiny.saveToLiveMs ? s.big.saveToLiveMs / s.tiny.saveToLiveMs : null;
  const rssAdded =
    s.big.rssAfterDeploysMB !== null && s.tiny.rssAfterDeploysMB !== null
      ? s.big.rssAfterDeploysMB - s.tiny.rssAfterDeploysMB
      : null;
  const longest = Math.max(s.tiny.longestWaitMs ?? 0, s.big.longestWaitMs ?? 0);
  return [
    [
      'save → live, 10 / 20,000 files',
      `${ms(s.tiny.saveToLiveMs)} / ${ms(s.big.saveToLiveMs)}`,
      '≤ 1.5×',
      ok(ratio === null ? null : ratio <= 1.5),
    ],
    [
      `gateway RSS after ${s.deploys} deploys, 10 / 20,000`,
      `${s.tiny.rssAfterDeploysMB} / ${s.big.rssAfterDeploysMB} MB`,
      '≤ tiny + 40 MB',
      ok(rssAdded === null ? null : rssAdded <= 40),
    ],
    [
      'longest request wait during deploys, 10 / 20,000',
      `${ms(s.tiny.longestWaitMs)} / ${ms(s.big.longestWaitMs)}`,
      '≤ 100 ms',
      ok(longest <= 100),
    ],
    [
      'baton up → gen 1 live, 10 / 20,000',
      `${ms(s.tiny.upToLiveMs)} / ${ms(s.big.upToLiveMs)}`,
      '≤ 3000 ms',
      ok(s.big.upToLiveMs === null ? null : s.big.upToLiveMs <= 3000),
    ],
    [
      'baton up again (after down) → gen 1 live, 10 / 20,000',
      `${ms(s.tiny.againUpToLiveMs ?? null)} / ${ms(s.big.againUpToLiveMs ?? null)}`,
      '≤ 3000 ms',
      ok(s.big.againUpToLiveMs == null ? null : s.big.againUpToLiveMs <= 3000),
    ],
    [
      '100,000 files: up → live / again / save → live',
      `${ms(s.huge.upToLiveMs)} / ${ms(s.huge.againUpToLiveMs ?? null)} / ${ms(s.huge.saveToLiveMs)}`,
      '',
      '',
    ],
    [
      '100,000 files: RSS / longest wait',
      `${s.huge.rssAfterDeploysMB} MB / ${ms(s.huge.longestWaitMs)}`,
      '',
      '',
    ],
  ];
}

if (require.main === module) {
  const log: Log = (line) => process.stdout.write(line + '\n');
  const cli = process.env.BATON_CLI ? path.resolve(process.env.BATON_CLI) : CLI;
  benchScale(log, cli)
    .then((scale) => {
      log('\n' + table([['measure', 'value', 'target', ''], ...scaleRows(scale)], '   '));
      if (cli !== CLI) return log(`(measured ${cli}: bench/results.json left as it was)`);
      const file = path.join(REPO, 'bench', 'results.json');
      const results = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(file, JSON.stringify({ ...results, scale }, null, 2) + '\n');
      log('wrote the "scale" numbers into bench/results.json');
    })
    .catch((err: Error) => {
      process.stderr.write(`bench scale: ${err.stack ?? err.message}\n`);
      process.exit(1);
    });
}
