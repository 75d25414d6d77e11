// `baton init`: writes a baton.json that works for the app in a folder: a start command that listens on
// $PORT, a watch of the real sources, the framework's session cookie and its data in "shared". Knows Express
// and plain Node, Vite, Next.js, Django, Flask, FastAPI, Rails, Rack and Go. The extension's *Create
// baton.json* calls the same function.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_FILE, ConfigError } from './config';
import { sharedData } from './initData';

export interface Draft {
  start: string;
  build?: string;
  watch: string[];
  shared?: string[];
  session?: { cookie: string };
  env?: Record<string, string>;
}

/** A draft and what the user should know about it (a hard-coded port it saw, …). */
export interface Inferred {
  config: Draft;
  warnings: string[];
}

interface PackageJson {
  scripts?: Record<string, string>;
  main?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const exists = (dir: string, name: string) => fs.existsSync(path.join(dir, name));

function readText(dir: string, name: string): string {
  try {
    return fs.readFileSync(path.join(dir, name), 'utf8');
  } catch {
    return '';
  }
}

function readPackage(dir: string): PackageJson | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** The given folders and files that exist, folders as "name/**". */
function present(dir: string, folders: string[], files: string[] = []): string[] {
  return [
    ...folders.filter((f) => exists(dir, f)).map((f) => `${f}/**`),
    ...files.filter((f) => exists(dir, f)),
  ];
}

/** Top-level source files with these extensions, plus the usual source folders. */
function sourceGlobs(dir: string, extensions: RegExp): string[] {
  const files = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && extensions.test(e.name))
    .map((e) => e.name);
  // `bin` holds express-generator's entry file (bin/www); the rest are the usual homes of an app's code.
  const folders = [
    ...['src', 'lib', 'app', 'server', 'routes', 'views', 'templates', 'public', 'static', 'api', 'bin'],
    ...['config', 'controllers', 'middleware', 'middlewares', 'models', 'utils'],
  ];
  const globs = [...present(dir, folders), ...files].sort();
  return globs.length ? globs : ['**'];
}

