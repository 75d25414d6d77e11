// Entry point: wires the parts together; each one lives in its own file.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { FailureNotifier } from './failures';
import { Gateways } from './gateways';
import { GenerationsView } from './generationsView';
import { GatewayLogs } from './logs';
import { BuildProgress } from './progress';
import { StatusBar } from './statusBar';
import type { GatewaySnapshot, TreeNode } from './treeModel';

/** What activate() returns: a small API for the tests in test/vscode (and other extensions). */
export interface BatonApi {
  /** Every gateway the extension is connected to, with its latest state. */
  snapshots(): GatewaySnapshot[];
  readonly onDidChangeState: vscode.Event<void>;
  /** Every node of the Generations tree, parents before their children. */
  treeNodes(): Promise<TreeNode[]>;
}

export function activate(context: vscode.ExtensionContext): BatonApi {
  const gateways = new Gateways(context.asAbsolutePath('dist/cli.js'));
  const logs = new GatewayLogs(gateways);
  const view = new GenerationsView(gateways);
  context.subscriptions.push(
    gateways,
    logs,
    view,
    new StatusBar(gateways),
    new BuildProgress(gateways),
    new FailureNotifier(gateways, logs),
    ...registerCommands(gateways, logs, view),
  );
  // Gateways are left running on deactivation: a managed one stops by itself a minute after the last
  // editor window disconnected, so a window reload keeps everyone's sessions.
  return {
    snapshots: () => gateways.snapshots(),
    onDidChangeState: gateways.onDidChangeState,
    treeNodes: () => view.allNodes(),
  };
}
