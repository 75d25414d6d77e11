// The tab client injected into real pages, in Chromium (README, "How it works"): through a
// strict Content-Security-Policy without a violation, into a gzip-compressed page, inside a closed shadow
// root, and not at all with `"inject": false`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { RunningGateway, writeApp } from '../support/gateway';
import { hooksOf, launchChromium, openContext, until, waitBadge, waitCounts } from './chromium';

/** `/` a plain page, `/csp` the same under `default-src 'self'`, `/gzip` the same gzip-compressed. */
const SERVER = `const http = require('node:http');
const zlib = require('node:zlib');
const page = (title) => '<!doctype html><html><head><meta charset="utf-8"><title>' + title +
  '</title></head><body><h1>' + title + '</h1></body></html>';
http.createServer((req, res) => {
  const html = { 'Content-Type': 'text/html; charset=utf-8' };
  if (req.url === '/csp') {
    res.writeHead(200, { ...html, 'Content-Security-Policy': "default-src 'self'" });
    return res.end(page('strict CSP'));
  }
  if (req.url === '/gzip') {
    res.writeHead(200, { ...html, 'Content-Encoding': 'gzip' });
    return res.end(zlib.gzipSync(page('compressed')));
  }
  res.writeHead(200, html);
  res.end(page('plain'));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const app = (config: Record<string, unknown> = {}) =>
  writeApp({ 'server.js': SERVER }, { start: 'node server.js', ...config });

describe('the injected tab client, in Chromium', () => {
  let gw: RunningGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const url = (p: string) => `http://${gw.host(1)}${p}`;

  before(async () => {
    [gw, browser] = await Promise.all([RunningGateway.start(app()), launchChromium()]);
    context = await openContext(browser);
  });
  after(async () => {
    await browser?.close();
    await gw?.dispose();
  });

  /** Opens `p` on generation 1 in a new page and collects its console errors and page errors. */
  async function open(p: string): Promise<{ headers: Record<string, string>; body: string }> {
    page = await context.newPage();
    errors = [];
    page.on('console', (m: ConsoleMessage) => void (m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => errors.push(String(e)));
    const response = await page.goto(url(p));
    assert.ok(response, `no response for ${p}`);
    return { headers: await response.allHeaders(), body: await response.text() };
  }

  it('runs the client in a page with a Content-Security-Policy, without any violation', async () => {
    const { headers, body } = await open('/csp');
    assert.match(headers['content-security-policy'], /^default-src 'self'; script-src 'self' 'nonce-/);
    assert.match(body, /<script src="\/__baton\/client\.js" nonce="[^"]+"><\/script>/);
    await waitBadge(page, 'gen 1'); // the script ran and its WebSocket got through connect-src
    await waitCounts(gw, 1, 'the tab counted', (c) => c.tabs === 1, 1000);
    assert.deepEqual((await hooksOf(page)).violations, []);
    assert.deepEqual(errors, []);
    // The policy itself still holds, and a violation would have been seen: a fetch elsewhere is blocked.
    await page.evaluate(() => fetch('http://127.0.0.1:9/').catch(() => undefined));
    await until(
      'the blocked fetch to be reported',
      () => hooksOf(page),
      (h) => h.violations.length === 1,
      2000,
    );
    assert.match((await hooksOf(page)).violations[0], /^connect-src http:\/\/127\.0\.0\.1:9\//);
    await page.close();
  });

  it('runs the client in a gzip-compressed page', async () => {
    const { headers, body } = await open('/gzip');
    assert.equal(headers['content-encoding'], 'gzip', 'still compressed on the wire');
    assert.match(body, /<head><script src="\/__baton\/client\.js"><\/script><meta charset="utf-8">/);
    assert.equal(await page.locator('h1').innerText(), 'compressed');
    await waitBadge(page, 'gen 1');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('keeps the badge in a closed shadow root: the page cannot reach into it', async () => {
    // A context without the test hooks, so that the root is as the client made it.
    const plain = await browser.newContext();
    try {
      const tab = await plain.newPage();
      await tab.goto(url('/'));
      const badge = tab.locator('baton-badge');
      await badge.waitFor();
      assert.equal(await badge.evaluate((el) => el.shadowRoot), null);
      const box = await badge.boundingBox();
      assert.ok(box && box.width > 40 && box.height > 15, `the badge is visible: ${JSON.stringify(box)}`);
    } finally {
      await plain.close();
    }
  });

  it('injects nothing with "inject": false', async () => {
    const off = await RunningGateway.start(app({ inject: false }));
    try {
      page = await context.newPage();
      const response = await page.goto(`http://${off.host(1)}/`);
      assert.equal(response?.headers()['x-baton-generation'], '1');
      assert.doesNotMatch(await response!.text(), /__baton/);
      assert.equal(await page.evaluate(() => customElements.get('baton-badge')), undefined);
      assert.equal(await page.locator('baton-badge').count(), 0);
      assert.equal((await off.generation(1))!.tabs, 0);
    } finally {
      await page.close();
      await off.dispose();
    }
  });
});