/** A port a source file fixes (`app.listen(3000)`, `port=5000`, `":8080"`) instead of reading $PORT. */
export function hardCodedPort(source: string): number | null {
  for (const line of source.split('\n')) {
    if (/process\.env|os\.environ|getenv|ENV\[/i.test(line)) continue;
    const match =
      /\.(?:listen|run)\(\s*(\d{2,5})\b/.exec(line) ??
      /\bport\s*[=:]\s*(\d{2,5})\b/i.exec(line) ??
      /ListenAndServe\(\s*"[\w.]*:(\d{2,5})"/.exec(line);
    if (match) return Number(match[1]);
  }
  return null;
}

function portWarning(file: string, source: string, fix: string): string[] {
  const port = hardCodedPort(source);
  return port === null ? [] : [`${file} listens on port ${port}, not on $PORT: ${fix}`];
}

// ---- Node --------------------------------------------------------------------------------------------------

function node(dir: string, pkg: PackageJson): Inferred | null {
  const deps = { ...pkg.devDependencies, ...pkg.dependencies };
  const scripts = pkg.scripts ?? {};
  if (deps.next) {
    return {
      config: {
        start: 'npx next dev -p $PORT',
        watch: [
          ...present(dir, ['app', 'pages', 'components', 'lib', 'src', 'public', 'styles']),
          ...fs.readdirSync(dir).filter((f) => /^next\.config\.[cm]?[jt]s$/.test(f)),
          'package.json',
        ],
        ...shared(dir, exists(dir, 'prisma') ? ['prisma/*.db'] : []),
      },
      warnings: [],
    };
  }
  if (deps.vite) {
    return {
      config: {
        // The dev server, not a production build on every save; --strictPort: fail rather than pick another.
        start: 'npx vite --port $PORT --strictPort',
        watch: [
          ...present(dir, ['src', 'public'], ['index.html']),
          ...fs.readdirSync(dir).filter((f) => /^vite\.config\.[cm]?[jt]s$/.test(f)),
          'package.json',
        ],
        ...shared(dir),
      },
      warnings: [],
    };
  }
  const fromScript = /\bnode\s+(\S+\.[cm]?js)\b/.exec(scripts.start ?? '')?.[1];
  const file =
    fromScript ??
    ['server.js', 'app.js', 'index.js', 'server.mjs', 'main.js'].find((f) => exists(dir, f)) ??
    pkg.main;
  if (!scripts.start && !file) return null;
  const source = file ? readText(dir, file) : '';
  const usesSessions = deps['express-session'] !== undefined || source.includes('express-session');
  return {
    config: {
      start: scripts.start ? 'npm start' : `node ${file}`,
      ...(scripts.build ? { build: 'npm run build' } : {}),
      watch: sourceGlobs(dir, /\.[cm]?[jt]sx?$|^package\.json$/),
      ...(usesSessions ? { session: { cookie: 'connect.sid' } } : {}),
      ...shared(dir, exists(dir, 'prisma') ? ['prisma/*.db'] : []),
      env: { NODE_ENV: 'development' },
    },
    warnings: file
      ? portWarning(
          file,
          source,
          'Baton moves it to $PORT ("adoptPort"); better, listen on process.env.PORT (e.g. app.listen(process.env.PORT || 3000))',
        )
      : [],
  };
}

// ---- Python ------------------------------------------------------------------------------------------------

/** The project's own interpreter when it has a virtual environment, else python3. */
function python(dir: string): string {
  const venv = ['.venv', 'venv'].find((v) => exists(dir, `${v}/bin/python`));
  return venv ? `${venv}/bin/python` : 'python3';
}

const PYTHON_ENV = { PYTHONUNBUFFERED: '1' };
const PY_FILES = ['app.py', 'main.py', 'server.py', 'wsgi.py', 'application.py', 'api.py'];

/** The module ("app", "app.main") and source of the first file that imports `framework`. */
function findModule(dir: string, framework: string): { module: string; source: string } | null {
  const imports = new RegExp(`^\\s*(from|import)\\s+${framework}\\b`, 'm');
  const candidates = [...PY_FILES, ...PY_FILES.map((f) => `app/${f}`), 'app/__init__.py'];
  for (const file of candidates) {
    const source = readText(dir, file);
    if (imports.test(source))
      return { module: file.replace(/(\/__init__)?\.py$/, '').replace(/\//g, '.'), source };
  }
  return null;
}

function django(dir: string): Inferred {
  const settings = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && exists(dir, `${e.name}/settings.py`))
    .map((e) => readText(dir, `${e.name}/settings.py`))
    .join('\n');
  return {
    config: {
      start: `${python(dir)} manage.py runserver 127.0.0.1:$PORT --noreload`,
      watch: ['**/*.py', '**/templates/**', '**/static/**'],
      session: { cookie: 'sessionid' },
      ...shared(dir, [
        ...(settings.includes('db.sqlite3') ? ['db.sqlite3'] : []),
        ...(/MEDIA_ROOT/.test(settings) ? ['media/'] : []),
      ]),
      env: PYTHON_ENV,
    },
    warnings: [],
  };
}

function flask(dir: string, module: string): Inferred {
  return {
    config: {
      start: `${python(dir)} -m flask --app ${module} run --port $PORT`,
      watch: ['**/*.py', '**/templates/**', '**/static/**'],
      session: { cookie: 'session' },
      // Flask keeps its SQLite database (the tutorial's flaskr.sqlite) in the instance folder.
      ...shared(dir, ['instance/']),
      env: PYTHON_ENV,
    },
    warnings: [],
  };
}

function fastapi(dir: string, module: string, source: string): Inferred {
  const app = /^(\w+)\s*=\s*FastAPI\(/m.exec(source)?.[1] ?? 'app';
  return {
    config: {
      start: `${python(dir)} -m uvicorn ${module}:${app} --port $PORT`,
      watch: ['**/*.py', ...present(dir, ['templates', 'static'])],
      ...shared(dir),
      env: PYTHON_ENV,
    },
    warnings: [],
  };
}

function plainPython(dir: string): Inferred | null {
  const file = ['server.py', 'app.py', 'main.py'].find((f) => exists(dir, f));
  if (!file) return null;
  return {
    config: {
      start: `${python(dir)} -u ${file}`,
      watch: sourceGlobs(dir, /\.py$/),
      ...shared(dir),
      env: PYTHON_ENV,
    },
    warnings: portWarning(file, readText(dir, file), 'make it listen on int(os.environ["PORT"])'),
  };
}

function pythonApp(dir: string): Inferred | null {
  if (exists(dir, 'manage.py')) return django(dir);
  const flaskApp = findModule(dir, 'flask');
  if (flaskApp) return flask(dir, flaskApp.module);
  const fastapiApp = findModule(dir, 'fastapi');
  if (fastapiApp) return fastapi(dir, fastapiApp.module, fastapiApp.source);
  return plainPython(dir);
}

// ---- Ruby, Go ----------------------------------------------------------------------------------------------

function rails(dir: string): Inferred {
  // Rails names its session cookie after the application module: `module BlogApp` → `_blog_app_session`.
  const name = /^\s*module\s+(\w+)/m.exec(readText(dir, 'config/application.rb'))?.[1] ?? 'app';
  const underscored = name.replace(/([a-z\d])([A-Z])/g, '$1_$2').toLowerCase();
  return {
    config: {
      start: 'bin/rails server -p $PORT -b 127.0.0.1',
      watch: [...present(dir, ['app', 'config', 'lib']), 'Gemfile'],
      session: { cookie: `_${underscored}_session` },
      // Rails keeps SQLite databases and Active Storage files in storage/ (older apps: db/*.sqlite3).
      ...shared(dir, ['storage/', 'db/*.sqlite3']),
    },
    warnings: [],
  };
}

function go(dir: string): Inferred {
  const sources = fs.readdirSync(dir).filter((f) => f.endsWith('.go'));
  return {
    config: {
      start: 'go run .',
      watch: ['**/*.go', 'go.mod', ...present(dir, ['templates', 'static'])],
      ...shared(dir),
    },
    warnings: sources.flatMap((f) =>
      portWarning(
        f,
        readText(dir, f),
        'make it listen on os.Getenv("PORT"), e.g. http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)',
      ),
    ),
  };
}

/** `{ shared: [...] }` when the app has data, else nothing. */
function shared(dir: string, conventions: string[] = []): { shared?: string[] } {
  const globs = sharedData(dir, conventions);
  return globs.length ? { shared: globs } : {};
}

/** A baton.json for the app in `dir`; a ConfigError (one line, saying what to write) when it cannot tell. */
export function inferConfig(dir: string): Inferred {
  const pkg = readPackage(dir);
  const found =
    (pkg && node(dir, pkg)) ??
    pythonApp(dir) ??
    (exists(dir, 'go.mod') ? go(dir) : null) ??
    (exists(dir, 'Gemfile') && exists(dir, 'config/application.rb') ? rails(dir) : null) ??
    (exists(dir, 'Gemfile') && exists(dir, 'config.ru')
      ? { config: { start: 'bundle exec rackup -p $PORT -o 127.0.0.1', watch: ['**/*.rb'] }, warnings: [] }
      : null);
  if (found) return found;
  throw new ConfigError(
    `cannot tell how to start the app in ${dir}: write ${CONFIG_FILE} with "start", the command that serves HTTP on $PORT, e.g. {"start": "node server.js"}`,
  );
}

/** Writes `<dir>/baton.json` from `inferConfig`; never overwrites one. */
export async function writeInitConfig(dir: string): Promise<{ file: string; warnings: string[] }> {
  const file = path.join(dir, CONFIG_FILE);
  if (fs.existsSync(file))
    throw new ConfigError(
      `${file} already exists: edit it (or delete it to have "baton init" write a new one)`,
    );
  if (!fs.existsSync(dir)) throw new ConfigError(`${dir}: no such folder`);
  const { config, warnings } = inferConfig(dir);
  await fs.promises.writeFile(file, JSON.stringify(config, null, 2) + '\n', { flag: 'wx' });
  return { file, warnings };
}
