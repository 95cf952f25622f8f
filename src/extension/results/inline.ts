/**
 * Results at the end of the lines: after a run, each state's line in every file the run touched shows
 * its outcome and duration (inlineModel.ts), with a hover. A file edited since the run shows its results
 * as outdated until the next run. `saltContainers.inlineResults` turns them off.
 */
import * as vscode from 'vscode';
import { inlineResultsEnabled, section } from '../config';
import type { LineResult } from './inlineModel';
import type { Outcome } from './model';

export interface FileResults {
  results: LineResult[];
  /** Edited since the run: the lines may have moved. */
  outdated: boolean;
}

const colours: Record<Outcome, string> = {
  succeeded: 'testing.iconPassed',
  changed: 'charts.yellow',
  failed: 'testing.iconFailed',
  pending: 'charts.blue',
};

export class InlineResults implements vscode.Disposable {
  private readonly byFile = new Map<string, FileResults>();
  private readonly types: Record<Outcome | 'outdated', vscode.TextEditorDecorationType>;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    const type = (colour: string, fontStyle?: string) =>
      vscode.window.createTextEditorDecorationType({
        after: { color: new vscode.ThemeColor(colour), margin: '0 0 0 2em', fontStyle },
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      });
    this.types = {
      succeeded: type(colours.succeeded),
      changed: type(colours.changed),
      failed: type(colours.failed),
      pending: type(colours.pending),
      outdated: type('disabledForeground', 'italic'),
    };
    this.subscriptions.push(
      ...Object.values(this.types),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => this.paint(e))),
      vscode.workspace.onDidChangeTextDocument((e) => {
        const entry = this.byFile.get(e.document.uri.fsPath);
        if (!entry || entry.outdated || e.contentChanges.length === 0) return;
        entry.outdated = true;
        this.repaint(e.document.uri.fsPath);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${section}.inlineResults`)) for (const editor of vscode.window.visibleTextEditors) this.paint(editor);
      }),
    );
  }

  /** A run's results: `files` are the files the run speaks for (their old results go), `results` what it found. */
  update(files: readonly string[], results: Map<string, LineResult[]>): void {
    const touched = new Set([...files, ...results.keys()]);
    for (const file of touched) {
      const list = results.get(file);
      if (list?.length) this.byFile.set(file, { results: list, outdated: false });
      else this.byFile.delete(file);
      this.repaint(file);
    }
  }

  /** What a file shows now (for tests through the extension's API). */
  of(file: string): FileResults | undefined {
    return this.byFile.get(file);
  }

  private repaint(file: string): void {
    for (const editor of vscode.window.visibleTextEditors) if (editor.document.uri.fsPath === file && editor.document.uri.scheme === 'file') this.paint(editor);
  }

  private paint(editor: vscode.TextEditor): void {
    const entry = editor.document.uri.scheme === 'file' && inlineResultsEnabled(editor.document.uri) ? this.byFile.get(editor.document.uri.fsPath) : undefined;
    const ranges: Record<Outcome | 'outdated', vscode.DecorationOptions[]> = { succeeded: [], changed: [], failed: [], pending: [], outdated: [] };
    for (const result of entry?.results ?? []) {
      if (result.line >= editor.document.lineCount) continue;
      // The whole line: the text goes after its end, and the hover shows anywhere on it.
      const line = editor.document.lineAt(result.line);
      const range = new vscode.Range(line.lineNumber, line.firstNonWhitespaceCharacterIndex, line.lineNumber, line.range.end.character);
      const hover = new vscode.MarkdownString(`${entry!.outdated ? '*Outdated: the file changed since this run.*\n\n' : ''}${result.hover}`);
      ranges[entry!.outdated ? 'outdated' : result.outcome].push({
        range,
        hoverMessage: hover,
        renderOptions: { after: { contentText: entry!.outdated ? `${result.label} (outdated)` : result.label } },
      });
    }
    for (const [kind, list] of Object.entries(ranges) as [Outcome | 'outdated', vscode.DecorationOptions[]][]) editor.setDecorations(this.types[kind], list);
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }
}
