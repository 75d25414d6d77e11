// Bounds that keep one client from taking the gateway's memory or descriptors. README "Security" lists them.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { readCookie, SID_COOKIE } from './cookies';

/** A `baton_sid` as the gateway issues it: 22 base64url characters. A longer or stranger one is not stored. */
const SID_RE = /^[A-Za-z0-9_-]{16,64}$/;

/** The request's `baton_sid`, or null when it has none or one the gateway cannot have issued. */
export function validSid(req: http.IncomingMessage): string | null {
  const sid = readCookie(req.headers.cookie, SID_COOKIE);
  return sid !== null && SID_RE.test(sid) ? sid : null;
}

/** At most this many browser sessions at once; more requests are served but hold no session. */
export const MAX_SESSIONS = 10_000;

/** At most this many client connections at once (fewer when the descriptor limit is low). */
export const MAX_CONNECTIONS = 10_000;

/** The soft limit on open files of this process, or null when unknown. */
function openFilesLimit(): number | null {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Caps the server's connections below the descriptor limit, keeping room for the connections to workers
 * (one per proxied request) and the gateway's own files; says so once a minute while it refuses connections.
 */
export function limitConnections(server: http.Server, warn: (text: string) => void): number {
  const files = openFilesLimit();
  const max =
    files === null ? MAX_CONNECTIONS : Math.max(64, Math.min(MAX_CONNECTIONS, Math.floor(files / 2) - 64));
  server.maxConnections = max;
  let warnedAt = 0;
  server.on('drop', () => {
    if (Date.now() - warnedAt < 60_000) return;
    warnedAt = Date.now();
    warn(
      `${max} client connections are open, the most this gateway takes: new ones are refused until some close`,
    );
  });
  return max;
}
