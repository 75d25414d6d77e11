// Streams the tab client's <script> tag into HTML documents on their way from a worker to the browser
// (README, "How it works"): decompress if needed, insert, compress again.
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Duplex, pipeline, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { patchCsp } from './csp';

const CLIENT_SRC = '/__baton/client.js';
const CSP_HEADERS = ['content-security-policy', 'content-security-policy-report-only'];
/** The most we hold back while looking for the insertion point; the leading doctype/comments/<html>/<head>
 *  of a real page are far shorter. */
const SEARCH_LIMIT = 16 * 1024;

/** True when this response is an HTML document to inject into: 2xx (not 204/205/206), 4xx or 5xx — a tab on
 *  the app's error page is still an open tab — content-type text/html, no attachment content-disposition, a
 *  content-encoding we can handle (identity/gzip/deflate/br). */
export function isInjectable(method: string, statusCode: number, headers: IncomingHttpHeaders): boolean {
  if (method.toUpperCase() === 'HEAD') return false;
  // 1xx and 3xx are not shown as pages, 204/205 carry no body, 206 is a byte range of the original (our
  // insertion would corrupt it), 304 has no body.
  if (
    statusCode < 200 ||
    (statusCode >= 300 && statusCode < 400) ||
    statusCode === 204 ||
    statusCode === 205 ||
    statusCode === 206
  ) {
    return false;
  }
  const [type, ...params] = (headers['content-type'] ?? '').split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'text/html') return false;
  // Our ASCII tag would be garbage inside a UTF-16/32 document.
  if (params.some((p) => /^charset\s*=\s*"?utf-?(16|32)/.test(p))) return false;
  if (/^\s*attachment\b/i.test(headers['content-disposition'] ?? '')) return false;
  return codecFor(headers['content-encoding']) !== undefined;
}

/** New response headers (content-length and validators dropped, content-encoding kept and the body
 *  re-compressed, CSP patched for exactly our script and WebSocket) and the transform the body is piped through.
 *  Re-compressing in the worker's own encoding keeps a forwarded remote tab as cheap as before, and that
 *  encoding is by construction one the browser accepted. */
export function createInjection(
  headers: IncomingHttpHeaders,
  tabSocketUrl: string,
): { headers: IncomingHttpHeaders; body: Duplex } {
  const codec = codecFor(headers['content-encoding']);
  if (!codec) throw new Error(`cannot inject into content-encoding ${headers['content-encoding']}`);
  const nonce = randomBytes(16).toString('base64');
  const out: IncomingHttpHeaders = { ...headers };
  // The body changes length, and it is no longer the representation the worker's validators describe: a
  // 304 would pair the cached page (our old nonce) with the worker's unpatched CSP and block the client.
  for (const name of ['content-length', 'etag', 'last-modified', 'accept-ranges']) delete out[name];
  let nonceUsed = false;
  for (const name of CSP_HEADERS) {
    const value = out[name];
    if (value === undefined) continue;
    // Several headers are several policies, the same as one comma-separated value.
    const patched = patchCsp(Array.isArray(value) ? value.join(', ') : value, nonce, tabSocketUrl);
    out[name] = patched;
    nonceUsed ||= patched.includes(`'nonce-${nonce}'`);
  }
  const tag = `<script src="${CLIENT_SRC}"${nonceUsed ? ` nonce="${nonce}"` : ''}></script>`;
  const injector = new Injector(Buffer.from(tag));
  if (codec === 'identity') return { headers: out, body: injector };
  const decoder = codecs[codec].decode();
  const encoder = codecs[codec].encode();
  // An error anywhere (a corrupt body from the worker) destroys all three and surfaces on the returned duplex.
  pipeline(decoder, injector, encoder, () => {});
  return { headers: out, body: Duplex.from({ writable: decoder, readable: encoder }) };
}

type Codec = 'identity' | 'gzip' | 'deflate' | 'br';

function codecFor(encoding: string | undefined): Codec | undefined {
  const value = (encoding ?? 'identity').trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  if (value === 'deflate' || value === 'br') return value;
  return undefined; // compress, zstd, stacked encodings ("gzip, br"): passed through untouched
}

// Every write to the compressor is flushed, so that a page the worker streams reaches the browser piecewise.
const SYNC = { flush: zlib.constants.Z_SYNC_FLUSH };
const codecs: Record<Exclude<Codec, 'identity'>, { decode: () => Duplex; encode: () => Duplex }> = {
  gzip: { decode: () => zlib.createGunzip(), encode: () => zlib.createGzip(SYNC) },
  deflate: { decode: () => zlib.createInflate(), encode: () => zlib.createDeflate(SYNC) },
  br: {
    decode: () => zlib.createBrotliDecompress(),
    encode: () =>
      zlib.createBrotliCompress({
        flush: zlib.constants.BROTLI_OPERATION_FLUSH,
        // Brotli's default quality (11) is meant for static assets and far too slow per response.
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 },
      }),
  },
};

