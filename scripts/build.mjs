// Bundles the CLI/gateway, the gateway watchdog, the in-page tab client and the extension into dist/.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // ES modules first: jsonc-parser's "main" is a UMD build whose dynamic requires esbuild cannot follow.
  mainFields: ['module', 'main'],
};
const entries = [
  { entryPoints: ['gateway/cli/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['gateway/process/watchdog.ts'], outfile: 'dist/watchdog.js' },
  // The snapshot worker thread, started by the gateway next to its own bundle.
  { entryPoints: ['gateway/process/snapshotWorker.ts'], outfile: 'dist/snapshot-worker.js' },
  // Preloaded into Node workers (NODE_OPTIONS) to move a hard-coded port to $PORT; no source map, it runs in
  // the app.
  { entryPoints: ['gateway/process/adoptPort.ts'], outfile: 'dist/adopt-port.js', sourcemap: false },
  // Runs in app pages, served as /__baton/client.js; no source map (the gateway serves only this file).
  {
    entryPoints: ['gateway/client/tab-client.ts'],
    outfile: 'dist/client.js',
    platform: 'browser',
    target: 'es2020',
    format: 'iife',
    minify: true,
    sourcemap: false,
  },
];
if (existsSync('extension/extension.ts')) {
  entries.push({
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
  });
}
await Promise.all(entries.map((e) => build({ ...common, ...e })));
