// What a request gets when its generation is gone or nothing is live (README, "How it works"): a page
// navigation goes to the live generation (or, with none live, gets a short HTML page), 410 / 503 JSON for
// everything else; never a hang or a bare 502.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Browser, openSocket, request, RunningGateway, tinyApp } from '../support/gateway';

const json = { Accept: 'application/json' };

describe('a gone or unknown generation', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(tinyApp().dir, ['--no-watch']);
    await gw.client!.deploy();
    await gw.waitState(
      'gen 1 stopped, gen 2 live',
      (s) => s.live === 2 && s.generations[0].state === 'stopped',
      20_000,
    );
  });
  after(() => gw.dispose());

  it('sends a page navigation to the live generation, same path and query, telling the badge why once', async () => {
    const page = await new Browser(gw.port, gw.host(1)).navigate('/cart?item=3');
    assert.equal(page.status, 307);
    const handoff = `http://${gw.host(2)}/__baton/move?from=1&path=${encodeURIComponent('/cart?item=3')}`;
    assert.equal(page.headers.location, handoff);
    const next = await new Browser(gw.port, gw.host(2)).navigate(handoff.slice(handoff.indexOf('/__baton')));
    assert.equal(next.status, 200);
    assert.ok(next.body.includes('location.replace("/cart?item=3")'), next.body);
    assert.ok(
      next.body.includes(JSON.stringify({ from: 1, state: 'stopped' }).replace(/"/g, '\\"')),
      next.body,
    );
  });

  it('answers any other request with 410 JSON', async () => {
    const reply = await request(gw.port, {
      host: gw.host(1),
      path: '/api/cart',
      method: 'POST',
      headers: json,
      body: '{}',
    });
    assert.equal(reply.status, 410);
    assert.match(reply.headers['content-type']!, /^application\/json/);
    const body = JSON.parse(reply.body);
    assert.deepEqual(
      { ...body, error: typeof body.error },
      { error: 'string', generation: 1, state: 'stopped', live: 2 },
    );
  });

  it('treats a generation that never existed the same way', async () => {
    const page = await new Browser(gw.port, gw.host(9)).navigate('/');
    assert.equal(page.status, 307);
    assert.equal(page.headers.location, `http://${gw.host(2)}/__baton/move?from=9&path=%2F`);
    const reply = await request(gw.port, { host: gw.host(9), headers: json });
    assert.equal(reply.status, 410);
    assert.deepEqual(JSON.parse(reply.body), {
      error: 'There is no generation 9 in this gateway run.',
      generation: 9,
      state: null,
      live: 2,
    });
  });

  it("closes a gone generation's tab channel with code 4410, so the tab client stops reconnecting", async () => {
    const tab = await openSocket(gw.port, gw.host(1), '/__baton/tab', { Origin: `http://${gw.host(1)}` });
    assert.equal(await tab.closed, 4410);
    await assert.rejects(
      openSocket(gw.port, gw.host(9), '/__baton/tab', { Origin: `http://${gw.host(9)}` }),
      /refused with 410/,
    );
  });

  it('refuses a WebSocket to a gone generation with 410', async () => {
    const reply = await request(gw.port, {
      host: gw.host(1),
      path: '/ws',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    }).catch((err: Error) => err);
    assert.ok(!(reply instanceof Error), String(reply));
    assert.equal(reply.status, 410);
  });

  it('explains with a 410 page, naming the generation, only when no generation is live', async () => {
    await gw.client!.kill(2);
    await gw.waitState('nothing live', (s) => s.live === null);
    const page = await new Browser(gw.port, gw.host(1)).navigate('/cart');
    assert.equal(page.status, 410);
    assert.match(page.headers['content-type']!, /^text\/html/);
    assert.match(page.body, /Generation 1 is gone/);
    assert.match(page.body, /Generation 1 is stopped: drained/);
    assert.match(page.body, /No generation is live right now/);
  });
});

describe('no live generation', () => {
  let gw: RunningGateway;
  let dir: string;
  before(async () => {
    const app = tinyApp({
      build:
        'if [ -e broken ]; then echo "<b>boom</b> & <script>alert(1)</script>"; exit 3; fi; if [ -e slow ]; then sleep 1; fi',
    });
    dir = app.dir;
    fs.writeFileSync(path.join(dir, 'broken'), '');
    gw = await RunningGateway.start(dir, ['--no-watch'], false);
    await gw.waitState('gen 1 failed', (s) => s.generations[0]?.state === 'failed', 20_000);
  });
  after(() => gw.dispose());

  it('answers a page navigation with a 503 page: the reason and the escaped output tail, reloading by itself', async () => {
    const page = await new Browser(gw.port, `localhost:${gw.port}`).navigate('/');
    assert.equal(page.status, 503);
    assert.match(page.headers['content-type']!, /^text\/html/);
    assert.match(page.body, /No live generation/);
    assert.match(page.body, /generation 1 failed — build exited with code 3/);
    assert.ok(
      page.body.includes('&lt;b&gt;boom&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;'),
      page.body,
    );
    assert.ok(!page.body.includes('<b>boom'), 'the output is escaped');
    assert.ok(!page.body.includes('alert(1)</script>'), 'the output is escaped');
    assert.match(page.body, /\/__baton\/live/);
  });

  it('answers any other request with 503 JSON', async () => {
    const reply = await request(gw.port, { path: '/api/cart', headers: json });
    assert.equal(reply.status, 503);
    const body = JSON.parse(reply.body);
    assert.match(body.error, /build exited with code 3/);
    assert.deepEqual({ ...body, error: null }, { error: null, live: null, generation: 1, state: 'failed' });
  });

  it('says which generation is still building, and /__baton/live tells the page when one is live', async () => {
    assert.deepEqual(JSON.parse((await request(gw.port, { path: '/__baton/live' })).body), { live: null });
    fs.rmSync(path.join(dir, 'broken'));
    fs.writeFileSync(path.join(dir, 'slow'), '');
    await gw.client!.deploy();
    const reply = await request(gw.port, { path: '/api/cart', headers: json });
    assert.equal(reply.status, 503);
    assert.deepEqual(JSON.parse(reply.body), {
      error: 'Generation 2 is building; no generation is live yet.',
      live: null,
      generation: 2,
      state: 'building',
    });
    await gw.waitState('gen 2 live', (s) => s.live === 2, 20_000);
    assert.deepEqual(JSON.parse((await request(gw.port, { path: '/__baton/live' })).body), { live: 2 });
    assert.equal((await request(gw.port, { path: '/info', headers: json })).status, 200);
  });
});
