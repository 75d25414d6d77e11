// A worker in a second language: the stdlib Python example (examples/python) behind the real gateway.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, copyApp, openStream, request, RunningGateway } from '../support/gateway';

describe('the Python example behind the gateway', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(copyApp('python'), ['--no-watch']);
  });
  after(() => gw.dispose());

  it('redirects a page navigation on the bare host to the live generation and serves its page there', async () => {
    const reply = await request(gw.port, {
      path: '/?a=b',
      headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' },
    });
    assert.equal(reply.status, 307);
    assert.equal(reply.headers.location, `http://g1.localhost:${gw.port}/?a=b`);
    const page = await new Browser(gw.port, gw.host(1)).navigate('/?a=b');
    assert.equal(page.status, 200);
    assert.equal(page.headers['x-baton-generation'], '1');
    assert.match(page.body, /<footer>generation 1<\/footer>/);
  });

  it('keeps each session on its own generation across a deploy, and a logout drains the old one', async (t) => {
    const old = new Browser(gw.port, gw.host(1));
    assert.equal(JSON.parse((await old.get('/count')).body).count, 1);
    assert.ok(old.cookie('pysid') && old.cookie('baton_sid'));
    assert.equal(JSON.parse((await old.get('/count')).body).count, 2);
    assert.equal((await gw.generation(1))?.sessions, 1);

    const { id } = await gw.client!.deploy();
    assert.equal(id, 2);
    await gw.waitState('gen 2 live', (s) => s.live === 2, 20_000);
    const again = await old.get('/count');
    assert.equal(again.headers['x-baton-generation'], '1');
    assert.deepEqual(JSON.parse(again.body), { count: 3, generation: '1' });

    const fresh = new Browser(gw.port, gw.host(2));
    assert.deepEqual(JSON.parse((await fresh.get('/count')).body), { count: 1, generation: '2' });
    const state = await gw.state();
    assert.equal(state.generations.find((g) => g.id === 1)?.state, 'draining');
    assert.equal(state.generations.find((g) => g.id === 1)?.sessions, 1);

    const t0 = Date.now();
    const logout = await old.get('/logout');
    assert.equal(logout.status, 200);
    assert.equal(old.cookie('pysid'), undefined);
    const stopped = await gw.waitState(
      'gen 1 stopped',
      (s) => s.generations.find((g) => g.id === 1)?.state === 'stopped',
      30_000,
    );
    t.diagnostic(
      `stopped ${Date.parse(stopped.generations.find((g) => g.id === 1)!.stoppedAt!) - t0} ms after the logout`,
    );
    assert.equal(stopped.live, 2);
    assert.equal(stopped.sessions.filter((s) => s.generation === 1).length, 0);
  });

  it('streams server-sent events through as they are written, not all at the end', async () => {
    const stream = await openStream(gw.port, {
      path: '/events',
      host: gw.host(2),
      headers: { Accept: 'text/event-stream' },
    });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['content-type'], 'text/event-stream');
    assert.equal(stream.headers['x-baton-generation'], '2');
    await stream.ended;
    const events = stream.chunks.flatMap((c) =>
      c.text
        .split('\n\n')
        .filter((e) => e.startsWith('data: '))
        .map(() => c.at),
    );
    assert.equal(events.length, 5, JSON.stringify(stream.chunks));
    // The worker writes one event every 200 ms: they must arrive spread out, not buffered into one burst.
    const spread = events[4] - events[0];
    assert.ok(spread >= 600, `5 events arrived within ${spread} ms`);
    assert.ok(stream.chunks.length >= 4, `${stream.chunks.length} chunks`);
    assert.deepEqual(
      stream.chunks.flatMap((c) => [...c.text.matchAll(/data: (\{.*\})/g)].map((m) => JSON.parse(m[1]).n)),
      [1, 2, 3, 4, 5],
    );
  });

  it('keeps an absolute redirect on the tab host', async () => {
    const reply = await request(gw.port, { path: '/redirect', host: gw.host(2) });
    assert.equal(reply.status, 302);
    assert.equal(reply.headers.location, `http://g2.localhost:${gw.port}/count`);
    assert.equal(reply.headers['x-baton-generation'], '2');
  });

  it('passes worker answers through unchanged, 404s included', async () => {
    const reply = await request(gw.port, { path: '/nope', host: gw.host(2) });
    assert.equal(reply.status, 404);
    assert.equal(reply.body, 'not found\n');
    assert.equal(reply.headers['x-baton-generation'], '2');
  });
});
