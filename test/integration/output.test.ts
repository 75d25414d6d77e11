// Worker output where developers look: `baton up` streams it, prefixed per generation with stderr marked,
// snapshot paths shown as workspace paths; and `baton logs N` still answers after `baton down`.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RunningGateway, runCli, tinyApp, waitFor } from '../support/gateway';

// The tiny worker, plus a line on stderr that names its own file (in the snapshot it runs from).
const LOUD = `console.error('loud: error at ' + __filename + ':3');\n`;

function loudApp(): string {
  const { dir } = tinyApp({}, {});
  const server = path.join(dir, 'server.js');
  fs.writeFileSync(server, fs.readFileSync(server, 'utf8') + LOUD);
  return dir;
}

describe('worker output', () => {
  it('baton up prints every line prefixed by its generation, stderr marked, with workspace paths', async () => {
    const gw = await RunningGateway.start(loudApp(), ['--no-watch']);
    try {
      const file = path.join(gw.dir, 'server.js');
      await waitFor(
        'the worker lines in the terminal',
        () =>
          /^gen 1 \| tiny worker 1 listening on \d+$/m.test(gw.output) &&
          gw.output.includes(`gen 1 ! loud: error at ${file}:3\n`),
      );
      assert.doesNotMatch(gw.output, /baton-\d+\/[0-9a-f]+\/g1/, 'no snapshot path is shown');
      assert.doesNotMatch(gw.output, /gen 1 [|!] \$ node server\.js/, "Baton's own notes are not repeated");

      await gw.client!.deploy();
      await waitFor('generation 2 output', () => gw.output.includes(`gen 2 ! loud: error at ${file}:3\n`));

      const logs = await runCli(['logs', '1', gw.dir]);
      assert.equal(logs.code, 0, logs.stderr);
      assert.ok(logs.stdout.includes(`loud: error at ${file}:3`), logs.stdout);
    } finally {
      await gw.stop();
    }
    // The gateway is gone: the CLI reads what it kept in .baton/logs/.
    try {
      const after = await runCli(['logs', '1', gw.dir]);
      assert.equal(after.code, 0, after.stderr);
      assert.match(after.stdout, /tiny worker 1 listening/);
      assert.ok(after.stdout.includes(`loud: error at ${path.join(gw.dir, 'server.js')}:3`), after.stdout);
      const missing = await runCli(['logs', '9', gw.dir]);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /^baton: no gateway is running for .* and no output of generation 9 is kept/,
      );
    } finally {
      fs.rmSync(gw.dir, { recursive: true, force: true });
    }
  });

  it('--quiet-workers keeps worker output out of the terminal (it is still kept)', async () => {
    const gw = await RunningGateway.start(loudApp(), ['--no-watch', '--quiet-workers']);
    try {
      await waitFor('the output kept for generation 1', async () =>
        (await gw.client!.logs(1)).includes('loud: error at'),
      );
      await gw.stop();
      assert.match(gw.output, /gen 1\s+live/);
      assert.doesNotMatch(gw.output, /loud: error at|gen 1 [|!] /);
    } finally {
      await gw.dispose();
    }
  });
});
