// What a generation's state means, the one definition that the gateway, the CLI and the extension share.
import type { GenerationState } from './types';

/** Running: its worker serves traffic (live, or draining its own sessions). Only running generations take
 *  requests and can be promoted; a starting one answers page loads with a page that waits for it. */
export function isRunning(state: GenerationState): boolean {
  return state === 'live' || state === 'draining';
}

/** A worker process exists: starting or running (it has a pid and a port, and Open Generation can open it). */
export function hasWorker(state: GenerationState): boolean {
  return state === 'starting' || isRunning(state);
}

/** Not live yet: building or starting. A page load of it waits (the page reloads itself), never "gone". */
export function isPending(state: GenerationState): boolean {
  return state === 'building' || state === 'starting';
}
