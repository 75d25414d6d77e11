// What holds a generation: requests and sockets in flight, open tabs, sessions. Every holder takes one
// counted hold and gets back a release that runs once, however often it is called (a response's `close`
// and its socket's `close` may both fire, or neither for one of them): the counts can never drift.
import type { Generation } from '../lifecycle/generation';
import type { Session } from './sessions';

export type Release = () => void;

/** `fn`, callable any number of times, run the first time only. */
export function once(fn: () => void): Release {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

export interface HoldsListener {
  /** Counts changed (throttled state updates). */
  changed(): void;
  /** Something let go of `generation`: it may drain now. */
  letGo(generation: Generation): void;
  /** The session lost a holder: its expiry timer is re-armed. */
  sessionIdle(session: Session): void;
}

export class Holds {
  constructor(private readonly listener: HoldsListener) {}

  /** A request, event stream or WebSocket in flight on `generation` (and its session, if any). */
  request(generation: Generation, session: Session | undefined): Release {
    generation.inflight++;
    if (session) session.inflight++;
    this.listener.changed();
    return once(() => {
      generation.inflight--;
      if (session) {
        session.inflight--;
        session.lastSeen = Date.now();
        if (session.inflight === 0 && session.tabs === 0) this.listener.sessionIdle(session);
      }
      this.listener.letGo(generation);
      this.listener.changed();
    });
  }

  /** An open tab (its `/__baton/tab` socket) on `generation`, in a session or, for a cookieless browser, not. */
  tab(generation: Generation, session: Session | undefined): Release {
    generation.tabs++;
    if (session) {
      session.tabs++;
      session.tabsClosedAt = null;
      session.movedAway = false;
      this.listener.sessionIdle(session);
    } else generation.looseTabs++;
    this.listener.changed();
    return once(() => {
      generation.tabs--;
      if (session) {
        session.tabs--;
        session.lastSeen = Date.now();
        if (session.tabs === 0) {
          session.tabsClosedAt = Date.now();
          this.listener.sessionIdle(session);
        }
      } else generation.looseTabs--;
      this.listener.letGo(generation);
      this.listener.changed();
    });
  }
}
