// npm run package: bundles dist/ and packs the extension into baton-<version>.vsix (dependencies are
// bundled by esbuild, hence --no-dependencies). Prints the file's path and size. `--built`: dist/ is fresh.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const out = `baton-${version}.vsix`;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

if (!process.argv.includes('--built')) run(process.execPath, ['scripts/build.mjs']);
run(process.execPath, ['node_modules/@vscode/vsce/vsce', 'package', '--no-dependencies', '-o', out]);
console.log(`${out}: ${(statSync(out).size / 1024).toFixed(0)} KB`);
