// `<root>/.baton/gateway.json`: how the CLI and the editor find a running gateway. Everything written into
// `.baton/` goes through `withBatonDir`: the folder must be this user's own real folder (a gateway run as
// root on someone else's workspace must not be steered into overwriting files through a planted link),
// and files are replaced through a fresh temp file, never opened through an existing name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gatewayFilePath } from './controlClient';
import { replaceFile, withOwnedDir } from './ownedDir';
import type { GatewayFile } from './types';

/** The workspace's `.baton` folder. */
export function batonDir(root: string): string {
  return path.join(root, '.baton');
}

/** Runs `use` on `.baton` (created if missing, refused with UnsafeFolderError when it is not ours). */
export function withBatonDir<T>(root: string, use: (entry: (name: string) => string) => T): T {
  const dir = batonDir(root);
  return withOwnedDir(dir, `remove it (rm -rf "${dir}") and start again`, use);
}

export function writeGatewayFile(root: string, data: GatewayFile): void {
  withBatonDir(root, (entry) => {
    replaceFile(entry, '.gitignore', '*\n', 0o644);
    replaceFile(entry, path.basename(gatewayFilePath(root)), JSON.stringify(data, null, 2) + '\n');
  });
}

/** Removes the file if it is still this process's. */
export function removeGatewayFile(root: string): void {
  const file = gatewayFilePath(root);
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as GatewayFile;
    if (data.pid === process.pid) fs.unlinkSync(file);
  } catch {
    // already gone
  }
}
