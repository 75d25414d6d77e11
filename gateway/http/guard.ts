// The last line of defence: whatever a handler throws (a value Node refuses in a header, a bug), that one
// request gets an error answer and the gateway keeps running for everyone else.
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Clears whatever a failed `writeHead` left behind: Node keeps the refused reason phrase in `statusMessage`,
 * so a second `writeHead` would throw again.
 */
export function resetHead(res: http.ServerResponse): void {
  res.statusMessage = '';
  for (const name of res.getHeaderNames()) res.removeHeader(name);
}

/** Answers `status` with one plain-text line, or cuts the answer off when it has begun already. */
export function answerError(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  try {
    resetHead(res);
    const body = Buffer.from(text + '\n');
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
    });
    res.end(body);
  } catch {
    res.destroy();
  }
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

/** `handler` with every synchronous throw turned into a 400 for that request. */
export function guardRequests(handler: Handler): Handler {
  return (req, res) => {
    try {
      handler(req, res);
    } catch (err) {
      answerError(
        res,
        400,
        `Bad Request: the gateway cannot handle this request (${(err as Error).message})`,
      );
    }
  };
}

/** `handler` with every synchronous throw turned into a 400 and a closed socket. */
export function guardUpgrades(handler: UpgradeHandler): UpgradeHandler {
  return (req, socket, head) => {
    try {
      handler(req, socket, head);
    } catch {
      if (socket.writable)
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    }
  };
}
