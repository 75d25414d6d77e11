// A worker runs in its snapshot copy, so its tracebacks name files there (`/tmp/baton-0/<id>/g4/server.py`).
// Wherever output is shown, those paths are shown as the workspace paths they came from, so that a terminal
// or the editor opens the real file at the line.

/**
 * `text` with every path under `appDir` (the snapshot's copy of the app root) rewritten to the same path
 * under `root`. `appDir` must end at a path boundary: `/x/g1` never matches inside `/x/g10`.
 */
export function toWorkspacePaths(text: string, appDir: string, root: string): string {
  if (!text.includes(appDir)) return text;
  const pattern = new RegExp(`${escapeRegExp(appDir)}(?![\\w.-])`, 'g');
  return text.replace(pattern, () => root);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
