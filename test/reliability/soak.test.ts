// Soak: browsers mixing page loads, API calls, uploads, event streams, WebSockets and tab sockets across
// generations while a deploy lands every 10 s. No answer may fail or come from another generation than its
// session's, and afterwards the gateway holds no more file descriptors and little more memory than before.
// BATON_SOAK_SECONDS sets the length (default 180).
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  closeSocket,
  connectionsTo,
  copyApp,
  openSocket,
  REPO,
  RunningGateway,
  sleep,
  waitFor,
  type OpenSocket,
} from '../support/gateway';
import type { TabMessage } from '../../gateway/protocol/types';
import { FailureTally, get, within } from './client';
import { fdCount, rssMB } from './proc';

const APP = path.join(REPO, 'test', 'reliability', 'app');
const SOAK_SECONDS = Number(process.env.BATON_SOAK_SECONDS ?? 180);
const DEPLOY_EVERY_MS = 10_000;
const BROWSERS = 20;
/** Deploy ticks (10 s each) before the memory baseline is taken. */
const WARM_UP_TICKS = 6;

/** What the browsers did and what went wrong; the first failures are kept to be shown. */
class Tally extends FailureTally {
  readonly counts = { pages: 0, api: 0, uploads: 0, streams: 0, events: 0, sockets: 0, messages: 0, tabs: 0 };

  constructor() {
    super(10);
  }

  /** Checks that an answer came from `generation`; counts it otherwise. */
  from(
    generation: number,
    what: string,
    header: string | string[] | undefined,
    bodyGeneration?: number,
  ): void {
    if (header !== String(generation) || (bodyGeneration !== undefined && bodyGeneration !== generation)) {
      this.fail(`${what} of gen ${generation} answered by gen ${header} (body: ${bodyGeneration})`, true);
    }
  }
}

/** Reads `count` events of an event stream, then aborts it. */
function readEvents(
  port: number,
  host: string,
  cookie: string,
  count: number,
): Promise<{ header: string; events: { generation: number }[] }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/events', headers: { Host: host, Cookie: cookie }, agent: false },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`event stream answered ${res.statusCode}`));
        const events: { generation: number }[] = [];
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          buffered += text;
          let end: number;
          while ((end = buffered.indexOf('\n\n')) >= 0) {
            events.push(JSON.parse(buffered.slice('data: '.length, end)));
            buffered = buffered.slice(end + 2);
          }
          if (events.length >= count) {
            req.destroy();
            resolve({ header: String(res.headers['x-baton-generation']), events });
          }
        });
        res.on('error', () => undefined); // our own abort
      },
    );
    req.on('error', reject);
  });
}

/**
 * One browser: opens a tab on the live generation (a navigation on the bare host, the page, its tab socket),
 * works in it for a few seconds, closes it and starts over. Every answer must be from the tab's generation.
 */
