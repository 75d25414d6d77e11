// Single-use, short-lived tokens that carry one tab's cookies to the live generation's host (a tab that moves
// from gN.localhost to gM.localhost: browsers keep a separate cookie jar per host). Held in memory only; the
// cookie values never leave this store except as the Set-Cookie lines of the one answer that redeems them.
import { randomBytes } from 'node:crypto';
import { PIN_COOKIE, SID_COOKIE } from './cookies';

/** How long a token stays good: the tab navigates as soon as it has it, so a few seconds is plenty. */
export const TOKEN_TTL_MS = 5000;
/** Outstanding tokens at most; more requests than that within TOKEN_TTL_MS are refused (tabs fall back). */
const MAX_TOKENS = 256;

export interface MoveTicket {
  /** Set-Cookie lines for the new host: the same names and values, host-only. */
  cookies: string[];
  /** The origin of the page that asked (`http://g1.localhost:8080`): the move must come from there. */
  origin: string;
  /** The generation whose host may redeem the token. */
  to: number;
  expiresAt: number;
}

export type Redeemed = { ok: true; ticket: MoveTicket } | { ok: false; why: string };

/**
 * The Set-Cookie lines that recreate a Cookie header's cookies on another host. The gateway's own cookies
 * stay behind (each host has its own session and pin). A Cookie header carries no attributes, so a cookie
 * that the page's script cannot see (not in `visible`) is taken to be HttpOnly and stays HttpOnly. Cookies
 * scoped to a narrower Path than "/" are not in the header and do not move.
 */
export function carriedCookies(header: string | undefined, visible: ReadonlySet<string>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    // The first of two same-named cookies is the one with the longer path: the one this page uses.
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || seen.has(name)) continue;
    seen.add(name);
    if (name === SID_COOKIE || name === PIN_COOKIE || /[\u0000-\u001f\u007f;]/.test(value)) continue;
    const secure = /^__(Host|Secure)-/i.test(name) ? '; Secure' : '';
    out.push(`${name}=${value}; Path=/${visible.has(name) ? '' : '; HttpOnly'}${secure}`);
  }
  return out;
}

export class MoveTokens {
  private readonly tickets = new Map<string, MoveTicket>();

  /** A new token for this ticket, or null when too many are outstanding. */
  issue(ticket: Omit<MoveTicket, 'expiresAt'>, now = Date.now()): string | null {
    this.sweep(now);
    if (this.tickets.size >= MAX_TOKENS) return null;
    const token = randomBytes(24).toString('base64url'); // 192 bits
    this.tickets.set(token, { ...ticket, expiresAt: now + TOKEN_TTL_MS });
    return token;
  }

  /** Takes the token out of the store (whatever the outcome: a token is presented once) and checks it. */
  redeem(token: string | null, now = Date.now()): Redeemed {
    const ticket = token ? this.tickets.get(token) : undefined;
    if (!ticket) return { ok: false, why: 'this move link was already used or is unknown' };
    this.tickets.delete(token!);
    if (now > ticket.expiresAt) return { ok: false, why: 'this move link has expired' };
    return { ok: true, ticket };
  }

  private sweep(now: number): void {
    for (const [token, ticket] of this.tickets) if (now > ticket.expiresAt) this.tickets.delete(token);
  }
}
