// How a worker's Node processes get the adopt-port preload (adoptPort.ts, bundled to dist/adopt-port.js next
// to the gateway): one more `--require` in NODE_OPTIONS, after whatever the user's environment has there.
import * as fs from 'node:fs';
import * as path from 'node:path';

const PRELOAD = path.join(__dirname, 'adopt-port.js');

export function adoptPortEnv(nodeOptions: string | undefined): { NODE_OPTIONS?: string } {
  if (!fs.existsSync(PRELOAD)) return {}; // not built (a test run from out/): apps keep their own port
  const require = `--require ${JSON.stringify(PRELOAD)}`;
  return { NODE_OPTIONS: nodeOptions ? `${nodeOptions} ${require}` : require };
}
