// What `baton init` puts in "shared": the app's data, which every generation must use in place rather than
// copy (SQLite files and upload or storage folders it sees, plus those its framework's conventions imply).
import * as fs from 'node:fs';
import * as path from 'node:path';

const SQLITE = /\.(sqlite3?|db)$/;
const DATA_FOLDER = /^(uploads?|storage|media)$/;
/** Folders that hold no app data of the user's: dependencies, caches, tools' state. */
const SKIP = /^(\..*|node_modules|venv|env|__pycache__|vendor|target|dist|build|tmp|log)$/;

/** Paths relative to `dir` (folders end with "/"), at most `depth` folders down. */
function seen(dir: string, rel = '', depth = 3): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isFile() && SQLITE.test(entry.name)) out.push(name);
    else if (entry.isDirectory() && DATA_FOLDER.test(entry.name)) out.push(`${name}/`);
    else if (entry.isDirectory() && !SKIP.test(entry.name) && depth > 1)
      out.push(...seen(dir, name, depth - 1));
  }
  return out;
}

/** The "shared" globs for the app in `dir`: `conventions` of its framework first, then what is there. */
export function sharedData(dir: string, conventions: string[] = []): string[] {
  const found = seen(dir).sort();
  // What a conventional folder or glob already covers is not listed again.
  const patterns = conventions.map(
    (c) =>
      new RegExp(
        `^${c.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}${c.endsWith('/') ? '.+' : '$'}`,
      ),
  );
  const covered = (p: string) => patterns.some((pattern) => pattern.test(p));
  return [...new Set([...conventions, ...found.filter((p) => !covered(p))])];
}
