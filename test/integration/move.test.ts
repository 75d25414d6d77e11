// Moving a tab to the live generation with its cookies, over real HTTP (see gateway/http/move.ts): the
// one-shot socket issues a token only to a page of the tab's own origin; the live host's hand-off redeems it
// once, within seconds, from that tab only, and no cookie value shows anywhere else.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TOKEN_TTL_MS } from '../../gateway/http/moveTokens';
import type { MoveGrant } from '../../gateway/protocol/handoff';
import type { TabMessage } from '../../gateway/protocol/types';
import { openSocket, request, RunningGateway, sleep, tinyApp, type Reply } from '../support/gateway';

describe('moving a tab with its cookies', () => {
  let gw: RunningGateway;
  const secret = randomBytes(12).toString('hex'); // the app session cookie's value: must never leak
  const origin = (n: number) => `http://${gw.host(n)}`;

  /** What the tab client does on generation 1: asks for a token with the cookies of its host. */
  async function grant(headers: Record<string, string> = {}): Promise<MoveGrant> {
    const socket = await openSocket(gw.port, gw.host(1), '/__baton/tab?move=1&visible=theme', {
      Origin: origin(1),
      Cookie: `app=${secret}; theme=dark; baton_sid=gen1session; baton_gen=1`,
      ...headers,
    });
    const message = await socket.message<MoveGrant>();
    assert.equal(await socket.closed, 1000, 'a one-shot socket');
    return message;
  }

  /** The browser's navigation to the hand-off on the live host, as Chromium sends it from the old tab. */
  function redeem(
    token: string,
    over: { host?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    return request(gw.port, {
      host: over.host ?? gw.host(2),
      path: `/__baton/move?token=${token}&path=${encodeURIComponent('/info?x=1')}&follow=1`,
      headers: {
        Accept: 'text/html',
        'Sec-Fetch-Mode': 'navigate',
        'Sec-Fetch-Site': 'cross-site',
        Referer: `${origin(1)}/`,
        ...over.headers,
      },
    });
  }

  before(async () => {
    gw = await RunningGateway.start(tinyApp({ follow: true }).dir, ['--no-watch']);
    await gw.client!.deploy();
    await gw.waitState('generation 2 live', (s) => s.live === 2, 20_000);
  });
  after(() => gw?.dispose());

  it("tells each tab baton.json's follow default with its generation", async () => {
    const tab = await openSocket(gw.port, gw.host(2), '/__baton/tab', { Origin: origin(2) });
    assert.deepEqual(await tab.message<TabMessage>(), { generation: 2, live: 2, follow: true });
    tab.ws.close();
  });

  it("sets the tab's cookies on the live host, HttpOnly where the page could not read them, and opens the same path", async () => {
    const { token, live } = await grant();
    assert.equal(live, 2);
    assert.match(token, /^[A-Za-z0-9_-]{32}$/, 'at least 128 random bits');
    const reply = await redeem(token);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.headers['set-cookie'], [`app=${secret}; Path=/; HttpOnly`, 'theme=dark; Path=/']);
    assert.equal(reply.headers['referrer-policy'], 'no-referrer');
    assert.equal(reply.headers['cache-control'], 'no-store');
    assert.ok(reply.body.includes('location.replace("/info?x=1")'), reply.body);
    assert.ok(reply.body.includes('"baton-follow":"1"'), 'the tab keeps following on the new host');
    assert.ok(!reply.body.includes(secret), 'no cookie value in the page');
  });

  it('refuses a replayed token', async () => {
    const { token } = await grant();
    assert.equal((await redeem(token)).status, 200);
    const replay = await redeem(token);
    assert.equal(replay.status, 403);
    assert.equal(replay.headers['set-cookie'], undefined);
    assert.match(replay.body, /already used/);
    assert.ok(replay.body.includes('href="/info?x=1"'), 'the refusal offers the page without the cookies');
  });

  it('refuses an expired token', async () => {
    const { token } = await grant();
    await sleep(TOKEN_TTL_MS + 500);
    const reply = await redeem(token);
    assert.equal(reply.status, 403);
    assert.equal(reply.headers['set-cookie'], undefined);
    assert.match(reply.body, /expired/);
  });

  it('refuses a token presented from another site, another tab, another page or another host', async () => {
    const cases: [string, Parameters<typeof redeem>[1], RegExp][] = [
      ['a foreign Origin', { headers: { Origin: 'http://evil.example' } }, /from another site/],
      ['typed or pasted into another tab', { headers: { 'Sec-Fetch-Site': 'none' } }, /outside the tab/],
      ['linked from another page', { headers: { Referer: 'http://evil.example/' } }, /another page/],
      ["on another generation's host", { host: gw.host(3) }, /for the address of generation 2/],
      ['on the bare host', { host: `localhost:${gw.port}` }, /for the address of generation 2/],
    ];
    for (const [what, over, why] of cases) {
      const { token } = await grant();
      const reply = await redeem(token, over);
      assert.equal(reply.status, 403, what);
      assert.equal(reply.headers['set-cookie'], undefined, what);
      assert.match(reply.body, why, what);
      assert.equal((await redeem(token)).status, 403, `${what}: the token is used up`);
    }
  });

  it('issues no token to a page of another origin', async () => {
    for (const Origin of ['http://evil.example', origin(2)]) {
      await assert.rejects(
        openSocket(gw.port, gw.host(1), '/__baton/tab?move=1', { Origin, Cookie: `app=${secret}` }),
        /refused with 403/,
        Origin,
      );
    }
  });

  it('opens only paths on this site', async () => {
    for (const path of ['//evil.example/', 'http://evil.example/', '/\\evil.example', '/\r\nX: y']) {
      const reply = await request(gw.port, {
        host: gw.host(2),
        path: `/__baton/move?path=${encodeURIComponent(path)}`,
      });
      assert.equal(reply.status, 400, path);
      assert.match(reply.body, /"path" must be a path on this site/);
    }
  });

  it('sends a follow request on the bare host to the live host, where the tab will live', async () => {
    const reply = await request(gw.port, {
      path: '/__baton/move?follow=1&path=%2F',
      headers: { Accept: 'text/html' },
    });
    assert.equal(reply.status, 307);
    assert.equal(reply.headers.location, `http://${gw.host(2)}/__baton/move?follow=1&path=%2F`);
    const handoff = await request(gw.port, { host: gw.host(2), path: '/__baton/move?follow=1&path=%2F' });
    assert.equal(handoff.status, 200);
    assert.ok(handoff.body.includes('"baton-follow":"1"'));
    assert.equal(handoff.headers['set-cookie'], undefined);
  });

  it('never shows a cookie value in the state, the logs or the output', async () => {
    const state = JSON.stringify(await gw.state());
    const logs = (await gw.client!.logs(1)) + (await gw.client!.logs(2));
    for (const [where, text] of [
      ['state', state],
      ['logs', logs],
      ['output', gw.output],
    ])
      assert.ok(!text.includes(secret), `a cookie value in the ${where}`);
  });
});
