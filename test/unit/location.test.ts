// Location rewriting that keeps a redirected tab on its generation (README, "How it works").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rewriteLocation } from '../../gateway/http/location';

const TAB = 'g3.localhost:8080';
const rewrite = (location: string) => rewriteLocation(location, TAB, 8080, 41234);

test('an absolute URL on the bare gateway host gets the tab host, path, query and hash kept', () => {
  assert.equal(rewrite('http://localhost:8080/cart?x=1#top'), 'http://g3.localhost:8080/cart?x=1#top');
  assert.equal(rewrite('http://127.0.0.1:8080/'), 'http://g3.localhost:8080/');
  assert.equal(rewrite('http://[::1]:8080/a'), 'http://g3.localhost:8080/a');
  assert.equal(rewrite('HTTP://LOCALHOST:8080/a'), 'http://g3.localhost:8080/a');
});

test("an absolute URL on the worker's own address gets the tab host", () => {
  assert.equal(rewrite('http://127.0.0.1:41234/login?next=%2F'), 'http://g3.localhost:8080/login?next=%2F');
  assert.equal(rewrite('http://localhost:41234/'), 'http://g3.localhost:8080/');
});

test('relative locations are left alone (the browser resolves them on the tab host)', () => {
  for (const location of ['/cart', 'cart', '?page=2', '//localhost:8080/x', '#top'])
    assert.equal(rewrite(location), location);
});

test('other hosts, other ports and https are left alone', () => {
  for (const location of [
    'https://example.com/',
    'http://example.com:8080/',
    'http://localhost:9999/',
    'http://localhost/',
    'http://g1.localhost:8080/',
    'https://localhost:8080/',
  ]) {
    assert.equal(rewrite(location), location);
  }
});

test('a malformed URL is left alone', () => {
  assert.equal(rewrite('http://[bad/'), 'http://[bad/');
});

test('the port comes from the scheme when the URL has none', () => {
  assert.equal(rewriteLocation('http://localhost/x', 'g1.localhost', 80, null), 'http://g1.localhost/x');
});
