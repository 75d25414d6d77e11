// The line a failure notification quotes (extension/errorLine.ts), on real Python and Node output.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lastErrorLine } from '../../extension/errorLine';

describe('lastErrorLine', () => {
  test('a Python SyntaxError names the file and line', () => {
    const output = [
      '$ python3 -u server.py   (generation 4, PORT=40123)',
      '  File "/home/ann/shop/server.py", line 64',
      '    def total(self',
      '             ^',
      "SyntaxError: '(' was never closed",
      '',
      '[baton] generation 4 failed: the worker exited with code 1 before it became ready (see its output)',
    ].join('\n');
    assert.equal(lastErrorLine(output), "SyntaxError: '(' was never closed (server.py, line 64)");
  });

  test('a Python exception raised at import keeps its own location', () => {
    const output = [
      'Traceback (most recent call last):',
      '  File "/home/ann/shop/server.py", line 3, in <module>',
      '    import cart',
      '  File "/home/ann/shop/cart.py", line 12',
      '    return',
      'SyntaxError: invalid syntax (cart.py, line 12)',
    ].join('\n');
    assert.equal(lastErrorLine(output), 'SyntaxError: invalid syntax (cart.py, line 12)');
  });

  test('a Python runtime error names the innermost frame', () => {
    const output = [
      'Traceback (most recent call last):',
      '  File "/home/ann/shop/server.py", line 80, in <module>',
      '    main()',
      '  File "/home/ann/shop/server.py", line 77, in main',
      "    port = int(os.environ['PORTT'])",
      "KeyError: 'PORTT'",
    ].join('\n');
    assert.equal(lastErrorLine(output), "KeyError: 'PORTT' (server.py, line 77)");
  });

  test('a Node exception names its first frame in the app, not Node internals', () => {
    const output = [
      '/home/ann/shop/server.js:40',
      "throw new Error('broken on purpose');",
      '^',
      '',
      'Error: broken on purpose',
      '    at Object.<anonymous> (/home/ann/shop/server.js:40:7)',
      '    at Module._compile (node:internal/modules/cjs/loader:1554:14)',
      '',
      'Node.js v20.19.0',
    ].join('\n');
    assert.equal(lastErrorLine(output), 'Error: broken on purpose (server.js, line 40)');
  });

  test('a Node SyntaxError names the header line above its code frame', () => {
    const output = [
      '/home/ann/shop/server.js:12',
      '  app.get("/", (req, res) => {',
      '                            ^',
      '',
      'SyntaxError: missing ) after argument list',
      '    at wrapSafe (node:internal/modules/cjs/loader:1469:18)',
      '',
      'Node.js v20.19.0',
    ].join('\n');
    assert.equal(lastErrorLine(output), 'SyntaxError: missing ) after argument list (server.js, line 12)');
  });

  test('Node error codes and dotted exception names are recognised', () => {
    assert.equal(
      lastErrorLine(
        "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'expres'\n    at x (node:internal/a:1:1)",
      ),
      "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'expres'",
    );
    assert.equal(
      lastErrorLine('django.core.exceptions.ImproperlyConfigured: SECRET_KEY must not be empty'),
      'django.core.exceptions.ImproperlyConfigured: SECRET_KEY must not be empty',
    );
  });

  test('without an exception, the last line the app wrote; nothing for no output', () => {
    assert.equal(
      lastErrorLine('$ npm run build\nsrc/a.ts(3,1): error TS1005: ; expected\n\n[baton] x\n'),
      'src/a.ts(3,1): error TS1005: ; expected',
    );
    assert.equal(lastErrorLine('$ node server.js\n[baton] stopping\n'), null);
  });
});
