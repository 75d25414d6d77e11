// The Baton commands (ids and titles are contributed in package.json). Item commands get the tree
// element; from the Command Palette they ask with a QuickPick.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeInitConfig } from '../gateway/config/init';
import { openGatewayUrl } from './browser';
import { readSettings } from './settings';
import { GatewayLaunchError } from './gatewayProcess';
import type { GatewayFolder, Gateways } from './gateways';
import type { GatewayLogs } from './logs';
import { pickFolder, pickGeneration } from './pickers';
import { hasWorker } from '../gateway/protocol/states';
import { isActive } from './treeModel';

export function registerCommands(gateways: Gateways, logs: GatewayLogs): vscode.Disposable[] {
  const running = (f: GatewayFolder) => f.connection.client !== undefined;
  const noGateway = 'no gateway is running. Start one with "Baton: Start Gateway".';
  const runningFolder = (arg: unknown, verb: string) => pickFolder(gateways, arg, running, verb, noGateway);

  const handlers: Record<string, (arg?: unknown) => Promise<void>> = {
    'baton.startGateway': async (arg) => {
      if (!gateways.folders().some((f) => f.hasConfig)) return offerCreateConfig();
      const entry = await pickFolder(
        gateways,
        arg,
        (f) => f.hasConfig && !running(f),
        'start the gateway for',
        'the gateway is running already.',
      );
      if (entry) await startGateway(gateways, entry);
    },
    'baton.stopGateway': async (arg) => {
      const entry = await runningFolder(arg, 'stop the gateway of');
      if (!entry) return;
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Baton: stopping the gateway' },
        () => gateways.stop(entry),
      );
    },
    'baton.deploy': async (arg) => {
      // The build progress shows from the state events that follow.
      const entry = await runningFolder(arg, 'deploy');
      await entry?.connection.client?.deploy();
    },
    'baton.killWorker': async (arg) => {
      const target = await pickGeneration(gateways, arg, isActive, 'kill');
      await target?.entry.connection.client?.kill(target.generation.id);
    },
    'baton.promote': async (arg) => {
      const target = await pickGeneration(gateways, arg, (g) => g.state === 'draining', 'promote');
      await target?.entry.connection.client?.promote(target.generation.id);
    },
    'baton.openInBrowser': async (arg) => {
      const entry = await runningFolder(arg, 'open');
      const state = entry?.connection.state;
      // The gateway redirects a page navigation on the bare host to the live generation's gN.localhost; its
      // hand-off page marks the tab as following there.
      const follow =
        entry && readSettings(entry.folder.uri).openFollowing ? '__baton/move?follow=1&path=%2F' : '';
      if (entry && state) await openGatewayUrl(`http://localhost:${state.port}/${follow}`, entry.folder.uri);
    },
    'baton.openGeneration': async (arg) => {
      // A starting generation opens too: the gateway answers with a page that reloads itself once it is live.
      const target = await pickGeneration(gateways, arg, (g) => hasWorker(g.state), 'open');
      if (target) {
        const url = `http://g${target.generation.id}.localhost:${target.state.port}/`;
        await openGatewayUrl(url, target.entry.folder.uri);
      }
    },
    'baton.showLogs': async (arg) => {
      if (gateways.snapshots().length === 0) {
        logs.channel.show();
        return;
      }
      const target = await pickGeneration(gateways, arg, () => true, 'show the output of');
      if (target) await logs.showGeneration(target.entry.path, target.generation.id);
    },
    'baton.toggleDeployOnSave': async (arg) => {
      const entry = await runningFolder(arg, 'toggle deploy on save for');
      const state = entry?.connection.state;
      if (!entry || !state) return;
      await entry.connection.client?.setWatching(!state.watching);
      const now = state.watching ? 'off: save as often as you like, then run "Deploy Generation"' : 'on';
      vscode.window.setStatusBarMessage(`Baton: deploy on save is ${now}`, 5000);
    },
    'baton.createConfig': async (arg) => {
      if (gateways.folders().length === 0) {
        void vscode.window.showInformationMessage('Baton: open the folder of your web app first.');
        return;
      }
      const entry = await pickFolder(
        gateways,
        arg,
        (f) => !f.hasConfig,
        'create baton.json in',
        'every workspace folder has a baton.json already.',
      );
      if (!entry) return;
      const { file, warnings } = await writeInitConfig(entry.path);
      await vscode.window.showTextDocument(vscode.Uri.file(file));
      for (const warning of warnings) void vscode.window.showWarningMessage(`Baton: ${warning}`);
    },
  };

  return Object.entries(handlers).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (arg?: unknown) => {
      try {
        await handler(arg);
      } catch (err) {
        void vscode.window.showErrorMessage(`Baton: ${(err as Error).message}`);
      }
    }),
  );
}

async function startGateway(gateways: Gateways, entry: GatewayFolder): Promise<void> {
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `Baton: starting the gateway for ${entry.name}` },
      () => gateways.start(entry),
    );
  } catch (err) {
    if (!(err instanceof GatewayLaunchError)) throw err;
    // The CLI's one line names the problem; say what to do about it.
    const hint = /port|EADDRINUSE|in use/i.test(err.message)
      ? 'Change "port" in baton.json (0 picks a free port) or set the "baton.gatewayPort" setting.'
      : 'Fix baton.json, then start the gateway again.';
    const choice = await vscode.window.showErrorMessage(
      `Baton: ${err.message} — ${hint}`,
      'Open baton.json',
      'Show Gateway Log',
    );
    if (choice === 'Open baton.json') {
      await vscode.window.showTextDocument(vscode.Uri.file(path.join(entry.path, 'baton.json')));
    } else if (choice === 'Show Gateway Log') {
      await vscode.window.showTextDocument(vscode.Uri.file(err.logPath));
    }
  }
}

async function offerCreateConfig(): Promise<void> {
  const choice = await vscode.window.showInformationMessage(
    'Baton: no workspace folder has a baton.json, which tells the gateway how to start your app.',
    'Create baton.json',
  );
  if (choice) await vscode.commands.executeCommand('baton.createConfig');
}
