// A deploy whose worker dies at start: with deploy on save off, a broken server.js deploys nothing by
// itself; Deploy Generation then fails, the live generation stays live, ONE notification offers the
// logs, and Show Logs opens that generation's output.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { batonApi, generation, stepTimer, waitForGateway, workspaceFolder } from './common';
import { waitFor, waitForDom } from './workbench';

export async function failedDeploy(): Promise<void> {
  const api = await batonApi();
  const server = path.join(workspaceFolder(), 'server.js');
  const original = fs.readFileSync(server, 'utf8');
  const step = stepTimer();
  await vscode.commands.executeCommand('baton.startGateway');
  try {
    await waitForGateway(api, 'generation 1 live', (s) => (s.state.live === 1 ? true : undefined), 60_000);
    await vscode.commands.executeCommand('baton.toggleDeployOnSave');
    await waitForGateway(api, 'deploy on save off', (s) => (s.state.watching ? undefined : true));
    step('generation 1 live, deploy on save off');

    fs.writeFileSync(server, `${original}\nthrow new Error('broken on purpose');\n`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(api.snapshots()[0].state.generations.length, 1, 'a save deploys nothing while it is off');

    await vscode.commands.executeCommand('baton.deploy');
    const failed = await waitForGateway(
      api,
      'generation 2 failed',
      (s) => (generation(s, 2)?.state === 'failed' ? s : undefined),
      30_000,
    );
    step('generation 2 failed');
    assert.equal(failed.state.live, 1, 'the live generation stays live');
    const toasts = await waitForDom(
      'the notification about generation 2',
      '.notifications-toasts .notification-list-item',
      (found) => found.some((e) => e.text.includes('generation 2 failed')),
    );
    assert.equal(toasts.filter((e) => e.text.includes('generation 2')).length, 1, 'one notification');
    assert.match(toasts.find((e) => e.text.includes('generation 2'))?.text ?? '', /Show Logs/);

    await vscode.commands.executeCommand('baton.showLogs', 2);
    const log = await waitFor('the output of generation 2 in an editor', () => {
      const doc = vscode.window.activeTextEditor?.document;
      return doc?.uri.scheme === 'baton-log' ? doc : undefined;
    });
    assert.match(log.getText(), /broken on purpose/);
    assert.equal(log.languageId, 'log');
    step('its output shown');
  } finally {
    fs.writeFileSync(server, original);
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }
  await vscode.commands.executeCommand('baton.stopGateway');
  assert.deepEqual(api.snapshots(), []);
}
