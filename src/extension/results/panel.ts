/**
 * The "Salt Results" webview panel and the status-bar item with the last run's summary. The panel's
 * script and style are media/results.js and media/results.css; the page has a CSP with a nonce and the
 * script inserts state output as text only. The model is the panel's saved state, so the panel comes
 * back after a window reload (WebviewPanelSerializer). A row click opens the state's file at its line;
 * the file comes from the extension's own copy of the model, never from what the page sends.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Comparison, ResultsModel } from './model';
import { loadRuntime } from '../engines';
import { summaryText } from '../format';

export const resultsViewType = 'saltContainers.results';
const historyKey = 'saltContainers.resultsHistory';
/** How many runs the panel keeps (newest first). */
export const historyLength = 20;

type PageMessage =
  | { type: 'ready' }
  | { type: 'open'; index: number }
  | { type: 'rendered'; title: string; shown: number; total: number }
  | { type: 'select'; run: number }
  | { type: 'compare'; run: number; with: number };

/** What the page last reported drawing (tests read it through the extension's API). */
export interface RenderedReport {
  title: string;
  shown: number;
  total: number;
}

export class ResultsPanel implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  /** The last runs, newest first; the status bar tells of the newest, the page shows `shown`. */
  private history: ResultsModel[] = [];
  private shown = 0;
  /** The page's last report of what it drew. */
  rendered: RenderedReport | undefined;
  /** The comparison the page was last sent (tests read it through the extension's API). */
  comparison: Comparison | undefined;
  private readonly status: vscode.StatusBarItem;

  constructor(private readonly extension: vscode.ExtensionContext) {
    this.status = vscode.window.createStatusBarItem('saltContainers.lastRun', vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'Salt Containers: last run';
    this.status.command = 'saltContainers.showResults';
    const saved = extension.workspaceState.get<ResultsModel[]>(historyKey, []).filter((m) => m?.version === 1);
    if (saved.length) {
      this.history = saved.slice(0, historyLength);
      this.setStatus(this.history[0]);
    }
  }

  private get model(): ResultsModel | undefined {
    return this.history[this.shown];
  }

  get current(): ResultsModel | undefined {
    return this.model;
  }

  /** The runs kept, newest first. */
  get runs(): readonly ResultsModel[] {
    return this.history;
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** Shows a new run: status bar, history, and the panel (opened beside the editor, focus kept; only updated when `reveal` is false). */
  showRun(model: ResultsModel, reveal = true): void {
    this.history = [model, ...this.history].slice(0, historyLength);
    this.shown = 0;
    this.comparison = undefined;
    this.setStatus(model);
    void this.extension.workspaceState.update(historyKey, this.history);
    if (reveal) this.reveal(true);
    else this.post();
  }

  /** Shows one of the kept runs (0 = newest); false when there is no such run. */
  select(run: number): boolean {
    if (!this.history[run]) return false;
    this.shown = run;
    this.comparison = undefined;
    this.post();
    return true;
  }

  /** Compares two kept runs of the same module (older first in the result); undefined when they are not. */
  async compare(run: number, other: number): Promise<Comparison | undefined> {
    const a = this.history[run];
    const b = this.history[other];
    if (!a || !b || a.key !== b.key || run === other) return undefined;
    const { compareModels } = await loadRuntime();
    // A larger index is an older run.
    this.comparison = run > other ? compareModels(a, b) : compareModels(b, a);
    void this.panel?.webview.postMessage({ type: 'comparison', comparison: this.comparison, run, with: other });
    return this.comparison;
  }

  /** Opens (or brings forward) the panel with the last run; false when there is none. */
  reveal(preserveFocus = false): boolean {
    if (!this.model) return false;
    if (this.panel) {
      // Never over the file being edited: a panel in the active editor's group moves beside it.
      const active = vscode.window.activeTextEditor?.viewColumn;
      this.panel.reveal(active !== undefined && this.panel.viewColumn === active ? vscode.ViewColumn.Beside : undefined, preserveFocus);
      this.post();
      return true;
    }
    const panel = vscode.window.createWebviewPanel(resultsViewType, 'Salt Results', { viewColumn: vscode.ViewColumn.Beside, preserveFocus }, this.options());
    this.attach(panel);
    return true;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const saved = (state as { model?: ResultsModel } | undefined)?.model;
    if (saved?.version === 1 && this.history.length === 0) {
      this.history = [saved];
      this.setStatus(saved);
    }
    this.attach(panel);
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, enableFindWidget: true, localResourceRoots: [vscode.Uri.joinPath(this.extension.extensionUri, 'media')] };
  }

  private setStatus(model: ResultsModel): void {
    const s = model.summary;
    this.status.text = summaryText(s, model.errors.length);
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(`${model.title} ${model.subtitle}\n`);
    tooltip.appendText(`${s.succeeded} succeeded, ${s.changed} changed, ${s.failed} failed, ${s.pending} pending, ${s.total} total in ${model.totalTime}`);
    if (model.errors.length) tooltip.appendText(`\n${model.errors[0].message}`);
    tooltip.appendMarkdown('\n\nClick to show the results.');
    this.status.tooltip = tooltip;
    this.status.backgroundColor = model.errors.length || s.failed ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.status.show();
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extension.extensionUri, 'media', 'salt.svg');
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((message: PageMessage) => this.onMessage(message));
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private post(): void {
    this.rendered = undefined;
    if (!this.panel || !this.model) return;
    const history = this.history.map((m, index) => ({ index, title: m.title, subtitle: m.subtitle, key: m.key }));
    void this.panel.webview.postMessage({ type: 'model', model: this.model, history, shown: this.shown });
  }

  private onMessage(message: PageMessage): void {
    if (message?.type === 'ready') this.post();
    else if (message?.type === 'select' && Number.isInteger(message.run)) this.select(message.run);
    else if (message?.type === 'compare' && Number.isInteger(message.run) && Number.isInteger(message.with)) void this.compare(message.run, message.with);
    else if (message?.type === 'rendered') this.rendered = { title: String(message.title), shown: Number(message.shown), total: Number(message.total) };
    else if (message?.type === 'open' && Number.isInteger(message.index)) {
      const location = this.model?.rows[message.index]?.location;
      if (!location) return;
      const position = new vscode.Position(location.line, 0);
      void vscode.window.showTextDocument(vscode.Uri.file(location.file), { selection: new vscode.Range(position, position), viewColumn: vscode.ViewColumn.One });
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const media = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.extension.extensionUri, 'media', name)).toString();
    const csp = [`default-src 'none'`, `style-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`, `img-src ${webview.cspSource}`, `font-src ${webview.cspSource}`].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${media('results.css')}">
<title>Salt Results</title>
</head>
<body>
<header>
  <h1 id="title">Salt Results</h1>
  <div id="subtitle"></div>
  <div id="summary" role="status"></div>
</header>
<nav id="history" hidden>
  <label>Run <select id="runs" aria-label="Show an earlier run"></select></label>
  <label>Compare with <select id="compareWith" aria-label="Compare with an earlier run of the same module"></select></label>
</nav>
<section id="comparison" hidden>
  <h2 id="comparisonTitle"></h2>
  <table id="comparisonTable">
    <thead><tr><th>ID</th><th>Function</th><th>Before</th><th>After</th><th>What changed</th></tr></thead>
    <tbody></tbody>
  </table>
  <p id="comparisonSame"></p>
</section>
<section id="errors" hidden></section>
<nav id="toolbar">
  <label><input type="checkbox" id="failedOnly"> Failed only</label>
  <label><input type="checkbox" id="changedOnly"> Changed only</label>
  <input type="search" id="search" placeholder="Search ID, function, name, comment" aria-label="Search the results">
  <span id="count"></span>
</nav>
<table id="results">
  <thead><tr><th class="result">Result</th><th>ID</th><th>Function</th><th>Name</th><th class="duration">Duration</th><th>Comment</th></tr></thead>
  <tbody></tbody>
</table>
<p id="empty" hidden>No states match.</p>
<script nonce="${nonce}" src="${media('results.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.panel?.dispose();
    this.status.dispose();
  }
}
