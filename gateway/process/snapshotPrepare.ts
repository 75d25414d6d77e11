// The next snapshot, made ahead (ARCHITECTURE.md, "building"). Once a snapshot is made, a clone of it (real
// folders, every file a hard link to the same immutable copy, links as links) is made while the gateway
// waits for the next save; that deploy renames the clone into place and applies only what the watcher saw
// change, so a one-file deploy of a 20,000-file app touches one file instead of linking 20,000 again.
// The clone follows the snapshot's record of what it put there, never a listing of its folder: a file the
// running worker wrote into its snapshot is not carried on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Snapshot, SnapshotOptions } from './snapshot';
import {
  Copy,
  covered,
  gone,
  join,
  kindOf,
  removeTree,
  Slicer,
  type DirNode,
  type Node,
} from './snapshotCopy';

export interface Prepared {
  /** The clone's folder: renamed to the generation's when a deploy uses it. */
  dir: string;
  /** Where the app's root is inside `dir` (as for a Snapshot). */
  appRel: string;
  /** The snapshot it is a clone of. */
  base: Snapshot;
}

/**
 * Clones `base` into `dir`; null when that fails (`base` removed meanwhile, a full disk) or `abandoned()`
 * turns true (a better start came): then no folder is left.
 */
export async function prepareSnapshot(
  base: Snapshot,
  dir: string,
  abandoned: () => boolean = () => false,
): Promise<Prepared | null> {
  const appRel = path.relative(base.dir, base.appDir);
  const appDir = path.join(dir, appRel);
  const slicer = new Slicer();
  const clone = async (rel: string, folder: DirNode): Promise<void> => {
    for (const [name, node] of folder.children) {
      await slicer.pause();
      if (abandoned()) throw new Error('abandoned');
      const child = join(rel, name);
      const to = path.join(appDir, child);
      if (node.kind === 'dir') {
        fs.mkdirSync(to);
        await clone(child, node);
      } else if (node.kind === 'link') fs.symlinkSync(node.target, to);
      // A file missing from `base` (it is being removed) fails the clone: it must hold every file.
      else fs.linkSync(path.join(base.appDir, child), to);
    }
  };
  try {
    fs.mkdirSync(appDir, { recursive: true });
    await clone('', base.tree);
    return { dir, appRel, base };
  } catch {
    void removeTree(dir).catch(() => undefined);
    return null;
  }
}

/** Brings a clone of `options.previous` (in `dest`) up to date with the workspace; returns what it holds. */
export async function applyChanges(root: string, dest: string, options: SnapshotOptions): Promise<DirNode> {
  const tree = await new Update(root, dest, options).folder('', options.previous!.tree);
  if (!tree) throw new Error(`the app folder ${root} is gone`);
  return tree;
}

/** The entries that did not change are the clone's already: their records are shared with the previous tree. */
class Update extends Copy {
  /** A folder whose clone holds `prev`. Watched and not itself reported: only the names on the way to a
   *  reported path are looked at; otherwise every entry is compared with the workspace's. */
  async folder(rel: string, prev: DirNode): Promise<DirNode | null> {
    const changes = this.options.changes!;
    if (changes.dirty.has(rel) || !covered(changes, rel)) return this.reconcile(rel, prev);
    const node: DirNode = { kind: 'dir', children: new Map(prev.children) };
    for (const name of this.inside.get(rel) ?? []) {
      await this.slicer.pause();
      settle(node, name, await this.entry(join(rel, name), prev.children.get(name)));
    }
    return node;
  }

  private async reconcile(rel: string, prev: DirNode): Promise<DirNode | null> {
    let names: Set<string>;
    try {
      names = new Set(fs.readdirSync(this.src(rel)));
    } catch (err) {
      if (gone(err)) return null;
      throw err;
    }
    const node: DirNode = { kind: 'dir', children: new Map() };
    for (const [name, before] of prev.children) if (!names.has(name)) this.remove(join(rel, name), before);
    for (const name of names) {
      await this.slicer.pause();
      settle(node, name, await this.entry(join(rel, name), prev.children.get(name)));
    }
    return node;
  }

  /** One workspace entry against the clone's `before`: kept when it still matches, else replaced. */
  private async entry(rel: string, before: Node | undefined): Promise<Node | null> {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(this.src(rel));
    } catch (err) {
      if (!gone(err)) throw err;
      if (before) this.remove(rel, before);
      return null;
    }
    if (before?.kind === 'dir' && stat.isDirectory()) {
      const next = await this.folder(rel, before);
      if (!next) this.remove(rel, before);
      return next;
    }
    if (before && this.unchanged(rel, before, stat)) return before;
    if (before) this.remove(rel, before);
    return this.put(rel, kindOf(stat), before, stat);
  }

  private unchanged(rel: string, before: Node, stat: fs.Stats): boolean {
    if (before.kind === 'file')
      return stat.isFile() && stat.size === before.size && stat.mtimeMs === before.mtimeMs;
    if (before.kind !== 'link') return false;
    if (this.options.linked(rel)) return true; // a link to the workspace's own, whatever it is now
    try {
      return stat.isSymbolicLink() && fs.readlinkSync(this.src(rel)) === before.target;
    } catch {
      return false; // vanished: put() skips it
    }
  }

  /** Removes the clone's entry (never following a link: rmSync works on the link itself). */
  private remove(rel: string, before: Node): void {
    if (before.kind === 'dir') fs.rmSync(this.out(rel), { recursive: true, force: true });
    else fs.unlinkSync(this.out(rel));
  }
}

function settle(folder: DirNode, name: string, node: Node | null): void {
  if (node) folder.children.set(name, node);
  else folder.children.delete(name);
}
