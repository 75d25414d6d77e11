// The status bar item: "$(layers) gen 3 · 2 sessions"; a click focuses the Generations view.
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import type { Gateways } from './gateways';
import { VIEW_ID } from './generationsView';
import { summarize } from './treeModel';

export class StatusBar extends Disposable {
  private readonly item = this._register(
    vscode.window.createStatusBarItem('baton.status', vscode.StatusBarAlignment.Left, 10),
  );

  constructor(private readonly gateways: Gateways) {
    super();
    this.item.name = 'Baton';
    this.item.command = `${VIEW_ID}.focus`;
    this._register(gateways.onDidChangeState(() => this.update()));
    this.update();
  }

  private update(): void {
    const summary = summarize(this.gateways.snapshots());
    this.item.text = summary.text;
    this.item.tooltip = summary.tooltip;
    // Only where Baton has something to do: a folder with a baton.json or a gateway that runs.
    if (this.gateways.folders().some((f) => f.hasConfig || f.connection.state)) this.item.show();
    else this.item.hide();
  }
}
