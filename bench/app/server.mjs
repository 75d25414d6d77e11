// The benchmark's worker: the smallest useful Node app. It answers with its generation, source version and
// pid, holds `/stream` open like an event stream, clears its session cookie on `/logout`, and prints when it
// listens so that the benchmark can tell its own boot time from what Baton adds.
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';

const VERSION = 0;
const generation = process.env.BATON_GENERATION ? Number(process.env.BATON_GENERATION) : null;
const body = JSON.stringify({ generation, version: VERSION, pid: process.pid });
const length = Buffer.byteLength(body);

const server = http.createServer((req, res) => {
  if (req.url === '/stream') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    res.write(`data: ${body}\n\n`);
    return;
  }
  if (req.url === '/logout') {
    res.writeHead(200, {
      'Set-Cookie': 'app_sid=; Path=/; Max-Age=0',
      'Content-Type': 'application/json',
      'Content-Length': length,
    });
    return res.end(body);
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': length });
  res.end(body);
});
server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  // Both on the epoch clock: when this process started, and when it began to listen.
  const now = performance.timeOrigin + performance.now();
  console.log(
    `bench-worker listening pid=${process.pid} start=${performance.timeOrigin.toFixed(1)} listen=${now.toFixed(1)}`,
  );
});
