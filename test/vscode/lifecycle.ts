// The whole life of two generations, driven through the extension's commands and checked in its tree
// model, in the workbench's DOM and in the OS: start the gateway, open a session on generation 1, deploy
// generation 2, watch 1 drain, kill it from its tree item, stop the gateway.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TreeNode } from '../../extension/treeModel';
import { readGatewayFile } from '../../gateway/protocol/controlClient';
import { BrowserClient } from './browserClient';
import { batonApi, generation, processExists, stepTimer, waitForGateway, workspaceFolder } from './common';
import { clickDom, queryDom, screenshot, waitFor, waitForDom } from './workbench';

const SIDEBAR = '.part.sidebar';

function generationNode(nodes: TreeNode[], id: number): TreeNode {
  const node = nodes.find((n) => n.kind === 'generation' && n.generation === id);
  assert.ok(node, `the tree shows generation ${id}: ${JSON.stringify(nodes.map((n) => n.label))}`);
  return node;
}

export async function lifecycle(): Promise<void> {
  const api = await batonApi();
  const folder = workspaceFolder();
  assert.deepEqual(api.snapshots(), [], 'no gateway runs before the test starts one');

  const step = stepTimer();
  await vscode.commands.executeCommand('baton.startGateway');
  step('gateway listening');
  const gatewayFile = readGatewayFile(folder);
  assert.ok(gatewayFile, 'the gateway wrote .baton/gateway.json');
  try {
    const port = await waitForGateway(
      api,
      'generation 1 live',
      (s) => (s.state.live === 1 ? s.state.port : undefined),
      60_000,
    );
    step('generation 1 live');
    assert.notEqual(port, 8080, 'the test workspace asks for any free port');
    let nodes = await api.treeNodes();
    const live = generationNode(nodes, 1);
    assert.equal(live.description, 'live · 0 sessions · 0 tabs');
    assert.equal(live.contextValue, 'generation.live');
    const g1 = generation(api.snapshots()[0], 1);
    assert.ok(g1?.pid && g1.port);
    const worker = nodes.find((n) => n.kind === 'worker' && n.generation === 1);
    assert.match(
      worker?.description ?? '',
      new RegExp(`^pid ${g1.pid} · port ${g1.port} · up \\d+s · [\\d.]+ [KM]B$`),
    );

    // A browser session on generation 1: the gateway's cookie comes back on the second request.
    const browser = new BrowserClient(port, 'g1.localhost');
    const first = await browser.navigate('/');
    assert.equal(first.status, 200, first.body.slice(0, 200));
    assert.equal(first.headers['x-baton-generation'], '1');
    assert.ok(browser.cookie('baton_sid'), 'the gateway set baton_sid');
    await browser.navigate('/');
    await waitForGateway(api, 'a session on generation 1', (s) =>
      generation(s, 1)?.sessions === 1 ? true : undefined,
    );
    step('its session in the state');
    nodes = await api.treeNodes();
    assert.ok(nodes.some((n) => n.kind === 'session' && n.generation === 1 && n.label === 'Chrome · /'));
    const url = nodes.find((n) => n.kind === 'url');
    assert.equal(url?.label, `http://localhost:${port}/`, 'the app URL is the first item');

    // Deploy generation 2: 1 drains and keeps its session.
    await vscode.commands.executeCommand('baton.deploy');
    await waitForGateway(
      api,
      'generation 2 live and 1 draining with its session',
      (s) =>
        s.state.live === 2 && generation(s, 1)?.state === 'draining' && generation(s, 1)?.sessions === 1
          ? true
          : undefined,
      60_000,
    );
    step('generation 2 live, 1 draining');
    nodes = await api.treeNodes();
    assert.deepEqual(
      nodes.filter((n) => n.kind === 'generation').map((n) => [n.label, n.description, n.contextValue]),
      [
        ['generation 2', 'live · 0 sessions · 0 tabs', 'generation.live'],
        ['generation 1', 'draining · 1 session · 0 tabs', 'generation.draining'],
      ],
    );
    await checkWorkbench(port);
    step('workbench DOM checked');
    await openInSimpleBrowser();
    await openThroughCodeServer(port);
    step('Open in Browser checked');

    // Kill generation 1 from its row's context menu: it holds a session, so a modal asks first. VS Code
    // refuses modal dialogs under its test runner and says so with the dialog's contents: the question is
    // checked there, and nothing was killed without an answer.
    const [refused] = await killFromContextMenu('the question before Kill Worker', () =>
      waitForDom(
        'the question before Kill Worker',
        '.notifications-toasts .notification-list-item',
        (found) => found.some((e) => e.text.includes('refused to show dialog')),
        5000,
      ),
    );
    assert.match(refused.text, /Kill generation 1\? It holds 1 session/);
    assert.equal(generation(api.snapshots()[0], 1)?.state, 'draining', 'nothing is killed without a yes');
    await vscode.commands.executeCommand('notifications.clearAll');
    step('Kill Worker asked first');

    // With "baton.confirm" off, the same menu item kills at once.
    const config = vscode.workspace.getConfiguration('baton');
    await config.update('confirm', false, vscode.ConfigurationTarget.Workspace);
    try {
      await killFromContextMenu('generation 1 stopped', () =>
        waitForGateway(
          api,
          'generation 1 stopped',
          (s) => (generation(s, 1)?.state === 'stopped' ? true : undefined),
          20_000,
        ),
      );
      await waitFor(
        `worker ${g1.pid} of generation 1 to exit`,
        () => (processExists(g1.pid as number) ? undefined : true),
        10_000,
      );
    } finally {
      await config.update('confirm', undefined, vscode.ConfigurationTarget.Workspace);
    }
    step('generation 1 killed, its worker gone');
    assert.equal(generationNode(await api.treeNodes(), 1).contextValue, 'generation.stopped');

    const g2 = generation(api.snapshots()[0], 2);
    await vscode.commands.executeCommand('baton.stopGateway');
    assert.deepEqual(api.snapshots(), []);
    assert.equal(processExists(gatewayFile.pid), false, 'the gateway process exited');
    assert.equal(processExists(g2?.pid as number), false, 'the worker of generation 2 exited');
    assert.equal(readGatewayFile(folder), null, 'the gateway removed gateway.json');
    step('gateway stopped, every process gone');
  } finally {
    if (readGatewayFile(folder) && processExists(gatewayFile.pid)) process.kill(gatewayFile.pid, 'SIGTERM');
  }
}

