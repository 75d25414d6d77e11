// A redirect target taken from a query parameter (`/__baton/new`, `/__baton/move`): only a path on the same
// origin, so these routes can never send a browser to another site (an open redirect).

const MAX_LENGTH = 8192;

/** `value` when it is a same-origin path ("/…", optionally with query and fragment), else null. */
export function sameOriginPath(value: string | null): string | null {
  if (value === null || value.length > MAX_LENGTH || !value.startsWith('/')) return null;
  // "//host" and "/\host" are network paths to another host; browsers read "\" as "/" in http URLs.
  if (value.startsWith('//') || value.includes('\\')) return null;
  // Control characters (CR/LF would split headers; browsers strip tabs and newlines, turning "/\t/x" into "//x").
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  return value;
}
