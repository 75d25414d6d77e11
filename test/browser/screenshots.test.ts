// The badge's look, in Chromium: on a light and on a dark page, in the state a user sees after a deploy
// ("gen 1 · gen 2 is live →"). Takes the README's pictures, media/badge-light.png and media/badge-dark.png.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { REPO, RunningGateway, writeApp } from '../support/gateway';
import { launchChromium, openContext, waitBadge } from './chromium';

/** A small order list that follows the browser's colour scheme, like many real apps. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="color-scheme" content="light dark">
<title>Orders</title>
<style>
body{margin:0;font:15px/1.5 system-ui,sans-serif;background:#f6f8fa;color:#1f2328}
main{padding:20px 28px}
h1{font-size:20px;margin:0 0 12px}
li{display:flex;justify-content:space-between;gap:16px;padding:10px 14px;margin:0 0 8px;list-style:none;
  background:#fff;border:1px solid #d0d7de;border-radius:8px}
ul{padding:0;margin:0}
.muted{color:#59636e}
@media (prefers-color-scheme: dark){
  body{background:#0d1117;color:#e6edf3}
  li{background:#161b22;border-color:#30363d}
  .muted{color:#9198a1}
}
</style>
</head>
<body><main>
<h1>Open orders</h1>
<ul>
${[
  ['#1042', 'Baton mug × 2', 'paid'],
  ['#1043', 'Relay T-shirt', 'packing'],
  ['#1044', 'Sticker pack × 5', 'paid'],
  ['#1045', 'Finish-line cap', 'shipped'],
  ['#1046', 'Baton mug', 'paid'],
  ['#1047', 'Relay T-shirt × 3', 'packing'],
]
  .map(([id, what, state]) => `<li><span>${id} · ${what}</span><span class="muted">${state}</span></li>`)
  .join('\n')}
</ul>
</main></body>
</html>`;

const SERVER = `const http = require('node:http');
const page = ${JSON.stringify(PAGE)};
http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(page);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const VIEWPORT = { width: 520, height: 464 };
const CLIP = { x: VIEWPORT.width - 480, y: VIEWPORT.height - 200, width: 480, height: 200 };

const SCHEMES = { light: 'rgb(255, 255, 255)', dark: 'rgb(31, 35, 40)' }; // the badge's background in each

describe('the badge on light and dark pages, in Chromium', () => {
  let gw: RunningGateway;
  let browser: Browser;
  const pages = new Map<keyof typeof SCHEMES, Page>();

  // Both tabs open on generation 1, then generation 2 is deployed under them.
  before(async () => {
    const dir = writeApp({ 'server.js': SERVER }, { start: 'node server.js' });
    [gw, browser] = await Promise.all([RunningGateway.start(dir, ['--no-watch']), launchChromium()]);
    for (const scheme of Object.keys(SCHEMES) as (keyof typeof SCHEMES)[]) {
      const context = await openContext(browser, {
        viewport: VIEWPORT,
        deviceScaleFactor: 2,
        colorScheme: scheme,
      });
      const page = await context.newPage();
      await page.goto(`http://localhost:${gw.port}/`);
      await waitBadge(page, 'gen 1');
      pages.set(scheme, page);
    }
    await gw.client!.deploy();
    await gw.waitState('generation 2 live', (s) => s.live === 2, 20_000);
  });
  after(async () => {
    await browser?.close();
    await gw?.dispose();
  });

  for (const [scheme, background] of Object.entries(SCHEMES) as [keyof typeof SCHEMES, string][]) {
    it(`shows "gen 1 · gen 2 is live →" on a ${scheme} page (media/badge-${scheme}.png)`, async () => {
      const page = pages.get(scheme)!;
      await waitBadge(page, 'gen 1 · gen 2 is live →', 1000);
      // The badge follows the colour scheme, and it sits inside the picture.
      const box = page.locator('baton-badge').locator('.box');
      assert.equal(await box.evaluate((el) => getComputedStyle(el).backgroundColor), background);
      const bounds = (await box.boundingBox())!;
      assert.ok(bounds.x >= CLIP.x && bounds.y >= CLIP.y, `badge at ${JSON.stringify(bounds)}`);
      assert.ok(bounds.x + bounds.width <= VIEWPORT.width && bounds.y + bounds.height <= VIEWPORT.height);
      const png = await page.screenshot({
        clip: CLIP,
        path: path.join(REPO, 'media', `badge-${scheme}.png`),
      });
      assert.equal(png.readUInt32BE(16), CLIP.width * 2, 'PNG width at deviceScaleFactor 2');
      assert.equal(png.readUInt32BE(20), CLIP.height * 2, 'PNG height at deviceScaleFactor 2');
    });
  }
});
