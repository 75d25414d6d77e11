// The bounded output buffer of a generation (README, "How it works").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RingBuffer } from '../../gateway/lifecycle/ringBuffer';

test('keeps everything while under the limit', () => {
  const buffer = new RingBuffer(100);
  buffer.push('one\n');
  buffer.push('two\n');
  assert.equal(buffer.text(), 'one\ntwo\n');
});

test('drops the oldest output beyond the limit and says so', () => {
  const buffer = new RingBuffer(1000);
  for (let i = 0; i < 500; i++) buffer.push(`line ${String(i).padStart(3, '0')}\n`);
  const text = buffer.text();
  assert.ok(text.startsWith('[… older output dropped …]\n'));
  const kept = text.slice(text.indexOf('\n') + 1);
  assert.ok(kept.length <= 1000, `${kept.length} characters kept`);
  assert.ok(kept.length > 900, 'keeps close to the limit');
  assert.ok(kept.endsWith('line 499\n'));
  assert.ok(!kept.includes('line 000'));
});

test('a single push larger than the limit keeps only its newest part', () => {
  const buffer = new RingBuffer(1000);
  buffer.push('old\n');
  buffer.push(`${'x'.repeat(5000)}\nthe end\n`);
  const text = buffer.text();
  assert.ok(text.startsWith('[… older output dropped …]\n'));
  assert.ok(text.length <= 1000 + 100, `${text.length} characters kept`);
  assert.ok(text.endsWith('\nthe end\n'));
});

test('tail gives the last lines without a trailing empty one', () => {
  const buffer = new RingBuffer();
  buffer.push('a\nb\n');
  buffer.push('c\nd');
  buffer.push('e\n');
  assert.equal(buffer.tail(2), 'c\nde');
  assert.equal(buffer.tail(10), 'a\nb\nc\nde');
  assert.equal(new RingBuffer().tail(5), '');
});
