// A stopped generation's snapshot becomes the start of the next one instead of being removed: its folders and
// hard links are already there, so neither the removal (an unlink per file) nor a new clone (a folder made
// and a link per file) is paid again; the next deploy renames it into place and brings it up to date with
// what changed since it was made (snapshotPrepare.ts). First it is made to hold exactly its record again:
// what the generation wrote there goes (once RuntimeFiles has named or adopted it), and a recorded entry
// that is missing, of another kind, or modified after the snapshot was made counts as changed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuntimeFiles } from './runtimeFiles';
import type { Snapshot } from './snapshot';
import { join, type DirNode, type Node } from './snapshotCopy';
import type { Prepared } from './snapshotPrepare';

export interface Cleaned {
  /** What the folder holds now. */
  tree: DirNode;
  /** Recorded paths that are no longer as recorded (removed now): the next snapshot reads them again. */
  changed: string[];
}

/**
 * One walk over a stopped generation's snapshot (made at `since`): every file written after that is told to
 * `runtime` before it goes, and the folder is made to hold its record again.
 */
export async function cleanSnapshot(
  snapshot: Snapshot,
  since: number,
  runtime: RuntimeFiles,
): Promise<Cleaned> {
  const changed: string[] = [];
  const written = (full: string) => fs.lstatSync(full).mtimeMs > since;
  /** Files inside something the generation made, all written by it. */
  const report = async (rel: string): Promise<void> => {
    const full = path.join(snapshot.appDir, rel);
    const stat = fs.lstatSync(full);
    if (stat.isFile() && stat.mtimeMs > since) await runtime.found(rel);
    if (stat.isDirectory()) for (const name of fs.readdirSync(full)) await report(join(rel, name));
  };
  const clean = async (rel: string, node: DirNode): Promise<DirNode> => {
    let children: Map<string, Node> | null = null; // copied on the first difference
    const edit = () => (children ??= new Map(node.children));
    const seen = new Set<string>();
    for (const entry of fs.readdirSync(path.join(snapshot.appDir, rel), { withFileTypes: true })) {
      const child = join(rel, entry.name);
      const full = path.join(snapshot.appDir, child);
      const before = node.children.get(entry.name);
      if (!before) {
        await report(child);
        fs.rmSync(full, { recursive: true, force: true }); // never follows a link
        continue;
      }
      seen.add(entry.name);
      if (before.kind === 'dir' && entry.isDirectory()) {
        const next = await clean(child, before);
        if (next !== before) edit().set(entry.name, next);
        continue;
      }
      const kept =
        before.kind === 'link'
          ? entry.isSymbolicLink() && fs.readlinkSync(full) === before.target
          : before.kind === 'file' && entry.isFile() && !written(full);
      if (kept) continue;
      await report(child);
      fs.rmSync(full, { recursive: true, force: true });
      edit().delete(entry.name);
      changed.push(child);
    }
    for (const name of node.children.keys()) {
      if (seen.has(name)) continue;
      edit().delete(name);
      changed.push(join(rel, name));
    }
    const copied = children as Map<string, Node> | null; // assigned in edit()
    return copied ? { kind: 'dir', children: copied } : node;
  };
  return { tree: await clean('', snapshot.tree), changed };
}

/** Moves a cleaned snapshot to `dest`, ready for the next deploy. */
export function recycle(snapshot: Snapshot, tree: DirNode, dest: string): Prepared {
  const appRel = path.relative(snapshot.dir, snapshot.appDir);
  // Above the app's folder only the way down to it stays (the links to node_modules there are made again).
  let folder = snapshot.dir;
  for (const part of appRel ? appRel.split(path.sep) : []) {
    for (const name of fs.readdirSync(folder))
      if (name !== part) fs.rmSync(path.join(folder, name), { recursive: true, force: true });
    folder = path.join(folder, part);
  }
  fs.renameSync(snapshot.dir, dest);
  return { dir: dest, appRel, base: { dir: dest, appDir: path.join(dest, appRel), tree } };
}
