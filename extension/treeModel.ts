// The Generations tree as plain data: gateway states in, item descriptors out. No `vscode` import, so it
// is unit-tested without an editor; generationsView.ts only maps these descriptors to TreeItems.
import { hasWorker, isPending, isRunning } from '../gateway/protocol/states';
import type { GatewayState, GenerationInfo, GenerationState, SessionInfo } from '../gateway/protocol/types';

/** One workspace folder's gateway as the extension last heard of it. */
export interface GatewaySnapshot {
  /** Absolute path of the workspace folder the gateway serves. */
  folder: string;
  /** The folder's display name. */
  name: string;
  state: GatewayState;
  /** Files saved while deploy on save was off, not deployed yet. */
  pendingSaves?: number;
}

export type NodeKind = 'gateway' | 'url' | 'pending' | 'generation' | 'finished' | 'worker' | 'session';

export interface TreeNode {
  /** Stable across refreshes, so that the tree keeps expansion and selection. */
  id: string;
  kind: NodeKind;
  folder: string;
  generation?: number;
  label: string;
  description: string;
  /** Markdown; left out for generations, whose tooltip is built when it is shown (uptime, memory). */
  tooltip?: string;
  icon: { id: string; color?: string };
  /** Menus in package.json match on it (`viewItem =~ /^generation\.(live|draining)$/` …). */
  contextValue: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** Run on click (and Enter), with the node as its argument. */
  command?: string;
}

/** What only the running process can tell; read when children or a tooltip are resolved. */
export interface ProcessDetails {
  now: number;
  memoryBytes: number | null;
}

const ICONS: Record<GenerationState, TreeNode['icon']> = {
  building: { id: 'loading~spin' },
  starting: { id: 'loading~spin' },
  live: { id: 'circle-filled', color: 'charts.green' },
  draining: { id: 'history', color: 'charts.yellow' },
  stopped: { id: 'circle-slash', color: 'disabledForeground' },
  failed: { id: 'error', color: 'charts.red' },
  crashed: { id: 'flame', color: 'charts.orange' },
};

const FINISHED: ReadonlySet<GenerationState> = new Set(['stopped', 'failed', 'crashed']);

/** Still building or with a worker, i.e. something that Kill Worker can stop. */
export function isActive(g: GenerationInfo): boolean {
  return hasWorker(g.state) || g.state === 'building';
}

export function stateIcon(state: GenerationState): TreeNode['icon'] {
  return ICONS[state];
}

/** Deploy on save's state; when it stopped by itself (an OS limit), why and the fix. */
function deployOnSave(state: GatewayState): string {
  return state.watchError ?? `deploy on save ${state.watching ? 'on' : 'off'}`;
}

/**
 * The top level: what one gateway shows, or one node per gateway in a multi-root workspace. `cleared`:
 * per folder, finished generations up to this id are not shown (Clear Finished Generations).
 */
export function rootNodes(
  snapshots: readonly GatewaySnapshot[],
  cleared: ReadonlyMap<string, number> = new Map(),
): TreeNode[] {
  if (snapshots.length === 1) return gatewayChildren(snapshots[0], cleared.get(snapshots[0].folder) ?? 0);
  return snapshots.map(gatewayNode);
}

/** The app's URL first, saves not deployed yet, generations at work newest first, then the finished ones folded. */
export function gatewayChildren(s: GatewaySnapshot, clearedUpTo = 0): TreeNode[] {
  const nodes = [urlNode(s)];
  if (s.pendingSaves) nodes.push(pendingNode(s));
  nodes.push(...generationNodes(s).filter((n) => !FINISHED.has(stateOf(s, n))));
  const finished = finishedGenerations(s, clearedUpTo);
  if (finished.length > 0) nodes.push(finishedNode(s, finished));
  return nodes;
}

/** Stopped, failed and crashed generations newer than `clearedUpTo`, newest first. */
export function finishedGenerations(s: GatewaySnapshot, clearedUpTo = 0): GenerationInfo[] {
  return s.state.generations
    .filter((g) => FINISHED.has(g.state) && g.id > clearedUpTo)
    .sort((a, b) => b.id - a.id);
}

