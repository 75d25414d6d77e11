// The reliability suite's worker: every answer names its generation, so that a misrouted one shows.
// `/` an HTML page (the tab client is injected), `/api` JSON, `/echo` echoes a POST body, `/events` an endless
// event stream, `/ws` a WebSocket echo, `/ws-slow` a WebSocket whose upgrade answers after 5 s;
// faults: `/hangup` drops the connection unanswered, `/partial` drops it halfway through the body, `/exit` exits
// mid-request. A `no-listen` file in its folder makes it never listen (a worker that never becomes ready).
import * as fs from 'node:fs';
import * as http from 'node:http';
import { WebSocketServer } from 'ws';

const generation = Number(process.env.BATON_GENERATION);
const tag = JSON.stringify({ generation, pid: process.pid });

const server = http.createServer((req, res) => {
  const json = (value) => {
    const body = JSON.stringify(value);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  switch (req.url.split('?')[0]) {
    case '/':
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(
        `<!doctype html><html><head><title>g${generation}</title></head><body>generation ${generation}</body></html>`,
      );
    case '/api':
      return json({ generation, pid: process.pid });
    case '/echo': {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      return req.on('end', () => json({ generation, echo: Buffer.concat(chunks).toString() }));
    }
    case '/events': {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      let n = 0;
      const send = () => res.write(`data: ${JSON.stringify({ generation, n: n++ })}\n\n`);
      send();
      const timer = setInterval(send, 100);
      return res.on('close', () => clearInterval(timer));
    }
    case '/hangup':
      return req.socket.destroy();
    case '/partial':
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000' });
      res.write('only the first part');
      return setTimeout(() => req.socket.destroy(), 50);
    case '/exit':
      return setTimeout(() => process.exit(3), 50);
    default:
      res.writeHead(404, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ error: 'not found', generation }));
  }
});

const wss = new WebSocketServer({ noServer: true });
wss.on('connection', (ws) => {
  ws.on('message', (data) => ws.send(JSON.stringify({ generation, echo: data.toString() })));
  ws.on('error', () => ws.terminate());
});
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy());
  const path = req.url.split('?')[0];
  if (path === '/ws') return wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  if (path === '/ws-slow') {
    return setTimeout(() => {
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    }, 5000);
  }
  socket.destroy();
});

if (fs.existsSync('no-listen')) {
  console.log(`worker ${tag} will never listen`);
  setInterval(() => undefined, 60_000);
} else {
  server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1', () =>
    console.log(`worker ${tag} listening`),
  );
}
