// WebSockets and event streams through the gateway with the shop demo: they are proxied, tagged with their
// generation, and an open one keeps a draining generation running until it closes (README, "How it works").
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  assertNotStopping,
  closeSocket,
  connectionsTo,
  copyApp,
  openSocket,
  openStream,
  request,
  RunningGateway,
  waitFor,
} from '../support/gateway';

/** A message of the shop's chat. */
interface Chat {
  from: string;
  text: string;
  generation: string;
}

describe('WebSockets and event streams with the shop demo', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(copyApp('shop'), ['--no-watch']);
  });
  after(() => gw.dispose());

  it("proxies the shop's chat WebSocket, and the 101 names the generation", async () => {
    const chat = await openSocket(gw.port, gw.host(1), '/ws');
    assert.equal(chat.headers['x-baton-generation'], '1');
    chat.ws.send('hello through the gateway');
    assert.deepEqual(await chat.message<Chat>((m) => m.text === 'hello through the gateway'), {
      from: 'guest',
      text: 'hello through the gateway',
      generation: '1',
    });
    await closeSocket(chat.ws);
  });

  it('sends a WebSocket on the bare host to the live generation without a redirect', async () => {
    const { ws, headers } = await openSocket(gw.port, `localhost:${gw.port}`, '/ws');
    assert.equal(headers['x-baton-generation'], '1');
    await closeSocket(ws);
  });

  it('keeps a draining generation running while a WebSocket is open, and stops it once it closes', async () => {
    const chat = await openSocket(gw.port, gw.host(1), '/ws');
    await gw.waitState('the socket counted', (s) => s.generations[0].inflight === 1);
    await gw.client!.deploy();
    await gw.waitState('gen 2 live', (s) => s.live === 2, 20_000);
    await assertNotStopping(gw, 1);
    chat.ws.send('still here');
    const reply = await chat.message<Chat>((m) => m.text === 'still here');
    assert.equal(reply.generation, '1', 'the old generation still answers on the open socket');

    chat.ws.close();
    const stopped = await gw.waitState('gen 1 stopped', (s) => s.generations[0].state === 'stopped', 30_000);
    assert.equal(stopped.generations[0].reason, 'drained: its last session, tab and request are gone');
  });

  it('keeps a draining generation running while an event stream is open, and stops it once it ends', async () => {
    const stream = await openStream(gw.port, {
      path: '/events',
      host: gw.host(2),
      headers: { Accept: 'text/event-stream' },
    });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['x-baton-generation'], '2');
    await gw.client!.deploy();
    await gw.waitState('gen 3 live', (s) => s.live === 3, 20_000);
    const before = stream.chunks.length;
    await assertNotStopping(gw, 2);
    await waitFor('a tick from the draining generation', () => stream.chunks.length > before, 5000);
    assert.match(stream.chunks.at(-1)!.text, /"generation":"2"/);

    stream.abort();
    const stopped = await gw.waitState(
      'gen 2 stopped',
      (s) => s.generations.find((g) => g.id === 2)?.state === 'stopped',
      30_000,
    );
    assert.equal(stopped.generations[1].reason, 'drained: its last session, tab and request are gone');
  });

  it('survives WebSocket upgrades that the client aborts, and counts none of them afterwards', async () => {
    const handshake =
      `GET /ws HTTP/1.1\r\nHost: ${gw.host(3)}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        return new Promise<void>((resolve) => {
          const socket = net.connect(gw.port, '127.0.0.1', () => {
            // Half of them leave at once, half while the worker is answering.
            socket.write(i % 2 ? handshake : handshake.slice(0, 40));
            setTimeout(() => socket.destroy(), i % 2 ? 5 : 0);
          });
          socket.on('close', () => resolve());
          socket.on('error', () => undefined);
        });
      }),
    );
    const gen3 = await gw.waitState(
      'no upgrade left in flight',
      (s) => s.generations.find((g) => g.id === 3)?.inflight === 0,
      5000,
    );
    // No upstream socket to the worker is left behind (an idle keep-alive one closes within the worker's 5 s).
    const workerPort = gen3.generations.find((g) => g.id === 3)!.port!;
    await waitFor('no connection left to the worker', () => connectionsTo(workerPort) === 0, 10_000);
    const reply = await request(gw.port, { path: '/api/cart', host: gw.host(3) });
    assert.equal(reply.status, 200);
    const { ws, headers } = await openSocket(gw.port, gw.host(3), '/ws');
    assert.equal(headers['x-baton-generation'], '3');
    await closeSocket(ws);
    assert.equal(gw.child.exitCode, null);
  });
});
