// npm run test:vscode [-- --vsix] [-- --update-screenshot]: runs test/vscode in real VS Code (code-server +
// Chromium, see test/vscode/run.mjs) against a throw-away copy of examples/shop.
//   --vsix               test the packaged baton-<version>.vsix instead of the development folder
//   --update-screenshot  copy the suite's sidebar screenshot to media/screenshot-sidebar.png (README)
//   --built              dist/ and out/ are fresh already (npm test builds once for every suite)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: {
    vsix: { type: 'boolean' },
    'update-screenshot': { type: 'boolean' },
    built: { type: 'boolean' },
  },
});
const root = path.resolve(import.meta.dirname, '..');
const started = Date.now();
const step = (name, fn) => {
  const t0 = Date.now();
  const result = fn();
  console.error(`[test:vscode] ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return result;
};
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

if (!options.built) {
  step('build', () => run(process.execPath, ['scripts/build.mjs']));
  step('compile', () => run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.']));
}
const target = options.vsix
  ? step('package', () => {
      run(process.execPath, ['scripts/package.mjs', '--built']);
      const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
      return ['--vsix', path.join(root, `baton-${version}.vsix`)];
    })
  : ['--extension', root];
step('install code-server', () => run('bash', ['scripts/install-code-server.sh']));

// The demo app in a temporary folder: port 0 so that runs never clash (with each other or a real
// gateway on 8080), and the repository's node_modules for its express.
const workspace = mkdtempSync(path.join(tmpdir(), 'baton-vscode-ws-'));
const shots = path.join(root, 'out', 'vscode-screenshots');
let code = 1;
try {
  const source = path.join(root, 'examples', 'shop');
  cpSync(source, workspace, {
    recursive: true,
    filter: (file) => !/(^|[\\/])(node_modules|\.baton)$/.test(path.relative(source, file)),
  });
  const configFile = path.join(workspace, 'baton.json');
  writeFileSync(
    configFile,
    JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), port: 0 }, null, 2),
  );
  symlinkSync(path.join(root, 'node_modules'), path.join(workspace, 'node_modules'), 'dir');

  const driver = ['test/vscode/run.mjs', ...target, '--tests', path.join(root, 'out/test/vscode/index.js')];
  driver.push('--workspace', workspace, '--screenshot', path.join(shots, 'workbench.png'));
  code = step(
    'suite',
    () => spawnSync(process.execPath, driver, { cwd: root, stdio: 'inherit' }).status ?? 1,
  );
  const sidebar = path.join(shots, 'sidebar.png');
  if (code === 0 && options['update-screenshot'] && existsSync(sidebar)) {
    copyFileSync(sidebar, path.join(root, 'media', 'screenshot-sidebar.png'));
    console.error('[test:vscode] updated media/screenshot-sidebar.png');
  }
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
console.error(
  `[test:vscode] ${code === 0 ? 'passed' : 'FAILED'} after ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(code);
