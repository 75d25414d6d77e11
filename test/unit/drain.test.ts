// When a session ends and when a draining generation stops (README, "How it works").
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  drainVerdict,
  msUntilExpiry,
  sessionExpiry,
  type GenerationHolders,
  type SessionFacts,
} from '../../gateway/holders/drain';

const LIMITS = { idleTimeoutSeconds: 60, tabGraceSeconds: 10 };
const NOW = 1_000_000_000;

const session = (over: Partial<SessionFacts> = {}): SessionFacts => ({
  tabs: 0,
  inflight: 0,
  lastSeen: NOW,
  tabsClosedAt: null,
  movedAway: false,
  ...over,
});

describe('sessionExpiry', () => {
  test('an open tab or an in-flight request or socket holds the session however old it is', () => {
    const old = NOW - 3600_000;
    assert.equal(sessionExpiry(session({ tabs: 1, lastSeen: old, tabsClosedAt: old }), NOW, LIMITS), null);
    assert.equal(sessionExpiry(session({ inflight: 1, lastSeen: old }), NOW, LIMITS), null);
  });

  test('idle: no request, socket or tab for idleTimeoutSeconds', () => {
    assert.equal(sessionExpiry(session({ lastSeen: NOW - 59_999 }), NOW, LIMITS), null);
    assert.equal(sessionExpiry(session({ lastSeen: NOW - 60_000 }), NOW, LIMITS), 'idle');
  });

  test('tabs closed: all tabs closed for tabGraceSeconds, long before the idle timeout', () => {
    assert.equal(
      sessionExpiry(session({ tabsClosedAt: NOW - 9_999, lastSeen: NOW - 9_999 }), NOW, LIMITS),
      null,
    );
    assert.equal(
      sessionExpiry(session({ tabsClosedAt: NOW - 10_000, lastSeen: NOW - 10_000 }), NOW, LIMITS),
      'tabs closed',
    );
  });

  test('a zero grace ends the session as soon as its last tab closes', () => {
    assert.equal(
      sessionExpiry(session({ tabsClosedAt: NOW }), NOW, { ...LIMITS, tabGraceSeconds: 0 }),
      'tabs closed',
    );
  });

  test('a session whose last tab moved to another generation ends without the grace, once nothing holds it', () => {
    const moved = session({ tabsClosedAt: NOW, movedAway: true });
    assert.equal(sessionExpiry(moved, NOW, LIMITS), 'tabs closed');
    assert.equal(msUntilExpiry(moved, NOW, LIMITS), 0);
    assert.equal(
      sessionExpiry({ ...moved, inflight: 1 }, NOW, LIMITS),
      null,
      'an open event stream holds it',
    );
  });
});

describe('msUntilExpiry', () => {
  test('Infinity while something holds the session', () => {
    assert.equal(msUntilExpiry(session({ tabs: 2 }), NOW, LIMITS), Infinity);
    assert.equal(msUntilExpiry(session({ inflight: 1 }), NOW, LIMITS), Infinity);
  });

  test('the idle deadline when no tab ever closed', () => {
    assert.equal(msUntilExpiry(session({ lastSeen: NOW - 15_000 }), NOW, LIMITS), 45_000);
  });

  test('the earlier of the grace and idle deadlines', () => {
    assert.equal(
      msUntilExpiry(session({ lastSeen: NOW - 1_000, tabsClosedAt: NOW - 4_000 }), NOW, LIMITS),
      6_000,
    );
    assert.equal(
      msUntilExpiry(session({ lastSeen: NOW - 58_000, tabsClosedAt: NOW - 1_000 }), NOW, LIMITS),
      2_000,
    );
  });

  test('never negative, and agrees with sessionExpiry at its deadline', () => {
    const s = session({ lastSeen: NOW - 120_000 });
    assert.equal(msUntilExpiry(s, NOW, LIMITS), 0);
    const fresh = session({ lastSeen: NOW, tabsClosedAt: NOW });
    const wait = msUntilExpiry(fresh, NOW, LIMITS);
    assert.equal(sessionExpiry(fresh, NOW + wait - 1, LIMITS), null);
    assert.equal(sessionExpiry(fresh, NOW + wait, LIMITS), 'tabs closed');
  });
});

describe('drainVerdict', () => {
  const gen = (over: Partial<GenerationHolders> = {}): GenerationHolders => ({
    state: 'draining',
    sessions: 0,
    looseTabs: 0,
    inflight: 0,
    drainingSince: NOW - 1000,
    ...over,
  });

  test('a draining generation that nothing holds stops', () => {
    const verdict = drainVerdict(gen(), NOW, 0);
    assert.equal(verdict.stop, true);
    assert.match((verdict as { reason: string }).reason, /drained/);
  });

  test('a session, a loose tab or an in-flight request keeps it', () => {
    assert.deepEqual(drainVerdict(gen({ sessions: 1 }), NOW, 0), { stop: false });
    assert.deepEqual(drainVerdict(gen({ looseTabs: 1 }), NOW, 0), { stop: false });
    assert.deepEqual(drainVerdict(gen({ inflight: 1 }), NOW, 0), { stop: false });
  });

  test('only draining generations stop, however empty', () => {
    for (const state of ['live', 'building', 'starting', 'stopped', 'failed', 'crashed']) {
      assert.deepEqual(drainVerdict(gen({ state }), NOW, 0), { stop: false }, state);
      assert.deepEqual(
        drainVerdict(gen({ state, drainingSince: NOW - 99_000 }), NOW, 5),
        { stop: false },
        state,
      );
    }
  });

  test('retireAfterSeconds stops a held generation once it has drained that long', () => {
    const held = { sessions: 3, inflight: 2, looseTabs: 1 };
    assert.deepEqual(drainVerdict(gen({ ...held, drainingSince: NOW - 4_999 }), NOW, 5), { stop: false });
    const verdict = drainVerdict(gen({ ...held, drainingSince: NOW - 5_000 }), NOW, 5);
    assert.deepEqual(verdict, { stop: true, reason: 'retired after 5 s of draining' });
  });

  test('retireAfterSeconds 0 never retires', () => {
    assert.deepEqual(drainVerdict(gen({ sessions: 1, drainingSince: NOW - 86_400_000 }), NOW, 0), {
      stop: false,
    });
  });
});
