// When a session ends and when a draining generation stops (README, "How it works").
// Pure decisions over plain data, so they are unit tested without processes or sockets.

export interface SessionFacts {
  tabs: number;
  /** Requests and sockets (WebSocket, event stream) of this session still open. */
  inflight: number;
  /** ms timestamp of the last request start or end, socket close or tab change. */
  lastSeen: number;
  /** ms timestamp at which the session's last tab closed; null while a tab is open or none ever was. */
  tabsClosedAt: number | null;
  /** Its last tab moved to another generation: no grace, that tab is not coming back with a reload. */
  movedAway: boolean;
}

export interface SessionLimits {
  idleTimeoutSeconds: number;
  tabGraceSeconds: number;
}

export type SessionEnd = 'logout' | 'tabs closed' | 'idle' | 'generation stopped';

const graceMs = (s: SessionFacts, limits: SessionLimits) => (s.movedAway ? 0 : limits.tabGraceSeconds * 1000);

/** Why this session is over at `now`, or null while it lives. */
export function sessionExpiry(s: SessionFacts, now: number, limits: SessionLimits): SessionEnd | null {
  if (s.tabs > 0 || s.inflight > 0) return null;
  if (s.tabsClosedAt !== null && now - s.tabsClosedAt >= graceMs(s, limits)) return 'tabs closed';
  if (now - s.lastSeen >= limits.idleTimeoutSeconds * 1000) return 'idle';
  return null;
}

/** ms until `sessionExpiry` could first say yes (for timers); Infinity while something holds the session. */
export function msUntilExpiry(s: SessionFacts, now: number, limits: SessionLimits): number {
  if (s.tabs > 0 || s.inflight > 0) return Infinity;
  const idle = s.lastSeen + limits.idleTimeoutSeconds * 1000 - now;
  const grace = s.tabsClosedAt === null ? Infinity : s.tabsClosedAt + graceMs(s, limits) - now;
  return Math.max(0, Math.min(idle, grace));
}

export interface GenerationHolders {
  state: string;
  sessions: number;
  /** Tabs not attached to any session (a browser that keeps no cookies). */
  looseTabs: number;
  inflight: number;
  /** ms timestamp when the generation began draining. */
  drainingSince: number | null;
}

export type DrainVerdict = { stop: false } | { stop: true; reason: string };

/** Whether a draining generation should stop now. */
export function drainVerdict(g: GenerationHolders, now: number, retireAfterSeconds: number): DrainVerdict {
  if (g.state !== 'draining') return { stop: false };
  if (g.sessions === 0 && g.looseTabs === 0 && g.inflight === 0) {
    return { stop: true, reason: 'drained: its last session, tab and request are gone' };
  }
  if (
    retireAfterSeconds > 0 &&
    g.drainingSince !== null &&
    now - g.drainingSince >= retireAfterSeconds * 1000
  ) {
    return { stop: true, reason: `retired after ${retireAfterSeconds} s of draining` };
  }
  return { stop: false };
}
