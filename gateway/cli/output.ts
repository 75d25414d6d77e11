// `baton up` streams every generation's build and worker output, as `docker compose up` does: each line
// prefixed by its generation ("gen 3 | "), stderr marked ("gen 3 ! "), coloured per generation on a TTY.
import type { OutputStream } from '../protocol/types';

/** ANSI colours the generations cycle through (cyan, yellow, magenta, green, blue). */
const COLOURS = [36, 33, 35, 32, 34];
/** A partial line (a prompt, a progress bar) is printed once no more output came for this long. */
const PARTIAL_LINE_MS = 200;

export interface OutputPrinter {
  (generation: number, text: string, stream: OutputStream): void;
  /** Prints what is left of partial lines. */
  flush(): void;
}

/** The prefix of one line; the stdout and stderr prefixes have the same width, so columns stay aligned. */
export function linePrefix(generation: number, stream: 'stdout' | 'stderr', colour: boolean): string {
  const label = `gen ${generation}`;
  const mark = stream === 'stderr' ? '!' : '|';
  if (!colour) return `${label} ${mark} `;
  const tint = COLOURS[(generation - 1) % COLOURS.length];
  const markTint = stream === 'stderr' ? 31 : tint;
  return `\x1b[${tint}m${label}\x1b[0m \x1b[${markTint}m${mark}\x1b[0m `;
}

/**
 * A printer that writes whole lines to `write`. Baton's own notes in the output ("$ node server.js",
 * "[baton] …") are left out: `baton up` reports the lifecycle in lines of its own.
 */
export function outputPrinter(write: (text: string) => void, colour: boolean): OutputPrinter {
  const partial = new Map<string, { generation: number; stream: 'stdout' | 'stderr'; text: string }>();
  let timer: NodeJS.Timeout | null = null;
  const emit = (generation: number, stream: 'stdout' | 'stderr', lines: string[]) => {
    const prefix = linePrefix(generation, stream, colour);
    write(lines.map((line) => `${prefix}${line.replace(/\r$/, '')}\n`).join(''));
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    for (const { generation, stream, text } of partial.values()) emit(generation, stream, [text]);
    partial.clear();
  };
  const print = (generation: number, text: string, stream: OutputStream) => {
    if (stream === 'baton') return;
    const key = `${generation}:${stream}`;
    const lines = ((partial.get(key)?.text ?? '') + text).split('\n');
    const rest = lines.pop()!;
    partial.delete(key);
    if (lines.length) emit(generation, stream, lines);
    if (rest) {
      partial.set(key, { generation, stream, text: rest });
      if (timer) clearTimeout(timer);
      timer = setTimeout(flush, PARTIAL_LINE_MS);
      timer.unref();
    }
  };
  return Object.assign(print, { flush });
}
