// The demo shop's real flow in Chromium, through the gateway (README, "How it works"):
// log in, add to cart, change a quantity, remove a line, then log out of a draining generation — which
// ends the tab's session, sends the tab to the live generation and stops the old one at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { copyApp, pidAlive, RunningGateway } from '../support/gateway';
import { launchChromium, openContext, waitBadge, waitCounts } from './chromium';

describe('the demo shop end to end, in Chromium', () => {
  let gw: RunningGateway;
  let browser: Browser;
  let page: Page;
  const on = (generation: number, p = '/') => `http://${gw.host(generation)}${p}`;
  const cartLine = (name: string) => page.locator('table.cart tr', { hasText: name });
  const total = () => page.locator('table.cart tr.total td').nth(2).innerText();

  before(async () => {
    // A long tab grace, so that only the logout can end the session in time.
    const dir = copyApp('shop', { session: { cookie: 'connect.sid', tabGraceSeconds: 60 } });
    [gw, browser] = await Promise.all([RunningGateway.start(dir), launchChromium()]);
    page = await (await openContext(browser)).newPage();
  });
  after(async () => {
    await browser?.close();
    await gw?.dispose();
  });

  it('logs in and adds to the cart', async () => {
    await page.goto(`http://localhost:${gw.port}/login`);
    assert.equal(page.url(), on(1, '/login'));
    await page.locator('input[name=name]').fill('Bo');
    await page.locator('input[name=name]').press('Enter');
    await page.getByText('Hi, Bo').waitFor();
    for (const [product, count] of [
      ['Baton mug', 1],
      ['Relay T-shirt', 2],
    ] as const) {
      await page
        .locator('li.product', { hasText: product })
        .getByRole('button', { name: 'Add to cart' })
        .click();
      await page.getByRole('link', { name: `Cart (${count})` }).waitFor();
    }
    assert.equal(await page.locator('[data-stock="mug"]').innerText(), '24 in stock');
  });

  it('changes a quantity and removes a line in the cart', async () => {
    await page.getByRole('link', { name: 'Cart (2)' }).click();
    await page.waitForURL(on(1, '/cart'));
    assert.equal(await total(), '$36.00');
    await cartLine('Baton mug').getByRole('spinbutton').fill('3');
    await cartLine('Baton mug').getByRole('button', { name: 'Update' }).click();
    await page.getByRole('link', { name: 'Cart (4)' }).waitFor();
    assert.equal(await cartLine('Baton mug').getByRole('spinbutton').inputValue(), '3');
    assert.equal(await total(), '$60.00');
    await cartLine('Relay T-shirt').getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('link', { name: 'Cart (3)' }).waitFor();
    assert.equal(await cartLine('Relay T-shirt').count(), 0);
    assert.equal(await total(), '$36.00');
  });

  it('logs out of a draining generation: the tab moves to the live one and the old one stops within a second', async () => {
    await gw.client!.deploy();
    await gw.waitState(
      'generation 2 live, 1 draining',
      (s) => s.live === 2 && s.generations[0].state === 'draining',
      20_000,
    );
    await waitBadge(page, 'gen 1 · gen 2 is live →', 1000);
    await waitCounts(
      gw,
      1,
      "held by this tab's session",
      (c) => c.sessions === 1 && `${c.sessionTabs}` === '1',
      1000,
    );
    const pid = (await gw.generation(1))!.pid!;
    const logout = page.waitForResponse(on(1, '/logout'));
    await page.getByRole('button', { name: 'Log out' }).click();
    assert.equal((await logout).headers()['x-baton-generation'], '1');
    await waitCounts(gw, 1, 'stopped, its worker gone', (c) => c.state === 'stopped' && c.exited, 1500);
    assert.equal(pidAlive(pid), false);
    await page.waitForURL(on(2, '/'));
    await page.getByRole('link', { name: 'Log in' }).waitFor();
    await waitBadge(page, 'gen 2');
  });
});
