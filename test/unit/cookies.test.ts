// The gateway's cookies and logout detection (README, "How it works").
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clearsCookie, pinCookie, readCookie, sidCookie } from '../../gateway/http/cookies';

describe('readCookie', () => {
  test('finds a cookie anywhere in the header', () => {
    assert.equal(readCookie('baton_sid=abc', 'baton_sid'), 'abc');
    assert.equal(readCookie('a=1; baton_sid=abc; b=2', 'baton_sid'), 'abc');
    assert.equal(readCookie('a=1;baton_sid=abc', 'baton_sid'), 'abc');
    assert.equal(readCookie('baton_sid=', 'baton_sid'), '');
  });

  test('does not match a cookie whose name only ends or starts with the name', () => {
    assert.equal(readCookie('xbaton_sid=evil; baton_sid=good', 'baton_sid'), 'good');
    assert.equal(readCookie('baton_sid2=evil', 'baton_sid'), null);
    assert.equal(readCookie('a=baton_sid=evil', 'baton_sid'), null);
  });

  test('null when absent', () => {
    assert.equal(readCookie(undefined, 'baton_sid'), null);
    assert.equal(readCookie('', 'baton_sid'), null);
    assert.equal(readCookie('other=1', 'baton_sid'), null);
  });
});

test('the gateway cookies are host-only, HttpOnly and SameSite=Lax', () => {
  assert.equal(sidCookie('v'), 'baton_sid=v; Path=/; HttpOnly; SameSite=Lax');
  assert.equal(pinCookie(3), 'baton_gen=3; Path=/; HttpOnly; SameSite=Lax');
  assert.equal(pinCookie(null), 'baton_gen=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
  for (const cookie of [sidCookie('v'), pinCookie(3)])
    assert.doesNotMatch(cookie, /Domain=|Expires=|Max-Age/i);
});

describe('clearsCookie', () => {
  const NOW = Date.parse('2025-06-01T12:00:00Z');

  test('Max-Age=0 or negative is a logout', () => {
    assert.equal(clearsCookie(['connect.sid=; Path=/; Max-Age=0'], 'connect.sid', NOW), true);
    assert.equal(clearsCookie(['connect.sid=x; max-age=-1; Path=/'], 'connect.sid', NOW), true);
  });

  test('an Expires in the past is a logout (what Express res.clearCookie sends)', () => {
    assert.equal(
      clearsCookie(['connect.sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT'], 'connect.sid', NOW),
      true,
    );
    assert.equal(clearsCookie(['pysid=; expires=Sat, 31 May 2025 12:00:00 GMT'], 'pysid', NOW), true);
  });

  test('setting or refreshing the cookie is not', () => {
    assert.equal(clearsCookie(['connect.sid=s%3Aabc; Path=/; HttpOnly'], 'connect.sid', NOW), false);
    assert.equal(clearsCookie(['connect.sid=s%3Aabc; Max-Age=3600'], 'connect.sid', NOW), false);
    assert.equal(
      clearsCookie(['connect.sid=s%3Aabc; Expires=Sun, 01 Jun 2025 13:00:00 GMT'], 'connect.sid', NOW),
      false,
    );
    assert.equal(clearsCookie(['connect.sid=x; Expires=not a date'], 'connect.sid', NOW), false);
  });

  test('clearing another cookie is not', () => {
    assert.equal(clearsCookie(['flash=; Max-Age=0', 'connect.sid2=; Max-Age=0'], 'connect.sid', NOW), false);
    assert.equal(clearsCookie(['xconnect.sid=; Max-Age=0'], 'connect.sid', NOW), false);
  });

  test('finds the clearing header among several', () => {
    assert.equal(
      clearsCookie(['flash=hi', 'connect.sid=; Max-Age=0', 'theme=dark'], 'connect.sid', NOW),
      true,
    );
  });

  test('no Set-Cookie, no logout', () => {
    assert.equal(clearsCookie(undefined, 'connect.sid', NOW), false);
    assert.equal(clearsCookie([], 'connect.sid', NOW), false);
  });
});
