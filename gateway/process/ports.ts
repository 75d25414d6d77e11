// Which TCP ports a worker's processes listen on, and on which address. On Linux: the LISTEN rows of
// /proc/net/tcp and tcp6 joined with the socket inodes in /proc/<pid>/fd; elsewhere `lsof` where present.
// The gateway uses it to fail a worker that listens on another port than $PORT at once, and to reach a
// worker on the loopback address it actually chose (127.0.0.1, ::1, or a wildcard).
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

/** LISTEN rows of one /proc/net/tcp* file: socket inode → address and port. */
export function parseProcNet(text: string): Map<string, { address: string; port: number }> {
  const rows = new Map<string, { address: string; port: number }>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN) continue;
    const [hexAddress, hexPort] = fields[1].split(':');
    rows.set(fields[9], { address: decodeAddress(hexAddress), port: parseInt(hexPort, 16) });
  }
  return rows;
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

async function procListeners(pids: number[]): Promise<Listener[]> {
  const read = (file: string) => fs.promises.readFile(file, 'utf8').catch(() => '');
  const [tcp, tcp6] = await Promise.all([read('/proc/net/tcp'), read('/proc/net/tcp6')]);
  const listening = new Map([...parseProcNet(tcp), ...parseProcNet(tcp6)]);
  const out: Listener[] = [];
  const seen = new Set<string>();
  for (const pid of pids) {
    for (const inode of await socketInodes(pid)) {
      const row = listening.get(inode);
      // A socket shared by forked processes (a pre-fork server) is one listener.
      if (!row || seen.has(inode)) continue;
      seen.add(inode);
      const command = (await read(`/proc/${pid}/comm`)).trim();
      out.push({ ...row, pid, command });
    }
  }
  return out;
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
export function listeners(pids: number[]): Promise<Listener[] | null> {
  if (pids.length === 0) return Promise.resolve([]);
  return hasProc ? procListeners(pids) : lsofListeners(pids);
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
  { kind: 'listening'; address: string } | { kind: 'elsewhere'; listeners: Listener[] };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Watches a starting worker's process tree until it listens on `port` (its address to connect to), or listens
 * only on other ports for `graceMs` (some servers open a helper port a moment before the main one). Null when
 * this system cannot tell, or when `cancelled()`.
 */
export async function watchListen(
  rootPid: number,
  port: number,
  cancelled: () => boolean,
  graceMs = 500,
): Promise<ListenVerdict | null> {
  let elsewhereSince: number | null = null;
  while (!cancelled()) {
    const found = await listeners([...(await members([rootPid], null))]);
    if (found === null || cancelled()) return null;
    const own = found.find((l) => l.port === port);
    if (own) return { kind: 'listening', address: connectAddress(own.address) };
    if (found.length === 0) elsewhereSince = null;
    else if (elsewhereSince === null) elsewhereSince = Date.now();
    else if (Date.now() - elsewhereSince >= graceMs) return { kind: 'elsewhere', listeners: found };
    await sleep(100);
  }
  return null;
}
