// The gateway's own answers: a gone generation, no live generation, a failed worker request
// (README, "How it works"). Short HTML for page navigations, JSON for everything else.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)} · Baton</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1b1f24;background:#fff}
@media (prefers-color-scheme:dark){body{color:#e6e6e6;background:#16181c}pre{background:#0d0f12!important}}
h1{font-size:1.4rem}pre{background:#f4f5f7;padding:1rem;overflow:auto;font-size:13px;border-radius:6px}
a{color:#2f6fde}small{color:#777}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
${body}
<p><small>Baton gateway</small></p>${script}
</body></html>
`;
}

export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), headers);
}

/** Only when no generation is live: otherwise a page navigation to a gone generation moves to the live one. */
export function gonePage(generation: number, why: string): string {
  return page(
    `Generation ${generation} is gone`,
    `<p>${escapeHtml(why)}</p><p>No generation is live right now.</p>`,
  );
}

/** A value inside an inline <script>: JSON, with "<" escaped so that no "</script>" can end the script. */
const scriptValue = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/**
 * The hand-off on a tab's new host: writes what the tab's next page should know into this origin's
 * sessionStorage (the cookies came with this answer), then opens `path` in place of this page.
 */
export function handoffPage(path: string, storage: Record<string, string>): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Baton</title>
<noscript><meta http-equiv="refresh" content="0;url=${escapeHtml(path)}"></noscript>
<script>try{var s=${scriptValue(storage)};for(var k in s)sessionStorage.setItem(k,s[k])}catch(e){}location.replace(${scriptValue(path)})</script>
</head><body></body></html>
`;
}

export function moveRefusedPage(why: string, path: string): string {
  return page(
    'This tab could not move with its cookies',
    `<p>${escapeHtml(why[0].toUpperCase() + why.slice(1))}.</p>` +
      `<p><a href="${escapeHtml(path)}">Open the page here without them →</a></p>`,
  );
}

/** Polls a tiny endpoint (the live generation's number, and this host's generation's state) and reloads the
 *  page once `condition` (a JavaScript expression over its answer `s`) holds. */
function reloadWhen(condition: string): string {
  return `<script>setInterval(function(){fetch('/__baton/live',{cache:'no-store'}).then(function(r){return r.json()}).then(function(s){if(${condition})location.reload()}).catch(function(){})},1000)</script>`;
}

const lastOutput = (tail: string) => (tail ? `<p>Last output:</p><pre>${escapeHtml(tail)}</pre>` : '');

export function unavailablePage(reason: string, outputTail: string): string {
  return page(
    'No live generation',
    `<p>${escapeHtml(reason)}</p>${lastOutput(outputTail)}<p>This page reloads by itself when a generation is live.</p>`,
    reloadWhen('s.live!==null'),
  );
}

/** A generation that is not live yet: the page waits, and reloads once it serves (or failed, to say so). */
export function pendingPage(generation: number, state: string, outputTail: string): string {
  return page(
    `Generation ${generation} is not live yet`,
    `<p>Generation ${generation} is ${escapeHtml(state)}.</p>${lastOutput(outputTail)}<p>This page reloads by itself when it is live.</p>`,
    reloadWhen("s.state!=='building'&&s.state!=='starting'"),
  );
}

export function workerErrorPage(generation: number, message: string): string {
  return page(
    `Generation ${generation} did not answer`,
    `<p>${escapeHtml(message)}</p><p><a href="">Try again</a></p>`,
  );
}
