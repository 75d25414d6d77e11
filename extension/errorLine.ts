// The one line that says what failed, out of a generation's output: the last exception line of a Python
// or Node traceback ("SyntaxError: invalid syntax (server.py, line 64)"), for the failure notification.
// No `vscode` import: unit-tested on real tracebacks.
import * as path from 'node:path';

/** "ValueError: …", "Error [ERR_X]: …", "ModuleNotFoundError: …", "django.core.exceptions.ImproperlyConfigured: …" */
const EXCEPTION =
  /^(?:[A-Za-z_][\w.]*\.)?(?:[A-Z]\w*)?(?:Error|Exception|Exit|Interrupt|Configured)(?: \[\w+\])?(?::\s|$)/;
/** Lines that never say what failed: Baton's notes, blank lines, stack frames, Node's version footer. */
const NOISE = /^(?:\[baton\]|\$ |\s*$|\s+at |Node\.js v\d)/;
const PYTHON_FRAME = /^\s*File "([^"]+)", line (\d+)/;
const NODE_FRAME = /\(?((?:\/|[A-Za-z]:\\)[^():]+):(\d+)(?::\d+)?\)?$/;
const MAX = 200;

export function lastErrorLine(output: string): string | null {
  const lines = output.replace(/\r/g, '').split('\n');
  let index = -1;
  for (let i = lines.length - 1; i >= 0 && index < 0; i--) if (EXCEPTION.test(lines[i].trim())) index = i;
  if (index < 0) {
    for (let i = lines.length - 1; i >= 0 && index < 0; i--) if (!NOISE.test(lines[i])) index = i;
    return index < 0 ? null : shorten(lines[index].trim());
  }
  const error = lines[index].trim();
  if (/\(\S+, line \d+\)$/.test(error)) return shorten(error);
  const where = location(lines, index);
  return shorten(where ? `${error} (${where})` : error);
}

/** "server.py, line 64": Python's last frame before the error, or Node's first frame after it (or the
 *  "file:line" header Node prints above a code frame). */
function location(lines: string[], index: number): string | null {
  for (let i = index - 1; i >= 0; i--) {
    const python = PYTHON_FRAME.exec(lines[i]);
    if (python) return `${path.basename(python[1])}, line ${python[2]}`;
    if (/^Traceback \(most recent call last\)/.test(lines[i])) break;
  }
  const after = lines
    .slice(index + 1)
    .find((line) => /^\s+at /.test(line) && !/node:internal|\(node:/.test(line));
  const frame = after && NODE_FRAME.exec(after);
  if (frame) return `${path.basename(frame[1])}, line ${frame[2]}`;
  for (let i = index - 1; i >= Math.max(0, index - 6); i--) {
    const header = /^((?:\/|[A-Za-z]:\\).+?):(\d+)$/.exec(lines[i]);
    if (header) return `${path.basename(header[1])}, line ${header[2]}`;
  }
  return null;
}

function shorten(line: string): string {
  return line.length > MAX ? `${line.slice(0, MAX - 1)}…` : line;
}
