// `baton init` / *Create baton.json*: a baton.json that works for the app in a folder, tested on a skeleton of
// each framework as it ships (test/fixtures/init/<framework>: files only, nothing installed).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../../gateway/config/config';
import { hardCodedPort, inferConfig, writeInitConfig, type Draft } from '../../gateway/config/init';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/init');

let dir = '';
function folder(files: Record<string, string>): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-init-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** Every draft must be a valid baton.json, as the gateway reads it. */
function valid(draft: Draft): void {
  parseConfig(JSON.stringify(draft));
}

function fixture(name: string) {
  const inferred = inferConfig(path.join(FIXTURES, name));
  valid(inferred.config);
  return inferred;
}

describe('inferConfig on each framework', () => {
  test('Express: npm start, its sources (bin/www too), connect.sid, uploads/ shared, a warning about app.listen(3000)', () => {
    const { config, warnings } = fixture('express');
    assert.deepEqual(config, {
      start: 'npm start',
      watch: ['app.js', 'bin/**', 'package.json', 'public/**', 'views/**'],
      session: { cookie: 'connect.sid' },
      shared: ['uploads/'],
      env: { NODE_ENV: 'development' },
    });
    assert.deepEqual(warnings, [
      'app.js listens on port 3000, not on $PORT: Baton moves it to $PORT ("adoptPort"); better, listen on process.env.PORT (e.g. app.listen(process.env.PORT || 3000))',
    ]);
  });

  test('plain Node: node server.js, the SQLite file it sees shared, a warning about its fixed port', () => {
    const { config, warnings } = fixture('node');
    assert.deepEqual(config, {
      start: 'node server.js',
      watch: ['package.json', 'server.js'],
      shared: ['data/app.sqlite'],
      env: { NODE_ENV: 'development' },
    });
    assert.match(warnings.join('\n'), /^server\.js listens on port 8000, not on \$PORT/);
  });

  // What each framework's skeleton gets, and why: a start on $PORT (never a production build on every save,
  // never a framework's default port), the sources that make a deploy, its session cookie, its data.
  const EXPECTED: Record<string, Draft> = {
    // Vite: the dev server; --strictPort fails rather than picking another port.
    vite: {
      start: 'npx vite --port $PORT --strictPort',
      watch: ['src/**', 'public/**', 'index.html', 'vite.config.js', 'package.json'],
    },
    next: {
      start: 'npx next dev -p $PORT',
      watch: ['app/**', 'public/**', 'next.config.mjs', 'package.json'],
    },
    // Django: the project's .venv; every .py (settings.py, urls.py), templates and static files.
    django: {
      start: '.venv/bin/python manage.py runserver 127.0.0.1:$PORT --noreload',
      watch: ['**/*.py', '**/templates/**', '**/static/**'],
      session: { cookie: 'sessionid' },
      shared: ['db.sqlite3', 'media/'],
      env: { PYTHONUNBUFFERED: '1' },
    },
    // Flask: flask run on $PORT, not the app.run(port=5000) at the bottom of app.py.
    flask: {
      start: 'python3 -m flask --app app run --port $PORT',
      watch: ['**/*.py', '**/templates/**', '**/static/**'],
      session: { cookie: 'session' },
      shared: ['instance/'],
      env: { PYTHONUNBUFFERED: '1' },
    },
    fastapi: {
      start: 'python3 -m uvicorn main:app --port $PORT',
      watch: ['**/*.py'],
      env: { PYTHONUNBUFFERED: '1' },
    },
    // Rails: the session cookie is named after the application module (BlogApp).
    rails: {
      start: 'bin/rails server -p $PORT -b 127.0.0.1',
      watch: ['app/**', 'config/**', 'lib/**', 'Gemfile'],
      session: { cookie: '_blog_app_session' },
      shared: ['storage/', 'db/*.sqlite3'],
    },
  };
  for (const [name, expected] of Object.entries(EXPECTED)) {
    test(`${name}: ${expected.start}`, () => {
      const { config, warnings } = fixture(name);
      assert.deepEqual(config, expected);
      assert.deepEqual(warnings, []);
    });
  }

  test('Go: go run ., its sources, a warning about ListenAndServe(":8080")', () => {
    const { config, warnings } = fixture('go');
    assert.deepEqual(config, { start: 'go run .', watch: ['**/*.go', 'go.mod', 'templates/**'] });
    assert.match(
      warnings.join('\n'),
      /^main\.go listens on port 8080, not on \$PORT: .*os\.Getenv\("PORT"\)/,
    );
  });

  test("the repository's Python example", () => {
    const { config } = inferConfig(path.resolve(__dirname, '../../../examples/python'));
    assert.equal(config.start, 'python3 -u app.py');
  });
});

