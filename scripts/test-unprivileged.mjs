// Runs the integration tests that touch snapshots, data and processes again as an unprivileged user: root
// writes read-only files and opens any folder, so it hides every permission bug a real user meets. `npm test`
// runs this after its main pass. As root it uses the user "baton" (.ci/run creates it); a non-root run
// has just run these files as an ordinary user already, so there is nothing to add.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const USER = 'baton';
const REPO = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const FILES = ['data', 'snapshots', 'lifecycle', 'hygiene', 'python', 'control', 'unavailable'].map(
  (name) => `out/test/integration/${name}.test.js`,
);

const fail = (message) => {
  console.error(`test-unprivileged: ${message}`);
  process.exit(1);
};

if (process.getuid() !== 0) {
  console.log(
    `test-unprivileged: not root (uid ${process.getuid()}): the integration tests already ran unprivileged`,
  );
  process.exit(0);
}

const id = (flag) => spawnSync('id', [flag, USER], { encoding: 'utf8' });
if (id('-u').status !== 0)
  fail(`no user "${USER}": create it with "useradd -m -s /bin/bash ${USER}" (.ci/run does)`);
const uid = Number(id('-u').stdout);
const gid = Number(id('-g').stdout);

/** Whether the user can read every path (so that the checkout can be used in place). */
const canRead = (...paths) =>
  spawnSync('runuser', [
    '-u',
    USER,
    '--',
    'test',
    '-r',
    paths[0],
    ...paths.slice(1).flatMap((p) => ['-a', '-r', p]),
  ]).status === 0;

for (const file of FILES)
  if (!fs.existsSync(path.join(REPO, file))) fail(`${file} is missing: build first (npm test does)`);
if (!canRead(process.execPath))
  fail(`${USER} cannot run ${process.execPath}: install node where every user can`);

// A checkout under /root is not traversable by other users: copy what the tests use to a folder the user owns.
let root = REPO;
let copy = null;
if (!canRead(...[...FILES, 'dist/cli.js', 'node_modules/ws/package.json'].map((p) => path.join(REPO, p)))) {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-unprivileged-'));
  for (const entry of ['package.json', 'dist', 'out', 'examples', 'node_modules'])
    fs.cpSync(path.join(REPO, entry), path.join(copy, entry), { recursive: true, verbatimSymlinks: true });
  spawnSync('chown', ['-R', `${uid}:${gid}`, copy], { stdio: 'inherit' });
  root = copy;
  console.log(`test-unprivileged: ${REPO} is not readable by ${USER}; running from a copy in ${copy}`);
}

console.log(`test-unprivileged: running ${FILES.length} integration test files as ${USER} (uid ${uid})`);
const env = {
  ...process.env,
  HOME: fs.existsSync(`/home/${USER}`) ? `/home/${USER}` : os.tmpdir(),
  USER,
  LOGNAME: USER,
};
delete env.TMPDIR; // root's temp folder may not be writable by the user; /tmp is
const run = spawnSync(
  'runuser',
  ['-u', USER, '--', process.execPath, '--test', '--test-concurrency=1', ...FILES],
  { cwd: root, env, stdio: 'inherit' },
);
if (copy) fs.rmSync(copy, { recursive: true, force: true });
if (run.status !== 0) fail(`failed as ${USER} (exit ${run.status ?? run.signal})`);
console.log(`test-unprivileged: every test passed as ${USER}`);