/** Holds back the start of the document until the insertion point is known, then passes chunks through. */
class Injector extends Transform {
  private held: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(private readonly tag: Buffer) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.done) return callback(null, chunk);
    this.held = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const found = findInsertion(this.held.toString('latin1', 0, SEARCH_LIMIT));
    if (found.final || this.held.length >= SEARCH_LIMIT) this.release(found.at);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.done) this.release(findInsertion(this.held.toString('latin1')).at);
    callback();
  }

  private release(at: number): void {
    this.done = true;
    this.push(Buffer.concat([this.held.subarray(0, at), this.tag, this.held.subarray(at)]));
    this.held = Buffer.alloc(0);
  }
}

const SPACE = /[\t\n\f\r ]*/y;
// A start tag with its attributes; quoted values may contain '>'.
const START_TAG = /<([a-z][^\t\n\f\r />]*)(?:[^>"']|"[^"]*"|'[^']*')*>/iy;

/**
 * Where the tag goes in a document that starts with `text` (decoded as latin1, so string and byte offsets
 * agree and the ASCII markup of any ASCII-compatible charset reads right). Walks what may precede the head —
 * a BOM, whitespace, comments, the doctype, <html> — and answers right after <head …>, else right after
 * <body …> (the head was omitted), else before the first other content: there the parser opens the head
 * implicitly, so the script still lands in it and never before the doctype (quirks mode). Walking instead
 * of searching means '<head>' inside a comment, a script or an attribute is never mistaken for the tag.
 * `final` is false while the answer may still change with more text; `at` is then the last safe point.
 */
function findInsertion(text: string): { at: number; final: boolean } {
  let at = text.startsWith('\xef\xbb\xbf') ? 3 : 0;
  for (;;) {
    SPACE.lastIndex = at;
    SPACE.test(text);
    const next = SPACE.lastIndex;
    if (next === text.length) return { at, final: false };
    if (text[next] !== '<') return { at: next, final: true };
    const rest = text.slice(next, next + 4);
    if ('<!--'.startsWith(rest) && rest.length < 4) return { at, final: false };
    let end: number;
    if (rest === '<!--') {
      const close = text.indexOf('-->', next + 4);
      end = close < 0 ? -1 : close + 3;
    } else if (text[next + 1] === '!' || text[next + 1] === '?') {
      const close = text.indexOf('>', next); // doctype, or a bogus comment such as an XML declaration
      end = close < 0 ? -1 : close + 1;
    } else {
      START_TAG.lastIndex = next;
      const match = START_TAG.exec(text);
      // '<' + letter opens a tag that has not ended yet; anything else ('</p>', '< 3') is content.
      if (!match)
        return /[a-z]/i.test(text[next + 1] ?? 'a') ? { at, final: false } : { at: next, final: true };
      const name = match[1].toLowerCase();
      if (name === 'head' || name === 'body') return { at: START_TAG.lastIndex, final: true };
      if (name !== 'html') return { at: next, final: true };
      end = START_TAG.lastIndex;
    }
    if (end < 0) return { at, final: false };
    at = end;
  }
}
