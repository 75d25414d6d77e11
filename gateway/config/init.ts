// `baton init`: writes a baton.json inferred from the app in a folder (its package.json scripts, a
// server.py, …). The extension's *Create baton.json* calls the same function.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_FILE } from './config';

interface Draft {
  start: string;
  build?: string;
  watch?: string[];
  session?: { cookie: string };
  env?: Record<string, string>;
}

const exists = (dir: string, name: string) => fs.existsSync(path.join(dir, name));

function readText(dir: string, name: string): string {
  try {
    return fs.readFileSync(path.join(dir, name), 'utf8');
  } catch {
    return '';
  }
}

function readPackage(
  dir: string,
): { scripts?: Record<string, string>; main?: string; dependencies?: Record<string, string> } | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** Source folders and top-level files worth watching, or everything when nothing typical is found. */
function watchGlobs(dir: string, extensions: RegExp): string[] {
  const globs: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (
      entry.isDirectory() &&
      /^(src|lib|app|server|routes|views|templates|public|static|pages|api)$/.test(entry.name)
    ) {
      globs.push(`${entry.name}/**`);
    } else if (entry.isFile() && extensions.test(entry.name)) globs.push(entry.name);
  }
  return globs.length ? globs : ['**'];
}

export function inferConfig(dir: string): Draft {
  const pkg = readPackage(dir);
  const scripts = pkg?.scripts ?? {};
  const file =
    ['server.js', 'app.js', 'index.js', 'server.mjs', 'main.js'].find((f) => exists(dir, f)) ?? pkg?.main;
  const start = scripts.start ? 'npm start' : file ? `node ${file}` : null;
  if (start) {
    const deps = pkg?.dependencies ?? {};
    const usesSessions =
      deps['express-session'] !== undefined ||
      (file !== undefined && readText(dir, file).includes('express-session'));
    return {
      start,
      ...(scripts.build ? { build: 'npm run build' } : {}),
      watch: watchGlobs(dir, /\.(c|m)?(js|ts)x?$|^package\.json$/),
      ...(usesSessions ? { session: { cookie: 'connect.sid' } } : {}),
      env: { NODE_ENV: 'development' },
    };
  }
  if (exists(dir, 'manage.py')) {
    return {
      start: 'python3 manage.py runserver 127.0.0.1:$PORT --noreload',
      watch: watchGlobs(dir, /\.py$/),
      session: { cookie: 'sessionid' },
    };
  }
  const py = ['server.py', 'app.py', 'main.py'].find((f) => exists(dir, f));
  if (py) return { start: `python3 -u ${py}`, watch: watchGlobs(dir, /\.py$/) };
  if (exists(dir, 'go.mod')) return { start: 'go run .', watch: ['**/*.go', 'go.mod'] };
  if (exists(dir, 'Gemfile') && exists(dir, 'config.ru'))
    return { start: 'bundle exec rackup -p $PORT -o 127.0.0.1', watch: watchGlobs(dir, /\.rb$/) };
  throw new Error(
    `cannot tell how to start the app in ${dir}: add a "start" script to package.json, or write baton.json by hand with "start" (a command that serves HTTP on $PORT)`,
  );
}

/** Writes `<dir>/baton.json` from `inferConfig`; returns its path. Never overwrites an existing one. */
export async function writeInitConfig(dir: string): Promise<string> {
  const file = path.join(dir, CONFIG_FILE);
  if (fs.existsSync(file)) throw new Error(`${file} already exists: edit it instead`);
  const draft = inferConfig(dir);
  await fs.promises.writeFile(file, JSON.stringify(draft, null, 2) + '\n', { flag: 'wx' });
  return file;
}
