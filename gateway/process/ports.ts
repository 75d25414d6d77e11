// Which TCP ports a worker's processes listen on, and on which address. On Linux: the LISTEN rows of
// /proc/net/tcp and tcp6 joined with the socket inodes in /proc/<pid>/fd; elsewhere `lsof` where present.
// The gateway uses it to fail a worker that listens on another port than $PORT at once, to reach a worker on
// the loopback address it actually chose (127.0.0.1, ::1, or a wildcard), and to tell who else holds a port
// (another user's socket on a worker's $PORT, or on the gateway's own port).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { members } from './processes';

export interface Listener {
  /** As the kernel reports it: "127.0.0.1", "::1", "0.0.0.0", "::", … */
  address: string;
  port: number;
  pid: number;
  /** The listening process's command name ("node", "python3", …). */
  command: string;
}

const LISTEN = '0A';
const hasProc = process.platform === 'linux' && fs.existsSync('/proc/net/tcp');

/** A 32-bit word of /proc/net/tcp* as its 4 bytes in network order (the kernel prints host order). */
function wordBytes(hex: string): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return os.endianness() === 'LE' ? bytes.reverse() : bytes;
}

/** "0100007F" → "127.0.0.1"; 32 hex digits → a compressed IPv6 address ("::1", "::", …). */
export function decodeAddress(hex: string): string {
  if (hex.length === 8) return wordBytes(hex).join('.');
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8)));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255)
    return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16));
  // The longest run of zero groups becomes "::".
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.length < 2) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.length).join(':')}`;
}

/** One LISTEN row of /proc/net/tcp*: where, and the user that owns the socket. */
export interface ListenRow {
  address: string;
  port: number;
  uid: number;
}

/** LISTEN rows of one /proc/net/tcp* file: socket inode → address, port and owner. */
export function parseProcNet(text: string): Map<string, ListenRow> {
  const rows = new Map<string, ListenRow>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN) continue;
    const [hexAddress, hexPort] = fields[1].split(':');
    rows.set(fields[9], {
      address: decodeAddress(hexAddress),
      port: parseInt(hexPort, 16),
      uid: Number(fields[7]),
    });
  }
  return rows;
}

const readText = (file: string) => fs.promises.readFile(file, 'utf8').catch(() => '');

/** Every listening TCP socket of this machine (IPv4 and IPv6), by inode. */
async function listenTable(): Promise<Map<string, ListenRow>> {
  const [tcp, tcp6] = await Promise.all([readText('/proc/net/tcp'), readText('/proc/net/tcp6')]);
  return new Map([...parseProcNet(tcp), ...parseProcNet(tcp6)]);
}

async function socketInodes(pid: number): Promise<string[]> {
  const dir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = await fs.promises.readdir(dir);
  } catch {
    return []; // gone, or not ours to read
  }
  const links = await Promise.all(fds.map((fd) => fs.promises.readlink(`${dir}/${fd}`).catch(() => '')));
  return links.flatMap((link) => /^socket:\[(\d+)\]$/.exec(link)?.[1] ?? []);
}

/** The listening sockets that `pids` hold, each with its inode. */
async function procListeners(
  pids: number[],
  listening: Map<string, ListenRow>,
): Promise<(Listener & { inode: string })[]> {
  const out: (Listener & { inode: string })[] = [];
  const seen = new Set<string>();
  for (const pid of pids) {
    for (const inode of await socketInodes(pid)) {
      const row = listening.get(inode);
      // A socket shared by forked processes (a pre-fork server) is one listener.
      if (!row || seen.has(inode)) continue;
      seen.add(inode);
      const command = (await readText(`/proc/${pid}/comm`)).trim();
      out.push({ address: row.address, port: row.port, pid, command, inode });
    }
  }
  return out;
}

/** The process holding socket `inode`: null when none of those this user may look into does. */
async function socketOwner(inode: string): Promise<{ pid: number; command: string } | null> {
  const names = (await fs.promises.readdir('/proc')).filter((name) => /^\d+$/.test(name));
  for (const name of names) {
    if ((await socketInodes(Number(name))).includes(inode))
      return { pid: Number(name), command: (await readText(`/proc/${name}/comm`)).trim() };
  }
  return null;
}

/** The name of user `uid` in /etc/passwd, else "uid N". */
async function userName(uid: number): Promise<string> {
  const passwd = await readText('/etc/passwd');
  const line = passwd.split('\n').find((l) => l.split(':')[2] === String(uid));
  return line ? line.split(':')[0] : `uid ${uid}`;
}

/** A socket listening on a port, and who holds it as far as this user can see. */
export interface Holder {
  address: string;
  port: number;
  user: string;
  /** Null when the process is not ours to look into (another user's, and we are not root). */
  pid: number | null;
  command: string | null;
}

async function describeHolder(inode: string, row: ListenRow): Promise<Holder> {
  const [owner, user] = await Promise.all([socketOwner(inode), userName(row.uid)]);
  return {
    address: row.address,
    port: row.port,
    user,
    pid: owner?.pid ?? null,
    command: owner?.command ?? null,
  };
}

/** Who listens on `address`:`port` (a wildcard of the family counts); null when nobody, or not on Linux. */
export async function portHolder(address: string, port: number): Promise<Holder | null> {
  if (!hasProc) return null;
  const v6 = address.includes(':');
  for (const [inode, row] of await listenTable()) {
    if (row.port !== port || row.address.includes(':') !== v6) continue;
    if (row.address === address || row.address === '0.0.0.0' || row.address === '::')
      return describeHolder(inode, row);
  }
  return null;
}

/** "another process (pid 1234 `python3`, user nobody)", as much of it as is known. */
export function describeProcess(holder: Holder): string {
  const who =
    holder.pid === null ? '' : `pid ${holder.pid}${holder.command ? ` \`${holder.command}\`` : ''}, `;
  return `another process (${who}user ${holder.user})`;
}

/** `lsof -F pcnt` output: "p<pid>", "c<command>", then per file "t<IPv4|IPv6>" and "n<address>:<port>". */
export function parseLsof(text: string): Listener[] {
  const out: Listener[] = [];
  let pid = 0;
  let command = '';
  let family = '';
  for (const line of text.split('\n')) {
    const value = line.slice(1);
    if (line[0] === 'p') pid = Number(value);
    else if (line[0] === 'c') command = value;
    else if (line[0] === 't') family = value;
    else if (line[0] === 'n') {
      const match = /^(.*):(\d+)$/.exec(value);
      if (!match) continue;
      const host = match[1].replace(/^\[(.*)\]$/, '$1');
      const address = host === '*' ? (family === 'IPv6' ? '::' : '0.0.0.0') : host;
      out.push({ address, port: Number(match[2]), pid, command });
    }
  }
  return out;
}

function lsofListeners(pids: number[]): Promise<Listener[] | null> {
  return new Promise((resolve) => {
    execFile(
      'lsof',
      ['-nP', '-a', '-iTCP', '-sTCP:LISTEN', '-p', pids.join(','), '-F', 'pcnt'],
      { timeout: 5000 },
      (err, stdout) => {
        // lsof exits with 1 when it found nothing; no lsof at all means the ports cannot be told.
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') resolve(null);
        else resolve(parseLsof(stdout));
      },
    );
  });
}

/** The TCP ports that `pids` listen on; null where this system cannot tell. */
export async function listeners(pids: number[]): Promise<Listener[] | null> {
  if (pids.length === 0) return [];
  if (!hasProc) return lsofListeners(pids);
  return (await procListeners(pids, await listenTable())).map(({ inode: _inode, ...l }) => l);
}

/** Where to connect to reach a listener: a wildcard is reached on the loopback address of its family. */
export function connectAddress(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/** "127.0.0.1:3000", "[::1]:3000". */
export function formatListener(l: { address: string; port: number }): string {
  return l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
}

export type ListenVerdict =
  | { kind: 'listening'; address: string }
  | { kind: 'elsewhere'; listeners: Listener[] }
  /** Another process, not of the worker's tree, listens on $PORT. */
  | { kind: 'foreign'; holder: Holder }
  /** This system cannot tell which sockets are the worker's (no /proc, no lsof). */
  | { kind: 'unknown' };

/**
 * One look at the worker's tree: its listeners, and a socket on `port` that none of its processes holds.
 * The table is read before the tree, so a socket in the table was made by a process that the tree already
 * lists (a child that listened a moment ago included).
 */
async function lookOnce(
  rootPid: number,
  port: number,
): Promise<{ found: Listener[] | null; foreign: [string, ListenRow] | null }> {
  if (!hasProc) return { found: await listeners([...(await members([rootPid], null))]), foreign: null };
  const table = await listenTable();
  const own = await procListeners([...(await members([rootPid], null))], table);
  const inodes = new Set(own.map((l) => l.inode));
  const foreign = [...table].find(([inode, row]) => row.port === port && !inodes.has(inode)) ?? null;
  return { found: own.map(({ inode: _inode, ...l }) => l), foreign };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Watches a starting worker's process tree until it listens on `port` (its address to connect to), listens
 * only on other ports for `graceMs` (some servers open a helper port a moment before the main one), or another
 * process listens on `port` (seen twice, so that a socket handed between the worker's own processes is not
 * taken for another's). Null when `cancelled()`.
 */
export async function watchListen(
  rootPid: number,
  port: number,
  cancelled: () => boolean,
  graceMs = 500,
): Promise<ListenVerdict | null> {
  let elsewhereSince: number | null = null;
  let strangerSeen: string | null = null;
  while (!cancelled()) {
    const { found, foreign } = await lookOnce(rootPid, port);
    if (cancelled()) return null;
    if (found === null) return { kind: 'unknown' };
    if (foreign && foreign[0] === strangerSeen)
      return { kind: 'foreign', holder: await describeHolder(...foreign) };
    strangerSeen = foreign?.[0] ?? null;
    if (foreign) {
      await sleep(50);
      continue;
    }
    const own = found.find((l) => l.port === port);
    if (own) return { kind: 'listening', address: connectAddress(own.address) };
    if (found.length === 0) elsewhereSince = null;
    else if (elsewhereSince === null) elsewhereSince = Date.now();
    else if (Date.now() - elsewhereSince >= graceMs) return { kind: 'elsewhere', listeners: found };
    await sleep(100);
  }
  return null;
}
