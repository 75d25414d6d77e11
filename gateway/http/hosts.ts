// Host header parsing and the DNS-rebinding allow-list (README, "Security"). Pure functions.

export interface ParsedHost {
  /** Lower-cased host name without port; IPv6 literals keep their brackets. */
  hostname: string;
  port: string | null;
  /** N for `gN.localhost`, else null. */
  generation: number | null;
  /** localhost, 127.0.0.1 or [::1]: a host that can be redirected to `gN.localhost`. */
  bare: boolean;
}

const HOST_RE = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/;
const GEN_RE = /^g([1-9]\d{0,8})\.localhost$/;

/** Parses a Host header; null when it is missing or malformed. */
export function parseHost(header: string | undefined): ParsedHost | null {
  if (!header || header.length > 255) return null;
  const match = HOST_RE.exec(header.toLowerCase());
  if (!match) return null;
  const hostname = match[1].endsWith('.') ? match[1].slice(0, -1) : match[1];
  const gen = GEN_RE.exec(hostname);
  return {
    hostname,
    port: match[2] ?? null,
    generation: gen ? Number(gen[1]) : null,
    bare: hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]',
  };
}

/** localhost, *.localhost, 127.0.0.1, [::1] and the configured hosts (a leading dot allows subdomains). */
export function isAllowedHost(hostname: string, allowedHosts: readonly string[]): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (hostname === '127.0.0.1' || hostname === '[::1]') return true;
  for (const allowed of allowedHosts) {
    const entry = allowed.toLowerCase();
    if (entry === hostname) return true;
    if (entry.startsWith('.') && (hostname.endsWith(entry) || hostname === entry.slice(1))) return true;
  }
  return false;
}

/** The host a tab of generation N uses: `gN.localhost:PORT`. */
export function generationHost(generation: number, port: string | number | null): string {
  return port ? `g${generation}.localhost:${port}` : `g${generation}.localhost`;
}

export interface HostRefusal {
  status: 400 | 403;
  message: string;
}

/** The first gate of every request and upgrade: a well-formed, allowed Host (DNS rebinding), or why not. */
export function checkHost(
  header: string | undefined,
  allowedHosts: readonly string[],
): ParsedHost | HostRefusal {
  const host = parseHost(header);
  if (!host) return { status: 400, message: 'Bad Request: missing or malformed Host header' };
  if (!isAllowedHost(host.hostname, allowedHosts)) {
    return {
      status: 403,
      message: `Forbidden: Host "${host.hostname}" is not allowed. If you reach this gateway through that name, add it to "allowedHosts" in baton.json.`,
    };
  }
  return host;
}

/**
 * Whether a request reached the gateway through a forwarding proxy: its Host names another port than the
 * gateway's own (code-server's `/proxy/N/`, Codespaces, an SSH forward to another local port), or a proxy
 * said so with X-Forwarded-Host or X-Forwarded-Prefix. A `gN.localhost:<that port>` would not reach the
 * gateway, so such a browser is never redirected there: it gets session affinity.
 */
export function isForwarded(
  host: ParsedHost,
  gatewayPort: number,
  headers: Record<string, string | string[] | undefined>,
): boolean {
  if (headers['x-forwarded-host'] !== undefined || headers['x-forwarded-prefix'] !== undefined) return true;
  return (host.port ?? '80') !== String(gatewayPort);
}
