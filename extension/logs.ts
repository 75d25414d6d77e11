// Generation output: streamed from the events socket into the "Baton" log output channel (stderr as
// warnings), and per generation as a read-only document (`baton-log:` URIs, fetched with the control
// API's logs call). The gateway already shows snapshot paths as workspace paths, so links open the file.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import type { Gateways } from './gateways';

const SCHEME = 'baton-log';

export class GatewayLogs extends Disposable implements vscode.TextDocumentContentProvider {
  readonly channel = this._register(vscode.window.createOutputChannel('Baton', { log: true }));
  private readonly changed = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.changed.event;

  constructor(private readonly gateways: Gateways) {
    super();
    this._register(vscode.workspace.registerTextDocumentContentProvider(SCHEME, this));
    this._register(
      gateways.onLog(({ folder, generation, text, stream }) => {
        const prefix =
          gateways.folders().length > 1 ? `${path.basename(folder)} gen ${generation}` : `gen ${generation}`;
        // One channel level per stream, so a traceback's lines share one prefix width and its ^^^ align.
        const write = stream === 'stderr' ? this.channel.warn : this.channel.info;
        for (const line of text.replace(/\n$/, '').split('\n'))
          write.call(this.channel, `[${prefix}] ${line}`);
      }),
    );
  }

  /** Opens generation `id`'s build and worker output (fetched again if it is already open). */
  async showGeneration(folder: string, id: number): Promise<void> {
    const uri = vscode.Uri.from({
      scheme: SCHEME,
      path: `/${path.basename(folder)}/generation-${id}.log`,
      query: new URLSearchParams({ folder, id: String(id) }).toString(),
    });
    this.changed.fire(uri);
    const doc = await vscode.languages.setTextDocumentLanguage(
      await vscode.workspace.openTextDocument(uri),
      'log',
    );
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const query = new URLSearchParams(uri.query);
    const folder = query.get('folder') ?? '';
    const id = Number(query.get('id'));
    const client = this.gateways.get(folder)?.connection.client;
    if (!client)
      return `The gateway for ${folder} is not running: the output of generation ${id} is gone with it.`;
    try {
      return (await client.logs(id)) || `(generation ${id} has written no output yet)`;
    } catch (err) {
      return `Could not fetch the output of generation ${id}: ${(err as Error).message}`;
    }
  }
}
