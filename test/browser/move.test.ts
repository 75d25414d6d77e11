// A tab moving to the live generation with its cookies, in real Chromium (see gateway/http/move.ts): the
// badge's link keeps a login whose session lives in a file, an in-memory session arrives as a new visitor,
// a following tab moves by itself right after a deploy while a pinned tab stays, the old generation drains
// once the moved tabs have left it, and a page load on a stopped generation lands on the live one.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REPO, RunningGateway, writeApp } from '../support/gateway';
import { badgeText, launchChromium, openContext, until, waitBadge, waitCounts } from './chromium';

/**
 * Express with two session stores, as real apps have them: `/file/*` keeps sessions in a JSON file outside
 * the snapshot (as a database would), `/mem/*` in the worker's memory (express-session's default). Each
 * area's account page says who is signed in; it also sets a cookie that scripts may read (`theme`).
 */
const SERVER = `const express = require('express');
const session = require('express-session');
const fs = require('node:fs');
class FileStore extends session.Store {
  constructor(file) { super(); this.file = file; }
  all() { try { return JSON.parse(fs.readFileSync(this.file, 'utf8')); } catch { return {}; } }
  get(sid, cb) { cb(null, this.all()[sid] ?? null); }
  set(sid, value, cb) { const all = this.all(); all[sid] = value; fs.writeFileSync(this.file, JSON.stringify(all)); cb(null); }
  destroy(sid, cb) { const all = this.all(); delete all[sid]; fs.writeFileSync(this.file, JSON.stringify(all)); cb(null); }
}
const page = (body) => '<!doctype html><html><head><meta charset="utf-8"><title>account</title></head><body>' +
  body + '<footer>generation ' + process.env.BATON_GENERATION + '</footer></body></html>';
function area(name, store) {
  const router = express.Router();
  router.use(session({ name: name + '.sid', store, secret: 'fixture', resave: false, saveUninitialized: false }));
  router.get('/account', (req, res) => {
    res.cookie('theme', 'dark');
    res.type('html').send(page('<p id="who">' + (req.session.user ? 'Signed in as ' + req.session.user : 'Not signed in') +
      '</p><form method="post" action="/' + name + '/login"><input name="name"><button>Log in</button></form>' +
      '<form method="post" action="/' + name + '/logout"><button>Log out</button></form>'));
  });
  router.post('/login', (req, res) => req.session.regenerate(() => {
    req.session.user = req.body.name;
    res.redirect(303, '/' + name + '/account?welcome=1');
  }));
  router.post('/logout', (req, res) => req.session.destroy(() => {
    res.clearCookie(name + '.sid');
    res.redirect(303, '/' + name + '/account');
  }));
  return router;
}
const app = express();
app.use(express.urlencoded({ extended: false }));
app.get('/', (req, res) => res.type('html').send(page('home')));
app.use('/file', area('file', new FileStore(process.env.SESSION_FILE)));
app.use('/mem', area('mem'));
app.listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('moving tabs with their cookies, in Chromium', () => {
  let gw: RunningGateway;
  let browser: Browser;
  let context: BrowserContext;
  let fileTab: Page; // signed in to the file-backed area
  let memTab: Page; // signed in to the in-memory area
  let pinned: Page; // a tab that stays where it is
  const on = (generation: number, p: string) => `http://${gw.host(generation)}${p}`;
  const who = (tab: Page) => tab.locator('#who').innerText();
  const badge = (tab: Page) => tab.locator('baton-badge');

  async function logIn(tab: Page, area: string): Promise<void> {
    await tab.goto(`http://localhost:${gw.port}/${area}/account`);
    await tab.locator('input[name=name]').fill('Ann');
    await tab.getByRole('button', { name: 'Log in' }).click();
    await tab.waitForURL(on(1, `/${area}/account?welcome=1`));
    assert.equal(await who(tab), 'Signed in as Ann');
  }

  async function deploy(id: number): Promise<void> {
    await gw.client!.deploy();
    await gw.waitState(`generation ${id} live`, (s) => s.live === id, 30_000);
  }

  before(async () => {
    const dir = writeApp(
      { 'server.js': SERVER },
      {
        start: 'node server.js',
        // A long grace: the old generation must drain because its tabs moved, not because time passed.
        session: { cookie: 'file.sid', tabGraceSeconds: 300 },
        env: { SESSION_FILE: '' },
      },
    );
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'baton.json'), 'utf8'));
    config.env.SESSION_FILE = path.join(dir, 'sessions.json');
    config.ignore = ['sessions.json'];
    fs.writeFileSync(path.join(dir, 'baton.json'), JSON.stringify(config));
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
    [gw, browser] = await Promise.all([RunningGateway.start(dir, ['--no-watch']), launchChromium()]);
    context = await openContext(browser);
  });
  after(async () => {
    await browser?.close();
    await gw?.dispose();
  });

  it('lands on generation 2 at the same path still signed in, from the badge link, where sessions live in a file', async () => {
    fileTab = await context.newPage();
    memTab = await context.newPage();
    await logIn(fileTab, 'file');
    await logIn(memTab, 'mem');
    await waitCounts(
      gw,
      1,
      'two tabs in one session',
      (c) => c.tabs === 2 && `${c.sessionTabs}` === '2',
      5000,
    );
    await deploy(2);
    await waitBadge(fileTab, 'gen 1 · gen 2 is live →');
    await badge(fileTab).getByRole('link', { name: 'gen 2 is live →' }).click();
    await fileTab.waitForURL(on(2, '/file/account?welcome=1'));
    await fileTab.locator('footer', { hasText: 'generation 2' }).waitFor();
    assert.equal(await who(fileTab), 'Signed in as Ann');
    await waitBadge(fileTab, 'gen 2');
    const cookies = Object.fromEntries((await context.cookies(on(2, '/'))).map((c) => [c.name, c]));
    assert.equal(cookies['file.sid']?.httpOnly, true, 'an HttpOnly cookie stays HttpOnly');
    assert.equal(cookies.theme?.httpOnly, false, 'a cookie the page could read stays readable');
    const g1 = Object.fromEntries((await context.cookies(on(1, '/'))).map((c) => [c.name, c.value]));
    assert.notEqual(
      cookies.baton_sid?.value,
      g1.baton_sid,
      "the gateway's own session cookie is not carried",
    );
  });

  it('arrives as a new visitor, without an error, where sessions lived in the old worker’s memory', async () => {
    await waitBadge(memTab, 'gen 1 · gen 2 is live →');
    const arrived = memTab.waitForResponse((r) => r.url() === on(2, '/mem/account?welcome=1'));
    await badge(memTab).getByRole('link', { name: 'gen 2 is live →' }).click();
    await memTab.waitForURL(on(2, '/mem/account?welcome=1'));
    assert.equal((await arrived).status(), 200);
    assert.equal(await who(memTab), 'Not signed in');
  });

  it('drains generation 1 once the moved tabs have left it, without waiting for tabGraceSeconds', async () => {
    await waitCounts(gw, 1, 'stopped, its worker gone', (c) => c.state === 'stopped' && c.exited, 20_000);
    const g1 = (await gw.state()).generations.find((g) => g.id === 1)!;
    assert.match(g1.reason!, /drained/);
  });

  it('moves a following tab with its login right after a deploy, while a pinned tab stays', async () => {
    pinned = await context.newPage();
    await pinned.goto(on(2, '/file/account'));
    assert.equal(await who(pinned), 'Signed in as Ann');
    await waitBadge(pinned, 'gen 2');
    const toggle = badge(fileTab).getByRole('button', { name: 'Follow new generations' });
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false', 'pinned is the default');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');

    await deploy(3);
    await fileTab.waitForURL(on(3, '/file/account?welcome=1'), { timeout: 10_000 });
    await waitCounts(gw, 3, 'the moved tab', (c) => c.tabs === 1, 10_000);
    const state = await gw.state();
    const readyAt = Date.parse(state.generations.find((g) => g.id === 3)!.readyAt!);
    const arrivedAt = Date.parse(state.sessions.find((s) => s.generation === 3)!.lastSeen);
    const ms = arrivedAt - readyAt;
    console.log(`the following tab was on generation 3 ${ms} ms after it went live (gateway clock)`);
    assert.ok(ms >= 0 && ms < 5000, `${ms} ms`);
    assert.equal(await who(fileTab), 'Signed in as Ann');
    assert.equal(
      await badge(fileTab)
        .getByRole('button', { name: 'Follow new generations' })
        .getAttribute('aria-pressed'),
      'true',
      'it keeps following on the new host',
    );
    await waitBadge(pinned, 'gen 2 · gen 3 is live →');
    await waitBadge(memTab, 'gen 2 · gen 3 is live →');
    assert.equal(pinned.url(), on(2, '/file/account'));
  });

  it('sends a page load on a stopped generation to the live one, same path, and says so once in the badge', async () => {
    await gw.client!.kill(2);
    await waitBadge(pinned, 'gen 2 stopped · gen 3 is live →');
    // Not following: it stays put until the user reloads.
    assert.equal(pinned.url(), on(2, '/file/account'));
    await pinned.reload();
    await pinned.waitForURL(on(3, '/file/account'));
    await waitBadge(pinned, 'gen 3 · gen 2 was stopped');
    await pinned.reload();
    await until(
      'the reloaded badge',
      () => badgeText(pinned),
      (t) => t === 'gen 3',
      5000,
    );
  });

  it("lands a logout's redirect on the live generation when the logout stopped the old one", async () => {
    const toggle = badge(fileTab).getByRole('button', { name: 'Follow new generations' });
    await toggle.click(); // pinned again: it stays on generation 3 across the next deploy
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await Promise.all([pinned.close(), memTab.close()]);
    await waitCounts(gw, 3, 'only the file tab', (c) => c.tabs === 1, 5000);
    await deploy(4);
    await waitBadge(fileTab, 'gen 3 · gen 4 is live →');
    // The logout ends generation 3's last session, so it stops while the redirect's page load is on its way.
    const landed = fileTab.waitForResponse((r) => r.url() === on(4, '/file/account'));
    await fileTab.getByRole('button', { name: 'Log out' }).click();
    await fileTab.waitForURL(on(4, '/file/account'));
    assert.equal((await landed).status(), 200);
    assert.equal(await who(fileTab), 'Not signed in');
    await waitCounts(gw, 3, 'stopped', (c) => c.state === 'stopped', 10_000);
  });

  it('opens a following tab from the URL that Open in Browser uses with baton.openFollowing', async () => {
    const tab = await context.newPage();
    await tab.goto(`http://localhost:${gw.port}/__baton/move?follow=1&path=%2Ffile%2Faccount`);
    await tab.waitForURL(on(4, '/file/account'));
    await waitBadge(tab, 'gen 4');
    const toggle = badge(tab).getByRole('button', { name: 'Follow new generations' });
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  });
});
