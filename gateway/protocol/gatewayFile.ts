// `<root>/.baton/gateway.json` (DESIGN.md, "Control API"): how the CLI and the editor find a running gateway.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gatewayFilePath } from './controlClient';
import type { GatewayFile } from './types';

export function writeGatewayFile(root: string, data: GatewayFile): void {
  const dir = path.join(root, '.baton');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '.gitignore'), '*\n');
  const file = gatewayFilePath(root);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temp, file);
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
