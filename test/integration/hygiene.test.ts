// No orphan process survives the gateway (ARCHITECTURE.md, "How a deploy flows"): a SIGKILLed `baton up` is
// cleaned up by its watchdog; a SIGTERMed one stops every worker and removes its files.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import {
  pidAlive,
  request,
  runCli,
  RunningGateway,
  taggedProcesses,
  tinyApp,
  waitFor,
} from '../support/gateway';

/** Processes whose command line mentions every one of `parts`. */
function processesRunning(...parts: string[]): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
        return parts.every((p) => cmdline.includes(p)) && pidAlive(Number(name));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('process hygiene', () => {
  let gw: RunningGateway | null = null;
  afterEach(() => gw?.dispose());

  /** A gateway whose worker has a child in its own session (setsid), which escapes the process group. */
  async function start() {
    const app = tinyApp({ start: 'setsid sleep 300 & exec node server.js' });
    gw = await RunningGateway.start(app.dir, ['--no-watch']);
    const workers = taggedProcesses(`BATON_TEST_TAG=${app.tag}`);
    assert.ok(workers.length >= 2, `the worker and its setsid child, found ${workers.length}`);
    const { cwd } = JSON.parse((await request(gw.port, { host: gw.host(1), path: '/info' })).body) as {
      cwd: string;
    };
    // The snapshot lives in <tmp>/baton-<uid>/<gateway id>/g1: the gateway id names its watchdog too.
    const snapshots = path.dirname(cwd);
    return { tag: app.tag, workers, snapshots, gatewayId: path.basename(snapshots) };
  }

  it('a SIGKILLed gateway leaves no worker behind, a setsid grandchild included, within 2 s', async () => {
    const { tag, workers, snapshots, gatewayId } = await start();
    const watchdogs = processesRunning('watchdog.js', gatewayId);
    assert.equal(watchdogs.length, 1, 'one watchdog runs beside the gateway');
    const t0 = Date.now();
    gw!.child.kill('SIGKILL');
    await waitFor(
      'every worker process gone',
      () => taggedProcesses(`BATON_TEST_TAG=${tag}`).length === 0,
      2000,
    );
    assert.ok(workers.every((pid) => !pidAlive(pid)));
    assert.ok(Date.now() - t0 < 2000);
    await waitFor('the watchdog gone too', () => !pidAlive(watchdogs[0]), 5000);

    const status = await runCli(['status', gw!.dir]);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /^baton: no gateway is running for /);
    fs.rmSync(snapshots, { recursive: true, force: true }); // nobody is left to remove them
  });

  it('a SIGTERMed gateway stops every worker, removes gateway.json and its snapshots, and exits 0', async () => {
    const { tag, workers, snapshots, gatewayId } = await start();
    const gatewayFile = path.join(gw!.dir, '.baton', 'gateway.json');
    assert.ok(fs.existsSync(gatewayFile));
    const exited = new Promise<number | null>((resolve) => gw!.child.once('exit', (code) => resolve(code)));
    gw!.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(!fs.existsSync(gatewayFile), 'gateway.json removed');
    assert.ok(fs.existsSync(path.join(gw!.dir, '.baton', '.gitignore')));
    assert.deepEqual(taggedProcesses(`BATON_TEST_TAG=${tag}`), []);
    assert.ok(workers.every((pid) => !pidAlive(pid)));
    assert.ok(!fs.existsSync(snapshots), 'snapshots removed');
    assert.match(gw!.output, /SIGTERM: stopping every worker/);
    await waitFor('the watchdog gone', () => processesRunning('watchdog.js', gatewayId).length === 0, 3000);
  });
});
