// The real-VS-Code suite's entry: the workbench loads this module into the extension host and calls
// run(); a rejection fails the run (test/vscode/run.mjs exits with 1).
import { brokenConfig } from './brokenConfig';
import { externalGateway } from './externalGateway';
import { failedDeploy } from './failedDeploy';
import { lifecycle } from './lifecycle';
import { welcome } from './welcome';

const scenarios: [string, () => Promise<void>][] = [
  ['welcome views: Create baton.json without one, Start Gateway with one', welcome],
  ['a broken baton.json gives one notification with the CLI line', brokenConfig],
  ['gateway lifecycle: start, session, deploy, drain, kill from the tree, stop', lifecycle],
  ['a failed deploy: the live generation stays, one notification, Show Logs', failedDeploy],
  ['a terminal gateway: found, let go when it dies, replaced by Start Gateway', externalGateway],
];

export async function run(): Promise<void> {
  const started = Date.now();
  for (const [name, scenario] of scenarios) {
    const t0 = Date.now();
    try {
      await scenario();
      console.log(`✔ ${name} (${Date.now() - t0} ms)`);
    } catch (err) {
      console.error(`✖ ${name} (${Date.now() - t0} ms)\n${err instanceof Error ? err.stack : err}`);
      throw err;
    }
  }
  console.log(`${scenarios.length} scenarios passed in ${Date.now() - started} ms`);
}
