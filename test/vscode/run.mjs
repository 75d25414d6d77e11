// Runs an extension's test suite inside real VS Code, the way VS Code's own browser integration tests do:
// code-server (installed by scripts/install-code-server.sh) serves the workbench, Debian's Chromium shows it
// through playwright-core, and the workbench loads the suite's run() into the real extension host. The
// driver exits with the suite's code.
//
// usage: node test/vscode/run.mjs (--extension <EXT_DIR> | --vsix <file.vsix>) --tests <compiled index.js>
//          --workspace <folder to open> [--screenshot <png>] [--timeout <seconds, default 300>]
//   --extension  loads EXT_DIR as the extension under development
//   --vsix       installs the packaged build instead and runs that (no extension is loaded from a folder)
//   --screenshot the workbench when the suite has finished; named screenshots go into the same folder
// env: BATON_CODE_SERVER  code-server install (default ${BATON_CACHE:-~/.cache/baton-ci}/code-server-4.100.3)
//      BATON_CHROMIUM     browser (default /usr/bin/chromium)
//      BATON_VSCODE_VERBOSE=1  also stream code-server's own log (otherwise its tail is shown on failure)
//
// The suite's console output reaches this driver (window.codeAutomationLog) and is printed. The suite can
// also ask the driver for things with a line it logs; the answer is a JSON file in the folder named by the
// extension host's environment variable BATON_DOM_DIR, which the suite polls:
//   BATON_SCREENSHOT <name>         -> <screenshot folder>/<name>.png; answer screenshot-<name>.json {"path"}
//                                      ("path": null when --screenshot was not given)
//   BATON_DOM_QUERY <id> <selector> -> answer dom-<id>.json {"elements": [{text, ariaLabel, title, className}]}
//                                      for document.querySelectorAll(selector) in the workbench page
//   BATON_DOM_CLICK <id> <button> <selector>
//                                   -> a real mouse click (<button>: left or right) on the first element that
//                                      matches and is visible; answer click-<id>.json {"clicked": true}
// Either answer is {"error": "..."} when the request failed. <name> and <id>: letters, digits, "_", "." or "-".
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const CODE_SERVER_VERSION = '4.100.3';
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
// Quiet, offline-friendly defaults for the throw-away profile.
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
};
const USAGE =
  'usage: node test/vscode/run.mjs (--extension <dir> | --vsix <file>) --tests <index.js> --workspace <dir> ' +
  '[--screenshot <png>] [--timeout <seconds>]';
const SAFE_NAME = /^[\w.-]+$/;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const log = (message) => console.error(`[vscode-run ${elapsed()}] ${message}`);

class UsageError extends Error {}

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        extension: { type: 'string' },
        vsix: { type: 'string' },
        tests: { type: 'string' },
        workspace: { type: 'string' },
        screenshot: { type: 'string' },
        timeout: { type: 'string', default: '300' },
      },
    }));
  } catch (err) {
    throw new UsageError(err.message);
  }
  if (!values.extension === !values.vsix) throw new UsageError('give exactly one of --extension and --vsix');
  if (!values.tests) throw new UsageError('--tests <compiled index.js> is required');
  if (!values.workspace) throw new UsageError('--workspace <folder> is required');
  const timeout = Number(values.timeout);
  if (!(timeout > 0)) {
    throw new UsageError(`--timeout must be a number of seconds > 0, not "${values.timeout}"`);
  }
  const options = {
    extension: values.extension && path.resolve(values.extension),
    vsix: values.vsix && path.resolve(values.vsix),
    tests: path.resolve(values.tests),
    workspace: path.resolve(values.workspace),
    screenshot: values.screenshot && path.resolve(values.screenshot),
    timeoutMs: timeout * 1000,
  };
  if (options.extension && !existsSync(path.join(options.extension, 'package.json'))) {
    throw new UsageError(`--extension ${options.extension} has no package.json`);
  }
  if (options.vsix && !isFile(options.vsix)) throw new UsageError(`--vsix ${options.vsix} is not a file`);
  if (!isFile(options.tests)) {
    throw new UsageError(`--tests ${options.tests} is not a file (compile the suite first)`);
  }
  if (!isDirectory(options.workspace)) {
    throw new UsageError(`--workspace ${options.workspace} is not a folder`);
  }
  if (options.screenshot && !options.screenshot.endsWith('.png')) {
    throw new UsageError(`--screenshot ${options.screenshot} must end with .png`);
  }
  return options;
}

function isFile(p) {
  return existsSync(p) && statSync(p).isFile();
}

