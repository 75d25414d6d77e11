// The cookies the gateway reads and writes, and logout detection (README, "How it works"). Pure functions.

export const SID_COOKIE = 'baton_sid';
export const PIN_COOKIE = 'baton_gen';

/** The value of cookie `name` in a Cookie header, without parsing the rest. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  let at = 0;
  while ((at = header.indexOf(name, at)) >= 0) {
    const before = at === 0 ? ' ' : header[at - 1];
    const after = at + name.length;
    if ((before === ' ' || before === ';') && header[after] === '=') {
      const end = header.indexOf(';', after);
      return header.slice(after + 1, end < 0 ? undefined : end).trim();
    }
    at = after;
  }
  return null;
}

export function sidCookie(value: string): string {
  return `${SID_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax`;
}

export function pinCookie(generation: number | null): string {
  return generation === null
    ? `${PIN_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`
    : `${PIN_COOKIE}=${generation}; Path=/; HttpOnly; SameSite=Lax`;
}

/**
 * Whether these Set-Cookie headers clear cookie `name` (a logout): `Max-Age` of 0 or less, or an `Expires`
 * in the past.
 */
export function clearsCookie(setCookie: string[] | undefined, name: string, now = Date.now()): boolean {
  if (!setCookie) return false;
  for (const header of setCookie) {
    const eq = header.indexOf('=');
    if (eq < 0 || header.slice(0, eq).trim() !== name) continue;
    for (const part of header.split(';').slice(1)) {
      const sep = part.indexOf('=');
      const key = (sep < 0 ? part : part.slice(0, sep)).trim().toLowerCase();
      const value = sep < 0 ? '' : part.slice(sep + 1).trim();
      if (key === 'max-age' && Number(value) <= 0) return true;
      if (key === 'expires') {
        const when = Date.parse(value);
        if (!Number.isNaN(when) && when <= now) return true;
      }
    }
  }
  return false;
}
