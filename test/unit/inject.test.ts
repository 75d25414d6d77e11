import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable, Writable, type Duplex } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { createInjection, isInjectable } from '../../gateway/proxy/inject';

const SOCKET = 'ws://g2.localhost:8080/__baton/tab';
const TAG = '<script src="/__baton/client.js"></script>';
const HTML = { 'content-type': 'text/html; charset=utf-8' };

/** Writes `chunks` one by one into `body` and returns everything it emitted. */
async function run(body: Duplex, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(chunks), body, sink);
  return Buffer.concat(out);
}

async function inject(chunks: (string | Buffer)[]): Promise<string> {
  const { body } = createInjection(HTML, SOCKET);
  return (
    await run(
      body,
      chunks.map((c) => Buffer.from(c)),
    )
  ).toString();
}

describe('isInjectable', () => {
  const ok = (status: number, headers: IncomingHttpHeaders, method = 'GET') =>
    isInjectable(method, status, headers);

  test('HTML documents with a 2xx status and any method but HEAD', () => {
    assert.equal(ok(200, { 'content-type': 'text/html' }), true);
    assert.equal(ok(201, { 'content-type': 'TEXT/HTML; Charset=ISO-8859-1' }, 'POST'), true);
    assert.equal(ok(200, { 'content-type': 'text/html' }, 'HEAD'), false);
  });

  test('statuses without a whole body, and redirects', () => {
    for (const status of [101, 204, 205, 206, 301, 304]) {
      assert.equal(ok(status, { 'content-type': 'text/html' }), false, String(status));
    }
  });

  test("the app's error pages: a tab showing one is still an open tab", () => {
    for (const status of [404, 500])
      assert.equal(ok(status, { 'content-type': 'text/html' }), true, String(status));
  });

  test('other types, a missing type, downloads, UTF-16', () => {
    for (const type of ['application/json', 'text/plain', 'application/xhtml+xml', 'text/htmlx']) {
      assert.equal(ok(200, { 'content-type': type }), false, type);
    }
    assert.equal(ok(200, {}), false);
    assert.equal(ok(200, { ...HTML, 'content-disposition': 'attachment; filename="a.html"' }), false);
    assert.equal(ok(200, { ...HTML, 'content-disposition': 'inline' }), true);
    assert.equal(ok(200, { 'content-type': 'text/html; charset=UTF-16LE' }), false);
  });

  test('encodings we can decode and encode again', () => {
    for (const encoding of ['identity', 'gzip', 'x-gzip', 'deflate', 'br', 'GZIP']) {
      assert.equal(ok(200, { ...HTML, 'content-encoding': encoding }), true, encoding);
    }
    for (const encoding of ['compress', 'zstd', 'gzip, br']) {
      assert.equal(ok(200, { ...HTML, 'content-encoding': encoding }), false, encoding);
    }
  });
});

describe('createInjection: where the tag goes', () => {
  test('right after <head>, with attributes, a doctype, comments and <html> before it', async () => {
    const before = '\n<!DOCTYPE html>\n<!-- <head> in a comment -->\n<html lang="en">\n<head data-x="a>b">';
    assert.equal(await inject([before + '<title>t</title>']), before + TAG + '<title>t</title>');
  });

  test('uppercase tags', async () => {
    const before = '<!DOCTYPE HTML><HTML><HEAD>';
    assert.equal(
      await inject([before + '<TITLE>x</TITLE></HEAD>']),
      before + TAG + '<TITLE>x</TITLE></HEAD>',
    );
  });

  test('a <head> split at every offset, and one byte at a time', async () => {
    const page = '<!doctype html><html><head profile="x"><meta charset="utf-8"></head><body>é</body></html>';
    const expected = page.replace('<head profile="x">', '$&' + TAG);
    const bytes = Buffer.from(page);
    for (let i = 0; i <= bytes.length; i++) {
      assert.equal(await inject([bytes.subarray(0, i), bytes.subarray(i)]), expected, `split at ${i}`);
    }
    assert.equal(await inject([...bytes].map((b) => Buffer.from([b]))), expected);
  });

  test('after <body> when the head is omitted', async () => {
    assert.equal(await inject(['<html><BODY class="a">hi']), `<html><BODY class="a">${TAG}hi`);
  });

  test('<header> is not <head>: before the first content, after the doctype', async () => {
    assert.equal(
      await inject(['<!doctype html><header>x</header>']),
      `<!doctype html>${TAG}<header>x</header>`,
    );
  });

  test('no head and no body', async () => {
    assert.equal(await inject(['<!doctype html>', 'hello']), `<!doctype html>${TAG}hello`);
    assert.equal(await inject(['plain text']), `${TAG}plain text`);
    assert.equal(await inject(['<title>x</title>']), `${TAG}<title>x</title>`);
    assert.equal(await inject([]), TAG);
    assert.equal(await inject(['<!doctype html><html>']), `<!doctype html><html>${TAG}`);
  });

  test('a UTF-8 byte order mark stays first', async () => {
    assert.equal(await inject(['\ufeff<p>x']), `\ufeff${TAG}<p>x`);
  });

  test('holds back at most a bounded prefix: a huge leading comment is passed on early', async () => {
    const { body } = createInjection(HTML, SOCKET);
    let first: string | undefined;
    body.once('data', (c: Buffer) => (first = c.toString()));
    body.write('<!doctype html><!--');
    let written = 0;
    while (first === undefined && written < 64 * 1024) {
      body.write(Buffer.alloc(1024, 'x'));
      written += 1024;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(written <= 16 * 1024, `held back ${written} bytes`);
    assert.ok(first?.startsWith(`<!doctype html>${TAG}<!--xxx`), first?.slice(0, 80));
    body.end();
  });

  test('a large body streams through without being collected', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const chunks = 2048; // 128 MiB
    async function* source() {
      yield Buffer.from('<html><head>');
      for (let i = 0; i < chunks; i++) yield chunk; // the same buffer: only the stream itself could grow memory
    }
    const { body } = createInjection(HTML, SOCKET);
    let bytes = 0;
    let peak = 0;
    const before = process.memoryUsage().rss;
    await pipeline(
      source(),
      body,
      new Writable({
        write(c: Buffer, _e, callback) {
          bytes += c.length;
          peak = Math.max(peak, process.memoryUsage().rss - before);
          callback();
        },
      }),
    );
    assert.equal(bytes, '<html><head>'.length + TAG.length + chunks * chunk.length);
    assert.ok(peak < 32 * 1024 * 1024, `memory grew by ${peak} bytes`);
  });
});

