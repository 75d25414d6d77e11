// A baton.json with an unknown field: Start Gateway ends in one notification that quotes the CLI's line
// and offers to open baton.json; no gateway keeps running.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { batonApi, workspaceFolder } from './common';
import { waitForDom } from './workbench';

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
    assert.match(toast.text, /Open baton\.json/);
    assert.deepEqual(api.snapshots(), []);
  } finally {
    fs.writeFileSync(file, good);
    await vscode.commands.executeCommand('notifications.clearAll');
  }
}
