// What Kill Worker, Stop Gateway and Promote would cost, in words for the modal that asks first; null when
// nothing would be lost (then nobody is asked). No `vscode` import: unit-tested.
import type { GatewayState, GenerationInfo } from '../gateway/protocol/types';

export interface Consequence {
  message: string;
  detail: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function holds(g: GenerationInfo): string | null {
  const parts: string[] = [];
  if (g.sessions > 0) parts.push(plural(g.sessions, 'session'));
  if (g.tabs > 0) parts.push(plural(g.tabs, 'tab'));
  if (g.state === 'draining' && g.inflight > 0) parts.push(plural(g.inflight, 'request'));
  return parts.length ? parts.join(' and ') : null;
}

export function killConsequence(state: GatewayState, g: GenerationInfo): Consequence | null {
  const held = holds(g);
  if (!held) return null;
  const live = state.live === g.id;
  const next = live
    ? 'No generation will be live until you deploy or promote one.'
    : state.live !== null
      ? `Their pages move to generation ${state.live} (the live one) on the next load.`
      : '';
  return {
    message: `Kill generation ${g.id}? It holds ${held}.`,
    detail:
      `Its worker stops now and those tabs show a "stopped" page; the state in its memory is lost. ${next}`.trim(),
  };
}

export function stopConsequence(state: GatewayState): Consequence | null {
  const sessions = state.sessions.length;
  const tabs = state.generations.reduce((n, g) => n + g.tabs, 0);
  if (sessions === 0 && tabs === 0) return null;
  const held = [sessions && plural(sessions, 'session'), tabs && plural(tabs, 'tab')]
    .filter(Boolean)
    .join(' and ');
  const running = state.generations.filter((g) => g.state === 'live' || g.state === 'draining').length;
  return {
    message: `Stop the gateway? ${held} are open.`,
    detail: `Every worker stops (${plural(running, 'generation')}) and the state in their memory is lost; open tabs stop answering until the gateway runs again.`,
  };
}

export function promoteConsequence(state: GatewayState, g: GenerationInfo): Consequence {
  const live = state.generations.find((x) => x.id === state.live);
  const newer = state.generations.filter(
    (x) =>
      x.id > g.id &&
      x.id !== state.live &&
      (x.state === 'draining' || x.state === 'building' || x.state === 'starting'),
  );
  const lines = [`New tabs and sessions get generation ${g.id} again.`];
  if (live) {
    lines.push(
      live.sessions + live.tabs > 0
        ? `Generation ${live.id} (live now) drains: it keeps its ${holds(live)} and stops when they are gone.`
        : `Generation ${live.id} (live now) holds no session or tab, so it stops at once.`,
    );
  }
  for (const x of newer) {
    lines.push(
      x.state === 'draining'
        ? `Generation ${x.id} keeps draining.`
        : `Generation ${x.id} is ${x.state}: it still becomes live when it is ready (kill it to keep ${g.id}).`,
    );
  }
  return { message: `Promote generation ${g.id} to live?`, detail: lines.join(' ') };
}
