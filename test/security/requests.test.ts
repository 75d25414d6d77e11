// Requests as an attacker sends them: header values Node refuses, cross-site and open-redirect uses of
// `/__baton/new`, pipelined and abandoned requests, upgrades a worker never answers, huge cookies, too
// many connections, an editor that stops reading, and header tricks. Each must cost that one request at
// most, and nothing may hold a generation forever.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readGatewayFile } from '../../gateway/protocol/controlClient';
import { rawExchange, request, RunningGateway, waitFor, writeApp } from '../support/gateway';

/** A worker with the routes these tests need; it never answers a WebSocket upgrade. */
const WORKER = `const http = require('node:http');
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://worker');
  if (url.pathname === '/headers') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify(req.headers));
  }
  if (url.pathname === '/slow') {
    const timer = setTimeout(() => res.end('slow'), 600000);
    return res.on('close', () => clearTimeout(timer));
  }
  if (url.pathname === '/spew') {
    const line = 'x'.repeat(1023) + '\\n';
    for (let i = 0; i < Number(url.searchParams.get('mb')) * 1024; i++) process.stdout.write(line);
    process.stdout.write('spewed\\n');
    return res.end('done');
  }
  if (url.pathname === '/upgrades') return res.end(String(upgrades.size));
  res.end('ok');
});
const upgrades = new Set();
server.on('upgrade', (req, socket) => {
  // Reads (so it notices when the gateway gives up) but never answers.
  upgrades.add(socket);
  socket.resume();
  socket.on('end', () => socket.destroy());
  socket.on('close', () => upgrades.delete(socket));
});
server.listen(Number(process.env.PORT), '127.0.0.1');
`;

/** A worker in Python whose reason phrase Node refuses to send as it is. */
const PYTHON_WORKER = `import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        self.send_response(200, 'Olé')
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), Handler).serve_forever()
`;

/** Opens a raw connection and sends `text`; the socket, and the answer so far. */
function rawSocket(port: number, text: string): Promise<{ socket: net.Socket; answer: () => string }> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(text);
      resolve({ socket, answer: () => answer });
    });
    socket.setEncoding('utf8').on('data', (t: string) => (answer += t));
    socket.on('error', reject);
  });
}

