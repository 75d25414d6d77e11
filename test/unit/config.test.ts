// baton.json parsing and validation (README, "Configuration"): every field, and one clear message per mistake.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, DEFAULTS, loadConfig, parseConfig, SHAPE } from '../../gateway/config/config';

const parse = (value: unknown) => parseConfig(JSON.stringify(value));

/** Asserts that `value` is refused with a ConfigError whose message matches `message`. */
function refuses(value: unknown, message: RegExp): void {
  assert.throws(
    () => (typeof value === 'string' ? parseConfig(value) : parse(value)),
    (err: Error) => {
      assert.ok(err instanceof ConfigError, `not a ConfigError: ${err.stack}`);
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /\n/, 'one line');
      return true;
    },
  );
}

describe('parseConfig', () => {
  test('only "start" is required; everything else has the documented default', () => {
    assert.deepEqual(parse({ start: 'node server.js' }), { ...DEFAULTS, start: 'node server.js' });
    assert.deepEqual(DEFAULTS, {
      build: null,
      buildTimeoutSeconds: 300,
      port: 8080,
      host: '127.0.0.1',
      watch: ['**'],
      ignore: [],
      shared: [],
      affinity: 'tab',
      follow: false,
      allowedHosts: [],
      inject: true,
      adoptPort: true,
      ready: { path: '/', timeoutSeconds: 30 },
      session: { cookie: null, idleTimeoutSeconds: 1800, tabGraceSeconds: 10 },
      retireAfterSeconds: 0,
      env: {},
    });
  });

  test('reads every field', () => {
    const full = {
      start: 'node server.js',
      build: 'npm run build',
      buildTimeoutSeconds: 120,
      port: 0,
      host: '0.0.0.0',
      watch: ['src/**', 'server.js'],
      ignore: ['**/*.log'],
      shared: ['uploads/', 'db/*.sqlite3'],
      affinity: 'session',
      follow: true,
      allowedHosts: ['dev.example.com', '.tunnel.example'],
      inject: false,
      adoptPort: false,
      ready: { path: null, timeoutSeconds: 5 },
      session: { cookie: 'connect.sid', idleTimeoutSeconds: 600, tabGraceSeconds: 0 },
      retireAfterSeconds: 3600,
      env: { NODE_ENV: 'development', EMPTY: '' },
    };
    assert.deepEqual(parse({ $schema: './baton.schema.json', ...full }), {
      $schema: './baton.schema.json',
      ...full,
    });
  });

  test('a partial "ready" or "session" keeps the defaults of the fields it leaves out', () => {
    const config = parse({ start: 'x', ready: { path: '/healthz' }, session: { cookie: 'sid' } });
    assert.deepEqual(config.ready, { path: '/healthz', timeoutSeconds: 30 });
    assert.deepEqual(config.session, { cookie: 'sid', idleTimeoutSeconds: 1800, tabGraceSeconds: 10 });
  });

  test('a missing "start" is named', () => {
    refuses({}, /"start" is missing/);
    refuses({ port: 0 }, /"start" is missing/);
  });

  test('an unknown field is named, with the closest known one suggested', () => {
    refuses({ start: 'x', prot: 0 }, /^unknown field "prot" \(did you mean "port"\?\)$/);
    refuses({ start: 'x', Affinity: 'tab' }, /unknown field "Affinity" \(did you mean "affinity"\?\)/);
    refuses(
      { start: 'x', session: { cokie: 'sid' } },
      /unknown field "session.cokie" \(did you mean "cookie"\?\)/,
    );
    refuses({ start: 'x', ready: { timeout: 3 } }, /unknown field "ready.timeout"/);
    refuses({ start: 'x', frobnicate: true }, /^unknown field "frobnicate"$/);
  });

  test('a wrong type names the field, what it must be and what it got', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ start: 42 }, /"start" must be a non-empty string \(got 42\)/],
      [{ start: '  ' }, /"start" must be a non-empty string/],
      [{ build: false }, /"build" must be a non-empty string \(got false\)/],
      [
        { buildTimeoutSeconds: '300' },
        /"buildTimeoutSeconds" must be a number from 1 to 86400 \(got "300"\)/,
      ],
      [{ buildTimeoutSeconds: 0 }, /"buildTimeoutSeconds" must be a number/],
      [{ port: 80.5 }, /"port" must be a whole number from 0 to 65535 \(got 80.5\)/],
      [{ port: 70000 }, /"port" must be a whole number from 0 to 65535/],
      [{ port: -1 }, /"port"/],
      [{ host: '' }, /"host" must be a non-empty string/],
      [{ watch: 'src/**' }, /"watch" must be a list of strings \(got "src\/\*\*"\)/],
      [{ watch: ['ok', 3] }, /"watch" must be a list of strings/],
      [{ ignore: [''] }, /"ignore" must be a list of strings/],
      [{ shared: 'uploads/' }, /"shared" must be a list of strings/],
      [
        { shared: ['/var/data'] },
        /"shared" must be paths relative to the app's root, .* \(got "\/var\/data"\)/,
      ],
      [{ shared: ['../data/app.db'] }, /"shared" must be paths relative to the app's root/],
      [{ affinity: 'tabs' }, /"affinity" must be "tab" or "session" \(got "tabs"\)/],
      [{ follow: 1 }, /"follow" must be true or false \(got 1\)/],
      [{ allowedHosts: 'example.com' }, /"allowedHosts" must be a list of strings/],
      [{ inject: 'yes' }, /"inject" must be true or false \(got "yes"\)/],
      [{ adoptPort: 'no' }, /"adoptPort" must be true or false \(got "no"\)/],
      [{ ready: '/' }, /"ready" must be an object \(got "\/"\)/],
      [{ ready: { path: 'health' } }, /"ready.path" must be a path starting with "\/" or null/],
      [{ ready: { timeoutSeconds: 0 } }, /"ready.timeoutSeconds" must be a number/],
      [{ session: [] }, /"session" must be an object \(got an array\)/],
      [{ session: { cookie: 7 } }, /"session.cookie" must be a non-empty string/],
      [{ session: { idleTimeoutSeconds: 0 } }, /"session.idleTimeoutSeconds" must be a number from 1/],
      [{ session: { tabGraceSeconds: -1 } }, /"session.tabGraceSeconds" must be a number from 0/],
      [{ retireAfterSeconds: null }, /"retireAfterSeconds" must be a number from 0 to .* \(got null\)/],
      [{ env: ['A=1'] }, /"env" must be an object of strings/],
      [{ env: { PORT_OFFSET: 1 } }, /"env.PORT_OFFSET" must be a string \(got 1\)/],
    ];
    for (const [fields, message] of cases) refuses({ start: 'node server.js', ...fields }, message);
  });

  test('the file must be one JSON object', () => {
    refuses('{"start": "x" "port": 1}', /^not valid JSON: CommaExpected \(line 1, column 15\)$/);
    refuses('', /^not valid JSON: /);
    for (const value of [[], 'node server.js', 3, null]) {
      refuses(JSON.stringify(value), /^must be one JSON object/);
      assert.throws(
        () => parse(value),
        (err: Error) => !/""/.test(err.message),
        `no empty field name for ${JSON.stringify(value)}`,
      );
    }
  });

  test('accepts // and /* */ comments, but not inside strings', () => {
    const text = `{
      // the worker
      "start": "node server.js --url=http://x//y", /* keep the slashes */
      "env": { "A": "/* not a comment */" }, // trailing
      /* multi
         line */
      "port": 0
    }`;
    const config = parseConfig(text);
    assert.equal(config.start, 'node server.js --url=http://x//y');
    assert.deepEqual(config.env, { A: '/* not a comment */' });
    assert.equal(config.port, 0);
  });

  test('trailing commas are allowed; a syntax error names its line after comments', () => {
    assert.equal(parseConfig('{"start": "x", "watch": ["a",],}').watch[0], 'a');
    refuses('{\n/* a\nb */ "start": "x\\"//y", // c\n"port": }', /\(line 4, column 9\)$/);
  });

  test("the README's example parses as it is", () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const example = /```jsonc\n([\s\S]*?)```/.exec(readme);
    assert.ok(example, 'the README has a jsonc example');
    assert.equal(parseConfig(example[1]).session.cookie, 'connect.sid');
  });

  test('the JSON schema states the same minima, maxima and choices as the validator', () => {
    type SchemaNode = {
      minimum?: number;
      maximum?: number;
      enum?: string[];
      properties?: Record<string, SchemaNode>;
    };
    const schema = JSON.parse(
      fs.readFileSync(path.join(__dirname, '..', '..', '..', 'baton.schema.json'), 'utf8'),
    ) as SchemaNode;
    const compare = (shape: typeof SHAPE, node: SchemaNode, prefix: string) => {
      assert.deepEqual(
        Object.keys(node.properties ?? {}).sort(),
        Object.keys(shape).sort(),
        `${prefix} fields`,
      );
      for (const [key, check] of Object.entries(shape)) {
        const field = node.properties![key];
        for (const rule of ['minimum', 'maximum', 'enum'] as const) {
          assert.deepEqual(field[rule], check[rule], `${prefix}${key}: ${rule}`);
        }
        if (check.shape) compare(check.shape, field, `${prefix}${key}.`);
      }
    };
    compare(SHAPE, schema, '');
  });
});

describe('loadConfig', () => {
  const withFile = (text: string | null, run: (dir: string) => void) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-config-'));
    try {
      if (text !== null) fs.writeFileSync(path.join(dir, 'baton.json'), text);
      run(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  test('reads <root>/baton.json', () => {
    withFile('{"start": "python3 app.py", "port": 9000}', (dir) => {
      const config = loadConfig(dir);
      assert.equal(config.start, 'python3 app.py');
      assert.equal(config.port, 9000);
    });
  });

  test('every error starts with the file path', () => {
    withFile('{"start": "x", "prot": 1}', (dir) => {
      assert.throws(() => loadConfig(dir), {
        name: 'Error',
        message: `${path.join(dir, 'baton.json')}: unknown field "prot" (did you mean "port"?) (line 1, column 16)`,
      });
    });
  });

  test('a missing file says how to create one', () => {
    withFile(null, (dir) => {
      assert.throws(
        () => loadConfig(dir),
        (err: Error) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, /no baton\.json here/);
          assert.ok(err.message.startsWith(path.join(dir, 'baton.json')));
          return true;
        },
      );
    });
  });
});
