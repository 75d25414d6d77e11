// Loads and validates `baton.json` (README, "Configuration"). Every problem is one message naming the field.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findNodeAtLocation, parse, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { Affinity } from '../protocol/types';

export interface BatonConfig {
  start: string;
  build: string | null;
  buildTimeoutSeconds: number;
  port: number;
  host: string;
  watch: string[];
  ignore: string[];
  /** Data every generation shares: linked from the workspace into each snapshot, never copied. */
  shared: string[];
  affinity: Affinity;
  follow: boolean;
  allowedHosts: string[];
  inject: boolean;
  /** Node workers: the first listen on a fixed port is moved to $PORT. */
  adoptPort: boolean;
  ready: { path: string | null; timeoutSeconds: number };
  session: { cookie: string | null; idleTimeoutSeconds: number; tabGraceSeconds: number };
  retireAfterSeconds: number;
  env: Record<string, string>;
}

export const CONFIG_FILE = 'baton.json';

export class ConfigError extends Error {
  /** The field the message is about ("session.idleTimeoutSeconds"), to point at it in the file. */
  field?: string;
}

export const DEFAULTS: Omit<BatonConfig, 'start'> = {
  build: null,
  buildTimeoutSeconds: 300,
  port: 8080,
  host: '127.0.0.1',
  watch: ['**'],
  ignore: [],
  shared: [],
  affinity: 'tab',
  follow: false,
  allowedHosts: [],
  inject: true,
  adoptPort: true,
  ready: { path: '/', timeoutSeconds: 30 },
  session: { cookie: null, idleTimeoutSeconds: 1800, tabGraceSeconds: 10 },
  retireAfterSeconds: 0,
  env: {},
};

/** A field's check; number, enum and object checks also carry their rules (the schema test compares them). */
type Check = ((value: unknown, field: string) => unknown) & {
  minimum?: number;
  maximum?: number;
  enum?: string[];
  shape?: Record<string, Check>;
};

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : JSON.stringify(value);

const fail = (field: string, wanted: string, value: unknown): never => {
  throw fieldError(field, `"${field}" must be ${wanted} (got ${describe(value)})`);
};

function fieldError(field: string, message: string): ConfigError {
  const err = new ConfigError(message);
  err.field = field;
  return err;
}

const string: Check = (v, f) =>
  typeof v === 'string' && v.trim() !== '' ? v : fail(f, 'a non-empty string', v);
const nullableString: Check = (v, f) => (v === null ? null : string(v, f));
const boolean: Check = (v, f) => (typeof v === 'boolean' ? v : fail(f, 'true or false', v));
const number = (min: number, max: number): Check =>
  Object.assign(
    (v: unknown, f: string) =>
      typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max
        ? v
        : fail(f, `a number from ${min} to ${max}`, v),
    { minimum: min, maximum: max },
  );
const integer = (min: number, max: number): Check =>
  Object.assign(
    (v: unknown, f: string) =>
      Number.isInteger(v) && (v as number) >= min && (v as number) <= max
        ? v
        : fail(f, `a whole number from ${min} to ${max}`, v),
    { minimum: min, maximum: max },
  );
const stringList: Check = (v, f) =>
  Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '') ? v : fail(f, 'a list of strings', v);
const pathsUnderRoot: Check = (v, f) => {
  const list = stringList(v, f) as string[];
  const outside = list.find((p) => p.startsWith('/') || p.split('/').includes('..'));
  return outside === undefined
    ? list
    : fail(f, 'paths relative to the app\'s root, such as "uploads/" or "db/*.sqlite3"', outside);
};
const oneOf = (...choices: string[]): Check =>
  Object.assign(
    (v: unknown, f: string) =>
      choices.includes(v as string) ? v : fail(f, choices.map((c) => `"${c}"`).join(' or '), v),
    { enum: choices },
  );
const readyPath: Check = (v, f) =>
  v === null || (typeof v === 'string' && v.startsWith('/'))
    ? v
    : fail(f, 'a path starting with "/" or null', v);
