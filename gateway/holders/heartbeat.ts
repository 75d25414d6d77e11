// Ping/pong liveness for the gateway's own WebSockets: a peer that stopped answering (a sleeping laptop, a
// dropped network) is closed, so that it stops holding a generation or an editor slot.
import type { WebSocket } from 'ws';

export interface Beating {
  socket: WebSocket;
  alive: boolean;
}

/** Pings every peer each `intervalMs`; terminates those that did not pong since the last round. */
export function startHeartbeat(peers: () => Iterable<Beating>, intervalMs: number): NodeJS.Timeout {
  const timer = setInterval(() => {
    for (const peer of peers()) {
      if (!peer.alive) peer.socket.terminate();
      else {
        peer.alive = false;
        peer.socket.ping();
      }
    }
  }, intervalMs);
  timer.unref();
  return timer;
}

/** Marks a peer alive on every pong. */
export function onPong(peer: Beating): void {
  peer.socket.on('pong', () => (peer.alive = true));
}
