// What the proxy does to requests and answers (README, "How it works"): the generation header,
// the Host passed through, Location kept on the tab's host, the gateway's cookie beside the app's, and
// cookie-less clients that never hold a generation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, request, RunningGateway, tinyApp } from '../support/gateway';

describe('proxying to the tiny worker', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(tinyApp({ session: { cookie: 'sid' } }).dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('passes the Host header to the worker unchanged and tags the answer with its generation', async () => {
    for (const host of [gw.host(1), `localhost:${gw.port}`, `127.0.0.1:${gw.port}`]) {
      const reply = await request(gw.port, { host, path: '/info', headers: { Accept: 'application/json' } });
      assert.equal(reply.headers['x-baton-generation'], '1');
      assert.equal(JSON.parse(reply.body).host, host);
    }
  });

  it("rewrites an absolute redirect to the worker's own address or the bare gateway host onto the tab host", async () => {
    const self = await request(gw.port, { host: gw.host(1), path: '/redirect-self' });
    assert.equal(self.status, 302);
    assert.equal(self.headers.location, `http://g1.localhost:${gw.port}/info?from=self`);
    const bare = await request(gw.port, { host: gw.host(1), path: '/redirect-bare' });
    assert.equal(bare.headers.location, `http://g1.localhost:${gw.port}/info?from=bare`);
    const onBareHost = await request(gw.port, { path: '/redirect-self' });
    assert.equal(
      onBareHost.headers.location,
      `http://localhost:${gw.port}/info?from=self`,
      'an API client stays on its host',
    );
  });

  it("sets baton_sid beside the app's own cookies, once per browser", async () => {
    const browser = new Browser(gw.port, gw.host(1));
    const login = await browser.get('/login');
    const cookies = login.headers['set-cookie']!;
    assert.ok(cookies.includes('sid=s3cret; Path=/; HttpOnly'), String(cookies));
    assert.ok(
      cookies.some((c) => c.startsWith('baton_sid=')),
      String(cookies),
    );
    const again = await browser.get('/info');
    assert.equal(
      again.headers['set-cookie'],
      undefined,
      'a browser that sends baton_sid back gets no new one',
    );
    const state = await gw.state();
    assert.equal(state.generations[0].sessions, 1);
    assert.equal(browser.cookie('sid'), 's3cret');
  });

  it("a logout clears the session; that browser's next navigation goes to the live generation while others stay", async () => {
    const leaving = new Browser(gw.port, gw.host(1));
    const staying = new Browser(gw.port, gw.host(1));
    for (const b of [leaving, staying]) {
      await b.get('/login');
      await b.get('/info');
    }
    await gw.client!.deploy();
    await gw.waitState('gen 2 live', (s) => s.live === 2, 20_000);
    const before = (await gw.generation(1))!.sessions;
    await leaving.get('/logout');
    await gw.waitState('one session fewer', (s) => s.generations[0].sessions === before - 1);
    const nav = await leaving.navigate('/');
    assert.equal(nav.status, 307);
    assert.equal(nav.headers.location, `http://g2.localhost:${gw.port}/`);
    const api = await leaving.get('/info');
    assert.equal(
      api.headers['x-baton-generation'],
      '1',
      'its API calls are still answered until the generation stops',
    );
    const other = await staying.navigate('/');
    assert.equal(other.status, 200);
    assert.equal(other.headers['x-baton-generation'], '1');
    assert.equal((await gw.generation(1))?.state, 'draining');
  });

  it('clients that keep no cookies never hold a generation nor count as sessions', async () => {
    await request(gw.port, { host: gw.host(2), path: '/info' });
    await request(gw.port, { host: gw.host(2), path: '/info' });
    await request(gw.port, { path: '/info', headers: { 'User-Agent': 'curl/8.5.0' } });
    assert.equal((await gw.generation(2))?.sessions, 0);
    await gw.client!.deploy();
    await gw.waitState(
      'gen 2 stopped right after gen 3 went live',
      (s) => s.live === 3 && s.generations[1].state === 'stopped',
      20_000,
    );
  });
});