describe('inferConfig on other folders', () => {
  test('a Node app with a build script keeps it', () => {
    const app = folder({ 'package.json': JSON.stringify({ scripts: { start: 'node s.js', build: 'tsc' } }) });
    assert.equal(inferConfig(app).config.build, 'npm run build');
  });

  test('FastAPI in an app package, under another name', () => {
    const app = folder({ 'app/main.py': 'from fastapi import FastAPI\napi = FastAPI()\n' });
    assert.equal(inferConfig(app).config.start, 'python3 -m uvicorn app.main:api --port $PORT');
  });

  test('Flask with a venv/ and a database file it sees', () => {
    const app = folder({ 'wsgi.py': 'import flask\n', 'venv/bin/python': '', 'instance/site.db': '' });
    const { config } = inferConfig(app);
    assert.equal(config.start, 'venv/bin/python -m flask --app wsgi run --port $PORT');
    assert.deepEqual(config.shared, ['instance/']);
  });

  test('a plain Python server warns about its fixed port', () => {
    const app = folder({ 'server.py': 'HTTPServer(("127.0.0.1", 8000), H)\nserver.run(8000)\n' });
    const { config, warnings } = inferConfig(app);
    assert.equal(config.start, 'python3 -u server.py');
    assert.match(warnings[0], /^server\.py listens on port 8000, not on \$PORT: .*os\.environ\["PORT"\]/);
  });

  test('nothing it knows: one line saying what to write', () => {
    const empty = folder({ 'notes.txt': 'hi' });
    assert.throws(
      () => inferConfig(empty),
      (err: Error) => {
        assert.ok(err instanceof ConfigError, 'the CLI prints a ConfigError as one line, no stack');
        assert.match(err.message, /^cannot tell how to start the app in .*: write baton\.json with "start"/);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      },
    );
  });
});

describe('hardCodedPort', () => {
  test('sees fixed ports, not ones read from the environment', () => {
    assert.equal(hardCodedPort('app.listen(3000);'), 3000);
    assert.equal(hardCodedPort('const PORT = 4000;\napp.listen(PORT)'), 4000);
    assert.equal(hardCodedPort('    app.run(port=5000)'), 5000);
    assert.equal(hardCodedPort('app.listen(process.env.PORT || 3000)'), null);
    assert.equal(hardCodedPort('const port = process.env.PORT ?? 3000;'), null);
    assert.equal(hardCodedPort('port = int(os.environ["PORT"])'), null);
    assert.equal(hardCodedPort('app.listen(0)'), null);
  });
});

describe('writeInitConfig', () => {
  test('writes the draft, returns its warnings, and never overwrites', async () => {
    const app = folder({ 'server.py': 'run(port=8000)\n' });
    const { file, warnings } = await writeInitConfig(app);
    assert.equal(file, path.join(app, 'baton.json'));
    assert.equal(parseConfig(fs.readFileSync(file, 'utf8')).start, 'python3 -u server.py');
    assert.equal(warnings.length, 1);
    await assert.rejects(writeInitConfig(app), /baton\.json already exists: edit it/);
  });
});
