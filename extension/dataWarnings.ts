// What the gateway's state says the user must not miss: files a stopped generation wrote inside its snapshot
// (they went with it), and a baton.json edit that was refused or waits for a restart. Each is shown once.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GatewayState } from '../gateway/protocol/types';
import { unsavedWarning } from '../gateway/protocol/unsaved';

const OPEN = 'Open baton.json';

export class DataWarnings {
  /** Keys of the warnings shown; null until the first state arrives. */
  private shown: Set<string> | null = null;

  update(folder: string, state: GatewayState | undefined): void {
    if (!state) return;
    const current = new Map<string, string>();
    for (const gen of state.generations) {
      const warning = unsavedWarning(gen);
      if (warning) current.set(`unsaved ${gen.id} ${gen.stoppedAt}`, warning);
    }
    if (state.configError)
      current.set(`error ${state.configError}`, `${state.configError} — the running config stays in force.`);
    if (state.configRestart.length) {
      const fields = state.configRestart.map((f) => `"${f}"`).join(', ');
      current.set(`restart ${fields}`, `baton.json: ${fields} changed; restart the gateway to apply it.`);
    }
    // Files lost before this window connected are old news; a config problem still stands.
    const shown = this.shown ?? new Set([...current.keys()].filter((key) => key.startsWith('unsaved ')));
    for (const [key, message] of current) {
      if (shown.has(key)) continue;
      void vscode.window.showWarningMessage(`Baton: ${message}`, OPEN).then((choice) => {
        if (choice === OPEN)
          void vscode.window.showTextDocument(vscode.Uri.file(path.join(folder, 'baton.json')));
      });
    }
    // Only what still stands is remembered: a problem that goes and comes back is shown again.
    this.shown = new Set(current.keys());
  }
}
