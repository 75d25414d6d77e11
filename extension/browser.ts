// Opens a gateway URL in a browser. asExternalUri makes a localhost URL reachable from where the user is
// (a port forward in a remote window, a proxy path in code-server).
import * as vscode from 'vscode';
import { readSettings } from './settings';

export async function openGatewayUrl(url: string, scope?: vscode.Uri): Promise<void> {
  const external = await vscode.env.asExternalUri(vscode.Uri.parse(url));
  if (readSettings(scope).openIn === 'simpleBrowser') {
    await vscode.commands.executeCommand('simpleBrowser.show', external.toString());
  } else {
    await vscode.env.openExternal(external);
  }
}
