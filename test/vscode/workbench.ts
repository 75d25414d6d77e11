// The suite's side of test/vscode/run.mjs's log-line protocol: DOM queries against the workbench page and
// screenshots, answered as JSON files in $BATON_DOM_DIR. Plus waiting for a condition.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DomElement {
  text: string;
  ariaLabel: string | null;
  title: string | null;
  className: string | null;
}

let requests = 0;

async function ask<T>(request: string, answerFile: string): Promise<T> {
  const dir = process.env.BATON_DOM_DIR;
  if (!dir) throw new Error('BATON_DOM_DIR is not set: run the suite with test/vscode/run.mjs');
  console.log(request);
  const file = path.join(dir, answerFile);
  const answer = await waitFor(
    `an answer to "${request}"`,
    () => (fs.existsSync(file) ? file : undefined),
    15_000,
  );
  const data = JSON.parse(fs.readFileSync(answer, 'utf8')) as T & { error?: string };
  if (data.error) throw new Error(`${request}: ${data.error}`);
  return data;
}

/** document.querySelectorAll(selector) in the workbench page. */
export async function queryDom(selector: string): Promise<DomElement[]> {
  const id = `q${++requests}`;
  return (await ask<{ elements: DomElement[] }>(`BATON_DOM_QUERY ${id} ${selector}`, `dom-${id}.json`))
    .elements;
}

/** Waits until a DOM query finds elements that `accepts`; returns them. */
export function waitForDom(
  what: string,
  selector: string,
  accepts: (elements: DomElement[]) => boolean,
  timeoutMs = 10_000,
): Promise<DomElement[]> {
  let last: DomElement[] = [];
  return waitFor(
    what,
    async () => {
      last = await queryDom(selector);
      return accepts(last) ? last : undefined;
    },
    timeoutMs,
    () => `${selector} found ${JSON.stringify(last.map((e) => e.text || e.ariaLabel))}`,
  );
}

/** A real mouse click (through Chromium) on the first visible element that matches `selector`. */
export async function clickDom(selector: string, button: 'left' | 'right' = 'left'): Promise<void> {
  const id = `c${++requests}`;
  await ask(`BATON_DOM_CLICK ${id} ${button} ${selector}`, `click-${id}.json`);
}

/** Clicks `selector` until `probe` sees what the click should cause. A workbench under load can drop a click
 *  on a tree row: the custom tree view runs a row's command from its selection, and a refresh that lands
 *  between the click and the command (state events arrive several times a second) leaves it without one.
 *  A click whose effect never shows is therefore repeated (at most `attempts` times), and each repeat is
 *  logged, so a click the extension really ignores still fails the scenario. */
export async function clickUntil<T>(
  what: string,
  selector: string,
  probe: () => T | undefined | Promise<T | undefined>,
  { attempts = 3, perAttemptMs = 10_000 } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await clickDom(selector);
    try {
      return await waitFor(what, probe, perAttemptMs);
    } catch (err) {
      if (attempt >= attempts) throw err;
      console.log(
        `  · no sign of ${what} after clicking ${selector}: clicking again (${attempt + 1}/${attempts})`,
      );
    }
  }
}

/** A screenshot of the workbench into the driver's screenshot folder; its path, or null without one. */
export async function screenshot(name: string): Promise<string | null> {
  return (await ask<{ path: string | null }>(`BATON_SCREENSHOT ${name}`, `screenshot-${name}.json`)).path;
}

/** Polls `probe` until it returns something other than undefined. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  explain?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${explain ? `: ${explain()}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
