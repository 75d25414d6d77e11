// Where workers listen: a hard-coded port in a Node app is moved to $PORT (two generations at once), one
// elsewhere fails at once naming the port and the fix in the app's language, a worker on ::1 only is reached
// there, and a generation that is still starting answers "not live yet", never "gone".
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Browser,
  REPO,
  request,
  RunningGateway,
  openSocket,
  closeSocket,
  writeApp,
} from '../support/gateway';
import { gatedAppWithStartingGeneration, type GatedApp } from '../support/gatedApp';

const EXPRESS_APP = `const express = require('express');
const app = express();
app.get('/', (req, res) => res.type('html').send('<!doctype html><html><head><title>x</title></head><body>express ' + process.env.BATON_GENERATION + '</body></html>'));
app.get('/info', (req, res) => res.json({ generation: Number(process.env.BATON_GENERATION), port: req.socket.localPort }));
app.listen(3000, () => console.log('Express started on port 3000'));
`;

/** A port nobody listens on right now (the apps below hard-code it). */
function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function withNodeModules(dir: string): string {
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

describe('an Express app that calls app.listen(3000)', () => {
  let gw: RunningGateway;
  before(async () => {
    const dir = withNodeModules(writeApp({ 'server.js': EXPRESS_APP }, { start: 'node server.js' }));
    gw = await RunningGateway.start(dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('is moved to $PORT, says so once, and runs as two generations at once', async () => {
    const old = new Browser(gw.port, gw.host(1));
    await old.navigate('/');
    const first = JSON.parse((await old.get('/info')).body);
    assert.equal(first.generation, 1);
    await gw.waitState('a session on gen 1', (s) => s.generations[0].sessions === 1);

    await gw.client!.deploy();
    const state = await gw.waitState('gen 2 live, gen 1 draining', (s) => s.live === 2, 30_000);
    assert.equal(state.generations[0].state, 'draining');
    const ports = state.generations.map((g) => g.port);
    assert.equal(first.port, ports[0]);

    const again = JSON.parse((await old.get('/info')).body);
    const fresh = JSON.parse((await new Browser(gw.port, gw.host(2)).get('/info')).body);
    assert.deepEqual(
      [again, fresh],
      [
        { generation: 1, port: ports[0] },
        { generation: 2, port: ports[1] },
      ],
    );
    for (const id of [1, 2]) {
      const logs = await gw.client!.logs(id);
      const notes = logs.match(/\[baton\] the app asked for port 3000; Baton moved it to \$PORT \((\d+)\)/g);
      assert.deepEqual(notes, [
        `[baton] the app asked for port 3000; Baton moved it to $PORT (${ports[id - 1]})`,
      ]);
    }
  });
});

describe('a worker that listens on another port than $PORT', () => {
  const failures: RunningGateway[] = [];
  after(() => Promise.all(failures.map((gw) => gw.dispose())));

  /** Starts `files` and waits for generation 1 to fail; returns its reason. */
  async function failure(files: Record<string, string>, config: Record<string, unknown>): Promise<string> {
    const gw = await RunningGateway.start(writeApp(files, config), ['--no-watch'], false);
    failures.push(gw);
    const state = await gw.waitState('gen 1 failed', (s) => s.generations[0]?.state === 'failed', 30_000);
    return state.generations[0].reason!;
  }

  it('Python: fails at once, naming the port and the fix in Python', async () => {
    const port = await unusedPort();
    const reason = await failure(
      {
        'app.py': `from http.server import HTTPServer, BaseHTTPRequestHandler
class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello")
print("serving on ${port}", flush=True)
HTTPServer(("127.0.0.1", ${port}), Hello).serve_forever()
`,
      },
      { start: 'python3 -u app.py' },
    );
    assert.match(
      reason,
      new RegExp(
        `^the app listens on 127\\.0\\.0\\.1:${port}, not on \\$PORT \\(\\d+\\)\\. Make it use the PORT environment variable, e\\.g\\. port=int\\(os\\.environ\\["PORT"\\]\\)`,
      ),
    );
  });

  it('Node with "adoptPort": false: fails at once, naming the port and the fix in JavaScript', async () => {
    const port = await unusedPort();
    const reason = await failure(
      {
        'server.js': `require('node:http').createServer((q, s) => s.end('hi')).listen(${port}, '127.0.0.1');`,
      },
      { start: 'node server.js', adoptPort: false },
    );
    assert.match(
      reason,
      new RegExp(
        `^the app listens on 127\\.0\\.0\\.1:${port}, not on \\$PORT \\(\\d+\\)\\. Make it use the PORT environment variable, e\\.g\\. app\\.listen\\(process\\.env\\.PORT\\)$`,
      ),
    );
  });
});

describe('a worker bound to ::1 only', () => {
  let gw: RunningGateway;
  before(async () => {
    const server = `const http = require('node:http');
const { WebSocketServer } = require('ws');
const server = http.createServer((req, res) => res.end('v6 ' + process.env.BATON_GENERATION + ' ' + req.socket.localAddress));
new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (m) => ws.send(JSON.stringify({ echo: String(m) }))));
server.listen(Number(process.env.PORT), '::1');
`;
    const dir = withNodeModules(writeApp({ 'server.js': server }, { start: 'node server.js' }));
    gw = await RunningGateway.start(dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('becomes live, and its requests and WebSockets are proxied to ::1', async () => {
    const reply = await request(gw.port, { host: gw.host(1), path: '/' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'v6 1 ::1');
    const socket = await openSocket(gw.port, gw.host(1), '/');
    socket.ws.send('ping');
    assert.deepEqual(await socket.message(), { echo: 'ping' });
    await closeSocket(socket.ws);
  });
});

describe('a generation that is still starting', () => {
  let app: GatedApp;
  let gw: RunningGateway;
  before(async () => {
    app = await gatedAppWithStartingGeneration();
    gw = app.gw;
  });
  after(() => gw.dispose());

  it('answers a page load with a page that waits for it, never "gone"', async () => {
    const page = await new Browser(gw.port, gw.host(2)).navigate('/cart');
    assert.equal(page.status, 503);
    assert.match(page.headers['content-type']!, /^text\/html/);
    assert.match(page.body, /Generation 2 is not live yet/);
    assert.match(page.body, /Generation 2 is starting/);
    assert.match(page.body, /waiting for .*\.gate\.2/); // its output so far
    assert.doesNotMatch(page.body, /gone/i);
  });

  it('answers other requests with 503 JSON, and tells its page its state', async () => {
    const reply = await request(gw.port, { host: gw.host(2), headers: { Accept: 'application/json' } });
    assert.equal(reply.status, 503);
    assert.deepEqual(JSON.parse(reply.body), {
      error: 'Generation 2 is starting: it is not live yet.',
      generation: 2,
      state: 'starting',
      live: 1,
    });
    const live = await request(gw.port, { host: gw.host(2), path: '/__baton/live' });
    assert.deepEqual(JSON.parse(live.body), { live: 1, state: 'starting' });
  });

  it('serves the page once it is live', async () => {
    app.open(2);
    await gw.waitState('gen 2 live', (s) => s.live === 2, 30_000);
    const live = await request(gw.port, { host: gw.host(2), path: '/__baton/live' });
    assert.deepEqual(JSON.parse(live.body), { live: 2, state: 'live' });
    const page = await new Browser(gw.port, gw.host(2)).navigate('/');
    assert.equal(page.status, 200);
    assert.match(page.body, /gated 2/);
  });
});
