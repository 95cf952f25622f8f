/**
 * Activation, the composition root: the Ctx (services), then each feature handed the Ctx (views, apply
 * on save, the live render, rendered documents, state tests, CodeLens, the check task), then the command
 * table; returns the API object.
 * Lazy and cheap: nothing here calls the engine. The views list when VS Code asks them to (they are
 * visible), the commands when they run; the engine code itself is loaded on first use (engines.ts).
 */
import * as vscode from 'vscode';
import type { AnyRun, RenderRun } from '../engine';
import { ApplyOnSave } from './edit/applyOnSave';
import { SlsCodeLens } from './edit/codelens';
import { LiveRender } from './edit/liveRender';
import { commandFactories } from './commands';
import { section, showDanglingImages } from './config';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Ctx } from './ctx';
import type { FileResults } from './results/inline';
import { resultsViewType, type RenderedReport } from './results/panel';
import { RenderedDocuments, showRenderedCommand } from './edit/rendered';
import type { Comparison, ResultsModel } from './results/model';
import type { SessionEvent } from './sessions';
import { StateTests } from './stateTests/controller';
import { ContainersTree, EngineWatcher, ImagesTree } from './views/trees';
import { SaltContainersTasks, taskType } from './tasks';

/** What activate() returns: for tests and for other extensions. */
export interface SaltContainersApi {
  containersView: ContainersTree;
  imagesView: ImagesTree;
  readonly lastRun: AnyRun | undefined;
  /** The diagnostics collection `salt-containers`. */
  readonly diagnostics: vscode.DiagnosticCollection;
  /** The live render (edit/liveRender.ts): its collection `salt-containers-live` and the renders done. */
  readonly liveRender: LiveRender;
  /** What the results page last reported drawing: its title and how many rows it shows of how many. */
  readonly resultsRendered: RenderedReport | undefined;
  /** What the end of a file's lines shows after the runs so far (absolute path). */
  inlineResults(file: string): FileResults | undefined;
  /** The last render of an SLS file by Show Rendered SLS (absolute path). */
  lastRender(file: string): RenderRun | undefined;
  /** The results panel's kept runs (newest first) and the comparison of two of them. */
  readonly resultsHistory: readonly ResultsModel[];
  compareResults(run: number, other: number): Promise<Comparison | undefined>;
  /** Warm sessions that ended, and why (newest last). */
  readonly sessionsEnded: readonly SessionEvent[];
  /** State tests: the Test Controller and what its last run reported per item. */
  readonly stateTests: StateTests;
  /** The last lines (up to 1000) written to the Salt Containers output channel, oldest first. */
  readonly outputLines: readonly string[];
}

/** The live context: deactivate waits for its warm sessions to end. */
let current: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): SaltContainersApi {
  const c = new Ctx(context);
  current = c;
  context.subscriptions.push(c);

  // The features, each over the services of the Ctx; disposed before them (reverse order).
  const containers = new ContainersTree(c.engines);
  const images = new ImagesTree(c.engines);
  const watcher = new EngineWatcher(c.engines, containers, images);
  const rendered = new RenderedDocuments(c);
  const stateTests = new StateTests(c);
  const liveRender = new LiveRender(c);
  c.subscriptions.push(
    liveRender,
    watcher,
    stateTests,
    rendered,
    new SlsCodeLens(c.treeFiles),
    new ApplyOnSave(c),
    c.onDidChangeLists((view) => (view === 'containers' ? containers : images).refresh()),
    vscode.tasks.registerTaskProvider(taskType, new SaltContainersTasks(context.extensionPath)),
  );

  const commands = { ...commandFactories, showRendered: showRenderedCommand(rendered) };
  for (const [name, factory] of Object.entries(commands)) c.registerCommand(name, factory);

  const containersView = vscode.window.createTreeView('saltContainers.containers', { treeDataProvider: containers, showCollapseAll: false });
  const imagesView = vscode.window.createTreeView('saltContainers.images', { treeDataProvider: images, showCollapseAll: false });
  c.subscriptions.push(
    containersView,
    imagesView,
    containersView.onDidChangeVisibility((e) => watcher.setVisible('containers', e.visible)),
    imagesView.onDidChangeVisibility((e) => watcher.setVisible('images', e.visible)),
    vscode.window.registerWebviewPanelSerializer(resultsViewType, c.results),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${section}.showDanglingImages`)) {
        void vscode.commands.executeCommand('setContext', 'saltContainers.showDanglingImages', showDanglingImages());
        images.refresh();
      }
    }),
  );
  if (containersView.visible) watcher.setVisible('containers', true);
  if (imagesView.visible) watcher.setVisible('images', true);
  if (showDanglingImages()) void vscode.commands.executeCommand('setContext', 'saltContainers.showDanglingImages', true);

  const language = startLanguageWhenNeeded(c);
  // Here rather than with the client: the command works before any SLS file was opened (it starts the client).
  c.registerCommand('refreshStateCatalogue', () => async () => {
    const client = await language();
    return client ? (await import('./language')).refreshStateCatalogue(client) : undefined;
  });

  return {
    containersView: containers,
    imagesView: images,
    get lastRun() {
      return c.lastRun;
    },
    diagnostics: c.diagnostics.collection,
    liveRender,
    get resultsRendered() {
      return c.results.rendered;
    },
    inlineResults: (file) => c.inline.of(file),
    lastRender: (file) => rendered.lastRuns.get(file),
    get resultsHistory() {
      return c.results.runs;
    },
    compareResults: (run, other) => c.results.compare(run, other),
    get sessionsEnded() {
      return c.sessions.ended;
    },
    stateTests,
    outputLines: c.logged,
  };
}

/**
 * The language client starts when an sls (or Jinja) document is open, now or later, once. Returns what
 * starts it on demand (or gives the one already started; undefined when it failed to start).
 */
function startLanguageWhenNeeded(c: Ctx): () => Promise<LanguageClient | undefined> {
  let client: Promise<LanguageClient | undefined> | undefined;
  const start = () => {
    listener.dispose();
    client ??= startLanguage(c);
    return client;
  };
  const isSalt = (document: vscode.TextDocument) => document.languageId === 'sls' || document.languageId === 'jinja';
  const listener = vscode.workspace.onDidOpenTextDocument((document) => {
    if (isSalt(document)) void start();
  });
  c.subscriptions.push(listener);
  if (vscode.workspace.textDocuments.some(isSalt)) void start();
  return start;
}

async function startLanguage(c: Ctx): Promise<LanguageClient | undefined> {
  try {
    // Loaded on first need: the client library is its own bundle (dist/extension-language.js).
    const { startLanguageClient } = await import('./language');
    const client = await startLanguageClient(c.extension);
    c.subscriptions.push({ dispose: () => void client.stop() });
    return client;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    c.log(`SLS language server failed to start: ${message}`);
    void vscode.window.showErrorMessage(`Salt Containers: the SLS language server did not start: ${message}`, 'Show Output').then((choice) => {
      if (choice) c.output.show(true);
    });
    return undefined;
  }
}

/** Everything is disposed through context.subscriptions; the warm sessions end first, and VS Code waits for them. */
export async function deactivate(): Promise<void> {
  await current?.sessions.endAll();
  current = undefined;
}
