// `baton init` / *Create baton.json*: a baton.json inferred from the app in a folder.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { parseConfig } from '../../gateway/config/config';
import { inferConfig, writeInitConfig } from '../../gateway/config/init';

let dir = '';
function folder(files: Record<string, string>): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-init-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every draft must be a valid baton.json. */
const valid = (draft: unknown) => parseConfig(JSON.stringify(draft));

describe('inferConfig', () => {
  test('a Node app with a start script, a build script and express-session', () => {
    const app = folder({
      'package.json': JSON.stringify({
        scripts: { start: 'node server.js', build: 'tsc' },
        dependencies: { express: '^5', 'express-session': '^1' },
      }),
      'server.js': '',
      'views/index.js': '',
      'README.md': '',
    });
    const draft = inferConfig(app);
    assert.deepEqual(draft, {
      start: 'npm start',
      build: 'npm run build',
      watch: ['package.json', 'server.js', 'views/**'].sort(),
      session: { cookie: 'connect.sid' },
      env: { NODE_ENV: 'development' },
    });
    valid(draft);
  });

  test('a Node app without a start script runs its server file', () => {
    const app = folder({ 'package.json': '{"name": "x"}', 'app.js': '' });
    const draft = inferConfig(app);
    assert.equal(draft.start, 'node app.js');
    assert.equal(draft.build, undefined);
    assert.equal(draft.session, undefined);
    valid(draft);
  });

  test('a Python app', () => {
    const app = folder({ 'app.py': 'print(1)', 'helpers.py': '', 'templates/index.html': '' });
    const draft = inferConfig(app);
    assert.equal(draft.start, 'python3 -u app.py');
    assert.deepEqual([...draft.watch!].sort(), ['app.py', 'helpers.py', 'templates/**']);
    valid(draft);
  });

  test("the repository's Python example", () => {
    const draft = inferConfig(path.resolve(__dirname, '../../../examples/python'));
    assert.equal(draft.start, 'python3 -u app.py');
  });

  test('nothing to start: one clear error', () => {
    const empty = folder({ 'notes.txt': 'hi' });
    assert.throws(() => inferConfig(empty), /cannot tell how to start the app in .*"start"/);
  });

  test('writeInitConfig writes the draft and never overwrites', async () => {
    const app = folder({ 'server.py': '' });
    const file = await writeInitConfig(app);
    assert.equal(file, path.join(app, 'baton.json'));
    assert.equal(valid(JSON.parse(fs.readFileSync(file, 'utf8'))).start, 'python3 -u server.py');
    await assert.rejects(writeInitConfig(app), /already exists/);
  });
});