describe('createInjection: headers', () => {
  test('drops length and validators, keeps the rest', () => {
    const { headers } = createInjection(
      {
        ...HTML,
        'content-length': '123',
        etag: '"abc"',
        'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT',
        'accept-ranges': 'bytes',
        'content-encoding': 'gzip',
        'set-cookie': ['a=1'],
        'cache-control': 'no-cache',
      },
      SOCKET,
    );
    assert.deepEqual(headers, {
      ...HTML,
      'content-encoding': 'gzip',
      'set-cookie': ['a=1'],
      'cache-control': 'no-cache',
    });
  });

  test('patches both CSP headers and puts the same nonce on the tag', async () => {
    const { headers, body } = createInjection(
      {
        ...HTML,
        'content-security-policy': "default-src 'self'",
        'content-security-policy-report-only': ["script-src 'none'", 'img-src *'],
      },
      SOCKET,
    );
    const html = (await run(body, [Buffer.from('<head>')])).toString();
    const nonce = /^<head><script src="\/__baton\/client\.js" nonce="([A-Za-z0-9+/=]+)"><\/script>$/.exec(
      html,
    )?.[1];
    assert.ok(nonce, html);
    assert.equal(
      headers['content-security-policy'],
      `default-src 'self'; script-src 'self' 'nonce-${nonce}'; connect-src 'self' ${SOCKET}`,
    );
    assert.equal(headers['content-security-policy-report-only'], `script-src 'nonce-${nonce}', img-src *`);
  });

  test('no nonce attribute when no policy needs one', async () => {
    for (const csp of [undefined, "img-src 'self'", "script-src 'self' 'unsafe-inline'"]) {
      const { body } = createInjection(csp ? { ...HTML, 'content-security-policy': csp } : HTML, SOCKET);
      assert.equal((await run(body, [Buffer.from('<head>')])).toString(), '<head>' + TAG, String(csp));
    }
  });

  test('an unsupported encoding is refused with a clear message', () => {
    assert.throws(
      () => createInjection({ ...HTML, 'content-encoding': 'zstd' }, SOCKET),
      /cannot inject into content-encoding zstd/,
    );
  });
});

describe('createInjection: compressed bodies', () => {
  const page =
    '<!doctype html><html><head><title>t</title></head><body>' + 'x'.repeat(100_000) + '</body></html>';
  const expected = page.replace('<head>', '<head>' + TAG);
  const codecs = {
    gzip: { compress: zlib.gzipSync, decompress: zlib.gunzipSync, stream: () => zlib.createGzip() },
    deflate: { compress: zlib.deflateSync, decompress: zlib.inflateSync, stream: () => zlib.createDeflate() },
    br: {
      compress: zlib.brotliCompressSync,
      decompress: zlib.brotliDecompressSync,
      stream: () => zlib.createBrotliCompress(),
    },
  };

  for (const [encoding, codec] of Object.entries(codecs)) {
    test(`${encoding}: decompress, inject, compress again (split at every 7th byte)`, async () => {
      const compressed = codec.compress(page);
      const chunks: Buffer[] = [];
      for (let i = 0; i < compressed.length; i += 7) chunks.push(compressed.subarray(i, i + 7));
      const { headers, body } = createInjection({ ...HTML, 'content-encoding': encoding }, SOCKET);
      assert.equal(headers['content-encoding'], encoding);
      assert.equal(codec.decompress(await run(body, chunks)).toString(), expected);
    });

    test(`${encoding}: a streamed page streams: the head arrives before the body ends`, async () => {
      const { body } = createInjection({ ...HTML, 'content-encoding': encoding }, SOCKET);
      const received: Buffer[] = [];
      body.on('data', (c: Buffer) => received.push(c));
      // The worker flushes its head, then keeps the response open (think server-side rendering in progress).
      const worker = codec.stream();
      worker.pipe(body);
      worker.write('<!doctype html><html><head><title>streaming</title>');
      await new Promise<void>((resolve) => worker.flush(() => resolve()));
      const deadline = Date.now() + 2000;
      let text = '';
      while (!text.includes('streaming') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        // A flushed prefix of a compressed stream decodes with a sync flush on our side.
        const decoded =
          encoding === 'br'
            ? zlib.brotliDecompressSync(Buffer.concat(received), {
                finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
              })
            : (encoding === 'gzip' ? zlib.gunzipSync : zlib.inflateSync)(Buffer.concat(received), {
                finishFlush: zlib.constants.Z_SYNC_FLUSH,
              });
        text = decoded.toString();
      }
      assert.equal(text, `<!doctype html><html><head>${TAG}<title>streaming</title>`);
      worker.end('</head></html>');
      await finished(body);
    });
  }

  test('a corrupt compressed body is an error on the stream', async () => {
    const { body } = createInjection({ ...HTML, 'content-encoding': 'gzip' }, SOCKET);
    await assert.rejects(run(body, [Buffer.from('not gzip at all')]), { code: 'Z_DATA_ERROR' });
  });
});
