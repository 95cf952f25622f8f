/**
 * Files of the Salt trees (state tree, pillar tree or file) changed on disk: saved in the editor or
 * changed outside it (a git pull or checkout, a formatter, another editor). One VS Code file system
 * watcher, debounced, so that a checkout of many files is one change: what the editor reloads from its
 * trees (the rendered SLS, CodeLens) follows the disk, not only the editor's own saves.
 */
import * as vscode from 'vscode';
import { treeOfChange } from '../sls/roots';
import { rootsFor } from './config';

export class TreeFiles implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<string[]>();
  /** The changed files (absolute paths) under a tree of their folder, without those that never matter to a run. */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [this.changed];
  private pending = new Map<string, vscode.Uri>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly debounceMs = 200) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    const add = (uri: vscode.Uri) => this.add(uri);
    this.subscriptions.push(watcher, watcher.onDidCreate(add), watcher.onDidChange(add), watcher.onDidDelete(add));
  }

  private add(uri: vscode.Uri): void {
    if (uri.scheme !== 'file') return;
    this.pending.set(uri.fsPath, uri);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.debounceMs);
  }

  private flush(): void {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    // The trees of each workspace folder, found once per batch (a checkout brings many files of one folder).
    const rootsByFolder = new Map<string, string[]>();
    const files = batch.filter((uri) => {
      const key = vscode.workspace.getWorkspaceFolder(uri)?.uri.toString() ?? '';
      let roots = rootsByFolder.get(key);
      if (!roots) {
        const found = rootsFor(uri);
        roots = found ? [found.stateRoot, found.pillarRoot].filter((r): r is string => !!r) : [];
        rootsByFolder.set(key, roots);
      }
      return !!treeOfChange(roots, uri.fsPath);
    });
    if (files.length) this.changed.fire(files.map((uri) => uri.fsPath));
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }
}
