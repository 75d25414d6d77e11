import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { patchCsp } from '../../gateway/proxy/csp';

const WS = 'ws://g2.localhost:8080/__baton/tab';
const N = "'nonce-abc123'";
const URL_SRC = 'http://g2.localhost:8080/__baton/client.js';
const patch = (policy: string, socket = WS) => patchCsp(policy, 'abc123', socket);

describe('patchCsp: scripts', () => {
  test('adds the nonce to script-src', () => {
    assert.equal(
      patch("script-src 'self' https://cdn.example"),
      `script-src 'self' https://cdn.example ${N}`,
    );
  });

  test('derives script-src and connect-src from default-src, leaving default-src as it was', () => {
    assert.equal(
      patch("default-src 'self'; img-src *"),
      `default-src 'self'; img-src *; script-src 'self' ${N}; connect-src 'self' ${WS}`,
    );
  });

  test("replaces 'none'", () => {
    assert.equal(patch("default-src 'none'"), `default-src 'none'; script-src ${N}; connect-src ${WS}`);
    assert.equal(patch("script-src 'NONE'"), `script-src ${N}`);
  });

  test('patches script-src-elem as well, and derives no script-src next to it', () => {
    assert.equal(
      patch("script-src-elem 'self'; script-src 'self'"),
      `script-src-elem 'self' ${N}; script-src 'self' ${N}`,
    );
    assert.equal(
      patch("default-src 'self'; script-src-elem 'self'"),
      `default-src 'self'; script-src-elem 'self' ${N}; connect-src 'self' ${WS}`,
    );
  });

  test("'unsafe-inline' alone: the exact script URL instead of a nonce, which would disable it", () => {
    assert.equal(patch("script-src 'self' 'unsafe-inline'"), `script-src 'self' 'unsafe-inline' ${URL_SRC}`);
    assert.equal(
      patch("default-src 'unsafe-inline' 'unsafe-eval'"),
      `default-src 'unsafe-inline' 'unsafe-eval'; script-src 'unsafe-inline' 'unsafe-eval' ${URL_SRC}; ` +
        `connect-src 'unsafe-inline' 'unsafe-eval' ${WS}`,
    );
    assert.equal(
      patch("script-src 'unsafe-inline'", 'wss://app.example.com/__baton/tab'),
      `script-src 'unsafe-inline' https://app.example.com/__baton/client.js`,
    );
  });

  test("'unsafe-inline' already inactive (nonce, hash, 'strict-dynamic'): the nonce", () => {
    for (const list of [
      "'unsafe-inline' 'nonce-other'",
      "'unsafe-inline' 'sha256-AAAA'",
      "'unsafe-inline' 'strict-dynamic' https:",
    ]) {
      assert.equal(patch(`script-src ${list}`), `script-src ${list} ${N}`, list);
    }
  });

  test('directive names are case-insensitive; a repeated directive is ignored, as browsers do', () => {
    assert.equal(patch("Script-Src 'self'; script-src 'none'"), `script-src 'self' ${N}; script-src 'none'`);
  });
});

describe('patchCsp: the WebSocket', () => {
  test('adds the exact socket URL to connect-src', () => {
    assert.equal(
      patch("connect-src 'self' https://api.example"),
      `connect-src 'self' https://api.example ${WS}`,
    );
    assert.equal(patch("connect-src 'none'"), `connect-src ${WS}`);
  });
});

describe('patchCsp: what it leaves alone', () => {
  test('a policy without script or connect restrictions', () => {
    const policy = "frame-ancestors 'none'; img-src * data:; style-src 'self' 'unsafe-inline'";
    assert.equal(patch(policy), policy);
    assert.equal(
      patch('upgrade-insecure-requests; report-uri /csp;'),
      'upgrade-insecure-requests; report-uri /csp',
    );
  });

  test('adds nothing twice', () => {
    assert.equal(patch(`script-src ${N}; connect-src ${WS}`), `script-src ${N}; connect-src ${WS}`);
  });
});

describe('patchCsp: several policies', () => {
  test('patches each comma-separated policy on its own', () => {
    assert.equal(
      patch("script-src 'self', default-src 'none'; img-src 'self', img-src *"),
      `script-src 'self' ${N}, default-src 'none'; img-src 'self'; script-src ${N}; connect-src ${WS}, img-src *`,
    );
  });

  test('refuses a socket URL that is not ws:// or wss://', () => {
    assert.throws(
      () => patch("script-src 'self'", 'http://localhost/__baton/tab'),
      /must be a ws:\/\/ or wss:\/\//,
    );
  });
});
