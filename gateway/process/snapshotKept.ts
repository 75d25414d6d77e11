// The snapshot kept between runs (ARCHITECTURE.md, "building"). When the gateway stops, the folder of the
// newest snapshot (cleaned of what its generation wrote, as for reuse within a run) is moved beside the
// gateways' folders with its record, instead of being removed. The next `baton up` of the same app renames it
// into place and compares every file with the workspace (size and modification time), copying only what
// differs: generation 1 of a 20,000-file app then costs a walk of the app, not 20,000 new files. A record that
// does not match (another app, other `ignore` or `shared` rules, an older format) is removed instead, and so
// is any kept folder unused for KEEP_DAYS.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DirNode, Node } from './snapshotCopy';
import type { Prepared } from './snapshotPrepare';

/** The rules a snapshot was made with: a kept one serves only the same app with the same rules. */
export interface KeptRules {
  root: string;
  ignore: readonly string[];
  shared: readonly string[];
}

const FORMAT = 1;
const RECORD = 'record.json';
const SNAPSHOT = 'snapshot';
const PREFIX = 'kept-';
const KEEP_DAYS = 14;

/** Plain JSON for a tree: a folder is [name, …children] pairs, a file [size, mtime], a link its target. */
type Stored = [string, Stored][] | [number, number] | string;

function store(node: Node): Stored {
  if (node.kind === 'file') return [node.size, node.mtimeMs];
  if (node.kind === 'link') return node.target;
  return [...node.children].map(([name, child]): [string, Stored] => [name, store(child)]);
}

function load(stored: unknown): Node {
  if (typeof stored === 'string') return { kind: 'link', target: stored };
  if (!Array.isArray(stored)) throw new Error('not a tree');
  if (stored.length === 2 && typeof stored[0] === 'number' && typeof stored[1] === 'number')
    return { kind: 'file', size: stored[0], mtimeMs: stored[1] };
  const children = new Map<string, Node>();
  for (const pair of stored as unknown[]) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || /^\.{0,2}$|\//.test(pair[0]))
      throw new Error('not a tree');
    children.set(pair[0], load(pair[1]));
  }
  return { kind: 'dir', children };
}

const sameList = (a: readonly string[], b: readonly string[]) => a.join('\0') === b.join('\0');

/** The folder, beside the gateways' own, where the snapshot of the app in `root` is kept between runs. */
export function keptPlace(userBase: string, root: string): string {
  return path.join(userBase, PREFIX + createHash('sha256').update(root).digest('hex').slice(0, 16));
}

/** Moves a cleaned snapshot (with `tree` as its record) to `dest`; the record is written last, so a keep cut
 *  short leaves a folder without one, which the next run removes. */
export function keepSnapshot(prepared: Prepared, rules: KeptRules, dest: string): void {
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { mode: 0o700 });
  fs.renameSync(prepared.dir, path.join(dest, SNAPSHOT));
  const record = {
    format: FORMAT,
    root: rules.root,
    ignore: rules.ignore,
    shared: rules.shared,
    appRel: prepared.appRel,
    tree: store(prepared.base.tree),
  };
  fs.writeFileSync(path.join(dest, RECORD), JSON.stringify(record), { mode: 0o600 });
}

/**
 * The snapshot kept in `dest`, ready to be brought up to date, when it was made for this app with these
 * rules; else null (the caller removes a folder that is left).
 */
export function claimKept(dest: string, rules: KeptRules, appRel: string): Prepared | null {
  try {
    const record = JSON.parse(fs.readFileSync(path.join(dest, RECORD), 'utf8')) as Record<string, unknown>;
    const fits =
      record.format === FORMAT &&
      record.root === rules.root &&
      record.appRel === appRel &&
      Array.isArray(record.ignore) &&
      sameList(record.ignore as string[], rules.ignore) &&
      Array.isArray(record.shared) &&
      sameList(record.shared as string[], rules.shared);
    const tree = fits ? load(record.tree) : null;
    if (tree?.kind !== 'dir') return null;
    const dir = path.join(dest, SNAPSHOT);
    fs.rmSync(path.join(dest, RECORD)); // claimed: a second claim finds nothing
    return { dir, appRel, base: { dir, appDir: path.join(dir, appRel), tree: tree as DirNode } };
  } catch {
    return null; // none, unreadable or not a record
  }
}

/** The kept folders of apps not run for KEEP_DAYS (their record unchanged that long), to be removed. */
export function staleKept(userBase: string, now = Date.now()): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(userBase);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.startsWith(PREFIX))
    .map((name) => path.join(userBase, name))
    .filter((dir) => {
      try {
        return now - fs.lstatSync(dir).mtimeMs > KEEP_DAYS * 86_400_000;
      } catch {
        return false;
      }
    });
}
