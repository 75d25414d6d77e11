// Checks on a request's head that Node's parser lets through.
import type * as http from 'node:http';

/** What is wrong with the request's Host header(s), or null. Node keeps only the first of repeated ones. */
export function hostProblem(req: http.IncomingMessage): string | null {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].length === 4 && req.rawHeaders[i].toLowerCase() === 'host') count++;
  }
  return count > 1 ? 'Bad Request: more than one Host header' : null;
}
