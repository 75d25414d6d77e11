// Shapes shared by the gateway, the control API, the CLI and the extension (README, "Control API").

export type GenerationState =
  'building' | 'starting' | 'live' | 'draining' | 'stopped' | 'failed' | 'crashed';

export type Affinity = 'tab' | 'session';

export interface GenerationInfo {
  id: number;
  state: GenerationState;
  pid: number | null;
  port: number | null;
  sessions: number;
  tabs: number;
  inflight: number;
  createdAt: string;
  readyAt: string | null;
  stoppedAt: string | null;
  exitCode: number | null;
  reason: string | null;
  /** Files the generation's processes created or changed inside its snapshot, which went with it
   *  (relative to the root; shared data and interpreter caches excepted). Known once it stopped. */
  unsavedFiles: string[];
}

export interface SessionInfo {
  id: string;
  generation: number;
  tabs: number;
  lastSeen: string;
  userAgent: string;
  /** The path (without query) of the first page this session loaded, to tell sessions apart. */
  firstPath: string | null;
  createdAt: string;
}

export interface GatewayState {
  root: string;
  port: number;
  affinity: Affinity;
  live: number | null;
  /** Whether file changes deploy a new generation (Toggle Deploy on Save flips it). */
  watching: boolean;
  /** Why deploy on save stopped by itself (an OS limit on file watches, with the fix), or null. */
  watchError: string | null;
  /** Files saved while deploy on save was off (the next deploy takes them). */
  missedChanges: string[];
  generations: GenerationInfo[];
  sessions: SessionInfo[];
  /** Why the last edit of baton.json was refused (the config in force stays), or null. */
  configError: string | null;
  /** Fields of an edited baton.json that apply only after a restart of the gateway. */
  configRestart: string[];
}

/** Contents of `<root>/.baton/gateway.json`. */
export interface GatewayFile {
  pid: number;
  port: number;
  token: string;
  startedAt: string;
}

/** What `/__baton/tab` tells one tab: its own generation, the live one's number and the follow default. */
export interface TabMessage {
  generation: number;
  live: number | null;
  /** baton.json `follow`: whether a tab follows new generations until its badge says otherwise. */
  follow: boolean;
}

/** Where a piece of output came from: the worker's (or build's) stdout or stderr, or Baton's own notes. */
export type OutputStream = 'stdout' | 'stderr' | 'baton';

/** A line batch of a generation's build or worker output, sent on `/__baton/api/events?logs=1`. */
export interface LogMessage {
  log: { generation: number; text: string; stream: OutputStream };
}
