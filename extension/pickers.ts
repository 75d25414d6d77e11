// Which gateway or generation a command acts on: the tree element it was invoked on, a generation id
// (from a test or a keybinding), or else the user's choice in a QuickPick.
import * as vscode from 'vscode';
import type { GatewayState, GenerationInfo } from '../gateway/protocol/types';
import type { GatewayFolder, Gateways } from './gateways';
import { generationDescription, stateIcon, type TreeNode } from './treeModel';

export interface GenerationTarget {
  entry: GatewayFolder;
  state: GatewayState;
  generation: GenerationInfo;
}

function isNode(arg: unknown): arg is TreeNode {
  return typeof arg === 'object' && arg !== null && 'folder' in arg && 'kind' in arg;
}

/**
 * The generation to act on among those `accepts` allows; undefined (after telling the user why) when
 * there is none or the user cancelled.
 */
export async function pickGeneration(
  gateways: Gateways,
  arg: unknown,
  accepts: (g: GenerationInfo) => boolean,
  verb: string,
): Promise<GenerationTarget | undefined> {
  const all = gateways.snapshots().flatMap(({ folder, state }) => {
    const entry = gateways.get(folder);
    return entry ? state.generations.map((generation) => ({ entry, state, generation })) : [];
  });
  const wanted = isNode(arg) ? { folder: arg.folder, id: arg.generation } : { folder: undefined, id: arg };
  if (typeof wanted.id === 'number') {
    const target = all.find(
      (t) => t.generation.id === wanted.id && (!wanted.folder || t.entry.path === wanted.folder),
    );
    if (!target) void vscode.window.showWarningMessage(`Baton: there is no generation ${wanted.id}.`);
    else if (!accepts(target.generation)) {
      void vscode.window.showWarningMessage(
        `Baton: generation ${wanted.id} is ${target.generation.state}; there is nothing to ${verb}.`,
      );
    } else return target;
    return undefined;
  }
  const candidates = all
    .filter((t) => accepts(t.generation))
    .sort((a, b) => b.generation.id - a.generation.id);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`Baton: no generation to ${verb}.`);
    return undefined;
  }
  const multiRoot = gateways.snapshots().length > 1;
  const picked = await vscode.window.showQuickPick(
    candidates.map((target) => ({
      label: `$(${stateIcon(target.generation.state).id}) generation ${target.generation.id}`,
      description: generationDescription(target.generation),
      detail: multiRoot ? target.entry.name : undefined,
      target,
    })),
    { placeHolder: `Generation to ${verb}` },
  );
  return picked?.target;
}

/**
 * The workspace folder to act on among those `accepts` allows: the tree element's, the only one, or
 * the user's choice.
 */
export async function pickFolder(
  gateways: Gateways,
  arg: unknown,
  accepts: (f: GatewayFolder) => boolean,
  verb: string,
  none: string,
): Promise<GatewayFolder | undefined> {
  if (isNode(arg)) {
    const entry = gateways.get(arg.folder);
    if (entry && accepts(entry)) return entry;
  }
  const candidates = gateways.folders().filter(accepts);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`Baton: ${none}`);
    return undefined;
  }
  if (candidates.length === 1) return candidates[0];
  const picked = await vscode.window.showQuickPick(
    candidates.map((entry) => ({ label: entry.name, description: entry.path, entry })),
    { placeHolder: `Folder to ${verb}` },
  );
  return picked?.entry;
}
