// Tab-pinned routing through the real gateway and the real Node demo app (README, "How it works").
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, copyApp, request, RunningGateway } from '../support/gateway';

describe('routing with the shop demo', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(copyApp('shop'), ['--no-watch']);
  });
  after(() => gw.dispose());

  it('redirects a page navigation on the bare host to the live generation, keeping path and query', async () => {
    const reply = await request(gw.port, {
      path: '/cart?x=1',
      headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' },
    });
    assert.equal(reply.status, 307);
    assert.equal(reply.headers.location, `http://g1.localhost:${gw.port}/cart?x=1`);
  });

  it('proxies API calls on the bare host to the live generation without a redirect', async () => {
    const reply = await request(gw.port, { path: '/api/cart', headers: { Accept: 'application/json' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-baton-generation'], '1');
  });

  it('keeps a tab on its generation across a deploy, and sends new tabs to the new one', async () => {
    const old = new Browser(gw.port, gw.host(1));
    await old.navigate('/');
    await old.get('/api/cart', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"product":"mug"}',
    });
    assert.equal(JSON.parse((await old.get('/api/cart')).body).count, 1);
    const { id } = await gw.client!.deploy();
    assert.equal(id, 2);
    await gw.waitState('gen 2 live', (s) => s.live === 2);
    const again = await old.get('/api/cart');
    assert.equal(again.headers['x-baton-generation'], '1');
    assert.equal(JSON.parse(again.body).count, 1);
    const fresh = await request(gw.port, { headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' } });
    assert.equal(fresh.headers.location, `http://g2.localhost:${gw.port}/`);
    const state = await gw.state();
    assert.equal(state.generations.find((g) => g.id === 1)?.state, 'draining');
    assert.equal(state.generations.find((g) => g.id === 1)?.sessions, 1);
  });

  it('stops a draining generation once its last session logged out', async (t) => {
    const tab = new Browser(gw.port, gw.host(2));
    await tab.navigate('/');
    await tab.get('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=Ann',
    });
    await gw.client!.deploy();
    await gw.waitState('gen 3 live', (s) => s.live === 3);
    assert.equal((await gw.generation(2))?.state, 'draining');
    const t0 = Date.now();
    await tab.get('/logout', { method: 'POST' });
    const stopped = await gw.waitState(
      'gen 2 stopped',
      (s) => s.generations.find((g) => g.id === 2)?.state === 'stopped',
      30_000,
    );
    t.diagnostic(
      `stopped ${Date.parse(stopped.generations.find((g) => g.id === 2)!.stoppedAt!) - t0} ms after the logout`,
    );
  });
});
