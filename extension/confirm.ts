// The modal that asks before something would cost sessions or tabs their generation (consequences.ts says
// what); the "baton.confirm" setting turns it off.
import * as vscode from 'vscode';
import type { Consequence } from './consequences';
import { readSettings } from './settings';

/** True when the action may go ahead: nothing is lost, asking is turned off, or the user said so. */
export async function confirm(
  consequence: Consequence | null,
  action: string,
  scope?: vscode.Uri,
): Promise<boolean> {
  if (!consequence || !readSettings(scope).confirm) return true;
  const choice = await vscode.window.showWarningMessage(
    consequence.message,
    {
      modal: true,
      detail: `${consequence.detail}\n\nThe "baton.confirm" setting turns these questions off.`,
    },
    action,
  );
  return choice === action;
}