/**
 * Right-click on the draining generation's row, then Kill Worker in its context menu, until `effect`
 * resolves. A click that lands while the menu is still opening is ignored by the workbench (the menu stays
 * open), so the gesture is repeated a few times.
 */
async function killFromContextMenu<T>(what: string, effect: () => Promise<T>): Promise<T> {
  const killItem = '.monaco-menu .action-label:has-text("Kill Worker")';
  for (let attempt = 1; ; attempt++) {
    // The menu of an attempt whose click it ignored may still be open (it covers the rows): click its item
    // again. An earlier attempt's kill may also have landed late: then there is no draining row, only the
    // effect to wait for again.
    const menuOpen = (await queryDom('.monaco-menu .action-label')).some((e) =>
      e.text.includes('Kill Worker'),
    );
    const draining = (await queryDom(`${SIDEBAR} .monaco-list-row`)).some((r) => r.text.includes('draining'));
    if (menuOpen) await clickDom(killItem);
    else if (draining) {
      await clickDom(`${SIDEBAR} .monaco-list-row:has-text("draining")`, 'right');
      await clickDom(killItem);
    }
    try {
      return await effect();
    } catch (err) {
      if (attempt === 4 || !(menuOpen || draining))
        throw new Error(`Kill Worker from the context menu, ${attempt} times: no ${what}: ${err}`);
    }
  }
}

/** The sidebar as a user sees it: the activity-bar icon with the session badge and the tree rows. */
async function checkWorkbench(port: number): Promise<void> {
  await vscode.commands.executeCommand('baton.generations.focus');
  const [icon] = await waitForDom(
    'the Baton activity-bar icon with a badge of 1 session',
    '.activitybar .action-item:has(a[aria-label^="Baton"])',
    (found) => found.length === 1 && found[0].text.includes('1'),
  );
  assert.match(icon.text, /^1$/);
  const rows = await waitForDom('the Generations rows', `${SIDEBAR} .monaco-list-row`, (found) =>
    found.some((e) => e.text.includes('generation 1draining · 1 session · 0 tabs')),
  );
  const texts = rows.map((r) => r.text);
  assert.ok(
    texts.some((t) => t.startsWith(`http://localhost:${port}/`)),
    `the URL row: ${texts.join(' | ')}`,
  );
  assert.ok(
    texts.some((t) => t.startsWith('generation 2live · 0 sessions · 0 tabs')),
    texts.join(' | '),
  );
  await waitForDom('the status bar item', '.part.statusbar .statusbar-item', (found) =>
    found.some((e) => e.text.includes('gen 2 · 1 session')),
  );
  // For the README: the app's baton.json beside a sidebar wide enough for the descriptions.
  await vscode.window.showTextDocument(vscode.Uri.file(path.join(workspaceFolder(), 'baton.json')));
  // "Decrease Editor Width": the sidebar gets the room.
  for (let i = 0; i < 4; i++) await vscode.commands.executeCommand('workbench.action.decreaseViewWidth');
  await screenshot('sidebar');
}

/**
 * What Open in Browser opens from code-server: asExternalUri turns the app's URL into code-server's
 * `/proxy/<port>/`, whose requests keep code-server's Host. A browser's page load there gets the app
 * itself (never a redirect to gN.localhost:<code-server port>, which would show a second workbench).
 */
async function openThroughCodeServer(port: number): Promise<void> {
  const external = (await vscode.env.asExternalUri(vscode.Uri.parse(`http://localhost:${port}/`))).toString();
  assert.notEqual(new URL(external).port, String(port), `code-server forwards the app: ${external}`);
  const page = await fetch(external, {
    redirect: 'manual',
    headers: { Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate', 'User-Agent': 'Mozilla/5.0 Chrome/124.0' },
  });
  const body = await page.text();
  assert.equal(
    page.status,
    200,
    `${external}: ${page.status} ${page.headers.get('location') ?? body.slice(0, 200)}`,
  );
  assert.equal(page.headers.get('x-baton-generation'), '2');
  assert.doesNotMatch(body, /vscode-workbench|code-server/i, 'the app, not a workbench');
}

/** Open in Browser with "baton.openIn": "simpleBrowser" opens the app in an editor tab. */
async function openInSimpleBrowser(): Promise<void> {
  const config = vscode.workspace.getConfiguration('baton');
  await config.update('openIn', 'simpleBrowser', vscode.ConfigurationTarget.Workspace);
  try {
    await vscode.commands.executeCommand('baton.openInBrowser');
    await waitForDom('a Simple Browser tab', '.part.editor .tabs-container .tab', (found) =>
      found.some((e) => e.text.includes('Simple Browser')),
    );
  } finally {
    await config.update('openIn', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }
}
