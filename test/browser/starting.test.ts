// A tab opened on a generation that is still starting (Open Generation right after a deploy), in Chromium:
// it gets a "not live yet" page, never "gone", and that page reloads itself into the app once it is live.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { gatedAppWithStartingGeneration, type GatedApp } from '../support/gatedApp';
import { launchChromium, openContext } from './chromium';

describe('a tab on a starting generation, in Chromium', () => {
  let app: GatedApp;
  let browser: Browser;
  before(async () => {
    [app, browser] = await Promise.all([gatedAppWithStartingGeneration(), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await app?.gw.dispose();
  });

  it('waits on a page that reloads itself into the app once the generation is live', async () => {
    const page = await (await openContext(browser)).newPage();
    const response = await page.goto(`http://${app.gw.host(2)}/cart`);
    assert.equal(response?.status(), 503);
    assert.equal(await page.title(), 'Generation 2 is not live yet · Baton');
    assert.match(await page.locator('body').innerText(), /Generation 2 is starting/);

    app.open(2);
    await page.getByText('gated 2').waitFor({ timeout: 30_000 });
    assert.equal(page.url(), `http://${app.gw.host(2)}/cart`);
  });
});