/** Bytes that arrived for `socket` and that it has not read yet (its receive queue, from /proc/net/tcp). */
function unread(socket: net.Socket): number {
  const local = `:${socket.localPort!.toString(16).toUpperCase().padStart(4, '0')}`;
  const remote = `:${socket.remotePort!.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, from, to, , queues] = line.trim().split(/\s+/);
    if (from?.endsWith(local) && to?.endsWith(remote)) return parseInt(queues.split(':')[1], 16);
  }
  return 0;
}

describe('requests an attacker sends', () => {
  let gw: RunningGateway;
  const inflight = async () => (await gw.state()).generations.find((g) => g.id === 1)!.inflight;

  before(async () => {
    process.env.BATON_UPGRADE_TIMEOUT_MS = '3000';
    gw = await RunningGateway.start(writeApp({ 'server.js': WORKER }, { start: 'node server.js' }), [
      '--no-watch',
    ]);
  });
  after(async () => {
    delete process.env.BATON_UPGRADE_TIMEOUT_MS;
    await gw.dispose();
  });

  it('/__baton/new sends control and non-ASCII characters encoded, and the gateway lives on', async () => {
    for (const [query, location] of [
      ['%2F%0a', '/'],
      ['%2Fa%00b', '/a%00b'],
      ['%2F%7f', '/%7F'],
      ['%2F%C4%80', '/%C4%80'],
      ['%2F%E2%80%A8', '/%E2%80%A8'],
      ['%2Fa%0d%0aSet-Cookie:%20x=1', '/aSet-Cookie:%20x=1'],
      ['%2Fcart%3Fq%3D%C3%A9', '/cart?q=%C3%A9'],
    ]) {
      const reply = await request(gw.port, { path: `/__baton/new?path=${query}` });
      assert.equal(reply.status, 303, query);
      assert.equal(reply.headers.location, location, query);
    }
    assert.equal(gw.child.exitCode, null);
    assert.equal((await request(gw.port, { host: gw.host(1), path: '/' })).status, 200);
  });

  it('/__baton/new never redirects to another site', async () => {
    for (const query of [
      '%2F%09%2Fevil.example',
      '%2F%5C%09evil.example',
      '%2F%0A%2Fevil.example',
      '%2F%2F%2Fevil.example',
    ]) {
      const reply = await request(gw.port, { path: `/__baton/new?path=${query}` });
      assert.equal(reply.headers.location, '/', query);
    }
  });

  it('/__baton/new and the control API refuse cross-site requests; same-origin and typed-in ones pass', async () => {
    const token = readGatewayFile(gw.dir)!.token;
    for (const headers of [
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site' },
      { Origin: 'http://evil.example' },
      { Origin: 'null' },
    ]) {
      const reply = await request(gw.port, { path: '/__baton/new?path=%2Fx', headers });
      assert.equal(reply.status, 403, JSON.stringify(headers));
      assert.equal(reply.headers['set-cookie'], undefined);
      const api = await request(gw.port, {
        path: '/__baton/api/state',
        headers: { ...headers, Authorization: `Bearer ${token}` },
      });
      assert.equal(api.status, 403, JSON.stringify(headers));
    }
    for (const headers of [
      {},
      { 'Sec-Fetch-Site': 'none' },
      { 'Sec-Fetch-Site': 'same-origin', Origin: `http://localhost:${gw.port}` },
    ]) {
      const reply = await request(gw.port, { path: '/__baton/new?path=%2Fx', headers });
      assert.equal(reply.status, 303, JSON.stringify(headers));
    }
  });

  it('releases pipelined requests the client abandons with answers still queued', async () => {
    const lines = [`GET /slow HTTP/1.1\r\nHost: ${gw.host(1)}\r\n\r\n`];
    for (let i = 0; i < 19; i++) lines.push(`GET /fast HTTP/1.1\r\nHost: ${gw.host(1)}\r\n\r\n`);
    const { socket } = await rawSocket(gw.port, lines.join(''));
    await waitFor('20 requests in flight', async () => (await inflight()) === 20, 20_000);
    socket.destroy();
    await waitFor('none left in flight', async () => (await inflight()) === 0, 20_000);
  });

  it('gives up a WebSocket upgrade the worker never answers, releasing both sockets', async () => {
    const upgrade =
      `GET /ws HTTP/1.1\r\nHost: ${gw.host(1)}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
    // One client waits, one half-closes (as a browser tab that navigated away may), one aborts.
    const waiting = await rawSocket(gw.port, upgrade);
    const halfClosed = await rawSocket(gw.port, upgrade);
    const aborted = await rawSocket(gw.port, upgrade);
    await waitFor('3 upgrades in flight', async () => (await inflight()) === 3, 20_000);
    halfClosed.socket.end();
    aborted.socket.destroy();
    const closed = new Promise((resolve) => waiting.socket.once('close', resolve));
    await waitFor('no upgrade left in flight', async () => (await inflight()) === 0, 30_000);
    await closed;
    const upgrades = async () => (await request(gw.port, { host: gw.host(1), path: '/upgrades' })).body;
    await waitFor('the worker holds no upgrade connection', async () => (await upgrades()) === '0', 20_000);
  });

  it('does not keep a session for a huge baton_sid cookie, and issues a proper one', async () => {
    const huge = 'A'.repeat(12_000); // the worker (Node) refuses heads over 16 KB
    const reply = await request(gw.port, {
      host: gw.host(1),
      path: '/',
      headers: { Cookie: `baton_sid=${huge}` },
    });
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['set-cookie']), /baton_sid=[A-Za-z0-9_-]{22};/);
    const state = await gw.state();
    assert.ok(!state.sessions.some((s) => s.id.startsWith('1-AAAAAAAA')), JSON.stringify(state.sessions));
  });

  it('drops an events client that stops reading instead of buffering the output for it', async () => {
    const token = readGatewayFile(gw.dir)!.token;
    // A raw socket that never reads: the gateway's writes fill the kernel's buffers, then its own.
    const socket = net.connect(gw.port, '127.0.0.1', () => {
      socket.write(
        `GET /__baton/api/events?logs=1 HTTP/1.1\r\nHost: localhost:${gw.port}\r\nAuthorization: Bearer ${token}\r\n` +
          `Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
      socket.pause(); // nothing is read from now on: what arrives stays in the kernel
    });
    await waitFor('the 101 in the kernel', () => unread(socket) > 0);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    assert.equal((await request(gw.port, { host: gw.host(1), path: '/spew?mb=64' })).body, 'done');
    await waitFor('the gateway to pass on all the output', async () =>
      (await gw.client!.logs(1)).endsWith('spewed\n'),
    );
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.resume();
    await closed;
    // Loopback's kernel buffers alone take up to 36 MB here (tcp_rmem, tcp_wmem).
    assert.ok(received < 48 * 1024 * 1024, `${received} bytes reached the slow client`);
  });

  it('answers a non-WebSocket upgrade and a repeated Host with 400', async () => {
    const h2c = await rawExchange(
      gw.port,
      `GET / HTTP/1.1\r\nHost: ${gw.host(1)}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
    );
    assert.match(h2c, /^HTTP\/1\.1 400 [^]*WebSocket only/);
    const twice = await rawExchange(
      gw.port,
      `GET / HTTP/1.1\r\nHost: ${gw.host(1)}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
    );
    assert.match(twice, /^HTTP\/1\.1 400 [^]*more than one Host/);
  });

  it('sets X-Forwarded-Host itself, and X-Forwarded-Port from an IPv6 Host', async () => {
    const forged = await request(gw.port, {
      host: gw.host(1),
      path: '/headers',
      headers: { 'X-Forwarded-Host': 'evil.example' },
    });
    assert.equal(JSON.parse(forged.body)['x-forwarded-host'], gw.host(1));
    const v6 = await request(gw.port, {
      host: `[::1]:${gw.port}`,
      path: '/headers',
      headers: { Cookie: 'baton_gen=1' },
    });
    assert.equal(JSON.parse(v6.body)['x-forwarded-port'], String(gw.port));
  });

  it('is still up after all of that', () => {
    assert.equal(gw.child.exitCode, null);
    assert.doesNotMatch(gw.output, /internal error|uncaught/i);
  });
});

