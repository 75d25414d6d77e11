// The gateways of the workspace: one per workspace folder that has a baton.json. Tracks which folders have
// a config, connects to gateways that run (also ones started in a terminal with `baton up`), starts and
// stops them, and keeps the `baton.hasConfig` / `baton.running` context keys for menus and welcome views.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readGatewayFile } from '../gateway/protocol/controlClient';
import type { LogMessage } from '../gateway/protocol/types';
import { Disposable } from './disposable';
import { GatewayConnection } from './gatewayConnection';
import { launchGateway, waitForExit } from './gatewayProcess';
import { readSettings } from './settings';
import type { GatewaySnapshot } from './treeModel';

export interface GatewayFolder {
  readonly folder: vscode.WorkspaceFolder;
  readonly path: string;
  readonly name: string;
  hasConfig: boolean;
  readonly connection: GatewayConnection;
  /** Files saved while deploy on save was off, since the last deploy (workspace-relative). */
  readonly pendingSaves: Set<string>;
}

export interface FolderLog extends Readonly<LogMessage['log']> {
  folder: string;
}

export class Gateways extends Disposable {
  private readonly entries = new Map<string, GatewayFolder & { subscriptions: vscode.Disposable[] }>();
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  /** Any gateway's state changed, one started or stopped, or a baton.json appeared or went. */
  readonly onDidChangeState = this.changed.event;
  private readonly logged = this._register(new vscode.EventEmitter<FolderLog>());
  readonly onLog = this.logged.event;
  private context: { hasConfig?: boolean; running?: boolean; watching?: boolean } = {};

  constructor(readonly cliPath: string) {
    super();
    this._register({ dispose: () => [...this.entries.keys()].forEach((key) => this.remove(key)) });
    const watcher = this._register(
      vscode.workspace.createFileSystemWatcher('**/{baton.json,.baton/gateway.json}'),
    );
    this._register(watcher.onDidCreate((uri) => this.fileChanged(uri)));
    this._register(watcher.onDidChange((uri) => this.fileChanged(uri)));
    this._register(watcher.onDidDelete((uri) => this.fileChanged(uri)));
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.syncFolders()));
    this._register(vscode.workspace.onDidSaveTextDocument((doc) => this.saved(doc.uri)));
    this._register(this.onDidChangeState(() => this.updateContext()));
    this.syncFolders();
    this.updateContext();
  }

  folders(): GatewayFolder[] {
    return [...this.entries.values()];
  }

  get(folderPath: string): GatewayFolder | undefined {
    return this.entries.get(folderPath);
  }

  /** Every gateway the extension is connected to, in workspace folder order. */
  snapshots(): GatewaySnapshot[] {
    return this.folders().flatMap(({ path: folder, name, connection, pendingSaves }) =>
      connection.state ? [{ folder, name, state: connection.state, pendingSaves: pendingSaves.size }] : [],
    );
  }

  /** Connects to the folder's running gateway, or starts one; 'attached' when one was running already. */
  async start(entry: GatewayFolder): Promise<'attached' | 'started'> {
    if (await entry.connection.attach()) return 'attached';
    const settings = readSettings(entry.folder.uri);
    await launchGateway({
      cliPath: this.cliPath,
      folder: entry.path,
      port: settings.gatewayPort ?? undefined,
      watch: settings.deployOnSave,
    });
    if (!(await entry.connection.attach())) {
      throw new Error('the gateway started but its control API does not answer');
    }
    return 'started';
  }

  /** Stops the folder's gateway (every worker with it) and waits until it has exited. */
  async stop(entry: GatewayFolder): Promise<void> {
    const client = entry.connection.client;
    if (!client) return;
    const pid = readGatewayFile(entry.path)?.pid;
    await client.shutdown();
    entry.connection.detach();
    if (pid !== undefined) await waitForExit(pid);
  }

  private syncFolders(): void {
    const current = new Set<string>();
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme !== 'file') continue;
      const key = folder.uri.fsPath;
      current.add(key);
      if (!this.entries.has(key)) this.add(folder);
    }
    for (const key of this.entries.keys()) if (!current.has(key)) this.remove(key);
    this.changed.fire();
  }

  private add(folder: vscode.WorkspaceFolder): void {
    const folderPath = folder.uri.fsPath;
    const connection = new GatewayConnection(folderPath);
    const pendingSaves = new Set<string>();
    let newest = 0;
    const subscriptions = [
      connection,
      connection.onDidChangeState(() => {
        // A deploy (a new generation) takes every pending save with it.
        const ids = connection.state?.generations.map((g) => g.id) ?? [];
        const top = Math.max(0, ...ids);
        if (top > newest || !connection.state) pendingSaves.clear();
        newest = top;
        this.changed.fire();
      }),
      connection.onLog((log) => this.logged.fire({ ...log, folder: folderPath })),
    ];
    this.entries.set(folderPath, {
      folder,
      path: folderPath,
      name: folder.name,
      hasConfig: hasConfig(folderPath),
      connection,
      pendingSaves,
      subscriptions,
    });
    void connection.attach();
  }

  private remove(key: string): void {
    this.entries.get(key)?.subscriptions.forEach((d) => d.dispose());
    this.entries.delete(key);
  }

  /** A save while deploy on save is off is remembered, so that turning it on can offer to deploy it. */
  private saved(uri: vscode.Uri): void {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const entry = folder && this.entries.get(folder.uri.fsPath);
    const state = entry?.connection.state;
    if (!entry || !state || state.watching) return;
    const relative = path.relative(entry.path, uri.fsPath);
    if (relative.startsWith('..') || /^(\.baton|\.git|node_modules)([\\/]|$)/.test(relative)) return;
    entry.pendingSaves.add(relative);
    this.changed.fire();
  }

  private fileChanged(uri: vscode.Uri): void {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const entry = folder && this.entries.get(folder.uri.fsPath);
    if (!entry) return;
    const relative = path.relative(entry.path, uri.fsPath);
    if (relative === 'baton.json') {
      entry.hasConfig = hasConfig(entry.path);
      this.changed.fire();
    } else if (relative === path.join('.baton', 'gateway.json')) {
      // A gateway started outside the editor (`baton up` in a terminal) shows up here.
      void entry.connection.attach();
    }
  }

  private updateContext(): void {
    const next = {
      hasConfig: this.folders().some((f) => f.hasConfig),
      running: this.folders().some((f) => f.connection.state !== undefined),
      watching: this.folders().some((f) => f.connection.state?.watching === true),
    };
    if (next.watching !== this.context.watching) {
      void vscode.commands.executeCommand('setContext', 'baton.watching', next.watching);
    }
    if (next.hasConfig !== this.context.hasConfig) {
      void vscode.commands.executeCommand('setContext', 'baton.hasConfig', next.hasConfig);
    }
    if (next.running !== this.context.running) {
      void vscode.commands.executeCommand('setContext', 'baton.running', next.running);
    }
    this.context = next;
  }
}

function hasConfig(folderPath: string): boolean {
  return fs.existsSync(path.join(folderPath, 'baton.json'));
}
