// The one wording, for the terminal and the editor, of files a stopped generation wrote inside its snapshot.
import type { GenerationInfo } from './types';

/** Null when the generation wrote nothing that was lost. */
export function unsavedWarning(gen: Pick<GenerationInfo, 'id' | 'unsavedFiles'>): string | null {
  const files = gen.unsavedFiles;
  if (!files.length) return null;
  const named = files.slice(0, 5).join(', ') + (files.length > 5 ? ` and ${files.length - 5} more` : '');
  return (
    `generation ${gen.id} wrote ${files.length === 1 ? 'a file' : `${files.length} files`} inside its snapshot, ` +
    `deleted with it: ${named} — to keep what the app writes, add the path to "shared" in baton.json`
  );
}
