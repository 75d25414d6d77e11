// The tab channel `/__baton/tab` (README, "How it works"): each open tab holds one
// WebSocket, so the gateway counts tabs; each tab is told its own generation and the live one's number.
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { onPong, startHeartbeat } from './heartbeat';
import type { Generation } from '../lifecycle/generation';
import type { Release } from './holds';
import type { Session } from './sessions';
import type { TabMessage } from '../protocol/types';
import { LEAVING_MESSAGE } from '../protocol/handoff';

/** Close code telling the tab client that its generation is gone (it stops reconnecting). */
export const GONE_CLOSE_CODE = 4410;

export interface Tab {
  socket: WebSocket;
  generation: Generation;
  session: Session | undefined;
  alive: boolean;
  /** The tab said it is moving to another generation: it will not come back when its socket closes. */
  leaving: boolean;
}

export class TabChannel {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false });
  private readonly tabs = new Set<Tab>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly live: () => number | null,
    /** Takes the tab's hold on its generation and session; the release runs when the tab closes. */
    private readonly hold: (generation: Generation, session: Session | undefined) => Release,
    /** Whether new tabs follow each new generation (baton.json `follow`); each tab may change it for itself. */
    private readonly follow: boolean,
  ) {
    // Browsers answer pings by themselves: a tab that stops answering (a frozen laptop lid) is closed.
    this.heartbeat = startHeartbeat(() => this.tabs, 30_000);
  }

  get size(): number {
    return this.tabs.size;
  }

  /** Upgrades a tab's request; the caller has checked Host and Origin and resolved its generation. */
  accept(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    generation: Generation,
    session: Session | undefined,
  ): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const tab: Tab = { socket: ws, generation, session, alive: true, leaving: false };
      if (!generation.running) {
        ws.close(GONE_CLOSE_CODE, 'generation gone');
        return;
      }
      this.tabs.add(tab);
      onPong(tab);
      // The only message that matters; maxPayload bounds what else a page may send.
      ws.on('message', (data) => (tab.leaving ||= data.toString() === LEAVING_MESSAGE));
      ws.on('error', () => ws.terminate());
      const release = this.hold(generation, session);
      ws.on('close', () => {
        this.tabs.delete(tab);
        // Whichever tab of a session closes last decides: one that moved away leaves no grace to wait out.
        if (session) session.movedAway = tab.leaving;
        release();
      });
      this.tell(tab);
    });
  }

  private tell(tab: Tab): void {
    const message: TabMessage = { generation: tab.generation.id, live: this.live(), follow: this.follow };
    if (tab.socket.readyState === tab.socket.OPEN) tab.socket.send(JSON.stringify(message));
  }

  /** Tells every tab the live generation's number (after a deploy, promote, crash or kill). */
  liveChanged(): void {
    for (const tab of this.tabs) this.tell(tab);
  }

  /** Closes the tabs of a generation that stopped; their count drops as they close. */
  generationGone(generation: Generation): void {
    for (const tab of this.tabs) {
      if (tab.generation === generation) {
        this.tell(tab);
        tab.socket.close(GONE_CLOSE_CODE, 'generation gone');
      }
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const tab of this.tabs) tab.socket.terminate();
    this.wss.close();
  }
}