function stateOf(s: GatewaySnapshot, node: TreeNode): GenerationState {
  return s.state.generations.find((g) => g.id === node.generation)!.state;
}

export function appUrl(state: GatewayState): string {
  return `http://localhost:${state.port}/`;
}

function urlNode(s: GatewaySnapshot): TreeNode {
  const url = appUrl(s.state);
  return {
    id: `${s.folder}#url`,
    kind: 'url',
    folder: s.folder,
    label: url,
    description: s.state.live === null ? 'no live generation yet' : `open generation ${s.state.live}`,
    tooltip: `Open ${escapeMarkdown(url)} in the browser: the gateway sends a new tab to the live generation.`,
    icon: { id: 'globe' },
    contextValue: 'url',
    collapsible: 'none',
    command: 'baton.openInBrowser',
  };
}

function pendingNode(s: GatewaySnapshot): TreeNode {
  const n = s.pendingSaves ?? 0;
  return {
    id: `${s.folder}#pending`,
    kind: 'pending',
    folder: s.folder,
    label: `${plural(n, 'save')} not deployed`,
    description: 'deploy on save is off · click to deploy',
    tooltip: 'Files were saved while deploy on save was off. Click to deploy them as a new generation.',
    icon: { id: 'circle-large-outline', color: 'charts.yellow' },
    contextValue: 'pending',
    collapsible: 'none',
    command: 'baton.deploy',
  };
}

function finishedNode(s: GatewaySnapshot, finished: GenerationInfo[]): TreeNode {
  const counts = new Map<GenerationState, number>();
  for (const g of finished) counts.set(g.state, (counts.get(g.state) ?? 0) + 1);
  return {
    id: `${s.folder}#finished`,
    kind: 'finished',
    folder: s.folder,
    label: `${plural(finished.length, 'finished generation')}`,
    description: [...counts].map(([state, n]) => `${n} ${state}`).join(' · '),
    tooltip:
      'Generations that no longer run. Expand for their logs; "Clear Finished Generations" hides them.',
    icon: { id: 'archive' },
    contextValue: 'finished',
    collapsible: 'collapsed',
  };
}

function gatewayNode(s: GatewaySnapshot): TreeNode {
  const { live } = s.state;
  return {
    id: s.folder,
    kind: 'gateway',
    folder: s.folder,
    label: s.name,
    description: [appUrl(s.state), live === null ? 'no live generation' : `gen ${live} live`].join(' · '),
    tooltip: [
      `**${escapeMarkdown(s.name)}**: ${escapeMarkdown(appUrl(s.state))}`,
      deployOnSave(s.state),
      escapeMarkdown(s.folder),
    ].join('  \n'),
    icon: { id: 'server' },
    contextValue: 'gateway',
    collapsible: 'expanded',
  };
}

/** Newest first, every generation. */
export function generationNodes(s: GatewaySnapshot): TreeNode[] {
  return [...s.state.generations].sort((a, b) => b.id - a.id).map((g) => generationNode(s.folder, g));
}

export function generationNode(folder: string, g: GenerationInfo): TreeNode {
  return {
    id: `${folder}#${g.id}`,
    kind: 'generation',
    folder,
    generation: g.id,
    label: `generation ${g.id}`,
    description: generationDescription(g),
    icon: ICONS[g.state],
    contextValue: `generation.${g.state}`,
    // Open: the worker and the sessions that hold a generation are what the view is for.
    collapsible: hasWorker(g.state) ? 'expanded' : 'none',
  };
}

/** "live · 2 sessions · 3 tabs", "draining · 1 session · 0 tabs · 1 request", "failed · build exited with 2". */
export function generationDescription(g: GenerationInfo): string {
  const parts: string[] = [g.state];
  if (isRunning(g.state)) {
    parts.push(plural(g.sessions, 'session'), plural(g.tabs, 'tab'));
    if (g.state === 'draining' && g.inflight > 0) parts.push(plural(g.inflight, 'request'));
  } else if (g.reason) {
    parts.push(shorten(g.reason, 60));
  }
  return parts.join(' · ');
}

