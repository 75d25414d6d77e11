// The comparison proxy: a plain http-proxy-3 server with a keep-alive agent, the way most Node dev gateways
// forward requests. Usage: node plainProxy.js <targetPort>; prints "listening <port>".
import * as http from 'node:http';
import { createProxyServer } from 'http-proxy-3';

const targetPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
const proxy = createProxyServer({ agent, target: { host: '127.0.0.1', port: targetPort } });
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502).end();
  else res?.destroy();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as { port: number }).port}`));
