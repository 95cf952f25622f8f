/**
 * CodeLens on SLS files of the state tree: above the file Apply file, Test file and Show rendered;
 * above each state ID Apply and Test for that state alone (`state.sls_id ID mods=MODULE`), IDs that
 * `{% set %}` and `tpldir` decide too (stateLenses.ts). IDs made by Jinja from data
 * (`web_site_{{ site }}`) get none: Salt knows them only after rendering. None in Restricted Mode.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { moduleForFile } from '../../sls/modules';
import { codeLensEnabled, rootsFor, section } from '../config';
import { loadRuntime } from '../engines';
import type { TreeFiles } from '../treeFiles';

/** A template's text for the render context: an open editor's (unsaved edits too), else the file's. */
function textOf(file: string): string | undefined {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
  if (open) return open.getText();
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export class SlsCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [this.changed];

  /** `files`: the trees' files changed on disk; a template's change (map.jinja) may change which IDs get lenses. */
  constructor(files: TreeFiles) {
    this.subscriptions.push(
      files.onDidChange(() => this.changed.fire()),
      vscode.languages.registerCodeLensProvider({ language: 'sls', scheme: 'file' }, this),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${section}.codeLens`) || e.affectsConfiguration(`${section}.stateRoot`)) this.changed.fire();
      }),
    );
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!vscode.workspace.isTrusted || !codeLensEnabled(document.uri)) return [];
    const roots = rootsFor(document.uri);
    const module = roots && moduleForFile(roots.stateRoot, document.uri.fsPath);
    if (!module) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses = [
      new vscode.CodeLens(top, { title: '$(play) Apply file', command: 'saltContainers.applySls', arguments: [document.uri], tooltip: `state.sls ${module} on the target container` }),
      new vscode.CodeLens(top, { title: '$(beaker) Test file', command: 'saltContainers.applySlsTest', arguments: [document.uri], tooltip: `state.sls ${module} test=True on the target container` }),
      new vscode.CodeLens(top, { title: '$(file-code) Show rendered', command: 'saltContainers.showRendered', arguments: [document.uri], tooltip: 'What Salt renders this file to for the target container' }),
    ];
    // The parser is in the runtime bundle: activation does not pay for it.
    const states = (await loadRuntime()).stateLenses(roots.stateRoot, document.uri.fsPath, document.getText(), textOf);
    for (const state of states) {
      const range = new vscode.Range(state.line, 0, state.line, 0);
      lenses.push(
        new vscode.CodeLens(range, { title: '$(play) Apply', command: 'saltContainers.applyState', arguments: [document.uri, state.id], tooltip: `state.sls_id ${state.id} mods=${module}` }),
        new vscode.CodeLens(range, { title: '$(beaker) Test', command: 'saltContainers.applyStateTest', arguments: [document.uri, state.id], tooltip: `state.sls_id ${state.id} mods=${module} test=True` }),
      );
    }
    return lenses;
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }
}