/** The worker first, then its sessions, most recently seen first. */
export function generationChildren(
  folder: string,
  state: GatewayState,
  g: GenerationInfo,
  details: ProcessDetails,
): TreeNode[] {
  const nodes: TreeNode[] = [];
  if (hasWorker(g.state) && g.pid !== null) nodes.push(workerNode(folder, g, details));
  const sessions = state.sessions
    .filter((s) => s.generation === g.id)
    .sort((a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen));
  for (const s of sessions) nodes.push(sessionNode(folder, s, details.now));
  // The gateway lists only the most recently seen sessions of a generation; its count is exact.
  if (g.sessions > sessions.length) nodes.push(moreSessionsNode(folder, g, g.sessions - sessions.length));
  return nodes;
}

function moreSessionsNode(folder: string, g: GenerationInfo, more: number): TreeNode {
  return {
    id: `${folder}#${g.id}/sessions-more`,
    kind: 'session',
    folder,
    generation: g.id,
    label: `${plural(more, 'more session')}`,
    description: 'not seen as recently as those above',
    tooltip: `Generation ${g.id} holds ${plural(g.sessions, 'session')}; the view lists the ${g.sessions - more} seen most recently.`,
    icon: { id: 'ellipsis' },
    contextValue: 'session',
    collapsible: 'none',
  };
}

/** Every session of a gateway: the generations' counts (the state lists only the most recent ones). */
function sessionCount(state: GatewayState): number {
  return state.generations.reduce((n, g) => n + g.sessions, 0);
}

/** How the worker's description words a fact (others read "pid 123"). */
const WORKER_FACT: Record<string, (value: string) => string> = {
  uptime: (value) => `up ${value}`,
  memory: (value) => value,
};

function workerNode(folder: string, g: GenerationInfo, details: ProcessDetails): TreeNode {
  const facts = workerFacts(g, details);
  return {
    id: `${folder}#${g.id}/worker`,
    kind: 'worker',
    folder,
    generation: g.id,
    label: 'worker',
    description: facts.map(([key, value]) => WORKER_FACT[key]?.(value) ?? `${key} ${value}`).join(' · '),
    tooltip: factLines(`**Worker of generation ${g.id}**`, facts),
    icon: { id: 'server-process' },
    contextValue: 'worker',
    collapsible: 'none',
  };
}

function sessionNode(folder: string, s: SessionInfo, now: number): TreeNode {
  const browser = browserName(s.userAgent);
  const seen = `seen ${ago(Date.parse(s.lastSeen), now)}`;
  const age = `started ${ago(Date.parse(s.createdAt), now)}`;
  return {
    id: `${folder}#${s.generation}/session/${s.id}`,
    kind: 'session',
    folder,
    generation: s.generation,
    label: s.firstPath ? `${browser} · ${shorten(s.firstPath, 40)}` : `${browser} session`,
    description: `${plural(s.tabs, 'tab')} · ${age} · ${seen}`,
    tooltip: factLines(`**${escapeMarkdown(browser)} session** ${escapeMarkdown(s.id.slice(0, 8))}`, [
      ['first page', s.firstPath ?? 'none yet'],
      ['started', `${new Date(s.createdAt).toLocaleString()} (${ago(Date.parse(s.createdAt), now)})`],
      ['tabs', String(s.tabs)],
      ['last seen', `${new Date(s.lastSeen).toLocaleString()} (${ago(Date.parse(s.lastSeen), now)})`],
      ['user agent', s.userAgent || 'none'],
    ]),
    icon: { id: 'globe' },
    contextValue: 'session',
    collapsible: 'none',
  };
}

export function generationTooltip(g: GenerationInfo, details: ProcessDetails): string {
  const facts: [string, string][] = hasWorker(g.state) ? workerFacts(g, details) : [];
  facts.push(['started', new Date(g.createdAt).toLocaleString()]);
  if (g.readyAt) facts.push(['ready', new Date(g.readyAt).toLocaleString()]);
  if (g.stoppedAt) facts.push(['stopped', new Date(g.stoppedAt).toLocaleString()]);
  if (g.exitCode !== null) facts.push(['exit code', String(g.exitCode)]);
  if (g.reason) facts.push(['reason', g.reason]);
  return factLines(`**Generation ${g.id}** · ${generationDescription(g)}`, facts);
}

