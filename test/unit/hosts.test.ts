// Host header parsing and the DNS-rebinding allow-list (README, "Security").
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generationHost, isAllowedHost, isForwarded, parseHost } from '../../gateway/http/hosts';

describe('parseHost', () => {
  test('bare hosts, with and without a port', () => {
    assert.deepEqual(parseHost('localhost:8080'), {
      hostname: 'localhost',
      port: '8080',
      generation: null,
      bare: true,
    });
    assert.deepEqual(parseHost('127.0.0.1'), {
      hostname: '127.0.0.1',
      port: null,
      generation: null,
      bare: true,
    });
    assert.deepEqual(parseHost('[::1]:8080'), {
      hostname: '[::1]',
      port: '8080',
      generation: null,
      bare: true,
    });
  });

  test('gN.localhost carries the generation', () => {
    assert.deepEqual(parseHost('g12.localhost:8080'), {
      hostname: 'g12.localhost',
      port: '8080',
      generation: 12,
      bare: false,
    });
    assert.equal(parseHost('G3.LocalHost:8080')!.generation, 3, 'case-insensitive');
    assert.equal(parseHost('g3.localhost.:8080')!.generation, 3, 'a trailing dot is the same name');
  });

  test('names that only look like a generation host are not one', () => {
    for (const host of [
      'g0.localhost',
      'g01.localhost',
      'gx.localhost',
      'g1.g2.localhost',
      'app.localhost',
      'g1.localhost.evil.com',
    ]) {
      assert.equal(parseHost(host)?.generation, null, host);
    }
    assert.equal(parseHost('g1234567890.localhost')!.generation, null, 'too many digits');
  });

  test('other names parse, not bare', () => {
    assert.deepEqual(parseHost('Dev.Example.com'), {
      hostname: 'dev.example.com',
      port: null,
      generation: null,
      bare: false,
    });
  });

  test('a missing or malformed Host is null', () => {
    const bad = [
      undefined,
      '',
      'exa mple.com',
      'localhost:',
      'localhost:123456',
      'localhost:80:80',
      'user@localhost',
      'localhost/path',
      '::1',
      '[::1',
      '[zz::1]',
      'local\u0000host',
      'lo\u00e7alhost',
      'a'.repeat(256),
    ];
    for (const header of bad) assert.equal(parseHost(header), null, JSON.stringify(header));
  });
});

describe('isAllowedHost', () => {
  test('localhost, *.localhost and the loopback literals are always allowed', () => {
    for (const host of ['localhost', 'g1.localhost', 'anything.localhost', '127.0.0.1', '[::1]']) {
      assert.equal(isAllowedHost(host, []), true, host);
    }
  });

  test('any other name is refused unless configured', () => {
    for (const host of [
      'example.com',
      'localhost.example.com',
      'evil-localhost',
      '127.0.0.2',
      '0.0.0.0',
      '192.168.1.10',
      '[::2]',
    ]) {
      assert.equal(isAllowedHost(host, []), false, host);
    }
  });

  test('configured names match exactly (case-insensitive); a leading dot allows subdomains', () => {
    const allowed = ['Dev.Example.com', '.tunnel.test'];
    assert.equal(isAllowedHost('dev.example.com', allowed), true);
    assert.equal(isAllowedHost('x.dev.example.com', allowed), false);
    assert.equal(isAllowedHost('tunnel.test', allowed), true);
    assert.equal(isAllowedHost('abc.tunnel.test', allowed), true);
    assert.equal(isAllowedHost('eviltunnel.test', allowed), false);
  });
});

test('generationHost', () => {
  assert.equal(generationHost(4, 8080), 'g4.localhost:8080');
  assert.equal(generationHost(4, '3000'), 'g4.localhost:3000');
  assert.equal(generationHost(4, null), 'g4.localhost');
});

describe('isForwarded', () => {
  const host = (header: string) => parseHost(header)!;
  test("the gateway's own port is direct access, any other port came through a proxy", () => {
    assert.equal(isForwarded(host('localhost:8080'), 8080, {}), false);
    assert.equal(isForwarded(host('g2.localhost:8080'), 8080, {}), false);
    assert.equal(isForwarded(host('127.0.0.1:8443'), 8080, {}), true);
    assert.equal(isForwarded(host('localhost'), 8080, {}), true);
    assert.equal(isForwarded(host('localhost'), 80, {}), false);
  });

  test('a proxy that keeps the port but says it forwarded (X-Forwarded-Host/-Prefix) counts', () => {
    assert.equal(isForwarded(host('localhost:8080'), 8080, { 'x-forwarded-prefix': '/proxy/8080' }), true);
    assert.equal(isForwarded(host('localhost:8080'), 8080, { 'x-forwarded-host': 'example.dev' }), true);
  });
});
