// What Kill Worker, Stop Gateway and Promote would cost, said before they run (extension/consequences.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GatewayState, GenerationInfo, GenerationState } from '../../gateway/protocol/types';
import { killConsequence, promoteConsequence, stopConsequence } from '../../extension/consequences';

function gen(id: number, state: GenerationState, sessions = 0, tabs = 0): GenerationInfo {
  const at = new Date(0).toISOString();
  return {
    id,
    state,
    pid: 1,
    port: 1,
    sessions,
    tabs,
    inflight: 0,
    createdAt: at,
    readyAt: at,
    stoppedAt: null,
    exitCode: null,
    reason: null,
    unsavedFiles: [],
  };
}

function state(generations: GenerationInfo[], live: number | null, sessions = 0): GatewayState {
  const session = {
    id: 'x',
    generation: 1,
    tabs: 1,
    lastSeen: '',
    userAgent: '',
    firstPath: null,
    createdAt: '',
  };
  return {
    root: '/a',
    port: 8080,
    affinity: 'tab',
    live,
    watching: true,
    watchError: null,
    missedChanges: [],
    configError: null,
    configRestart: [],
    generations,
    sessions: Array(sessions).fill(session),
  };
}

describe('consequences', () => {
  test('Kill asks only when the generation holds sessions or tabs, and says what happens to them', () => {
    const g1 = gen(1, 'draining', 1, 1);
    const s = state([g1, gen(2, 'live')], 2);
    assert.equal(killConsequence(s, gen(2, 'live')), null);
    const c = killConsequence(s, g1)!;
    assert.equal(c.message, 'Kill generation 1? It holds 1 session and 1 tab.');
    assert.match(c.detail, /"stopped" page.*generation 2 \(the live one\)/);
    assert.match(
      killConsequence(state([gen(1, 'live', 0, 2)], 1), gen(1, 'live', 0, 2))!.detail,
      /No generation will be live/,
    );
  });

  test('Stop Gateway asks while sessions or tabs are open', () => {
    assert.equal(stopConsequence(state([gen(1, 'live')], 1)), null);
    assert.equal(
      stopConsequence(state([gen(1, 'live', 2, 3)], 1, 2))!.message,
      'Stop the gateway? 2 sessions and 3 tabs are open.',
    );
  });

  test('Promote says what happens to the live generation and to newer ones', () => {
    const s = state([gen(1, 'draining', 1, 1), gen(2, 'live', 0, 1), gen(3, 'building')], 2);
    const c = promoteConsequence(s, s.generations[0]);
    assert.equal(c.message, 'Promote generation 1 to live?');
    assert.match(c.detail, /Generation 2 \(live now\) drains: it keeps its 1 tab/);
    assert.match(c.detail, /Generation 3 is building: it still becomes live when it is ready/);
    const idle = state([gen(1, 'draining'), gen(2, 'live')], 2);
    assert.match(
      promoteConsequence(idle, idle.generations[0]).detail,
      /holds no session or tab, so it stops at once/,
    );
  });
});