const envMap: Check = (v, f) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(f, 'an object of strings', v);
  for (const [key, value] of Object.entries(v)) {
    if (typeof value !== 'string') fail(`${f}.${key}`, 'a string', value);
  }
  return v;
};

const object = (shape: Record<string, Check>): Check =>
  Object.assign(
    (v: unknown, f: string) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(f, 'an object', v);
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(v)) {
        const field = f ? `${f}.${key}` : key;
        const check = shape[key];
        if (!check) throw fieldError(field, `unknown field "${field}"${suggest(key, Object.keys(shape))}`);
        out[key] = check(value, field);
      }
      return out;
    },
    { shape },
  );

export const SHAPE: Record<string, Check> = {
  $schema: string,
  start: string,
  build: nullableString,
  buildTimeoutSeconds: number(1, 86_400),
  port: integer(0, 65_535),
  host: string,
  watch: stringList,
  ignore: stringList,
  shared: pathsUnderRoot,
  affinity: oneOf('tab', 'session'),
  follow: boolean,
  allowedHosts: stringList,
  inject: boolean,
  adoptPort: boolean,
  ready: object({ path: readyPath, timeoutSeconds: number(0.1, 3600) }),
  session: object({
    cookie: nullableString,
    idleTimeoutSeconds: number(1, 31_536_000),
    tabGraceSeconds: number(0, 86_400),
  }),
  retireAfterSeconds: number(0, 31_536_000),
  env: envMap,
};

/** Finds the closest known field name for a misspelt one. */
function suggest(key: string, known: string[]): string {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]++;
      for (let j = 1; j <= b.length; j++) {
        const next = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = row[j];
        row[j] = next;
      }
    }
    return row[b.length];
  };
  const best = known
    .map((k) => [k, distance(key.toLowerCase(), k.toLowerCase())] as const)
    .sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 2 ? ` (did you mean "${best[0]}"?)` : '';
}

/** Parses and validates the text of a baton.json; throws ConfigError naming the field. */
export function parseConfig(text: string): BatonConfig {
  // JSON with comments and trailing commas, as VS Code reads its own settings (the README's example parses).
  const errors: ParseError[] = [];
  const raw: unknown = parse(text, errors, { allowTrailingComma: true, allowEmptyContent: false });
  if (errors.length > 0) {
    const { error, offset } = errors[0];
    throw new ConfigError(`not valid JSON: ${printParseErrorCode(error)} ${position(text, offset)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      `must be one JSON object such as {"start": "node server.js"} (got ${describe(raw)})`,
    );
  }
  const given = object(SHAPE)(raw, '') as Partial<BatonConfig>;
  if (given.start === undefined)
    throw new ConfigError('"start" is missing: the command that starts one worker on $PORT');
  return {
    ...DEFAULTS,
    ...given,
    start: given.start,
    ready: { ...DEFAULTS.ready, ...given.ready },
    session: { ...DEFAULTS.session, ...given.session },
    env: { ...given.env },
  };
}

/** Reads `<root>/baton.json`; every failure is a ConfigError whose message starts with the file's path. */
export function loadConfig(root: string): BatonConfig {
  const file = path.join(root, CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `${file}: no baton.json here — create one with "baton init" (it needs at least "start")`
        : `${file}: cannot read it (${code})`,
    );
  }
  try {
    return parseConfig(text);
  } catch (err) {
    const field = (err as ConfigError).field;
    const node = field
      ? findNodeAtLocation(parseTree(text) ?? { type: 'null', offset: 0, length: 0 }, field.split('.'))
      : undefined;
    const where = node ? ` ${position(text, node.parent?.offset ?? node.offset)}` : '';
    throw new ConfigError(`${file}: ${(err as Error).message}${where}`);
  }
}

/** "(line 3, column 5)", 1-based as editors count; the extension opens baton.json there. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `(line ${before.length}, column ${before[before.length - 1].length + 1})`;
}
