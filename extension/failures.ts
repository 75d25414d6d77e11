// One notification for each generation that fails (build, start) or crashes: it quotes the error's line
// from the output, says which generation keeps serving, and offers Show Logs; after the live worker
// crashed, also Redeploy and Promote N (a generation that still runs). The Baton output is revealed too.
import * as vscode from 'vscode';
import type { GenerationInfo } from '../gateway/protocol/types';
import { Disposable } from './disposable';
import { lastErrorLine } from './errorLine';
import type { Gateways } from './gateways';
import type { GatewayLogs } from './logs';
import { readSettings } from './settings';

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
        void this.notify(folder, g, snapshots.length > 1 ? ` in ${name}` : '');
      }
    }
  }

  private async notify(folder: string, g: GenerationInfo, where: string): Promise<void> {
    const entry = this.gateways.get(folder);
    const output = await entry?.connection.client?.logs(g.id).catch(() => '');
    const what = lastErrorLine(output ?? '') ?? g.reason ?? 'see its output';
    const state = entry?.connection.state;
    const running = state?.generations.filter((x) => x.state === 'draining').sort((a, b) => b.id - a.id)[0];
    let serving = 'No generation is live.';
    if (state?.live != null) serving = `Generation ${state.live} keeps serving.`;
    else if (running) serving = `No generation is live; generation ${running.id} still runs for its tabs.`;
    const actions = ['Show Logs'];
    if (state && state.live === null && g.state === 'crashed') {
      actions.push('Redeploy');
      if (running) actions.push(`Promote ${running.id}`);
    }
    if (readSettings(entry?.folder.uri).revealOutputOnFailure) this.logs.channel.show(true);
    const choice = await vscode.window.showErrorMessage(
      `Baton: generation ${g.id}${where} ${g.state}: ${what}. ${serving}`,
      ...actions,
    );
    const client = entry?.connection.client;
    if (choice === 'Show Logs') await this.logs.showGeneration(folder, g.id);
    else if (choice === 'Redeploy') await client?.deploy();
    else if (choice && running) await client?.promote(running.id);
  }
}
