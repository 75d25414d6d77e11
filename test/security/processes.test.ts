// Processes that try to outlive the gateway (a child that starts its own session and clears its
// environment, a build's child), and two gateways started for one folder at the same moment.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { isAlive } from '../../gateway/protocol/procStat';
import { readGatewayFile } from '../../gateway/protocol/controlClient';
import { RunningGateway, tinyApp, waitFor } from '../support/gateway';
import { servesOrExits, stop, up } from './users';

const dirs: string[] = [];
const readPid = (file: string) => {
  const pid = Number(fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim());
  return pid > 0 ? pid : null;
};

describe('processes that try to escape', () => {
  after(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a worker child in its own session with an empty environment dies with a SIGKILLed gateway', async () => {
    const { dir } = tinyApp(
      {},
      {
        'escape.js': `require('node:child_process').spawn('setsid', ['env', '-i', 'sh', '-c', 'echo $$ > escaped.pid; exec sleep 600'], { stdio: 'ignore' });
require('./server.js');`,
      },
    );
    dirs.push(dir);
    fs.writeFileSync(
      path.join(dir, 'baton.json'),
      JSON.stringify({ port: 0, start: 'node escape.js', env: {} }),
    );
    const gw = await RunningGateway.start(dir, ['--no-watch']);
    const pidFile = await waitFor('the escaped child', () => {
      for (const name of fs.readdirSync('/proc')) {
        try {
          const file = path.join(fs.readlinkSync(`/proc/${name}/cwd`), 'escaped.pid');
          if (/^\d+$/.test(name) && readPid(file)) return file;
        } catch {
          // not ours to look at
        }
      }
      return null;
    });
    const escaped = readPid(pidFile)!;
    assert.ok(isAlive(escaped));
    gw.child.kill('SIGKILL');
    await waitFor('the escaped child to die', () => !isAlive(escaped), 20_000);
    await gw.dispose();
  });

  it('a build child in its own session dies with a gateway SIGKILLed during the build', async () => {
    const { dir } = tinyApp({
      build: "setsid sh -c 'echo $$ > build-escaped.pid; exec sleep 600' & exec sleep 600",
    });
    dirs.push(dir);
    const gw = await RunningGateway.start(dir, ['--no-watch'], false);
    const pidFile = path.join(dir, 'build-escaped.pid');
    const escaped = await waitFor('the build child', () => readPid(pidFile), 20_000);
    assert.ok(isAlive(escaped));
    gw.child.kill('SIGKILL');
    await waitFor('the build child to die', () => !isAlive(escaped), 20_000);
    await gw.dispose();
  });

  it('of two `baton up` started at the same moment for one folder, exactly one runs', async () => {
    for (let round = 0; round < 3; round++) {
      const { dir } = tinyApp();
      dirs.push(dir);
      const runs = [up(dir, null), up(dir, null)];
      const serving = await Promise.all(runs.map(servesOrExits));
      try {
        assert.equal(serving.filter(Boolean).length, 1, runs.map((r) => r.output).join('\n---\n'));
        const winner = runs[serving.indexOf(true)];
        const loser = runs[serving.indexOf(false)];
        assert.equal(await loser.exited, 1);
        assert.match(loser.output, new RegExp(`pid ${winner.child.pid}\\b.*baton down`));
        assert.equal(readGatewayFile(dir)?.pid, winner.child.pid);
      } finally {
        await Promise.all(runs.map(stop));
      }
    }
  });
});
