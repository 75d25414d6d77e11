// A gateway the editor did not start (`baton up` in a terminal) shows up by itself; when it dies without
// cleaning up (SIGKILL), the view lets go of it, its watchdog stops its worker and removes its gateway.json;
// Start Gateway then starts a new one, even over a stale gateway.json (one whose watchdog died too).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { gatewayFilePath, readGatewayFile } from '../../gateway/protocol/controlClient';
import {
  EXTENSION_ID,
  batonApi,
  generation,
  processExists,
  stepTimer,
  waitForGateway,
  workspaceFolder,
} from './common';
import { waitFor } from './workbench';

export async function externalGateway(): Promise<void> {
  const api = await batonApi();
  const folder = workspaceFolder();
  const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)?.extensionPath ?? '', 'dist', 'cli.js');
  const step = stepTimer();
  const terminal = spawn(process.execPath, [cli, 'up', folder], { stdio: 'ignore' });
  try {
    const worker = await waitForGateway(
      api,
      'the terminal gateway with generation 1 live',
      (s) => (s.state.live === 1 ? generation(s, 1)?.pid : undefined),
      60_000,
    );
    step('a terminal gateway found through its gateway.json');
    assert.ok(worker);

    const stale = readGatewayFile(folder);
    assert.ok(stale, 'gateway.json of the terminal gateway');
    terminal.kill('SIGKILL');
    await waitFor('the view to let go of the dead gateway', () =>
      api.snapshots().length === 0 ? true : undefined,
    );
    step('the killed gateway is gone from the view');
    await waitFor(
      `worker ${worker} to die with its gateway`,
      () => (processExists(worker) ? undefined : true),
      10_000,
    );
    step('its worker died with it');
    await waitFor('the watchdog to remove gateway.json', () => (readGatewayFile(folder) ? undefined : true));
    // What a gateway killed together with its watchdog leaves behind.
    fs.mkdirSync(path.join(folder, '.baton'), { recursive: true });
    fs.writeFileSync(gatewayFilePath(folder), JSON.stringify(stale));
  } finally {
    if (terminal.exitCode === null) terminal.kill('SIGKILL');
  }

  await vscode.commands.executeCommand('baton.startGateway');
  await waitForGateway(
    api,
    'a new generation 1 live',
    (s) => (s.state.live === 1 ? true : undefined),
    60_000,
  );
  step('Start Gateway works over the stale gateway.json');
  await vscode.commands.executeCommand('baton.stopGateway');
  assert.deepEqual(api.snapshots(), []);
}
