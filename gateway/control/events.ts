// The events WebSocket `/__baton/api/events` (README, "Control API"): the full state first, then one
// message per change; with `?logs=1`, generation output as well. Its clients are editors: a `--managed`
// gateway lives while one is connected.
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { onPong, startHeartbeat } from '../holders/heartbeat';
import type { GatewayState, LogMessage, OutputStream } from '../protocol/types';

/** An editor that reads slower than the gateway writes is dropped once this much waits for it (it reconnects). */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

interface Client {
  socket: WebSocket;
  logs: boolean;
  alive: boolean;
}

export class EventsChannel {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false });
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  /** ms timestamp when the last client left (or the channel began). */
  lastClientAt = Date.now();

  constructor(private readonly state: () => GatewayState) {
    this.heartbeat = startHeartbeat(() => this.clients, 20_000);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Upgrades an authorized request. */
  accept(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const logs = new URL(req.url ?? '/', 'http://x').searchParams.get('logs') === '1';
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { socket: ws, logs, alive: true };
      this.clients.add(client);
      onPong(client);
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        this.clients.delete(client);
        this.lastClientAt = Date.now();
      });
      ws.send(JSON.stringify(this.state()));
    });
  }

  broadcastState(): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify(this.state());
    for (const client of this.clients) this.send(client, text);
  }

  private send(client: Client, text: string): void {
    if (client.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.clients.delete(client);
      client.socket.terminate();
      return;
    }
    client.socket.send(text);
  }

  broadcastLog(generation: number, text: string, stream: OutputStream): void {
    let message: string | null = null;
    for (const client of this.clients) {
      if (!client.logs) continue;
      message ??= JSON.stringify({ log: { generation, text, stream } } satisfies LogMessage);
      this.send(client, message);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.socket.close(1001, 'gateway stopping');
    this.wss.close();
  }
}
