// A worker that listens only once the test opens its gate: each generation N waits for `<dir>/.gate.N`, so a
// test decides how long a generation stays `starting`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunningGateway, waitFor, writeApp } from './gateway';

const GATED_SERVER = `const fs = require('node:fs');
const gate = process.env.GATE + '.' + process.env.BATON_GENERATION;
const server = require('node:http').createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end('<!doctype html><html><head><title>gated</title></head><body>gated ' + process.env.BATON_GENERATION + '</body></html>');
});
const timer = setInterval(() => { if (fs.existsSync(gate)) { clearInterval(timer); server.listen(Number(process.env.PORT), '127.0.0.1'); } }, 50);
console.log('waiting for ' + gate);
`;

export interface GatedApp {
  gw: RunningGateway;
  /** Lets generation N listen. */
  open(generation: number): void;
}

/** Starts the gated app with generation 1 live, deploys generation 2 and waits until it is starting. */
export async function gatedAppWithStartingGeneration(): Promise<GatedApp> {
  const dir = writeApp({ 'server.js': GATED_SERVER }, { start: 'node server.js' });
  const gate = path.join(dir, '.gate');
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'baton.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'baton.json'), JSON.stringify({ ...config, env: { GATE: gate } }));
  const open = (generation: number) => fs.writeFileSync(`${gate}.${generation}`, '');
  open(1);
  const gw = await RunningGateway.start(dir, ['--no-watch']);
  await gw.client!.deploy();
  await gw.waitState('gen 2 starting', (s) => s.generations[1]?.state === 'starting', 30_000);
  await waitFor('gen 2 waiting for its gate', async () => (await gw.client!.logs(2)).includes('waiting for'));
  return { gw, open };
}
