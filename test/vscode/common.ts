// What the scenarios share: the activated extension's API, the workspace folder, state waits.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BatonApi } from '../../extension/extension';
import type { GatewaySnapshot } from '../../extension/treeModel';
import type { GenerationInfo } from '../../gateway/protocol/types';
import { waitFor } from './workbench';
import { isAlive } from '../../gateway/protocol/procStat';

export const EXTENSION_ID = 'baton-dev.baton';

export async function batonApi(): Promise<BatonApi> {
  const extension = vscode.extensions.getExtension<BatonApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed`);
  return extension.activate();
}

export function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the suite needs a workspace folder (run.mjs --workspace)');
  return folder.uri.fsPath;
}

/** Waits until the one gateway's state satisfies `probe`. */
export function waitForGateway<T>(
  api: BatonApi,
  what: string,
  probe: (s: GatewaySnapshot) => T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  return waitFor(
    what,
    () => {
      const [snapshot] = api.snapshots();
      return snapshot ? probe(snapshot) : undefined;
    },
    timeoutMs,
    () => JSON.stringify(api.snapshots().map((s) => s.state.generations.map((g) => `${g.id}:${g.state}`))),
  );
}

export function generation(s: GatewaySnapshot, id: number): GenerationInfo | undefined {
  return s.state.generations.find((g) => g.id === id);
}

/** Whether the process with this pid still runs: an exited one that its parent has not reaped yet (a
 *  zombie, as the extension's own gateway is for a moment) does not. */
export function processExists(pid: number): boolean {
  return isAlive(pid);
}

/** Logs how long each step of a scenario took since the scenario began (the report's timings). */
export function stepTimer(): (step: string) => void {
  const started = Date.now();
  return (step) => console.log(`  · ${step}: ${Date.now() - started} ms`);
}
