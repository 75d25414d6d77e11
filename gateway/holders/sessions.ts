// Browser sessions: one `baton_sid` cookie jar on one generation (README, "How it works").
// Looked up in O(1) by generation and cookie; counts kept on the generation as they change.
import { msUntilExpiry, sessionExpiry, type SessionEnd, type SessionLimits } from './drain';
import type { Generation } from '../lifecycle/generation';
import type { SessionInfo } from '../protocol/types';
import { MAX_SESSIONS } from '../http/limits';

export class Session {
  tabs = 0;
  inflight = 0;
  lastSeen = Date.now();
  tabsClosedAt: number | null = null;
  movedAway = false;
  timer: NodeJS.Timeout | null = null;
  timerDue = 0;
  readonly createdAt = Date.now();
  /** The first page it was seen on (path only), so that the editor can tell sessions apart. */
  firstPath: string | null = null;

  constructor(
    readonly key: string,
    readonly sid: string,
    readonly generation: Generation,
    readonly userAgent: string,
  ) {}

  /** A public id: the generation and the start of the cookie, never the whole cookie. */
  get id(): string {
    return `${this.generation.id}-${this.sid.slice(0, 8)}`;
  }

  info(): SessionInfo {
    return {
      id: this.id,
      generation: this.generation.id,
      tabs: this.tabs,
      lastSeen: new Date(this.lastSeen).toISOString(),
      userAgent: this.userAgent,
      firstPath: this.firstPath,
      createdAt: new Date(this.createdAt).toISOString(),
    };
  }
}

export class SessionStore {
  private readonly byKey = new Map<string, Session>();
  /** Cookies whose session ended by logout, per generation: they do not start a new one while it drains. */
  private readonly loggedOut = new Map<number, Set<string>>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly onEnd: (session: Session, reason: SessionEnd) => void,
  ) {}

  /**
   * The session of this cookie on this generation, created when the generation may take new sessions.
   * `page`: the URL of the page the request belongs to (a navigation's own URL or a Referer), if known.
   */
  touch(
    generation: Generation,
    sid: string,
    userAgent: string | undefined,
    page?: string,
  ): Session | undefined {
    const key = `${generation.id}:${sid}`;
    let session = this.byKey.get(key);
    if (!session) {
      if (!generation.running || this.byKey.size >= MAX_SESSIONS) return undefined;
      if (generation.state === 'draining' && this.loggedOut.get(generation.id)?.has(sid)) return undefined;
      session = new Session(key, sid, generation, (userAgent ?? '').slice(0, 300));
      this.byKey.set(key, session);
      generation.sessions++;
    }
    session.lastSeen = Date.now();
    if (session.firstPath === null && page) session.firstPath = pagePath(page);
    return session;
  }

  hasLoggedOut(generation: number, sid: string): boolean {
    return this.loggedOut.get(generation)?.has(sid) ?? false;
  }

  /**
   * Arms the session's expiry timer after its holders changed. A timer already due no later than the new
   * expiry is kept (expiry only moves later as the session is used): it re-checks when it fires, so a busy
   * session costs no timer work per request.
   */
  schedule(session: Session): void {
    const wait = msUntilExpiry(session, Date.now(), this.limits);
    if (wait === Infinity) return;
    const due = Date.now() + wait;
    if (session.timer && session.timerDue <= due) return;
    if (session.timer) clearTimeout(session.timer);
    session.timerDue = due;
    session.timer = setTimeout(() => {
      session.timer = null;
      const reason = sessionExpiry(session, Date.now(), this.limits);
      if (reason) this.end(session, reason);
      else this.schedule(session);
    }, wait + 5);
    session.timer.unref();
  }

  end(session: Session, reason: SessionEnd): void {
    if (this.byKey.get(session.key) !== session) return;
    this.byKey.delete(session.key);
    if (session.timer) clearTimeout(session.timer);
    session.generation.sessions--;
    if (reason === 'logout') {
      let set = this.loggedOut.get(session.generation.id);
      if (!set) this.loggedOut.set(session.generation.id, (set = new Set()));
      set.add(session.sid);
    }
    this.onEnd(session, reason);
  }

  endAll(generation: Generation): void {
    for (const session of this.byKey.values()) {
      if (session.generation === generation) this.end(session, 'generation stopped');
    }
    this.loggedOut.delete(generation.id);
  }

  all(): IterableIterator<Session> {
    return this.byKey.values();
  }

  /**
   * What the state lists: per generation, the `perGeneration` sessions seen most recently. Editors show
   * sessions to tell them apart; ten thousand rows help nobody and would make every state update megabytes
   * (the generation's own count stays exact).
   */
  listed(perGeneration: number): Session[] {
    const byGeneration = new Map<number, Session[]>();
    for (const session of this.byKey.values()) {
      const list = byGeneration.get(session.generation.id);
      if (list) list.push(session);
      else byGeneration.set(session.generation.id, [session]);
    }
    const out: Session[] = [];
    for (const list of byGeneration.values()) {
      if (list.length > perGeneration) list.sort((a, b) => b.lastSeen - a.lastSeen).length = perGeneration;
      out.push(...list);
    }
    return out;
  }
}

/** The path of a page URL (absolute or path-only), without query or fragment, at most 200 characters. */
export function pagePath(page: string): string | null {
  try {
    return new URL(page, 'http://page').pathname.slice(0, 200);
  } catch {
    return null;
  }
}
