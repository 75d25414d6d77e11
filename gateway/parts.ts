// The parts of a running gateway that its request and upgrade handlers use. `Gateway` (gateway.ts) owns
// and wires them; handlers receive this narrow view, so each can be read (and replaced) on its own.
import type { BatonConfig } from './config/config';
import type { EventsChannel } from './control/events';
import type { ControlTarget } from './control/controlApi';
import type { Holds } from './holders/holds';
import type { SessionStore } from './holders/sessions';
import type { TabChannel } from './holders/tabs';
import type { Moves } from './http/move';
import type { Generations } from './lifecycle/generations';
import type { WorkerProxy } from './proxy/proxy';

export interface GatewayParts {
  readonly config: BatonConfig;
  readonly token: string;
  readonly generations: Generations;
  readonly sessions: SessionStore;
  readonly holds: Holds;
  readonly proxy: WorkerProxy;
  readonly tabs: TabChannel;
  /** Tabs moving to another generation with their cookies. */
  readonly moves: Moves;
  readonly events: EventsChannel;
  /** What the control API may do. */
  readonly control: ControlTarget;
  /** The port the gateway listens on (a request's Host may name another: a forwarding proxy's). */
  readonly listeningPort: number;
  /** The bundled tab client (`/__baton/client.js`), null when it was not built. */
  readonly clientScript: Buffer | null;
}
