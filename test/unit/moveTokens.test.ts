// Carrying a tab's cookies to another generation's host (see gateway/http/move.ts): which cookies, with which
// attributes, and the single-use, short-lived tokens that hold them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { carriedCookies, MoveTokens, TOKEN_TTL_MS } from '../../gateway/http/moveTokens';
import { sameOriginPath } from '../../gateway/http/safePath';

describe('carriedCookies', () => {
  test('the same names and values, host-only; those the page cannot read stay HttpOnly', () => {
    assert.deepEqual(carriedCookies('sid=s%3Aabc.def; theme=dark', new Set(['theme'])), [
      'sid=s%3Aabc.def; Path=/; HttpOnly',
      'theme=dark; Path=/',
    ]);
    for (const line of carriedCookies('a=1; b=2', new Set())) assert.doesNotMatch(line, /Domain|Max-Age/i);
  });

  test("the gateway's own cookies stay behind: each host has its own session and pin", () => {
    assert.deepEqual(carriedCookies('baton_sid=x; baton_gen=1; app=v', new Set()), [
      'app=v; Path=/; HttpOnly',
    ]);
  });

  test('the first of two same-named cookies wins; nameless or malformed parts are skipped', () => {
    assert.deepEqual(carriedCookies('a=deep; a=root; =x; junk; b c=1; ok=', new Set(['a', 'ok'])), [
      'a=deep; Path=/',
      'ok=; Path=/',
    ]);
    assert.deepEqual(carriedCookies(undefined, new Set()), []);
  });

  test('prefixed cookies keep the Secure flag their prefix requires', () => {
    assert.deepEqual(carriedCookies('__Host-s=1; __Secure-t=2', new Set()), [
      '__Host-s=1; Path=/; HttpOnly; Secure',
      '__Secure-t=2; Path=/; HttpOnly; Secure',
    ]);
  });
});

describe('MoveTokens', () => {
  const ticket = { cookies: ['a=1; Path=/'], origin: 'http://g1.localhost:8080', to: 2 };

  test('a token is unguessable, redeemed once, and refused after that', () => {
    const tokens = new MoveTokens();
    const token = tokens.issue(ticket, 1000)!;
    assert.match(token, /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(tokens.issue(ticket, 1000), token);
    assert.deepEqual(tokens.redeem(token, 1001), {
      ok: true,
      ticket: { ...ticket, expiresAt: 1000 + TOKEN_TTL_MS },
    });
    assert.deepEqual(tokens.redeem(token, 1002), {
      ok: false,
      why: 'this move link was already used or is unknown',
    });
    assert.equal(tokens.redeem('made-up', 1002).ok, false);
    assert.equal(tokens.redeem(null, 1002).ok, false);
  });

  test('a token expires within seconds, and an expired one is used up too', () => {
    const tokens = new MoveTokens();
    assert.ok(TOKEN_TTL_MS <= 10_000);
    const token = tokens.issue(ticket, 0)!;
    assert.deepEqual(tokens.redeem(token, TOKEN_TTL_MS + 1), {
      ok: false,
      why: 'this move link has expired',
    });
    assert.equal(tokens.redeem(token, 0).ok, false);
  });

  test('outstanding tokens are bounded; expired ones make room', () => {
    const tokens = new MoveTokens();
    let issued = 0;
    while (tokens.issue(ticket, 0) !== null) issued++;
    assert.ok(issued >= 16 && issued <= 1024, `${issued}`);
    assert.notEqual(tokens.issue(ticket, TOKEN_TTL_MS + 1), null);
  });
});

describe('sameOriginPath', () => {
  test('paths on this site, with query and fragment', () => {
    for (const p of ['/', '/cart?x=1&y=%2F', '/a/b#top', '/%E2%9C%93']) assert.equal(sameOriginPath(p), p);
  });

  test('anything that could leave the site or split a header is refused', () => {
    for (const p of ['', 'cart', 'http://evil.example/', '//evil.example', '/\\evil.example', '/a\\b'])
      assert.equal(sameOriginPath(p), null, p);
    for (const p of ['/\r\nSet-Cookie: x=1', '/\t/evil.example', '/a\u0000', '/a\u007f'])
      assert.equal(sameOriginPath(p), null, JSON.stringify(p));
    assert.equal(sameOriginPath('/' + 'a'.repeat(9000)), null);
    assert.equal(sameOriginPath(null), null);
  });
});
