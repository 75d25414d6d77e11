// Base class for everything that owns VS Code resources: what it registers is disposed with it.
import type * as vscode from 'vscode';

export abstract class Disposable implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  protected isDisposed = false;

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    // Reverse order: later resources may depend on earlier ones.
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }

  protected _register<T extends vscode.Disposable>(value: T): T {
    if (this.isDisposed) value.dispose();
    else this.disposables.push(value);
    return value;
  }
}
