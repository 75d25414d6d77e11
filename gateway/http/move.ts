// Moving a tab to another generation's host with its cookies (`/__baton/tab?move=1` issues a token,
// `/__baton/move` redeems it), and the way out of a stopped generation (`/__baton/move?from=N`). Both end on
// a hand-off page on the new host: it comes with the cookies, writes into the tab's sessionStorage for that
// origin whether the tab follows and why it came (the next page's badge reads them), and opens the same path.
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Affinity, GenerationState } from '../protocol/types';
import type { MoveGrant, StopNotice } from '../protocol/handoff';
import { FOLLOW_KEY, NOTICE_KEY } from '../protocol/handoff';
import { generationHost, isForwarded, type ParsedHost } from './hosts';
import { carriedCookies, MoveTokens } from './moveTokens';
import { handoffPage, moveRefusedPage, send } from './pages';
import { usesGenerationHosts } from './route';
import { sameOriginPath } from './safePath';

export interface MoveContext {
  affinity: Affinity;
  live(): number | null;
  /** A generation's state, or null when this gateway run never had it. */
  stateOf(generation: number): GenerationState | null;
  /** The port the gateway listens on (a request through a forwarding proxy names another). */
  port(): number;
}

export class Moves {
  private readonly tokens = new MoveTokens();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64, perMessageDeflate: false });

  constructor(private readonly ctx: MoveContext) {}

  /**
   * The one-shot socket a tab opens to move (the caller has checked its Origin). Its upgrade request carries
   * the tab's cookies as they are now, HttpOnly ones included; the answer is a token for them, then it closes.
   */
  accept(req: http.IncomingMessage, socket: Duplex, head: Buffer, host: ParsedHost, query: URLSearchParams) {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      const live = this.ctx.live();
      // Session affinity keeps one cookie jar for every generation: nothing to carry there.
      if (live === null || host.generation === null) return ws.close(1008, 'nothing to move to');
      const visible = new Set((query.get('visible') ?? '').split(','));
      const cookies = carriedCookies(req.headers.cookie, visible);
      const token = this.tokens.issue({ cookies, origin: req.headers.origin!, to: live });
      if (!token) return ws.close(1013, 'too many moves at once');
      const grant: MoveGrant = { token, live };
      ws.send(JSON.stringify(grant), () => ws.close(1000));
    });
  }

  /** `GET /__baton/move?path=…[&token=…][&follow=0|1][&from=N]`. */
  handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    host: ParsedHost,
    query: URLSearchParams,
  ): void {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed: use GET\n', {
        Allow: 'GET, HEAD',
      });
    const path = sameOriginPath(query.get('path') ?? '/');
    if (path === null) {
      const text = 'Bad Request: "path" must be a path on this site, starting with a single "/"\n';
      return send(res, 400, 'text/plain; charset=utf-8', text);
    }
    const token = query.get('token');
    const live = this.ctx.live();
    // On the bare host, tab affinity: the tab's storage must be written on the live generation's own origin.
    if (
      token === null &&
      live !== null &&
      usesGenerationHosts(
        this.ctx.affinity,
        host,
        req.headers['user-agent'],
        isForwarded(host, this.ctx.port(), req.headers),
      )
    ) {
      const location = `http://${generationHost(live, host.port)}/__baton/move?${query}`;
      res.writeHead(307, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
      return void res.end();
    }
    let cookies: string[] = [];
    if (token !== null) {
      const why = this.refusal(req, host, token);
      if (typeof why === 'string')
        return send(res, 403, 'text/html; charset=utf-8', moveRefusedPage(why, path));
      cookies = why;
    }
    const storage: Record<string, string> = {};
    const follow = query.get('follow');
    if (follow === '0' || follow === '1') storage[FOLLOW_KEY] = follow;
    const from = Number(query.get('from'));
    if (Number.isInteger(from) && from > 0) {
      const notice: StopNotice = { from, state: this.ctx.stateOf(from) };
      storage[NOTICE_KEY] = JSON.stringify(notice);
    }
    send(res, 200, 'text/html; charset=utf-8', handoffPage(path, storage), {
      ...(cookies.length ? { 'Set-Cookie': cookies as unknown as string } : {}),
      'Referrer-Policy': 'no-referrer',
    });
  }

  /** The cookies to set, or why this request may not redeem the token (which is used up either way). */
  private refusal(req: http.IncomingMessage, host: ParsedHost, token: string): string[] | string {
    const redeemed = this.tokens.redeem(token);
    if (!redeemed.ok) return redeemed.why;
    const { ticket } = redeemed;
    if (host.generation !== ticket.to) return `this move link is for the address of generation ${ticket.to}`;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== ticket.origin) return 'this move link was used from another site';
    // Typed, pasted or opened from a bookmark or another application: not the tab that asked for it.
    if (req.headers['sec-fetch-site'] === 'none')
      return 'this move link was opened outside the tab it was made for';
    const referer = req.headers.referer;
    if (referer !== undefined && refererOrigin(referer) !== ticket.origin)
      return 'this move link was opened from another page than the one it was made for';
    return ticket.cookies;
  }

  close(): void {
    this.wss.close();
  }
}

function refererOrigin(referer: string): string | null {
  try {
    return new URL(referer).origin;
  } catch {
    return null;
  }
}