describe('a worker reason phrase Node refuses (Python send_response(200, "Olé"))', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(
      writeApp({ 'server.py': PYTHON_WORKER }, { start: 'python3 server.py' }),
      ['--no-watch'],
    );
  });
  after(() => gw.dispose());

  it('passes the answer on with the standard phrase', async () => {
    const answer = await rawExchange(
      gw.port,
      `GET / HTTP/1.1\r\nHost: ${gw.host(1)}\r\nConnection: close\r\n\r\n`,
      20_000,
    );
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answer, /\r\n\r\nok$/);
  });
});

describe('connections', () => {
  it('caps client connections below the descriptor limit and says so once', async () => {
    // A low descriptor limit for this gateway only: its cap becomes 64 connections.
    const dir = writeApp({ 'server.js': WORKER }, { start: 'node server.js' });
    const gw = await RunningGateway.start(dir, ['--no-watch'], true, { shell: 'ulimit -n 256; exec' });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 80; i++) sockets.push((await rawSocket(gw.port, '')).socket);
      await waitFor('the limit line', () => /64 client connections are open/.test(gw.output), 20_000);
      for (const socket of sockets) socket.destroy();
      const reply = await waitFor('a request to pass again', async () => {
        const r = await request(gw.port, { host: gw.host(1), path: '/' });
        return r.status === 200 ? r : null;
      });
      assert.equal(reply.body, 'ok');
      assert.equal(gw.output.match(/client connections are open/g)!.length, 1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await gw.dispose();
    }
  });
});
