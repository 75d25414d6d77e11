// The welcome views: without a baton.json the Baton view offers "Create baton.json", and that command
// writes one (inferred from the app) and opens it; with a baton.json and no gateway it offers
// "Start Gateway".
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { batonApi, workspaceFolder } from './common';
import { waitFor, waitForDom } from './workbench';

const WELCOME_BUTTONS = '.part.sidebar .welcome-view-content .monaco-button';

export async function welcome(): Promise<void> {
  await batonApi();
  const file = path.join(workspaceFolder(), 'baton.json');
  const original = fs.readFileSync(file, 'utf8');
  await vscode.commands.executeCommand('baton.generations.focus');
  await waitForDom('the "Start Gateway" welcome', WELCOME_BUTTONS, (found) =>
    found.some((e) => e.text === 'Start Gateway'),
  );
  // The common case for inference: an npm app with a start script.
  const pkg = path.join(workspaceFolder(), 'package.json');
  const ownPackage = !fs.existsSync(pkg);
  if (ownPackage)
    fs.writeFileSync(pkg, JSON.stringify({ name: 'shop', scripts: { start: 'node server.js' } }));
  fs.rmSync(file);
  try {
    await waitForDom('the "Create baton.json" welcome', WELCOME_BUTTONS, (found) =>
      found.some((e) => e.text === 'Create baton.json'),
    );
    await vscode.commands.executeCommand('baton.createConfig');
    const created = JSON.parse(fs.readFileSync(file, 'utf8')) as { start?: string };
    assert.match(
      created.start ?? '',
      /^(npm start|node server\.js)$/,
      'the inferred start command runs the app',
    );
    await waitFor('baton.json open in the editor', () =>
      vscode.window.activeTextEditor?.document.uri.fsPath === file ? true : undefined,
    );
  } finally {
    fs.writeFileSync(file, original);
    if (ownPackage) fs.rmSync(pkg);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }
  await waitForDom('the "Start Gateway" welcome again', WELCOME_BUTTONS, (found) =>
    found.some((e) => e.text === 'Start Gateway'),
  );
}
