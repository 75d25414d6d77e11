// One notification, with a Show Logs button, for each generation that fails (build, start) or crashes.
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import type { Gateways } from './gateways';
import type { GatewayLogs } from './logs';

/** On (re)connecting, failures older than this were somebody else's news. */
const RECENT_MS = 10_000;

export class FailureNotifier extends Disposable {
  /** Per folder, the generations already reported (or already failed when the extension connected). */
  private readonly known = new Map<string, Set<number>>();

  constructor(
    private readonly gateways: Gateways,
    private readonly logs: GatewayLogs,
  ) {
    super();
    this._register(gateways.onDidChangeState(() => this.check()));
  }

  private check(): void {
    const snapshots = this.gateways.snapshots();
    // A gateway that went away restarts its numbering: forget what it reported.
    for (const folder of this.known.keys())
      if (!snapshots.some((s) => s.folder === folder)) this.known.delete(folder);
    for (const { folder, name, state } of snapshots) {
      const first = !this.known.has(folder);
      const known = this.known.get(folder) ?? new Set<number>();
      this.known.set(folder, known);
      for (const g of state.generations) {
        if ((g.state !== 'failed' && g.state !== 'crashed') || known.has(g.id)) continue;
        known.add(g.id);
        if (first && Date.now() - Date.parse(g.stoppedAt ?? g.createdAt) > RECENT_MS) continue;
        const where = snapshots.length > 1 ? ` in ${name}` : '';
        void this.notify(
          folder,
          g.id,
          `Baton: generation ${g.id}${where} ${g.state}${g.reason ? `: ${g.reason}` : '.'}`,
        );
      }
    }
  }

  private async notify(folder: string, id: number, message: string): Promise<void> {
    if ((await vscode.window.showErrorMessage(message, 'Show Logs')) === 'Show Logs') {
      await this.logs.showGeneration(folder, id);
    }
  }
}