function isDirectory(p) {
  return existsSync(p) && statSync(p).isDirectory();
}

function codeServerDir() {
  const dir =
    process.env.BATON_CODE_SERVER ||
    path.join(
      process.env.BATON_CACHE || path.join(homedir(), '.cache', 'baton-ci'),
      `code-server-${CODE_SERVER_VERSION}`,
    );
  const marker = path.join(dir, '.baton-installed');
  if (!existsSync(marker)) {
    throw new UsageError(`code-server is not installed in ${dir}: run scripts/install-code-server.sh first`);
  }
  // Its native modules only load in the Node they were built for.
  if (!readFileSync(marker, 'utf8').includes(`node-abi ${process.versions.modules}\n`)) {
    throw new UsageError(
      `${dir} was built for another Node version: run scripts/install-code-server.sh again`,
    );
  }
  return dir;
}

function chromiumPath() {
  const exe = process.env.BATON_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(exe)) {
    throw new UsageError(`no browser at ${exe}: apt-get install -y chromium (or set BATON_CHROMIUM)`);
  }
  return exe;
}

// The environment code-server and so the extension host get. A VS Code terminal's variables would make
// code-server hand the folder to the editor that owns that terminal instead of starting its own.
// EXTENSIONS_GALLERY={} turns the marketplace (open-vsx) off: offline, its lookups only add errors.
// VSCODE_CLI=1 says the environment is complete already, so the server skips running a login shell to
// read the user's environment (slow under load, and a process that outlives a short run).
function serverEnv(domDir) {
  const env = { BATON_DOM_DIR: domDir, EXTENSIONS_GALLERY: '{}', VSCODE_CLI: '1' };
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(VSCODE_|CODE_SERVER_|ELECTRON_RUN_AS_NODE$)/.test(key)) env[key] = value;
  }
  return env;
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Processes that escaped code-server's process group (setsid, detached spawns) still carry our unique
// BATON_DOM_DIR in their environment: that finds exactly the ones this run started.
function sweepLeftovers(domDir) {
  const needle = Buffer.from(`\0BATON_DOM_DIR=${domDir}\0`);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ;
    try {
      environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${entry}/environ`)]);
    } catch {
      continue; // exited meanwhile, or not ours to read
    }
    if (!environ.includes(needle)) continue;
    let command = '';
    try {
      command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      // it exited meanwhile: the kill below is a no-op
    }
    log(`killing leftover process ${entry}: ${command}`);
    try {
      process.kill(Number(entry), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function writeAnswer(dir, name, answer) {
  const file = path.join(dir, name);
  await writeFile(`${file}.tmp`, JSON.stringify(answer));
  await rename(`${file}.tmp`, file); // the suite polls for the file: it must never see half of it
}

function describeError(err) {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

class Run {
  constructor(options) {
    this.options = options;
    this.codeServerDir = codeServerDir();
    this.chromium = chromiumPath();
    this.entry = path.join(this.codeServerDir, 'out', 'node', 'entry.js');
    this.screenshotDir = options.screenshot && path.dirname(options.screenshot);
    this.pending = Promise.resolve(); // protocol requests, answered one after the other
    this.logTail = [];
  }

  // Resolves with the suite's exit code.
  async execute() {
    await this.start();
    log('workbench opened');
    const code = await this.finished;
    await this.pending;
    return code;
  }

  // A timeout can stop the run while start() is still on its way: it must not start anything after that.
  checkNotStopped() {
    if (this.stopped) throw new Error('the run was stopped');
  }

  async start() {
    this.tmp = await mkdtemp(path.join(tmpdir(), 'baton-vscode-'));
    this.domDir = path.join(this.tmp, 'dom');
    const userDir = path.join(this.tmp, 'data', 'User');
    await Promise.all([mkdir(this.domDir), mkdir(userDir, { recursive: true })]);
    await writeFile(path.join(userDir, 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
    if (this.screenshotDir) await mkdir(this.screenshotDir, { recursive: true });
    this.commonArgs = [
      '--config',
      path.join(this.tmp, 'config.yaml'), // else code-server writes one into ~/.config
      '--user-data-dir',
      path.join(this.tmp, 'data'),
      '--extensions-dir',
      path.join(this.tmp, 'extensions'),
    ];
    if (this.options.vsix) await this.installVsix();
    const origin = await this.startCodeServer();
    log(`code-server listening on ${origin}`);
    await this.openWorkbench(origin);
  }

  async installVsix() {
    log(`installing ${this.options.vsix}`);
    this.checkNotStopped();
    const child = spawn(
      process.execPath,
      [this.entry, ...this.commonArgs, '--install-extension', this.options.vsix],
      {
        env: serverEnv(this.domDir),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.installer = child;
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    // code-server reports some install failures on its output with exit code 0.
    if (code !== 0 || !/was successfully installed/.test(output)) {
      throw new Error(`installing ${this.options.vsix} failed (exit ${code}):\n${output.trim()}`);
    }
  }

  startCodeServer() {
    const args = [
      this.entry,
      '--auth',
      'none',
      '--bind-addr',
      '127.0.0.1:0', // code-server picks a free port and logs it: no race with other runs
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      ...this.commonArgs,
    ];
    this.checkNotStopped();
    // Its own process group, so that it and everything it starts can be stopped together.
    this.codeServer = spawn(process.execPath, args, {
      detached: true,
      env: serverEnv(this.domDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.codeServerExit = new Promise((resolve) =>
      this.codeServer.on('exit', (code, signal) => resolve(signal ?? code)),
    );
    const logFile = createWriteStream(path.join(this.tmp, 'code-server.log'));
    return new Promise((resolve, reject) => {
      const onLine = (line) => {
        logFile.write(`${line}\n`);
        this.logTail.push(line);
        if (this.logTail.length > 40) this.logTail.shift();
        if (process.env.BATON_VSCODE_VERBOSE === '1') console.error(`[code-server] ${line}`);
        const listening = /HTTP server listening on (http:\/\/\S+?)\/?$/.exec(line);
        if (listening) resolve(listening[1]);
      };
      createInterface({ input: this.codeServer.stdout }).on('line', onLine);
      createInterface({ input: this.codeServer.stderr }).on('line', onLine);
      this.codeServer.on('error', reject);
      this.codeServerExit.then((how) => reject(new Error(`code-server exited (${how}) before it listened`)));
    });
  }

  async openWorkbench(origin) {
    const browserServer = await chromium.launchServer({
      executablePath: this.chromium,
      headless: true,
      args: CHROMIUM_FLAGS,
      // This driver stops the browser itself, together with code-server.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    if (this.stopped) await browserServer.kill();
    this.checkNotStopped();
    this.browserServer = browserServer;
    this.browser = await chromium.connect(this.browserServer.wsEndpoint());
    this.page = await this.browser.newPage({ viewport: { width: 1400, height: 900 } });
    this.finished = new Promise((resolve, reject) => {
      this.codeServerExit.then((how) => reject(new Error(`code-server exited (${how}) while the tests ran`)));
      this.browser.on('disconnected', () => reject(new Error('the browser went away while the tests ran')));
      this.page.on('crash', () => reject(new Error('the workbench page crashed')));
      this.resolveFinished = resolve;
    });
    this.finished.catch(() => {}); // awaited in execute(); an early failure must not crash the driver first
    await this.page.exposeFunction('codeAutomationLog', (type, args) => this.onLog(type, args));
    await this.page.exposeFunction('codeAutomationExit', (code) => this.resolveFinished(code));

    const remote = (p) => `vscode-remote://${new URL(origin).host}${p}`;
    // With --vsix the installed build runs; an empty development folder still puts the workbench in
    // extension-test mode (test runner, log forwarding) without shadowing it.
    const developmentPath = this.options.extension ?? path.join(this.tmp, 'no-development-extension');
    if (!this.options.extension) await mkdir(developmentPath);
    const payload = [
      ['extensionDevelopmentPath', remote(developmentPath)],
      ['extensionTestsPath', remote(this.options.tests)],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
    ];
    const url = `${origin}/?folder=${encodeURIComponent(this.options.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await this.page.goto(url, { timeout: 0 }); // a slow, busy machine can need more than 30 s: --timeout rules
  }

  onLog(type, args) {
    const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    console.log(type === 'info' ? text : `[${type}] ${text}`);
    const shot = /\bBATON_SCREENSHOT (\S+)\s*$/m.exec(text);
    if (shot) this.enqueue(() => this.screenshot(shot[1]));
    const query = /\bBATON_DOM_QUERY (\S+) (.+)$/m.exec(text);
    if (query) this.enqueue(() => this.domQuery(query[1], query[2].trim()));
    const click = /\bBATON_DOM_CLICK (\S+) (left|right) (.+)$/m.exec(text);
    if (click) this.enqueue(() => this.domClick(click[1], click[2], click[3].trim()));
  }

  enqueue(task) {
    this.pending = this.pending
      .then(task)
      .catch((err) => log(`answering the suite failed: ${describeError(err)}`));
  }

  async screenshot(name) {
    if (!SAFE_NAME.test(name)) return log(`ignored BATON_SCREENSHOT with a bad name: ${name}`);
    const answer = `screenshot-${name}.json`;
    if (!this.screenshotDir) return writeAnswer(this.domDir, answer, { path: null });
    const file = path.join(this.screenshotDir, `${name}.png`);
    try {
      await this.page.screenshot({ path: file });
      log(`screenshot ${file}`);
      await writeAnswer(this.domDir, answer, { path: file });
    } catch (err) {
      await writeAnswer(this.domDir, answer, { error: describeError(err) });
    }
  }

  async domQuery(id, selector) {
    if (!SAFE_NAME.test(id)) return log(`ignored BATON_DOM_QUERY with a bad id: ${id}`);
    try {
      const elements = await this.page.evaluate(
        (sel) =>
          Array.from(document.querySelectorAll(sel), (el) => ({
            text: (el.textContent ?? '').trim(),
            ariaLabel: el.getAttribute('aria-label'),
            title: el.getAttribute('title'),
            className: el.getAttribute('class'),
          })),
        selector,
      );
      await writeAnswer(this.domDir, `dom-${id}.json`, { elements });
    } catch (err) {
      await writeAnswer(this.domDir, `dom-${id}.json`, { error: describeError(err) });
    }
  }

  async domClick(id, button, selector) {
    if (!SAFE_NAME.test(id)) return log(`ignored BATON_DOM_CLICK with a bad id: ${id}`);
    try {
      await this.page.locator(selector).locator('visible=true').first().click({ button, timeout: 10000 });
      await writeAnswer(this.domDir, `click-${id}.json`, { clicked: true });
    } catch (err) {
      await writeAnswer(this.domDir, `click-${id}.json`, { error: describeError(err) });
    }
  }

  // Taken after a failure too: it shows where the workbench was stuck.
  async finalScreenshot() {
    if (!this.options.screenshot || !this.page) return;
    try {
      await this.page.screenshot({ path: this.options.screenshot, timeout: 10000 });
      log(`screenshot ${this.options.screenshot}`);
    } catch (err) {
      log(`no final screenshot: ${describeError(err)}`);
    }
  }

  // Stops everything this run started, whatever state it is in; calls after the first share its work.
  stop() {
    this.stopped = true;
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  async stopAll() {
    this.installer?.kill('SIGKILL');
    await Promise.all([this.stopBrowser(), this.stopCodeServer()]);
    if (this.domDir) sweepLeftovers(this.domDir);
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true, maxRetries: 3 });
  }

  async stopBrowser() {
    if (!this.browserServer) return;
    const pid = this.browserServer.process().pid;
    // close() also removes Playwright's temporary browser profile; a hung browser gets killed after it.
    await Promise.race([this.browserServer.close().catch(() => {}), delay(5000)]);
    if (pid) killGroup(pid, 'SIGKILL');
  }

  async stopCodeServer() {
    if (!this.codeServer) return;
    if (this.codeServer.exitCode === null && this.codeServer.signalCode === null) {
      killGroup(this.codeServer.pid, 'SIGTERM');
      await Promise.race([this.codeServerExit, delay(5000)]);
    }
    killGroup(this.codeServer.pid, 'SIGKILL'); // its children may outlive it
  }
}

async function main() {
  let run;
  const stopAndExit = async (code) => {
    await run?.stop().catch((err) => log(`cleanup: ${describeError(err)}`));
    process.exit(code);
  };
  const onSignal = (signal, code) => {
    log(`${signal}: stopping`);
    stopAndExit(code);
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  try {
    run = new Run(parseOptions(process.argv.slice(2)));
    const { timeoutMs } = run.options;
    const timeout = new Promise((_, reject) => {
      setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs / 1000} s (see --timeout)`)),
        timeoutMs,
      ).unref();
    });
    const code = await Promise.race([run.execute(), timeout]);
    log(`tests finished with exit code ${code}`);
    await run.finalScreenshot();
    await stopAndExit(code);
  } catch (err) {
    if (err instanceof UsageError) {
      log(err.message);
      console.error(USAGE);
      return stopAndExit(2);
    }
    if (run?.stopped) return; // a signal stops the run: what broke meanwhile is no news
    log(`FAILED: ${err instanceof Error ? err.message : err}`);
    if (run?.logTail.length) console.error(`last lines of code-server's log:\n${run.logTail.join('\n')}`);
    await run?.finalScreenshot();
    await stopAndExit(1);
  }
}

await main();
