// The extension's settings (contributed in package.json under "baton.*"), read where they are used.
import * as vscode from 'vscode';

export interface BatonSettings {
  deployOnSave: boolean;
  openIn: 'external' | 'simpleBrowser';
  /** Open in Browser opens a tab that follows each new generation. */
  openFollowing: boolean;
  /** null: baton.json's "port". */
  gatewayPort: number | null;
  /** Ask before Kill Worker, Stop Gateway and Promote cost sessions or tabs their generation. */
  confirm: boolean;
  revealOutputOnFailure: boolean;
  openAfterStart: boolean;
}

export function readSettings(scope?: vscode.Uri): BatonSettings {
  const config = vscode.workspace.getConfiguration('baton', scope);
  return {
    deployOnSave: config.get<boolean>('deployOnSave', true),
    openIn: config.get<BatonSettings['openIn']>('openIn', 'external'),
    openFollowing: config.get<boolean>('openFollowing', false),
    gatewayPort: config.get<number | null>('gatewayPort', null),
    confirm: config.get<boolean>('confirm', true),
    revealOutputOnFailure: config.get<boolean>('revealOutputOnFailure', true),
    openAfterStart: config.get<boolean>('openAfterStart', false),
  };
}
