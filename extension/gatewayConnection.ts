// One workspace folder's link to its gateway: finds a running one through .baton/gateway.json, keeps the
// events WebSocket open (reconnecting with backoff when it drops) and holds the latest GatewayState.
import * as vscode from 'vscode';
import type WebSocket from 'ws';
import { ControlClient, readGatewayFile } from '../gateway/protocol/controlClient';
import type { GatewayState, LogMessage } from '../gateway/protocol/types';
import { DataWarnings } from './dataWarnings';
import { Disposable } from './disposable';

const BACKOFF_MS = [250, 500, 1000, 2000, 5000];
/** After this many failed reconnects the gateway is shown as not running (while retrying goes on). */
const SHOWN_GONE_AFTER = 3;
/** A gateway.json left by a gateway that was killed is not retried forever (about a minute). */
const MAX_FAILURES = 16;

export class GatewayConnection extends Disposable {
  private readonly stateChanged = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeState = this.stateChanged.event;
  private readonly logReceived = this._register(new vscode.EventEmitter<LogMessage['log']>());
  readonly onLog = this.logReceived.event;

  private link: { client: ControlClient; socket: WebSocket } | undefined;
  /** Kept while reconnecting, so that commands still reach a gateway whose events socket dropped. */
  private lastClient: ControlClient | undefined;
  private latest: GatewayState | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly warnings = new DataWarnings();

  constructor(readonly folder: string) {
    super();
    this._register({ dispose: () => this.close() });
  }

  /** The gateway's latest state; undefined while no gateway is known to run. */
  get state(): GatewayState | undefined {
    return this.latest;
  }

  /** The control API of the gateway; undefined while no gateway is known to run. */
  get client(): ControlClient | undefined {
    return this.latest ? this.lastClient : undefined;
  }

  /** Connects to the gateway that gateway.json names; false when none answers. */
  async attach(): Promise<boolean> {
    if (this.link) return true;
    const client = ControlClient.forRoot(this.folder);
    if (!client) return false;
    let state: GatewayState;
    try {
      state = await client.state();
    } catch {
      return false;
    }
    if (this.isDisposed) return false;
    if (!this.link) this.open(client, state);
    return true;
  }

  /** Forgets the gateway (it was shut down on purpose). */
  detach(): void {
    this.close();
    this.update(undefined);
  }

  private open(client: ControlClient, state: GatewayState): void {
    clearTimeout(this.retryTimer);
    // Messages still buffered on a socket that was closed on purpose are old news.
    const current = () => this.link?.socket === socket;
    const socket = client.events(
      (next) => {
        if (!current()) return;
        this.failures = 0;
        this.update(next);
      },
      (log) => {
        if (current()) this.logReceived.fire(log);
      },
    );
    this.link = { client, socket };
    this.lastClient = client;
    // 'close' follows every error; reconnecting is handled there.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.link?.socket !== socket) return;
      this.link = undefined;
      this.scheduleReconnect();
    });
    this.update(state);
  }

  private scheduleReconnect(): void {
    if (this.isDisposed) return;
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
    this.failures++;
    this.retryTimer = setTimeout(async () => {
      if (await this.attach()) return;
      // No gateway.json: the gateway stopped and cleaned up after itself.
      const gone = !readGatewayFile(this.folder);
      if (gone || this.failures >= SHOWN_GONE_AFTER) this.update(undefined);
      if (!gone && this.failures < MAX_FAILURES) this.scheduleReconnect();
    }, delay);
  }

  private close(): void {
    clearTimeout(this.retryTimer);
    const link = this.link;
    this.link = undefined;
    link?.socket.close();
  }

  private update(state: GatewayState | undefined): void {
    if (state === undefined && this.latest === undefined) return;
    this.latest = state;
    this.warnings.update(this.folder, state);
    this.stateChanged.fire();
  }
}
