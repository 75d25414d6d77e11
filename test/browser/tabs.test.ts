// Open tabs across a deploy, in real Chromium on the demo shop (README, "How it works"):
// the first tab lands on g1, a save deploys generation 2, the old tab keeps its state and
// learns about the new generation from its badge, new tabs get generation 2, and generation 1 stops once
// its last tab has been closed for `tabGraceSeconds`.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { copyApp, pidAlive, RunningGateway } from '../support/gateway';
import { badgeText, hooksOf, launchChromium, openContext, until, waitBadge, waitCounts } from './chromium';

const GRACE_SECONDS = 2;
const OLD_BANNER = 'Welcome to the Baton shop';
const NEW_BANNER = 'Generation two of the shop';

describe('tabs across a deploy, in Chromium', () => {
  let gw: RunningGateway;
  let browser: Browser;
  let context: BrowserContext;
  let tabA: Page; // the first tab: logs in and fills the cart on generation 1
  let tabB: Page; // a second tab of the same browser on generation 1
  const bare = () => `http://localhost:${gw.port}`;
  const on = (generation: number, p = '/') => `http://${gw.host(generation)}${p}`;

  before(async () => {
    const dir = copyApp('shop', { session: { cookie: 'connect.sid', tabGraceSeconds: GRACE_SECONDS } });
    [gw, browser] = await Promise.all([RunningGateway.start(dir), launchChromium()]);
    context = await openContext(browser);
  });
  after(async () => {
    await browser?.close();
    await gw?.dispose();
  });

  it('sends the first tab to g1.localhost and shows the badge "gen 1"', async () => {
    tabA = await context.newPage();
    const response = await tabA.goto(bare() + '/');
    assert.equal(tabA.url(), on(1, '/'));
    const redirect = await response?.request().redirectedFrom()?.response();
    assert.equal(redirect?.url(), bare() + '/');
    assert.equal(redirect?.status(), 307);
    assert.equal(response?.headers()['x-baton-generation'], '1');
    await waitBadge(tabA, 'gen 1');
    assert.deepEqual(
      (await hooksOf(tabA)).shadowModes,
      ['closed'],
      'the client asks for a closed shadow root',
    );
  });

  it('builds up server-side state: log in and fill the cart', async () => {
    await tabA.getByRole('link', { name: 'Log in' }).click();
    await tabA.locator('input[name=name]').fill('Ann');
    await tabA.getByRole('button', { name: 'Log in' }).click();
    await tabA.getByText('Hi, Ann').waitFor();
    const addMug = tabA
      .locator('li.product', { hasText: 'Baton mug' })
      .getByRole('button', { name: 'Add to cart' });
    await addMug.click();
    await tabA.getByRole('link', { name: 'Cart (1)' }).waitFor();
    await addMug.click();
    await tabA.getByRole('link', { name: 'Cart (2)' }).waitFor();
    assert.equal(tabA.url(), on(1, '/'));
  });

  it('streams server-sent events and WebSocket messages of generation 1 to its tabs', async () => {
    tabB = await context.newPage();
    await tabB.goto(on(1, '/'));
    await tabB.getByText('Hi, Ann').waitFor(); // the same browser: the same session on generation 1
    // The ticker (SSE) counts viewers and carries the worker's generation.
    await until(
      "tab A's ticker to see two viewers",
      () => tabA.locator('#ticker').innerText(),
      (t) => t === '2 people viewing · live from generation 1',
      3000,
    );
    // Tab B takes a cap from the stock; tab A's stock line follows over the event stream, without a reload.
    const capStock = tabA.locator('[data-stock="cap"]');
    assert.equal(await capStock.innerText(), '8 in stock');
    await tabB
      .locator('li.product', { hasText: 'Finish-line cap' })
      .getByRole('button', { name: 'Add to cart' })
      .click();
    await tabB.getByRole('link', { name: 'Cart (3)' }).waitFor();
    await until(
      "tab A's cap stock to drop to 7",
      () => capStock.innerText(),
      (t) => t === '7 in stock',
      3000,
    );
    // The chat (WebSocket): what tab A says reaches tab B.
    for (const tab of [tabA, tabB]) {
      await until(
        'the chat socket to open',
        () => hooksOf(tab),
        (h) => h.openedSockets.includes('/ws'),
        5000,
      );
    }
    await tabA.locator('#chat-form input[name=text]').fill('hello from tab A');
    await tabA.locator('#chat-form input[name=text]').press('Enter');
    await tabB.locator('#chat-log', { hasText: 'Ann (gen 1): hello from tab A' }).waitFor({ timeout: 3000 });
  });

  it('counts tabs per generation and per session, following opened and closed pages within a second', async () => {
    await waitCounts(
      gw,
      1,
      'two tabs, one session holding both',
      (c) => c.tabs === 2 && `${c.sessionTabs}` === '2',
      1000,
    );
    const tabC = await context.newPage();
    await tabC.goto(on(1, '/cart'));
    await waitCounts(
      gw,
      1,
      'three tabs in one session',
      (c) => c.tabs === 3 && `${c.sessionTabs}` === '3',
      1000,
    );
    await tabC.close();
    await waitCounts(gw, 1, 'back to two tabs', (c) => c.tabs === 2 && `${c.sessionTabs}` === '2', 1000);
    const state = await gw.state();
    assert.equal(state.sessions.length, 1, 'one browser, one session');
    assert.equal(state.generations[0].sessions, 1);
  });

  it("deploys generation 2 on a save; the open tabs' badges say so within a second, without a reload", async () => {
    for (const tab of [tabA, tabB])
      await tab.evaluate(() => ((window as { notReloaded?: boolean }).notReloaded = true));
    const layout = path.join(gw.dir, 'views', 'layout.js');
    fs.writeFileSync(layout, fs.readFileSync(layout, 'utf8').replace(OLD_BANNER, NEW_BANNER));
    const state = await gw.waitState('generation 2 live', (s) => s.live === 2, 20_000);
    assert.equal(state.generations[0].state, 'draining');
    await Promise.all([tabA, tabB].map((tab) => waitBadge(tab, 'gen 1 · gen 2 is live →', 1000)));
    for (const tab of [tabA, tabB]) {
      assert.equal(await tab.evaluate(() => (window as { notReloaded?: boolean }).notReloaded), true);
      assert.equal(tab.url(), on(1, '/'));
    }
  });

  it('keeps the old tab on generation 1 with its state across a reload', async () => {
    const response = await tabA.reload();
    assert.equal(tabA.url(), on(1, '/'));
    assert.equal(response?.headers()['x-baton-generation'], '1');
    await tabA.getByText('Hi, Ann').waitFor();
    await tabA.getByRole('link', { name: 'Cart (3)' }).waitFor();
    assert.equal(await tabA.locator('h1').innerText(), OLD_BANNER);
    assert.match(await tabA.locator('footer').innerText(), /^generation 1 · /);
    await until(
      'the ticker on generation 1',
      () => tabA.locator('#ticker').innerText(),
      (t) => t.endsWith('live from generation 1'),
      3000,
    );
    await waitBadge(tabA, 'gen 1 · gen 2 is live →');
  });

  it('sends a new tab of the same browser to g2.localhost, with fresh state and the new banner', async () => {
    const tabN = await context.newPage();
    await tabN.goto(bare() + '/');
    assert.equal(tabN.url(), on(2, '/'));
    assert.equal(await tabN.locator('h1').innerText(), NEW_BANNER);
    await tabN.getByRole('link', { name: 'Log in' }).waitFor();
    await tabN.getByRole('link', { name: 'Cart (0)' }).waitFor();
    await waitBadge(tabN, 'gen 2');
    await until(
      'the ticker on generation 2',
      () => tabN.locator('#ticker').innerText(),
      (t) => t === '1 person viewing · live from generation 2',
      3000,
    );
    assert.equal(
      await tabN.locator('[data-stock="cap"]').innerText(),
      '8 in stock',
      'generation 2 has its own stock',
    );
    await until(
      'the chat socket to open',
      () => hooksOf(tabN),
      (h) => h.openedSockets.includes('/ws'),
      5000,
    );
    assert.equal(await tabN.locator('#chat-log').innerText(), '', "generation 1's chat history stays there");
    await waitCounts(
      gw,
      2,
      'one tab in one session',
      (c) => c.tabs === 1 && `${c.sessionTabs}` === '1',
      1000,
    );
    await tabN.close();
  });

  it('keeps cookies per generation: each gN.localhost has its own jar', async () => {
    const jar = async (url: string) =>
      Object.fromEntries((await context.cookies(url)).map((c) => [c.name, c.value]));
    const g1 = await jar(on(1));
    const g2 = await jar(on(2));
    assert.deepEqual(Object.keys(g1).sort(), ['baton_sid', 'connect.sid'], 'logged in on generation 1');
    assert.deepEqual(Object.keys(g2), ['baton_sid'], 'not logged in on generation 2');
    assert.notEqual(g1.baton_sid, g2.baton_sid);
    assert.deepEqual(await jar(bare()), {}, 'the bare host only redirects and sets no cookie');
  });

  it("opens the same path on generation 2 in this tab from the badge's link", async () => {
    await tabB.getByRole('link', { name: 'Cart (3)' }).click();
    await tabB.waitForURL(on(1, '/cart'));
    await waitBadge(tabB, 'gen 1 · gen 2 is live →');
    const pages = context.pages().length;
    await tabB.locator('baton-badge').getByRole('link', { name: 'gen 2 is live →' }).click();
    await tabB.waitForURL(on(2, '/cart'));
    assert.equal(context.pages().length, pages, 'no new tab or window');
    await tabB.getByText('Your cart is empty').waitFor();
    await waitBadge(tabB, 'gen 2');
  });

  it('dismisses the badge with its close button and remembers that across a reload', async () => {
    await tabA.locator('baton-badge').getByRole('button', { name: 'Dismiss the Baton badge' }).click();
    await waitBadge(tabA, null, 1000);
    await tabA.reload();
    await until(
      'the reloaded tab client to handle its first message',
      () => hooksOf(tabA),
      (h) => h.tabMessages > 0,
      5000,
    );
    assert.equal(await badgeText(tabA), null, 'still dismissed after a reload');
    assert.equal(tabA.url(), on(1, '/'));
  });

  it('stops generation 1 once its last tab has been closed for tabGraceSeconds', async () => {
    await waitCounts(gw, 1, 'tab A is its only tab', (c) => c.tabs === 1 && `${c.sessionTabs}` === '1', 1000);
    const pid = (await gw.generation(1))!.pid!;
    const closedAt = Date.now();
    await tabA.close();
    await waitCounts(gw, 1, 'no tab left', (c) => c.tabs === 0, 1000);
    await waitCounts(gw, 1, 'stopped, its worker gone', (c) => c.state === 'stopped' && c.exited, 30_000);
    const elapsed = Date.now() - closedAt;
    assert.ok(
      elapsed >= GRACE_SECONDS * 1000,
      `stopped after ${elapsed} ms, before the ${GRACE_SECONDS} s grace`,
    );
    assert.equal(pidAlive(pid), false, 'the worker process is gone');
    assert.equal((await gw.state()).live, 2);
  });
});
