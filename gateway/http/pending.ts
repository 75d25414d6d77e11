// The answer for a generation that is not live yet (building or starting): a page load gets a page that
// reloads itself once the generation serves, anything else a 503 that says so. Never "gone".
import type { ServerResponse } from 'node:http';
import type { Generation } from '../lifecycle/generation';
import { pendingPage, send, sendJson } from './pages';

export function sendPending(res: ServerResponse, gen: Generation, live: number | null, page: boolean): void {
  const headers = { 'Retry-After': '1' };
  if (page) {
    send(res, 503, 'text/html; charset=utf-8', pendingPage(gen.id, gen.state, gen.output.tail(30)), headers);
  } else {
    const error = `Generation ${gen.id} is ${gen.state}: it is not live yet.`;
    sendJson(res, 503, { error, generation: gen.id, state: gen.state, live }, headers);
  }
}
