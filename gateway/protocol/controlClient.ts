// The one small client of the control API, shared by the CLI and the extension (no `vscode` import here).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import WebSocket from 'ws';
import type { GatewayFile, GatewayState, LogMessage } from './types';

export class ControlError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export function gatewayFilePath(root: string): string {
  return path.join(root, '.baton', 'gateway.json');
}

/** Reads `.baton/gateway.json`; null when no gateway has written one (or it is unreadable). */
export function readGatewayFile(root: string): GatewayFile | null {
  try {
    const data = JSON.parse(fs.readFileSync(gatewayFilePath(root), 'utf8')) as GatewayFile;
    return typeof data.port === 'number' && typeof data.token === 'string' ? data : null;
  } catch {
    return null;
  }
}

export class ControlClient {
  constructor(
    readonly port: number,
    private readonly token: string,
    private readonly host = '127.0.0.1',
  ) {}

  /** A client for the gateway running for `root`, or null when none is. */
  static forRoot(root: string): ControlClient | null {
    const file = readGatewayFile(root);
    return file ? new ControlClient(file.port, file.token) : null;
  }

  state(): Promise<GatewayState> {
    return this.json('GET', '/state');
  }
  deploy(): Promise<{ id: number }> {
    return this.json('POST', '/deploy');
  }
  kill(id: number): Promise<unknown> {
    return this.json('POST', `/generations/${id}/kill`);
  }
  promote(id: number): Promise<unknown> {
    return this.json('POST', `/generations/${id}/promote`);
  }
  logs(id: number): Promise<string> {
    return this.request('GET', `/generations/${id}/logs`);
  }
  shutdown(): Promise<unknown> {
    return this.json('POST', '/shutdown');
  }
  /** Turns deploy-on-change on or off (a Baton addition to the contract's API). */
  setWatching(enabled: boolean): Promise<unknown> {
    return this.json('POST', `/watch?enabled=${enabled}`);
  }

  /**
   * Opens the events WebSocket: every message is a full GatewayState; with `onLog`, generation output
   * arrives too (as LogMessage). An open events socket is what keeps a `--managed` gateway alive.
   */
  events(onState: (state: GatewayState) => void, onLog?: (log: LogMessage['log']) => void): WebSocket {
    const query = onLog ? '?logs=1' : '';
    const ws = new WebSocket(`ws://${this.host}:${this.port}/__baton/api/events${query}`, {
      headers: { Authorization: `Bearer ${this.token}`, Host: `127.0.0.1:${this.port}` },
    });
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as GatewayState | LogMessage;
      if ('log' in message) onLog?.(message.log);
      else onState(message);
    });
    return ws;
  }

  private async json<T>(method: string, route: string): Promise<T> {
    const text = await this.request(method, route);
    return (text ? JSON.parse(text) : {}) as T;
  }

  private request(method: string, route: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path: `/__baton/api${route}`,
          headers: { Authorization: `Bearer ${this.token}`, Host: `127.0.0.1:${this.port}` },
          timeout: 10_000,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            if ((res.statusCode ?? 500) < 300) return resolve(body);
            let message = body;
            try {
              message = (JSON.parse(body) as { error?: string }).error ?? body;
            } catch {
              // plain-text error body
            }
            reject(new ControlError(message || `HTTP ${res.statusCode}`, res.statusCode));
          });
        },
      );
      req.on('timeout', () => req.destroy(new ControlError('the gateway did not answer within 10 s')));
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          err instanceof ControlError
            ? err
            : new ControlError(
                err.code === 'ECONNREFUSED'
                  ? `no gateway answers on port ${this.port} (is it running? start it with "baton up")`
                  : err.message,
              ),
        ),
      );
      req.end();
    });
  }
}
