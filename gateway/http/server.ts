// The gateway's HTTP server: its limits, its answer to requests Node cannot parse, and the set of open
// connections (closed at once when the gateway stops).
import * as http from 'node:http';
import type { Socket } from 'node:net';

export function createGatewayServer(): { server: http.Server; sockets: Set<Socket> } {
  // No request timeout: event streams and long polls stay open as long as the app likes.
  const server = http.createServer({ maxHeaderSize: 32 * 1024, requestTimeout: 0, headersTimeout: 20_000 });
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (socket as Socket).pending) return void socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return { server, sockets };
}
