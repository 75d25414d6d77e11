// A baton.json with an unknown field: Start Gateway ends in one notification that quotes the CLI's line
// (one "Baton:" prefix, the hint to fix baton.json, not the one for a port in use) and offers to open
// baton.json, which opens at the field's line; no gateway keeps running.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { batonApi, workspaceFolder } from './common';
import { clickDom, waitFor, waitForDom } from './workbench';

export async function brokenConfig(): Promise<void> {
  const api = await batonApi();
  const file = path.join(workspaceFolder(), 'baton.json');
  const good = fs.readFileSync(file, 'utf8');
  const config = JSON.parse(good) as Record<string, unknown>;
  fs.writeFileSync(file, JSON.stringify({ ...config, strat: config.start }, null, 2));
  try {
    // Not awaited: the command waits for the notification's buttons.
    void vscode.commands.executeCommand('baton.startGateway');
    const [toast] = await waitForDom(
      'the notification about the broken baton.json',
      '.notifications-toasts .notification-list-item',
      (found) => found.some((e) => e.text.includes('Baton:')),
      20_000,
    );
    assert.match(toast.text, /strat/, 'the notification names the unknown field');
    assert.doesNotMatch(toast.text, /Baton: baton:/i, 'one prefix');
    assert.match(toast.text, /Fix baton\.json/);
    assert.doesNotMatch(toast.text, /"baton\.gatewayPort"/, 'no port hint for a typo');
    assert.match(toast.text, /Open baton\.json/);
    assert.deepEqual(api.snapshots(), []);
    await clickDom('.notifications-toasts .monaco-button:has-text("Open baton.json")');
    const editor = await waitFor('baton.json open at the unknown field', () => {
      const active = vscode.window.activeTextEditor;
      return active?.document.uri.fsPath === file ? active : undefined;
    });
    const line = editor.document.lineAt(editor.selection.active.line).text;
    assert.match(line, /"strat"/, `the cursor is on the field's line, not on: ${line}`);
  } finally {
    fs.writeFileSync(file, good);
    await vscode.commands.executeCommand('notifications.clearAll');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }
}
