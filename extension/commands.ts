// The Baton commands (ids and titles are contributed in package.json). Item commands get the tree
// element; from the Command Palette they ask with a QuickPick.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { openGatewayUrl } from './browser';
import { confirm } from './confirm';
import { killConsequence, promoteConsequence, stopConsequence } from './consequences';
import { GatewayLaunchError } from './gatewayProcess';
import { initConfig } from './initConfig';
import type { GatewayFolder, Gateways } from './gateways';
import type { GenerationsView } from './generationsView';
import type { GatewayLogs } from './logs';
import { pickFolder, pickGeneration } from './pickers';
import { hasWorker } from '../gateway/protocol/states';
import { readSettings } from './settings';
import { appUrl, isActive } from './treeModel';

export function registerCommands(
  gateways: Gateways,
  logs: GatewayLogs,
  view: GenerationsView,
): vscode.Disposable[] {
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
      if (entry && (await startGateway(gateways, entry)) && readSettings(entry.folder.uri).openAfterStart) {
        await vscode.commands.executeCommand('baton.openInBrowser', entry.path);
      }
    },
    'baton.stopGateway': async (arg) => {
      const entry = await runningFolder(arg, 'stop the gateway of');
      const state = entry?.connection.state;
      if (!entry || !state) return;
      if (!(await confirm(stopConsequence(state), 'Stop Gateway', entry.folder.uri))) return;
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
      if (!target) return;
      const asked = killConsequence(target.state, target.generation);
      if (!(await confirm(asked, 'Kill Worker', target.entry.folder.uri))) return;
      await target.entry.connection.client?.kill(target.generation.id);
    },
    'baton.promote': async (arg) => {
      const target = await pickGeneration(gateways, arg, (g) => g.state === 'draining', 'promote');
      if (!target) return;
      const asked = promoteConsequence(target.state, target.generation);
      if (!(await confirm(asked, 'Promote', target.entry.folder.uri))) return;
      await target.entry.connection.client?.promote(target.generation.id);
    },
    'baton.openInBrowser': async (arg) => {
      const entry = await runningFolder(
        typeof arg === 'string' ? { folder: arg, kind: 'gateway' } : arg,
        'open',
      );
      const state = entry?.connection.state;
      // The gateway redirects a page navigation on the bare host to the live generation's gN.localhost (or,
      // reached through a forwarding proxy, serves it there with session affinity); its hand-off page marks
      // the tab as following there.
      const follow =
        entry && readSettings(entry.folder.uri).openFollowing ? '__baton/move?follow=1&path=%2F' : '';
      if (entry && state) await openGatewayUrl(`${appUrl(state)}${follow}`, entry.folder.uri);
    },
    'baton.openGeneration': async (arg) => {
      // Enter in the tree: the selected generation. A starting generation opens too: the gateway answers with
      // a page that reloads itself once it is live.
      const target = await pickGeneration(
        gateways,
        arg ?? view.selected(),
        (g) => hasWorker(g.state),
        'open',
      );
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
      if (entry?.connection.state) await setDeployOnSave(entry, !entry.connection.state.watching);
    },
    'baton.deployOnSaveOn': async (arg) => {
      const entry = await runningFolder(arg, 'turn deploy on save on for');
      if (entry) await setDeployOnSave(entry, true);
    },
    'baton.deployOnSaveOff': async (arg) => {
      const entry = await runningFolder(arg, 'turn deploy on save off for');
      if (entry) await setDeployOnSave(entry, false);
    },
    'baton.clearFinished': async (arg) => {
      const entry = await runningFolder(arg, 'clear the finished generations of');
      if (entry) view.clearFinished(entry.path);
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
      const { file, warnings } = await initConfig(gateways.cliPath, entry.path);
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

/** Turns deploy on save on or off; turned on, it offers to deploy what was saved while it was off. */
async function setDeployOnSave(entry: GatewayFolder, enabled: boolean): Promise<void> {
  await entry.connection.client?.setWatching(enabled);
  const pending = entry.pendingSaves.size;
  if (!enabled) {
    vscode.window.setStatusBarMessage(
      'Baton: deploy on save is off: save as often as you like, then run "Deploy Generation"',
      5000,
    );
  } else if (pending > 0) {
    const choice = await vscode.window.showInformationMessage(
      `Baton: deploy on save is on. ${pending} file${pending === 1 ? ' was' : 's were'} saved while it was off: deploy ${pending === 1 ? 'it' : 'them'} now?`,
      'Deploy',
    );
    if (choice === 'Deploy') await entry.connection.client?.deploy();
  } else vscode.window.setStatusBarMessage('Baton: deploy on save is on', 5000);
}

/** True when the gateway runs; a launch failure is reported with what to do about it. */
async function startGateway(gateways: Gateways, entry: GatewayFolder): Promise<boolean> {
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `Baton: starting the gateway for ${entry.name}` },
      () => gateways.start(entry),
    );
    return true;
  } catch (err) {
    if (!(err instanceof GatewayLaunchError)) throw err;
    // The CLI's one line names the problem; say what to do about it.
    const portInUse = /port \d+ .*already in use|EADDRINUSE/.test(err.message);
    const hint = portInUse
      ? 'Change "port" in baton.json (0 picks a free port) or set the "baton.gatewayPort" setting.'
      : 'Fix baton.json, then start the gateway again.';
    const choice = await vscode.window.showErrorMessage(
      `Baton: ${err.message} — ${hint}`,
      'Open baton.json',
      'Show Gateway Log',
    );
    if (choice === 'Open baton.json') {
      // The CLI names the position of a mistake: "(line 3, column 5)".
      const at = /\(line (\d+), column (\d+)\)/.exec(err.message);
      const position = at ? new vscode.Position(Number(at[1]) - 1, Number(at[2]) - 1) : undefined;
      await vscode.window.showTextDocument(vscode.Uri.file(path.join(entry.path, 'baton.json')), {
        selection: position && new vscode.Range(position, position),
      });
    } else if (choice === 'Show Gateway Log') {
      await vscode.window.showTextDocument(vscode.Uri.file(err.logPath));
    }
    return false;
  }
}

async function offerCreateConfig(): Promise<void> {
  const choice = await vscode.window.showInformationMessage(
    'Baton: no workspace folder has a baton.json, which tells the gateway how to start your app.',
    'Create baton.json',
  );
  if (choice) await vscode.commands.executeCommand('baton.createConfig');
}
