// Which ports a process tree listens on (process/ports.ts) and what a worker on the wrong port is told
// (process/portAdvice.ts): the kernel's tables read for real, lsof's output and the advice per language.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as os from 'node:os';
import { after, before, describe, test } from 'node:test';
import {
  connectAddress,
  decodeAddress,
  formatListener,
  listeners,
  parseLsof,
  portHolder,
  parseProcNet,
} from '../../gateway/process/ports';
import { foreignPortMessage, wrongPortMessage } from '../../gateway/process/portAdvice';

describe('reading the kernel tables', () => {
  test('decodes /proc/net/tcp and tcp6 addresses (host byte order per 32-bit word)', () => {
    assert.equal(decodeAddress('0100007F'), '127.0.0.1');
    assert.equal(decodeAddress('00000000'), '0.0.0.0');
    assert.equal(decodeAddress('00000000000000000000000001000000'), '::1');
    assert.equal(decodeAddress('00000000000000000000000000000000'), '::');
    assert.equal(decodeAddress('0000000000000000FFFF00000100007F'), '::ffff:127.0.0.1');
    assert.equal(decodeAddress('B80D0120000000000000000001000000'), '2001:db8::1');
  });

  test('keeps LISTEN rows only, by socket inode', () => {
    const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0
   1: 0100007F:A1B2 0100007F:0BB8 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0 20 4 30 10 -1
`;
    assert.deepEqual([...parseProcNet(table)], [['4242', { address: '127.0.0.1', port: 3000, uid: 1000 }]]);
  });

  describe('the listeners of this very process', () => {
    const servers: net.Server[] = [];
    const listen = (host: string) =>
      new Promise<number>((resolve) => {
        const server = net
          .createServer()
          .listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
        servers.push(server);
      });
    let v4 = 0;
    let v6 = 0;
    before(async () => {
      [v4, v6] = await Promise.all([listen('127.0.0.1'), listen('::1')]);
    });
    after(() => servers.forEach((s) => s.close()));

    test('are found by port alone with the user and process that hold them', async () => {
      const holder = { user: os.userInfo().username, pid: process.pid, command: 'node' };
      assert.deepEqual(await portHolder('::1', v6), { address: '::1', port: v6, ...holder });
      assert.deepEqual(await portHolder('127.0.0.1', v4), { address: '127.0.0.1', port: v4, ...holder });
      assert.equal(await portHolder('::1', v4), null, 'another family of the same port is free');
    });

    test('are found with their address, pid and command', async () => {
      const found = await listeners([process.pid]);
      assert.ok(found, 'this system can tell');
      const mine = [v4, v6].map((port) => found.filter((l) => l.port === port));
      assert.deepEqual(mine, [
        [{ address: '127.0.0.1', port: v4, pid: process.pid, command: 'node' }],
        [{ address: '::1', port: v6, pid: process.pid, command: 'node' }],
      ]);
    });
  });
});

test('reads lsof -F pcnt output, wildcards by family', () => {
  const out =
    'p123\ncnode\nf21\ntIPv4\nn127.0.0.1:3000\nf22\ntIPv6\nn[::1]:3001\np124\ncpython3\nf3\ntIPv6\nn*:5000\n';
  assert.deepEqual(parseLsof(out), [
    { address: '127.0.0.1', port: 3000, pid: 123, command: 'node' },
    { address: '::1', port: 3001, pid: 123, command: 'node' },
    { address: '::', port: 5000, pid: 124, command: 'python3' },
  ]);
});

test('connects to a wildcard on the loopback address of its family, and writes IPv6 in brackets', () => {
  assert.deepEqual(['0.0.0.0', '::', '::1', '127.0.0.1', '::ffff:127.0.0.1'].map(connectAddress), [
    '127.0.0.1',
    '::1',
    '::1',
    '127.0.0.1',
    '127.0.0.1',
  ]);
  assert.equal(formatListener({ address: '::1', port: 3000 }), '[::1]:3000');
  assert.equal(formatListener({ address: '0.0.0.0', port: 3000 }), '0.0.0.0:3000');
});

test('a foreign listener on $PORT is named with what is known of it', () => {
  const at = { address: '::1', port: 41234, user: 'nobody' };
  assert.equal(
    foreignPortMessage({ ...at, pid: 77, command: 'nc' }),
    "another process (pid 77 `nc`, user nobody) listens on [::1]:41234, the worker's $PORT: Baton serves only a socket the worker's own processes listen on. Stop that process, then deploy again",
  );
  assert.match(
    foreignPortMessage({ ...at, pid: null, command: null }),
    /^another process \(user nobody\) listens/,
  );
});

describe('wrongPortMessage', () => {
  const at = (command: string, address = '127.0.0.1', port = 3000) => ({ address, port, pid: 1, command });

  test('names the port and $PORT, and the fix in the language of the listening process', () => {
    assert.equal(
      wrongPortMessage([at('node')], 41234, 'npm start'),
      'the app listens on 127.0.0.1:3000, not on $PORT (41234). Make it use the PORT environment variable, e.g. app.listen(process.env.PORT)',
    );
    assert.match(
      wrongPortMessage([at('python3', '::', 5000)], 1, 'python3 app.py'),
      /on \[::\]:5000, .*int\(os\.environ\["PORT"\]\)/,
    );
    assert.match(wrongPortMessage([at('flask')], 1, 'flask run'), /flask --app app run --port \$PORT/);
    assert.match(wrongPortMessage([at('puma 6.4.2 (tc')], 1, 'bin/rails s'), /bin\/rails server -p \$PORT/);
  });

  test('a compiled app is told by its start command', () => {
    assert.match(wrongPortMessage([at('hello', '::', 8080)], 1, 'go run .'), /os\.Getenv\("PORT"\)/);
    assert.match(wrongPortMessage([at('hello')], 1, './hello'), /e\.g\. pass \$PORT in "start"/);
  });

  test('lists every port it listens on, once', () => {
    const message = wrongPortMessage([at('node'), at('node', '127.0.0.1', 3001), at('node')], 9, 'node s.js');
    assert.match(message, /^the app listens on 127\.0\.0\.1:3000, 127\.0\.0\.1:3001, not on \$PORT \(9\)/);
  });
});
