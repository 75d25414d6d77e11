// Session affinity (README, "How it works"): the `baton_gen` pin cookie, `/__baton/new`, and Safari, which
// cannot resolve `gN.localhost`, getting session affinity on the default tab affinity.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, request, RunningGateway, tinyApp, type Reply } from '../support/gateway';

const SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

const setCookie = (reply: Reply, name: string) =>
  (reply.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${name}=`));
const generationOf = (reply: Reply) => Number(reply.headers['x-baton-generation']);

describe('"affinity": "session"', () => {
  let gw: RunningGateway;
  let bare: string;
  before(async () => {
    gw = await RunningGateway.start(tinyApp({ affinity: 'session' }).dir, ['--no-watch']);
    bare = `localhost:${gw.port}`;
  });
  after(() => gw.dispose());

  it('serves a navigation on the bare host without a redirect and pins the browser with baton_gen', async () => {
    const browser = new Browser(gw.port, bare);
    const page = await browser.navigate('/');
    assert.equal(page.status, 200);
    assert.equal(generationOf(page), 1);
    assert.equal(setCookie(page, 'baton_gen'), 'baton_gen=1; Path=/; HttpOnly; SameSite=Lax');
    assert.match(setCookie(page, 'baton_sid')!, /^baton_sid=[\w-]{16,}; Path=\/; HttpOnly; SameSite=Lax$/);
    const again = await browser.get('/info');
    assert.equal(generationOf(again), 1);
    assert.equal(setCookie(again, 'baton_gen'), undefined, 'a pinned browser is not pinned again');
  });

  it('keeps a pinned browser on its generation after a deploy; new browsers get and pin the live one', async () => {
    const pinned = new Browser(gw.port, bare);
    await pinned.navigate('/');
    await pinned.get('/info'); // sends baton_sid back: a session on generation 1
    await gw.client!.deploy();
    await gw.waitState('gen 2 live', (s) => s.live === 2, 20_000);
    assert.equal((await gw.generation(1))?.state, 'draining');

    assert.equal(generationOf(await pinned.navigate('/')), 1);
    assert.equal(JSON.parse((await pinned.get('/info')).body).generation, 1);

    const fresh = new Browser(gw.port, bare);
    const page = await fresh.navigate('/');
    assert.equal(generationOf(page), 2);
    assert.equal(setCookie(page, 'baton_gen'), 'baton_gen=2; Path=/; HttpOnly; SameSite=Lax');
  });

  it('/__baton/new drops the pin, so the next navigation gets the live generation', async () => {
    const browser = new Browser(gw.port, bare);
    await browser.navigate('/');
    await browser.get('/info'); // a session holds generation 2 while it drains
    assert.equal(browser.cookie('baton_gen'), '2');
    await gw.client!.deploy();
    await gw.waitState('gen 3 live', (s) => s.live === 3, 20_000);
    assert.equal(generationOf(await browser.navigate('/')), 2);

    const reply = await browser.navigate('/__baton/new');
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.location, '/');
    assert.equal(setCookie(reply, 'baton_gen'), 'baton_gen=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    assert.equal(browser.cookie('baton_gen'), undefined);

    const page = await browser.navigate('/');
    assert.equal(generationOf(page), 3);
    assert.equal(browser.cookie('baton_gen'), '3');
  });

  it('/__baton/new returns to a local path only', async () => {
    const location = async (query: string) =>
      (await request(gw.port, { path: `/__baton/new${query}` })).headers.location;
    assert.equal(await location('?path=%2Fcart%3Fx%3D1'), '/cart?x=1');
    assert.equal(await location('?path=%2F%2Fevil.example%2F'), '/');
    assert.equal(await location('?path=https%3A%2F%2Fevil.example%2F'), '/');
    assert.equal(await location('?path=%2F%5Cevil.example'), '/');
  });

  it('sends a browser pinned to a stopped generation to the live one and re-pins it', async () => {
    const browser = new Browser(gw.port, bare);
    await browser.navigate('/');
    assert.equal(browser.cookie('baton_gen'), '3');
    await gw.client!.deploy();
    await gw.waitState('gen 4 live', (s) => s.live === 4, 20_000);
    await gw.client!.kill(3);
    const page = await browser.navigate('/');
    assert.equal(page.status, 200);
    assert.equal(generationOf(page), 4);
    assert.equal(browser.cookie('baton_gen'), '4');
  });
});

describe('Safari on the default tab affinity', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(tinyApp().dir, ['--no-watch']);
  });
  after(() => gw.dispose());

  it('is not redirected to gN.localhost: it is pinned, and stays on its generation after a deploy', async () => {
    const chrome = await request(gw.port, { headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' } });
    assert.equal(chrome.status, 307);

    const safari = new Browser(gw.port, `localhost:${gw.port}`, SAFARI);
    const page = await safari.navigate('/');
    assert.equal(page.status, 200);
    assert.equal(generationOf(page), 1);
    assert.equal(setCookie(page, 'baton_gen'), 'baton_gen=1; Path=/; HttpOnly; SameSite=Lax');
    await safari.get('/info');

    await gw.client!.deploy();
    await gw.waitState('gen 2 live', (s) => s.live === 2, 20_000);
    assert.equal(generationOf(await safari.navigate('/')), 1);
    const newcomer = await new Browser(gw.port, `localhost:${gw.port}`, SAFARI).navigate('/');
    assert.equal(generationOf(newcomer), 2);
  });
});
