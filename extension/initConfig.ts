// Create baton.json: runs the bundled CLI's `baton init --json`, so the editor writes exactly what the
// terminal would, and reaches the gateway's code only through a process boundary (ARCHITECTURE.md).
import { execFile } from 'node:child_process';

export interface InitResult {
  file: string;
  /** What the user should check (a hard-coded port it saw, …). */
  warnings: string[];
}

export function initConfig(cliPath: string, folder: string): Promise<InitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cliPath, 'init', folder, '--json'],
      // The editor's Node: Electron's binary acts as plain Node with this variable.
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 30_000 },
      (err, stdout, stderr) => {
        // The CLI says what went wrong in one line: "baton: <what to do>".
        if (err) return reject(new Error(stderr.trim().replace(/^baton: /, '') || err.message));
        try {
          resolve(JSON.parse(stdout) as InitResult);
        } catch {
          reject(new Error(`baton init answered something unexpected: ${stdout.slice(0, 200)}`));
        }
      },
    );
  });
}