async function browser(port: number, tally: Tally, running: () => boolean, seed: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  let step = seed;
  const next = () => (step = (step * 1103515245 + 12345) % 2147483648) / 2147483648; // reproducible mix
  try {
    while (running()) {
      let generation = 0;
      let tab: OpenSocket | null = null;
      try {
        // A navigation on the bare host is sent to the live generation; one that reaches a generation which
        // began to drain meanwhile, before the tab had a session there, is sent on to the new live one.
        let page = await get(
          port,
          '/',
          { Host: `localhost:${port}`, Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' },
          agent,
        );
        let host = '';
        for (let hops = 0; page.status === 307 && hops < 3; hops++) {
          const match = /^http:\/\/g(\d+)\.localhost:\d+\/$/.exec(page.headers.location ?? '');
          if (!match) throw new Error(`navigation sent to ${page.headers.location}`);
          generation = Number(match[1]);
          host = `g${generation}.localhost:${port}`;
          page = await get(
            port,
            '/',
            { Host: host, Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' },
            agent,
          );
        }
        tally.counts.pages++;
        if (page.status !== 200 || !page.body.includes('/__baton/client.js'))
          throw new Error(`page answered ${page.status}: ${page.body.slice(0, 200)}`);
        tally.from(
          generation,
          'page',
          page.headers['x-baton-generation'],
          Number(/generation (\d+)/.exec(page.body)?.[1]),
        );
        const cookie = page.headers['set-cookie']!.find((c) => c.startsWith('baton_sid='))!.split(';')[0];
        tab = await within(
          10_000,
          'tab socket',
          openSocket(port, host, '/__baton/tab', { Origin: `http://${host}`, Cookie: cookie }),
        );
        tally.counts.tabs++;
        const hello = await tab.message<TabMessage>();
        if (hello.generation !== generation)
          tally.fail(`tab of gen ${generation} told gen ${hello.generation}`, true);
        const until = Date.now() + 2000 + next() * 4000;
        while (Date.now() < until && running()) {
          const pick = next();
          if (pick < 0.5) {
            const answer = await get(port, '/api', { Host: host, Cookie: cookie }, agent);
            tally.counts.api++;
            if (answer.status !== 200)
              throw new Error(`/api answered ${answer.status}: ${answer.body.slice(0, 200)}`);
            tally.from(
              generation,
              '/api',
              answer.headers['x-baton-generation'],
              JSON.parse(answer.body).generation,
            );
          } else if (pick < 0.7) {
            const text = `upload ${step}`;
            const answer = await get(
              port,
              '/echo',
              { Host: host, Cookie: cookie, 'Content-Type': 'text/plain' },
              agent,
              'POST',
              text,
            );
            tally.counts.uploads++;
            const body = JSON.parse(answer.body);
            if (answer.status !== 200 || body.echo !== text)
              throw new Error(`/echo answered ${answer.status}: ${answer.body.slice(0, 200)}`);
            tally.from(generation, '/echo', answer.headers['x-baton-generation'], body.generation);
          } else if (pick < 0.85) {
            const stream = await within(10_000, 'event stream', readEvents(port, host, cookie, 3));
            tally.counts.streams++;
            tally.counts.events += stream.events.length;
            tally.from(generation, 'event stream', stream.header);
            for (const event of stream.events) tally.from(generation, 'event', String(event.generation));
          } else {
            const socket = await within(
              10_000,
              'WebSocket',
              openSocket(port, host, '/ws', { Cookie: cookie }),
            );
            tally.counts.sockets++;
            tally.from(generation, 'WebSocket upgrade', socket.headers['x-baton-generation']);
            for (let i = 0; i < 5; i++) {
              socket.ws.send(`message ${i}`);
              const echo = await socket.message<{ generation: number; echo: string }>(
                (m) => m.echo === `message ${i}`,
              );
              tally.counts.messages++;
              tally.from(generation, 'WebSocket message', String(echo.generation));
            }
            await within(10_000, 'WebSocket close', closeSocket(socket.ws));
          }
          await sleep(20);
        }
      } catch (err) {
        tally.fail(`gen ${generation}: ${(err as Error).message}`);
        await sleep(100);
      } finally {
        if (tab) await within(10_000, 'tab close', closeSocket(tab.ws)).catch(() => undefined);
      }
    }
  } finally {
    agent.destroy();
  }
}

describe(`soak: ${SOAK_SECONDS} s of mixed traffic from ${BROWSERS} browsers, a deploy every ${DEPLOY_EVERY_MS / 1000} s`, () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await RunningGateway.start(copyApp(APP), ['--no-watch']);
  });
  after(() => gw.dispose());

  it(
    'answers everything from the right generation and ends with no leaked descriptors or memory',
    { timeout: (SOAK_SECONDS + 120) * 1000 },
    async (t) => {
      const pid = gw.child.pid!;
      const fdsBefore = fdCount(pid);
      const tally = new Tally();
      const deadline = Date.now() + SOAK_SECONDS * 1000;
      const running = () => Date.now() < deadline;
      const browsers = Array.from({ length: BROWSERS }, (_, i) => browser(gw.port, tally, running, i + 1));
      // A deploy every 10 s. The gateway's memory is measured against its size after the first minute of load:
      // V8 and the allocator grow their reserves during that minute (live heap objects stay flat); a leak keeps
      // growing after it.
      const started = Date.now();
      let deploys = 0;
      const rssSeries: number[] = [];
      for (let at = started + DEPLOY_EVERY_MS; at < deadline; at += DEPLOY_EVERY_MS) {
        await sleep(at - Date.now());
        rssSeries.push(rssMB(pid));
        await gw.client!.deploy();
        deploys++;
      }
      const rssBefore = rssSeries[Math.min(WARM_UP_TICKS, rssSeries.length) - 1] ?? rssMB(pid);
      await Promise.all(browsers);
      const ended = await gw.waitState(
        'every old generation drained and stopped',
        (s) => s.generations.every((g) => g.id === s.live || g.state === 'stopped'),
        30_000,
      );
      // Idle keep-alive connections to the live worker close once its keep-alive timeout passes; then count.
      const livePort = ended.generations.find((g) => g.id === ended.live)!.port!;
      await waitFor(
        'idle connections to the live worker closed',
        () => connectionsTo(livePort) === 0,
        20_000,
      );
      const fdsAfter = fdCount(pid);
      const rssAfter = rssMB(pid);

      t.diagnostic(`traffic: ${JSON.stringify(tally.counts)}`);
      t.diagnostic(
        `deploys: ${deploys}, generations: ${ended.generations.length}, live at the end: gen ${ended.live}`,
      );
      t.diagnostic(
        `failed: ${tally.failed}, misrouted: ${tally.misrouted}${tally.samples.length ? `, e.g. ${tally.samples.join(' | ')}` : ''}`,
      );
      t.diagnostic(
        `gateway fds: ${fdsBefore} → ${fdsAfter}; RSS after the warm-up ${rssBefore.toFixed(1)} MB → ${rssAfter.toFixed(1)} MB at the end (every 10 s: ${rssSeries.map((r) => r.toFixed(0)).join(' ')} MB)`,
      );

      assert.equal(tally.failed, 0, `failed answers: ${tally.samples.join('\n')}`);
      assert.ok(
        tally.counts.api > 0 && tally.counts.events > 0 && tally.counts.messages > 0,
        'every kind of traffic ran',
      );
      assert.ok(
        ended.generations.every((g) => g.state === 'live' || g.state === 'stopped'),
        'no generation failed or crashed',
      );
      assert.ok(Math.abs(fdsAfter - fdsBefore) <= 10, `gateway fds ${fdsBefore} → ${fdsAfter}`);
      assert.ok(rssAfter - rssBefore < 20, `gateway RSS grew ${(rssAfter - rssBefore).toFixed(1)} MB`);
    },
  );
});
