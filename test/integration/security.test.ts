// The gateway's security rules and its robustness against bad clients (README, "Security"): the Host
// allow-list, the control API token, Origin checks, no wildcard CORS, gateway.json's mode, and malformed or
// aborted requests that never crash it nor leak a socket.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readGatewayFile } from '../../gateway/protocol/controlClient';
import {
  closeSocket,
  connectionsTo,
  openSocket,
  rawExchange,
  request as plainRequest,
  RunningGateway,
  tinyApp,
  waitFor,
  type Reply,
} from '../support/gateway';

describe('security and robustness', () => {
  let gw: RunningGateway;
  let token: string;
  /** Every reply this file gets, to check that none carries a CORS header. */
  const replies: Reply[] = [];
  const request = async (...args: Parameters<typeof plainRequest>) => {
    const reply = await plainRequest(...args);
    replies.push(reply);
    return reply;
  };
  const api = (p: string, headers: Record<string, string> = {}, method = 'GET') =>
    request(gw.port, { path: `/__baton/api${p}`, method, headers });

  before(async () => {
    gw = await RunningGateway.start(tinyApp({ allowedHosts: ['dev.example.test'] }).dir, ['--no-watch']);
    token = readGatewayFile(gw.dir)!.token;
  });
  after(() => gw.dispose());

  it('refuses a Host that is not loopback, *.localhost or allowed, with 403 (DNS rebinding)', async () => {
    for (const host of [
      'evil.example',
      'g1.localhost.evil.example',
      '127.0.0.2',
      `192.168.1.20:${gw.port}`,
      'localhost.evil',
    ]) {
      const reply = await request(gw.port, {
        host,
        headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' },
      });
      assert.equal(reply.status, 403, host);
      assert.match(reply.body, /allowedHosts/);
      assert.equal(reply.headers['x-baton-generation'], undefined, 'never reaches a worker');
    }
    await assert.rejects(openSocket(gw.port, 'evil.example', '/ws'), /refused with 403/);
    await assert.rejects(
      openSocket(gw.port, 'evil.example', '/__baton/api/events', { Authorization: `Bearer ${token}` }),
      /refused with 403/,
    );
  });

  it('answers localhost, 127.0.0.1, [::1] and a configured host', async () => {
    for (const host of [
      `localhost:${gw.port}`,
      `127.0.0.1:${gw.port}`,
      `[::1]:${gw.port}`,
      'dev.example.test',
    ]) {
      const reply = await request(gw.port, { host, path: '/info', headers: { Accept: 'application/json' } });
      assert.equal(reply.status, 200, host);
    }
  });

  it('answers a malformed or missing Host with 400', async () => {
    for (const host of ['exa mple.com', 'localhost:99999999', 'user@localhost', '[::1']) {
      const answer = await rawExchange(
        gw.port,
        `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      assert.match(answer, /^HTTP\/1\.1 400 /, host);
    }
    assert.match(
      await rawExchange(gw.port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n'),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(await rawExchange(gw.port, 'GET / HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 400 /);
  });

  it('answers an absolute-form request target with 400, never proxying it', async () => {
    const answer = await rawExchange(
      gw.port,
      `GET http://evil.example/ HTTP/1.1\r\nHost: localhost:${gw.port}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.doesNotMatch(answer, /X-Baton-Generation/i);
  });

  it('the control API needs the token, and refuses browsers', async () => {
    assert.equal((await api('/state')).status, 401);
    assert.equal((await api('/state', { Authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await api('/state', { Authorization: 'Bearer ' })).status, 401);
    assert.equal((await api('/state', { Authorization: token })).status, 401, 'the scheme is required');
    assert.equal((await api('/state', { Authorization: `Bearer ${token}x` })).status, 401);
    assert.equal((await api('/deploy', {}, 'POST')).status, 401);
    assert.equal((await api('/shutdown', { Authorization: 'Bearer nope' }, 'POST')).status, 401);
    const fromPage = await api('/state', {
      Authorization: `Bearer ${token}`,
      Origin: `http://localhost:${gw.port}`,
    });
    assert.equal(fromPage.status, 403);
    const ok = await api('/state', { Authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).live, 1);
    assert.equal(gw.child.exitCode, null, 'the refused shutdown did nothing');
  });

  it('the events WebSocket needs the token and refuses any Origin', async () => {
    await assert.rejects(
      openSocket(gw.port, `127.0.0.1:${gw.port}`, '/__baton/api/events'),
      /refused with 401/,
    );
    await assert.rejects(
      openSocket(gw.port, `127.0.0.1:${gw.port}`, '/__baton/api/events', { Authorization: 'Bearer wrong' }),
      /refused with 401/,
    );
    for (const origin of [`http://localhost:${gw.port}`, 'http://evil.example', 'null']) {
      await assert.rejects(
        openSocket(gw.port, `127.0.0.1:${gw.port}`, '/__baton/api/events', {
          Authorization: `Bearer ${token}`,
          Origin: origin,
        }),
        /refused with 403/,
        origin,
      );
    }
    const { ws } = await openSocket(gw.port, `127.0.0.1:${gw.port}`, '/__baton/api/events', {
      Authorization: `Bearer ${token}`,
    });
    await closeSocket(ws);
  });

  it("the tab channel accepts only its own page's Origin and tells only generation numbers and the follow default", async () => {
    await assert.rejects(
      openSocket(gw.port, gw.host(1), '/__baton/tab', { Origin: 'http://evil.example' }),
      /refused with 403/,
    );
    await assert.rejects(openSocket(gw.port, gw.host(1), '/__baton/tab'), /refused with 403/);
    const tab = await openSocket(gw.port, gw.host(1), '/__baton/tab', { Origin: `http://${gw.host(1)}` });
    assert.deepEqual(await tab.message(), { generation: 1, live: 1, follow: false });
    await closeSocket(tab.ws);
  });

  it('never sends a CORS header, preflights included', async () => {
    const origin = { Origin: 'http://evil.example' };
    await request(gw.port, {
      path: '/__baton/api/state',
      method: 'OPTIONS',
      headers: { ...origin, 'Access-Control-Request-Method': 'GET' },
    });
    await request(gw.port, { path: '/__baton/client.js', headers: origin });
    await request(gw.port, { path: '/__baton/live', headers: origin });
    await request(gw.port, { path: '/__baton/nothing', headers: origin });
    await request(gw.port, { host: gw.host(1), path: '/', headers: origin });
    await request(gw.port, { host: gw.host(1), path: '/info', method: 'OPTIONS', headers: origin });
    await request(gw.port, { host: gw.host(7), path: '/', headers: origin });
    assert.ok(replies.length > 20, `${replies.length} replies checked`);
    for (const reply of replies) {
      assert.equal(
        reply.headers['access-control-allow-origin'],
        undefined,
        `${reply.status} ${reply.body.slice(0, 80)}`,
      );
    }
  });

  it('writes .baton/gateway.json readable by its owner only, and a .gitignore for .baton', () => {
    const file = path.join(gw.dir, '.baton', 'gateway.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(data).sort(), ['pid', 'port', 'startedAt', 'token']);
    assert.equal(data.pid, gw.child.pid);
    assert.equal(data.port, gw.port);
    assert.ok(data.token.length >= 32);
    assert.ok(!Number.isNaN(Date.parse(data.startedAt)));
    assert.equal(fs.readFileSync(path.join(gw.dir, '.baton', '.gitignore'), 'utf8'), '*\n');
  });

  it('survives garbage bytes, a huge header and request smuggling attempts, answering 4xx and closing', async () => {
    const garbage = [
      Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), // a TLS ClientHello
      '\x00\x01\x02\x03 NOT HTTP AT ALL\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      `GET / HTTP/1.1\r\nHost: localhost:${gw.port}\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      `POST /upload HTTP/1.1\r\nHost: ${gw.host(1)}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: ${gw.host(1)}\r\nBad Header Name: x\r\n\r\n`,
    ];
    for (const bytes of garbage) {
      const answer = await rawExchange(gw.port, bytes);
      const what = JSON.stringify(String(bytes).slice(0, 40));
      assert.ok(answer === '' || /^HTTP\/1\.1 4\d\d /.test(answer), `${what} got ${answer.slice(0, 80)}`);
      assert.doesNotMatch(answer, /X-Baton-Generation/i);
    }
    assert.equal((await request(gw.port, { host: gw.host(1), path: '/info' })).status, 200);
  });

  it('survives aborted uploads, and counts none of them afterwards', async () => {
    await Promise.all(
      Array.from({ length: 10 }, () => {
        return new Promise<void>((resolve) => {
          const socket = net.connect(gw.port, '127.0.0.1', () => {
            socket.write(`POST /upload HTTP/1.1\r\nHost: ${gw.host(1)}\r\nContent-Length: 10000000\r\n\r\n`);
            socket.write(Buffer.alloc(64 * 1024, 1), () => setTimeout(() => socket.destroy(), 20));
          });
          socket.on('close', () => resolve());
          socket.on('error', () => undefined);
        });
      }),
    );
    await gw.waitState('no upload left in flight', (s) => s.generations[0].inflight === 0, 5000);
    const done = await request(gw.port, {
      host: gw.host(1),
      path: '/upload',
      method: 'POST',
      body: 'x'.repeat(100_000),
    });
    assert.deepEqual(JSON.parse(done.body), { bytes: 100_000 });
  });

  it('a worker that drops a request gives that one request a clear 502, and nothing else is affected', async () => {
    const apiCall = await request(gw.port, {
      host: gw.host(1),
      path: '/hangup',
      headers: { Accept: 'application/json' },
    });
    assert.equal(apiCall.status, 502);
    assert.equal(apiCall.headers['x-baton-generation'], '1');
    const body = JSON.parse(apiCall.body);
    assert.equal(body.generation, 1);
    assert.match(
      body.error,
      /^The worker of generation 1 failed to answer this request \(ECONNRESET|socket hang up/,
    );
    const page = await request(gw.port, {
      host: gw.host(1),
      path: '/hangup',
      headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' },
    });
    assert.equal(page.status, 502);
    assert.match(page.body, /Generation 1 did not answer/);
    assert.doesNotMatch(page.body, /at .*\.js:\d+/, 'no stack trace');
    assert.equal((await request(gw.port, { host: gw.host(1), path: '/info' })).status, 200);
    assert.equal((await gw.generation(1))?.state, 'live');
  });

  it('is still up and holds no client socket after all of that', async () => {
    assert.equal(gw.child.exitCode, null);
    assert.equal(gw.child.signalCode, null);
    assert.doesNotMatch(gw.output, /Error|uncaught|at .*\.js:\d+/i);
    assert.equal((await gw.state()).generations[0].inflight, 0);
    http.globalAgent.destroy(); // the control client's idle keep-alive socket is the test's own
    await waitFor('every client connection closed', () => connectionsTo(gw.port) === 0, 5000);
  });
});