function workerFacts(g: GenerationInfo, details: ProcessDetails): [string, string][] {
  const facts: [string, string][] = [];
  if (g.pid !== null) facts.push(['pid', String(g.pid)]);
  if (g.port !== null) facts.push(['port', String(g.port)]);
  facts.push(['uptime', formatDuration(details.now - Date.parse(g.readyAt ?? g.createdAt))]);
  if (details.memoryBytes !== null) facts.push(['memory', formatBytes(details.memoryBytes)]);
  return facts;
}

function factLines(title: string, facts: [string, string][]): string {
  // Two trailing spaces: a Markdown line break inside one paragraph.
  return [title, ...facts.map(([key, value]) => `${key}: ${escapeMarkdown(value)}`)].join('  \n');
}

/** The status bar's text and tooltip, the view badge's number, and what the build progress shows. */
export interface Summary {
  text: string;
  tooltip: string;
  sessions: number;
}

export function summarize(snapshots: readonly GatewaySnapshot[]): Summary {
  const sessions = snapshots.reduce((n, s) => n + sessionCount(s.state), 0);
  if (snapshots.length === 0) {
    return {
      text: '$(layers) Baton',
      tooltip: 'Baton: no gateway is running. Click to open the Baton view.',
      sessions,
    };
  }
  const tooltip = snapshots
    .map(({ name, state }) => {
      const live = state.live === null ? 'no live generation' : `generation ${state.live} live`;
      const save = deployOnSave(state);
      return `${name}: ${live} on port ${state.port}, ${plural(sessionCount(state), 'session')}, ${save}`;
    })
    .join('\n');
  if (snapshots.length > 1) {
    return {
      text: `$(layers) ${snapshots.length} gateways · ${plural(sessions, 'session')}`,
      tooltip,
      sessions,
    };
  }
  const { state } = snapshots[0];
  const busy = busyGenerations(snapshots)[0];
  let head = 'no live gen';
  if (state.live !== null) head = `gen ${state.live}`;
  else if (busy) head = `gen ${busy.id} ${busy.state}`;
  return { text: `$(layers) ${head} · ${plural(sessions, 'session')}`, tooltip, sessions };
}

export interface BusyGeneration {
  folder: string;
  name: string;
  id: number;
  state: GenerationState;
}

/** Generations being built or started, oldest first. */
export function busyGenerations(snapshots: readonly GatewaySnapshot[]): BusyGeneration[] {
  return snapshots.flatMap(({ folder, name, state }) =>
    state.generations
      .filter((g) => isPending(g.state))
      .sort((a, b) => a.id - b.id)
      .map((g) => ({ folder, name, id: g.id, state: g.state })),
  );
}

/** A short browser name from a User-Agent header. */
export function browserName(userAgent: string): string {
  const rules: [RegExp, string][] = [
    [/HeadlessChrome\//, 'Headless Chrome'],
    [/Edg(A|iOS)?\//, 'Edge'],
    [/OPR\//, 'Opera'],
    [/Firefox\//, 'Firefox'],
    [/(Chrome|Chromium|CriOS)\//, 'Chrome'],
    [/Version\/[\d.]+.*Safari\//, 'Safari'],
    [/^curl\//, 'curl'],
    [/^(node|undici)/i, 'Node.js'],
  ];
  for (const [pattern, name] of rules) if (pattern.test(userAgent)) return name;
  const product = /^([\w.-]+)\//.exec(userAgent);
  return product ? product[1] : 'unknown client';
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  const mb = bytes / (1024 * 1024);
  return mb < 1024 ? `${mb.toFixed(1)} MB` : `${(mb / 1024).toFixed(2)} GB`;
}

function ago(then: number, now: number): string {
  return now - then < 2000 ? 'just now' : `${formatDuration(now - then)} ago`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function shorten(text: string, max: number): string {
  const line = text.split('\n', 1)[0].trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()<>#+\-.!|~]/g, '\\$&');
}
