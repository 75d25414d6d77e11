// What holds a generation (gateway/holders/): counted holds whose release runs once, and the session store's
// lifecycle under mock timers.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { Holds } from '../../gateway/holders/holds';
import { SessionStore, type Session } from '../../gateway/holders/sessions';
import { MAX_SESSIONS } from '../../gateway/http/limits';
import { Generation } from '../../gateway/lifecycle/generation';

const LIMITS = { cookie: null, idleTimeoutSeconds: 60, tabGraceSeconds: 10 };

function live(id: number): Generation {
  const gen = new Generation(id);
  gen.state = 'live';
  return gen;
}

describe('Holds', () => {
  const letGo: number[] = [];
  const idle: Session[] = [];
  let changes = 0;
  const holds = new Holds({
    changed: () => changes++,
    letGo: (gen) => letGo.push(gen.id),
    sessionIdle: (session) => idle.push(session),
  });
  beforeEach(() => {
    letGo.length = 0;
    idle.length = 0;
    changes = 0;
  });

  test('a request holds its generation and session until released, and a second release changes nothing', () => {
    const gen = live(1);
    const store = new SessionStore(LIMITS, () => undefined);
    const session = store.touch(gen, 'sid-a', 'test')!;
    const release = holds.request(gen, session);
    assert.deepEqual([gen.inflight, session.inflight], [1, 1]);
    release();
    release();
    assert.deepEqual([gen.inflight, session.inflight], [0, 0]);
    assert.deepEqual(letGo, [1], 'the generation hears once that it was let go');
    assert.deepEqual(idle, [session], 'the idle session is re-armed once');
    assert.equal(changes, 2);
  });

  test('a tab without a session is a loose tab; closing it twice counts once', () => {
    const gen = live(2);
    const release = holds.tab(gen, undefined);
    assert.deepEqual([gen.tabs, gen.looseTabs], [1, 1]);
    release();
    release();
    assert.deepEqual([gen.tabs, gen.looseTabs], [0, 0]);
    assert.deepEqual(letGo, [2]);
  });

  test("a session's last tab closing records when, for the grace period", () => {
    const gen = live(3);
    const store = new SessionStore(LIMITS, () => undefined);
    const session = store.touch(gen, 'sid-b', 'test')!;
    const first = holds.tab(gen, session);
    const second = holds.tab(gen, session);
    assert.equal(session.tabs, 2);
    first();
    assert.equal(session.tabsClosedAt, null, 'one tab is still open');
    second();
    assert.equal(session.tabs, 0);
    assert.equal(typeof session.tabsClosedAt, 'number');
    assert.equal(gen.looseTabs, 0);
  });
});

describe('SessionStore', () => {
  test('one session per cookie and generation; none on a generation that is not running', () => {
    const store = new SessionStore(LIMITS, () => undefined);
    const gen = live(1);
    const a = store.touch(gen, 'sid-a', 'Firefox')!;
    assert.equal(store.touch(gen, 'sid-a', 'Firefox'), a);
    assert.notEqual(store.touch(live(2), 'sid-a', 'Firefox'), a, 'the same cookie on another generation');
    assert.equal(gen.sessions, 1);
    assert.equal(a.id, '1-sid-a', 'the public id shows only the start of the cookie');
    const building = new Generation(3);
    assert.equal(store.touch(building, 'sid-a', 'Firefox'), undefined);
  });

  test('a logout ends the session, and that cookie starts none while its generation drains', () => {
    const ended: string[] = [];
    const store = new SessionStore(LIMITS, (session, reason) => ended.push(`${session.id} ${reason}`));
    const gen = live(1);
    store.end(store.touch(gen, 'sid-a', '')!, 'logout');
    assert.deepEqual(ended, ['1-sid-a logout']);
    assert.equal(gen.sessions, 0);
    gen.state = 'draining';
    assert.equal(store.touch(gen, 'sid-a', ''), undefined);
    assert.ok(store.hasLoggedOut(1, 'sid-a'));
    assert.notEqual(store.touch(gen, 'sid-b', ''), undefined, 'another browser of this generation still may');
  });

  test('expiry timers: idle after idleTimeoutSeconds, tabs closed after tabGraceSeconds', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const ended: string[] = [];
    const store = new SessionStore(LIMITS, (session, reason) => ended.push(`${session.id} ${reason}`));
    const gen = live(1);
    const idle = store.touch(gen, 'sid-idle', '')!;
    store.schedule(idle);
    const tabbed = store.touch(gen, 'sid-tabs', '')!;
    tabbed.tabsClosedAt = Date.now();
    store.schedule(tabbed);
    t.mock.timers.tick(9_000);
    assert.deepEqual(ended, []);
    t.mock.timers.tick(1_100);
    assert.deepEqual(ended, ['1-sid-tabs tabs closed']);
    t.mock.timers.tick(50_000);
    assert.deepEqual(ended, ['1-sid-tabs tabs closed', '1-sid-idle idle']);
    assert.equal(gen.sessions, 0);
  });

  test('a session used again before its timer fires lives on', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const ended: string[] = [];
    const store = new SessionStore(LIMITS, (session, reason) => ended.push(`${session.id} ${reason}`));
    const gen = live(1);
    const session = store.touch(gen, 'sid-a', '')!;
    store.schedule(session);
    t.mock.timers.tick(50_000);
    store.touch(gen, 'sid-a', '');
    t.mock.timers.tick(20_000);
    assert.deepEqual(ended, [], 'the timer re-checks and waits again');
    t.mock.timers.tick(41_000);
    assert.deepEqual(ended, ['1-sid-a idle']);
  });

  test('listed: per generation, the sessions seen most recently', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const store = new SessionStore(LIMITS, () => undefined);
    const one = live(1);
    const two = live(2);
    for (let i = 0; i < 5; i++) {
      t.mock.timers.tick(1000);
      store.touch(one, `sid-${i}`, '');
    }
    store.touch(two, 'sid-x', '');
    assert.deepEqual(
      store
        .listed(3)
        .map((s) => s.id)
        .sort(),
      ['1-sid-2', '1-sid-3', '1-sid-4', '2-sid-x'],
    );
    assert.equal(one.sessions, 5, 'the count stays exact');
  });

  test(`at most ${MAX_SESSIONS} sessions: a browser beyond that is served without one`, () => {
    const store = new SessionStore(LIMITS, () => undefined);
    const gen = live(1);
    for (let i = 0; i < MAX_SESSIONS; i++) assert.ok(store.touch(gen, `sid-${i}`, ''));
    assert.equal(store.touch(gen, 'sid-one-more', ''), undefined);
    assert.ok(store.touch(gen, 'sid-0', ''), 'an existing session goes on');
    assert.equal(gen.sessions, MAX_SESSIONS);
  });

  test('endAll ends every session of a stopped generation and forgets its logouts', () => {
    const ended: string[] = [];
    const store = new SessionStore(LIMITS, (session, reason) => ended.push(`${session.id} ${reason}`));
    const one = live(1);
    const two = live(2);
    store.touch(one, 'sid-a', '');
    store.touch(one, 'sid-b', '');
    store.touch(two, 'sid-a', '');
    store.end(store.touch(one, 'sid-c', '')!, 'logout');
    store.endAll(one);
    assert.deepEqual(ended.sort(), [
      '1-sid-a generation stopped',
      '1-sid-b generation stopped',
      '1-sid-c logout',
    ]);
    assert.equal(store.hasLoggedOut(1, 'sid-c'), false);
    assert.deepEqual(
      [...store.all()].map((s) => s.id),
      ['2-sid-a'],
    );
  });
});
