// The "Generations" tree view: maps treeModel.ts descriptors to TreeItems, refreshes (debounced) when a
// gateway's state changes and every few seconds while visible (uptimes and "seen … ago" age), shows the
// app's URL as the view's description and the session count as the activity-bar badge.
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import type { Gateways } from './gateways';
import { processTreeMemory } from './processMemory';
import {
  appUrl,
  finishedGenerations,
  gatewayChildren,
  generationChildren,
  generationNode,
  generationTooltip,
  rootNodes,
  summarize,
  type ProcessDetails,
  type TreeNode,
} from './treeModel';

export const VIEW_ID = 'baton.generations';
const REFRESH_DELAY_MS = 100;
/** Ageing descriptions ("up 1m 58s", "seen 5s ago") are repainted this often while the view is visible. */
const AGEING_MS = 5000;

const COLLAPSIBLE: Record<TreeNode['collapsible'], vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export class GenerationsView extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<TreeNode>;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Per folder: finished generations up to this id are hidden (Clear Finished Generations). */
  private readonly cleared = new Map<string, number>();

  constructor(private readonly gateways: Gateways) {
    super();
    this.view = this._register(vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this }));
    this._register(gateways.onDidChangeState(() => this.scheduleRefresh()));
    this._register({ dispose: () => clearTimeout(this.refreshTimer) });
    const ageing = setInterval(() => {
      if (this.view.visible && this.gateways.snapshots().length > 0) this.scheduleRefresh();
    }, AGEING_MS);
    this._register({ dispose: () => clearInterval(ageing) });
    this.updateBadge();
  }

  /** The node the user selected in the tree (Enter opens it). */
  selected(): TreeNode | undefined {
    return this.view.selection[0];
  }

  /** Hides the folder's finished generations (those that finish later show up again). */
  clearFinished(folder: string): void {
    const snapshot = this.gateways.snapshots().find((s) => s.folder === folder);
    const newest = snapshot ? finishedGenerations(snapshot)[0]?.id : undefined;
    if (newest === undefined) return;
    this.cleared.set(folder, newest);
    this.scheduleRefresh();
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, COLLAPSIBLE[node.collapsible]);
    item.id = node.id;
    item.description = node.description;
    item.iconPath = new vscode.ThemeIcon(
      node.icon.id,
      node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined,
    );
    item.contextValue = node.contextValue;
    if (node.command) item.command = { command: node.command, title: node.label, arguments: [node] };
    if (node.tooltip !== undefined) item.tooltip = new vscode.MarkdownString(node.tooltip);
    return item;
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    const snapshots = this.gateways.snapshots();
    if (!node) return rootNodes(snapshots, this.cleared);
    const snapshot = snapshots.find((s) => s.folder === node.folder);
    if (!snapshot) return [];
    const cleared = this.cleared.get(node.folder) ?? 0;
    if (node.kind === 'gateway') return gatewayChildren(snapshot, cleared);
    if (node.kind === 'finished') {
      return finishedGenerations(snapshot, cleared).map((g) => generationNode(node.folder, g));
    }
    const generation = snapshot.state.generations.find((g) => g.id === node.generation);
    if (node.kind !== 'generation' || !generation) return [];
    return generationChildren(node.folder, snapshot.state, generation, await details(generation.pid));
  }

  /** A generation's tooltip is built when it is shown, so that uptime and memory are current. */
  async resolveTreeItem(item: vscode.TreeItem, node: TreeNode): Promise<vscode.TreeItem> {
    const state = this.gateways.get(node.folder)?.connection.state;
    const generation = state?.generations.find((g) => g.id === node.generation);
    if (node.kind === 'generation' && generation) {
      item.tooltip = new vscode.MarkdownString(generationTooltip(generation, await details(generation.pid)));
    }
    return item;
  }

  /** Every node of the tree, parents before children (for the tests' API). */
  async allNodes(parent?: TreeNode): Promise<TreeNode[]> {
    const nodes: TreeNode[] = [];
    for (const node of await this.getChildren(parent)) nodes.push(node, ...(await this.allNodes(node)));
    return nodes;
  }

  private scheduleRefresh(): void {
    // Coalesce a burst of state events (a deploy sends several) into one repaint.
    this.refreshTimer ??= setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire();
      this.updateBadge();
    }, REFRESH_DELAY_MS);
  }

  private updateBadge(): void {
    const snapshots = this.gateways.snapshots();
    // The app's URL beside the view's title, also when "port" is 0.
    this.view.description = snapshots.length === 1 ? appUrl(snapshots[0].state) : undefined;
    const { sessions } = summarize(snapshots);
    this.view.badge =
      sessions > 0
        ? { value: sessions, tooltip: `${sessions} browser session${sessions === 1 ? '' : 's'}` }
        : undefined;
  }
}

async function details(pid: number | null): Promise<ProcessDetails> {
  return { now: Date.now(), memoryBytes: pid === null ? null : await processTreeMemory(pid) };
}
