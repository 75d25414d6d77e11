// Sockets another local user can bind before Baton's own: a worker's $PORT on the other loopback address
// (the readiness probe must reach only a socket of the worker's own processes). When the tests run as root,
// the listener runs as `nobody` against a gateway run by root; otherwise as another process of this user.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { request, RunningGateway, tinyApp, waitFor } from '../support/gateway';
import { isRoot, NOBODY, sharedTemp } from './users';

const temps: string[] = [];
const started: ChildProcess[] = [];

/** An HTTP server on `host`:`port` run by `nobody` (root) or this user; resolves once it listens. */
async function strangerListens(host: string, port: number): Promise<ChildProcess> {
  const script = `require('node:http').createServer((q, s) => s.end('not the app')).listen(${port}, '${host}', () => console.log('listening'));`;
  const child = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: '/',
    ...(isRoot ? NOBODY : {}),
  });
  started.push(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (output += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (output += t));
  await waitFor(`the stranger to listen on ${host}:${port}`, () => {
    if (child.exitCode !== null) throw new Error(`the stranger exited: ${output}`);
    return output.includes('listening');
  });
  return child;
}

/**
 * A worker that writes $PORT to `<signals>/port`, then waits for `<signals>/go` before it listens on
 * `listenHost`:$PORT, like a framework slow to bind whose port shows in `ps`.
 */
function lateApp(listenHost: string): { dir: string; signals: string } {
  const signals = sharedTemp();
  temps.push(signals);
  const late = `const fs = require('node:fs');
const signals = process.env.SIGNALS;
fs.writeFileSync(signals + '/port', process.env.PORT);
process.env.HOST = process.env.LISTEN_HOST;
const wait = () => (fs.existsSync(signals + '/go') ? require('./server.js') : setTimeout(wait, 20));
wait();`;
  const { dir } = tinyApp(
    { start: 'node late.js', env: { SIGNALS: signals, LISTEN_HOST: listenHost } },
    { 'late.js': late },
  );
  temps.push(dir);
  return { dir, signals };
}

const portOf = (signals: string) =>
  waitFor(
    'the worker to write its $PORT',
    () => {
      const text =
        fs.existsSync(path.join(signals, 'port')) && fs.readFileSync(path.join(signals, 'port'), 'utf8');
      return text ? Number(text) : null;
    },
    20_000,
  );

describe("a worker's $PORT", () => {
  after(() => {
    for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(
    isRoot
      ? 'bound on [::1] by another user (nobody) before the worker fails the generation, naming them'
      : 'bound on [::1] by another process before the worker fails the generation, naming it (not root)',
    async () => {
      const { dir, signals } = lateApp('127.0.0.1');
      const gw = await RunningGateway.start(dir, ['--no-watch'], false);
      try {
        const port = await portOf(signals);
        const stranger = await strangerListens('::1', port);
        const state = await gw.waitState(
          'generation 1 to fail or go live',
          (s) => s.live !== null || s.generations[0]?.state === 'failed',
          30_000,
        );
        assert.equal(state.live, null, 'the generation went live on a socket its worker does not own');
        const reason = state.generations[0].reason ?? '';
        const user = isRoot ? 'nobody' : os.userInfo().username;
        assert.match(
          reason,
          new RegExp(
            `^another process \\(pid ${stranger.pid} \`node\`, user ${user}\\) listens on \\[::1\\]:${port}, the worker's \\$PORT`,
          ),
        );
        assert.doesNotMatch(gw.output, /gen 1 +live/);
      } finally {
        await gw.dispose();
      }
    },
  );

  for (const host of ['127.0.0.1', '::1']) {
    it(`a worker that binds late on ${host} alone goes live and is served there`, async () => {
      const { dir, signals } = lateApp(host);
      const gw = await RunningGateway.start(dir, ['--no-watch'], false);
      try {
        await portOf(signals);
        fs.writeFileSync(path.join(signals, 'go'), '');
        await gw.waitState('generation 1 live', (s) => s.live === 1, 30_000);
        const reply = await request(gw.port, { host: gw.host(1), path: '/info' });
        assert.equal(reply.status, 200);
        assert.equal(JSON.parse(reply.body).generation, 1);
      } finally {
        await gw.dispose();
      }
    });
  }
});
