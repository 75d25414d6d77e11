// How `baton up` prints worker output (gateway/cli/output.ts) and where snapshot paths are mapped back to
// the workspace (gateway/lifecycle/workspacePaths.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { linePrefix, outputPrinter } from '../../gateway/cli/output';
import { toWorkspacePaths } from '../../gateway/lifecycle/workspacePaths';

describe('outputPrinter', () => {
  test('whole lines, prefixed per generation; stderr marked with a prefix of the same width', () => {
    let out = '';
    const print = outputPrinter((text) => (out += text), false);
    print(3, 'one\ntw', 'stdout');
    print(3, 'o\n', 'stdout');
    print(12, '  File "x.py", line 1\n    ^^^\r\n', 'stderr');
    print(3, '$ node server.js\n', 'baton');
    assert.equal(out, 'gen 3 | one\ngen 3 | two\ngen 12 !   File "x.py", line 1\ngen 12 !     ^^^\n');
    assert.equal(linePrefix(3, 'stdout', false).length, linePrefix(3, 'stderr', false).length);
  });

  test('a partial line is printed by flush (a prompt without a newline is not held back forever)', () => {
    let out = '';
    const print = outputPrinter((text) => (out += text), false);
    print(1, 'Password: ', 'stdout');
    assert.equal(out, '');
    print.flush();
    assert.equal(out, 'gen 1 | Password: \n');
  });

  test('on a TTY the generation is coloured and the stderr mark is red', () => {
    assert.equal(linePrefix(1, 'stdout', true), '\x1b[36mgen 1\x1b[0m \x1b[36m|\x1b[0m ');
    assert.equal(linePrefix(2, 'stderr', true), '\x1b[33mgen 2\x1b[0m \x1b[31m!\x1b[0m ');
  });
});

describe('toWorkspacePaths', () => {
  const appDir = '/tmp/baton-0/abc/g4';
  test('a Python and a Node traceback name the workspace files', () => {
    const text = [
      'Traceback (most recent call last):',
      '  File "/tmp/baton-0/abc/g4/server.py", line 64',
      `    at Object.<anonymous> (/tmp/baton-0/abc/g4/lib/app.js:3:9)`,
      'cwd /tmp/baton-0/abc/g4',
    ].join('\n');
    assert.equal(
      toWorkspacePaths(text, appDir, '/home/ann/shop'),
      [
        'Traceback (most recent call last):',
        '  File "/home/ann/shop/server.py", line 64',
        '    at Object.<anonymous> (/home/ann/shop/lib/app.js:3:9)',
        'cwd /home/ann/shop',
      ].join('\n'),
    );
  });

  test('another generation whose number starts the same is left alone', () => {
    const text = '/tmp/baton-0/abc/g41/server.py /tmp/baton-0/abc/g4.bak';
    assert.equal(toWorkspacePaths(text, appDir, '/w'), text);
  });

  test('a root with "$" in it is inserted literally', () => {
    assert.equal(toWorkspacePaths(`${appDir}/a`, appDir, '/w/$&'), '/w/$&/a');
  });
});
