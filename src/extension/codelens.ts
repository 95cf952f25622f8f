/**
 * CodeLens on SLS files of the state tree: above the file Apply file, Test file and Show rendered;
 * above each state ID Apply and Test for that state alone (`state.sls_id ID mods=MODULE`). IDs made by
 * Jinja (`web_site_{{ site }}`) get none: Salt knows them only after rendering. None in Restricted Mode.
 */
import * as vscode from 'vscode';
import { moduleForFile } from '../sls/modules';
import { rootsFor, section } from './config';
import { loadRuntime } from './engines';

export function codeLensEnabled(resource?: vscode.Uri): boolean {
  return vscode.workspace.getConfiguration(section, resource).get<boolean>('codeLens', true);
}

export class SlsCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [this.changed];

  constructor() {
    this.subscriptions.push(
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
    const parsed = (await loadRuntime()).parseSls(document.getText());
    for (const state of parsed.states) {
      if (state.templated) continue;
      const { line } = parsed.lines.position(state.span.start);
      const range = new vscode.Range(line, 0, line, 0);
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
