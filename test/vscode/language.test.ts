// The SLS language inside the real extension host, on the example workspace: language ids, outline,
// definition across included files, hover from the state catalogue, completion, diagnostics.
import * as assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

const workspace = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const stateFile = (...parts: string[]) => vscode.Uri.file(join(workspace(), 'salt', ...parts));

/** Asks until the answer passes (the language server starts, indexes and makes its catalogue meanwhile). */
async function eventually<T>(what: string, ask: () => Thenable<T> | T, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await ask();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)?.slice(0, 500)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const hoverText = (hovers: vscode.Hover[]) =>
  hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');

describe('SLS language', function () {
  this.timeout(120_000);
  let web: vscode.TextDocument;

  before(async () => {
    web = await vscode.workspace.openTextDocument(stateFile('web', 'init.sls'));
    await vscode.window.showTextDocument(web);
  });

  it('gives .sls files the sls language and .jinja files the jinja language', async () => {
    assert.equal(web.languageId, 'sls');
    const map = await vscode.workspace.openTextDocument(stateFile('web', 'map.jinja'));
    assert.equal(map.languageId, 'jinja');
  });

  it('outlines the states, the Jinja loop ID included', async () => {
    const symbols = await eventually(
      'document symbols',
      () => vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', web.uri),
      (s) => Array.isArray(s) && s.length > 0,
    );
    assert.deepEqual(
      symbols.map((s) => s.name),
      ['include', 'web_conf_dir', 'web_config', 'web_site_{{ site }}', 'web_reload', 'web_greeting'],
    );
    assert.equal(symbols.find((s) => s.name === 'web_config')?.detail, 'file.managed');
  });

  it('goes from a requisite to the state in the included file', async () => {
    const line = web.getText().split('\n').findIndex((l) => l.includes('- file: app_root'));
    const character = web.lineAt(line).text.indexOf('app_root') + 2;
    const locations = await eventually(
      'definition',
      () => vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', web.uri, new vscode.Position(line, character)),
      (l) => Array.isArray(l) && l.length > 0,
    );
    const first = locations[0];
    const uri = 'targetUri' in first ? first.targetUri : first.uri;
    const range = 'targetUri' in first ? (first.targetSelectionRange ?? first.targetRange) : first.range;
    assert.equal(uri.fsPath, stateFile('common', 'init.sls').fsPath);
    const common = await vscode.workspace.openTextDocument(uri);
    assert.equal(common.getText(range), 'app_root');
  });

  it('hovers a state function with its doc from the state catalogue', async () => {
    const line = web.getText().split('\n').findIndex((l) => l.trim() === 'file.managed:');
    const character = web.lineAt(line).text.indexOf('file.managed') + 3;
    const hovers = await eventually(
      'hover with the catalogue',
      () => vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', web.uri, new vscode.Position(line, character)),
      (h) => Array.isArray(h) && /Manage a given file/.test(hoverText(h)),
      90_000,
    );
    assert.match(hoverText(hovers), /file\.managed\(/);
  });

  it('completes requisite targets from the included files', async () => {
    const line = web.getText().split('\n').findIndex((l) => l.includes('- file: web_conf_dir'));
    const end = web.lineAt(line).text.length;
    const list = await eventually(
      'completion',
      () => vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', web.uri, new vscode.Position(line, end)),
      (l) => !!l && l.items.length > 0,
    );
    const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    for (const id of ['web_conf_dir', 'web_config', 'app_root', 'motd']) assert.ok(labels.includes(id), `${id} in ${labels.join(', ')}`);
  });

  it('shows source problems with source sls', async () => {
    const file = join(workspace(), 'salt', 'sc-language-test.sls');
    writeFileSync(file, 'include:\n  - no.such.module\n\nthing:\n  cmd.run:\n    - name: echo\n    - require:\n      - file: nowhere\n');
    try {
      const document = await vscode.workspace.openTextDocument(file);
      await vscode.window.showTextDocument(document);
      const diagnostics = await eventually(
        'diagnostics',
        () => vscode.languages.getDiagnostics(document.uri),
        (d) => d.length >= 2,
      );
      assert.deepEqual(
        diagnostics.map((d) => [d.source, d.code, d.range.start.line]).sort(),
        [
          ['sls', 'unresolved-include', 1],
          ['sls', 'unresolved-requisite', 7],
        ],
      );
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('remakes the state catalogue with the host Salt on command', async () => {
    const result = await vscode.commands.executeCommand<{ saltVersion: string; functions: number } | undefined>('saltContainers.refreshStateCatalogue');
    assert.match(result?.saltVersion ?? '', /^\d{4}\.\d+/);
    assert.ok(result!.functions > 100, `${result!.functions} state functions`);
  });
});
