// A deploy whose worker dies at start. Deploy on save is turned off through its view-title button (whose
// other state then shows); a broken server.js saved in the editor deploys nothing and is marked as not
// deployed; clicking that mark deploys it; the deploy fails, the live generation stays live, ONE
// notification quotes the error and says that generation 1 keeps serving, and its Show Logs button opens
// that generation's output, whose paths are the workspace's own files.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { batonApi, generation, stepTimer, waitForGateway, workspaceFolder } from './common';
import { clickDom, clickUntil, waitFor, waitForDom } from './workbench';

const TITLE_ACTIONS = '.part.sidebar .actions-container .action-label';

export async function failedDeploy(): Promise<void> {
  const api = await batonApi();
  const folder = workspaceFolder();
  const server = path.join(folder, 'server.js');
  const original = fs.readFileSync(server, 'utf8');
  const step = stepTimer();
  await vscode.commands.executeCommand('baton.startGateway');
  try {
    await waitForGateway(api, 'generation 1 live', (s) => (s.state.live === 1 ? true : undefined), 60_000);
    await vscode.commands.executeCommand('baton.generations.focus');
    await clickDom(`${TITLE_ACTIONS}[aria-label^="Deploy on Save Is On"]`);
    await waitForGateway(api, 'deploy on save off', (s) => (s.state.watching ? undefined : true));
    await waitForDom(
      'the "off" state of the button',
      `${TITLE_ACTIONS}[aria-label^="Deploy on Save Is Off"]`,
      (f) => f.length > 0,
    );
    step('generation 1 live, deploy on save off through its button');

    const doc = await vscode.workspace.openTextDocument(server);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, doc.positionAt(doc.getText().length), "\nthrow new Error('broken on purpose');\n");
    await vscode.workspace.applyEdit(edit);
    await doc.save();
    const pending = await waitFor('the save marked as not deployed', async () =>
      (await api.treeNodes()).find((n) => n.kind === 'pending'),
    );
    assert.equal(pending.label, '1 save not deployed');
    assert.equal(api.snapshots()[0].state.generations.length, 1, 'a save deploys nothing while it is off');

    // The positive signal of the click is the deploy it asks for: generation 2 in the gateway's state.
    await clickUntil(
      'the deploy of generation 2',
      '.part.sidebar .monaco-list-row:has-text("not deployed")',
      () => api.snapshots().find((s) => generation(s, 2)),
    );
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
    const toast = toasts.filter((e) => e.text.includes('generation 2'));
    assert.equal(toast.length, 1, 'one notification');
    assert.match(
      toast[0].text,
      /generation 2 failed: Error: broken on purpose \(server\.js, line \d+\)\. Generation 1 keeps serving\./,
    );
    assert.match(toast[0].text, /Show Logs/);
    assert.ok(!(await api.treeNodes()).some((n) => n.kind === 'pending'), 'the deploy took the save');

    await clickDom('.notifications-toasts .monaco-button:has-text("Show Logs")');
    const log = await waitFor('the output of generation 2 in an editor', () => {
      const doc = vscode.window.activeTextEditor?.document;
      return doc?.uri.scheme === 'baton-log' ? doc : undefined;
    });
    assert.match(log.getText(), /broken on purpose/);
    assert.equal(log.languageId, 'log');
    const paths = [...log.getText().matchAll(/\((\/[^():]+):(\d+):\d+\)/g)].map((m) => m[1]);
    assert.ok(paths.includes(server), `the stack names the workspace file ${server}: ${paths.join(', ')}`);
    assert.doesNotMatch(log.getText(), /baton-\d+\/[0-9a-f]+\/g2/, 'no snapshot path');
    step('its output shown, with workspace paths');
  } finally {
    fs.writeFileSync(server, original);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }
  await vscode.commands.executeCommand('baton.stopGateway');
  assert.deepEqual(api.snapshots(), []);
}
