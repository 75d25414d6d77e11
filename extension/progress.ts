// Progress while a generation is being built or started, driven by the gateway's state events: a
// progress bar on the Baton view and a spinner with a message in the status bar.
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import type { Gateways } from './gateways';
import { VIEW_ID } from './generationsView';
import { busyGenerations, type BusyGeneration } from './treeModel';

export class BuildProgress extends Disposable {
  private active: { report: (message: string) => void; done: () => void } | undefined;

  constructor(private readonly gateways: Gateways) {
    super();
    this._register(gateways.onDidChangeState(() => this.update()));
    this._register({ dispose: () => this.active?.done() });
    this.update();
  }

  private update(): void {
    const snapshots = this.gateways.snapshots();
    const busy = busyGenerations(snapshots);
    if (busy.length === 0) {
      this.active?.done();
      this.active = undefined;
      return;
    }
    this.active ??= this.begin();
    this.active.report(busy.map((b) => describe(b, snapshots.length > 1)).join(', '));
  }

  private begin(): NonNullable<BuildProgress['active']> {
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    // withProgress may call back later than the first report: keep the latest message until it does.
    let latest = '';
    let report: (message: string) => void = (message) => {
      latest = message;
    };
    void vscode.window.withProgress({ location: { viewId: VIEW_ID } }, () => finished);
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Baton' },
      (progress) => {
        report = (message) => progress.report({ message });
        report(latest);
        return finished;
      },
    );
    return { report: (message) => report(message), done };
  }
}

function describe(b: BusyGeneration, withFolder: boolean): string {
  return `${b.state} generation ${b.id}${withFolder ? ` (${b.name})` : ''}`;
}
