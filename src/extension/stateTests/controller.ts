/**
 * State tests in the Testing view, as microsoft/playwright-vscode shapes its tree: the matrix file
 * (salt-containers.yml, else kitchen.yml) -> suite -> cell (image@salt) -> phase. Run and continuous
 * run profiles over the same core the CLI uses (src/testing, loaded with the engine on first use);
 * failed states are messages at their lines (idempotence: the changes as a diff against none).
 */
import * as vscode from 'vscode';
import type { CellResult, CellSpec, Matrix, PhaseResult } from '../../testing';
import type { Ctx } from '../ctx';
import { engineSelection } from '../config';
import { loadRuntime } from '../engines';
import { itemIds } from './ids';
import type { ReportMessage } from './report';

/** What a run reported for an item, kept for tests and the API. */
export type ItemOutcome = { state: 'started' | 'passed' | 'skipped' } | { state: 'failed' | 'errored'; messages: vscode.TestMessage[] };

const MATRIX_GLOB = '**/{salt-containers.yml,kitchen.yml,.kitchen.yml}';
/** What a continuous run re-runs on: the Salt trees and the matrix. */
const SOURCE_GLOB = '**/*.{sls,jinja,j2,yml,yaml,py}';

interface FileEntry {
  item: vscode.TestItem;
  matrix?: Matrix;
  cells: Map<string, CellSpec>;
}

export class StateTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('saltContainers.stateTests', 'Salt State Tests');
  /** The Run profile (also continuous). */
  readonly runProfile: vscode.TestRunProfile;
  /** Outcomes of the last run, by test item id. */
  readonly outcomes = new Map<string, ItemOutcome>();
  /** Runs started so far (a continuous run adds one per change). */
  runs = 0;
  private readonly files = new Map<string, FileEntry>();
  private readonly disposables: vscode.Disposable[] = [];
  private discovered?: Promise<void>;

  constructor(private readonly ctx: Ctx) {
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.discover();
    };
    this.controller.refreshHandler = () => this.discover(true);
    const run = (request: vscode.TestRunRequest, token: vscode.CancellationToken) => this.runHandler(request, token);
    this.runProfile = this.controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, run, true, undefined, true);
    const watcher = vscode.workspace.createFileSystemWatcher(MATRIX_GLOB);
    this.disposables.push(
      watcher,
      watcher.onDidChange((uri) => void this.load(uri)),
      watcher.onDidCreate(() => void this.discover(true)),
      watcher.onDidDelete(() => void this.discover(true)),
      // An open matrix file gets its items (and their run buttons) without visiting the Testing view.
      vscode.workspace.onDidOpenTextDocument((document) => {
        if (/(^|\/)(salt-containers|\.?kitchen)\.yml$/.test(document.uri.path)) void this.discover();
      }),
    );
  }

  /** Finds the matrix files of the workspace: per folder salt-containers.yml, else its kitchen.yml. */
  discover(again = false): Promise<void> {
    if (!again && this.discovered) return this.discovered;
    this.discovered = (async () => {
      const found = await vscode.workspace.findFiles(MATRIX_GLOB, '**/node_modules/**');
      const byFolder = new Map<string, vscode.Uri>();
      const rank = (uri: vscode.Uri) => ['salt-containers.yml', 'kitchen.yml', '.kitchen.yml'].indexOf(uri.path.split('/').pop()!);
      for (const uri of found.sort((a, b) => rank(a) - rank(b))) {
        const folder = uri.path.slice(0, uri.path.lastIndexOf('/'));
        if (!byFolder.has(folder)) byFolder.set(folder, uri);
      }
      const wanted = new Set([...byFolder.values()].map((u) => u.toString()));
      for (const [id] of this.files) {
        if (!wanted.has(id)) {
          this.controller.items.delete(id);
          this.files.delete(id);
        }
      }
      await Promise.all([...byFolder.values()].map((uri) => this.load(uri)));
    })();
    return this.discovered;
  }

  /** (Re)reads one matrix file into its items; a file that does not read shows its problems on the item. */
  private async load(uri: vscode.Uri): Promise<void> {
    const id = uri.toString();
    const runtime = await loadRuntime();
    const item = this.files.get(id)?.item ?? this.controller.createTestItem(id, vscode.workspace.asRelativePath(uri), uri);
    const entry: FileEntry = { item, cells: new Map() };
    this.files.set(id, entry);
    this.controller.items.add(item);
    item.children.replace([]);
    item.error = undefined;
    try {
      entry.matrix = runtime.loadMatrix(uri.fsPath);
    } catch (error) {
      item.error = new vscode.MarkdownString().appendText((error as Error).message);
      return;
    }
    for (const suite of entry.matrix.suites) {
      const suiteItem = this.controller.createTestItem(itemIds.suite(id, suite.name), suite.name, uri);
      if (suite.line) suiteItem.range = new vscode.Range(suite.line - 1, 0, suite.line - 1, 0);
      item.children.add(suiteItem);
    }
    for (const cell of runtime.allCells(entry.matrix)) {
      const cellId = itemIds.cell(id, cell);
      entry.cells.set(cellId, cell);
      const cellItem = this.controller.createTestItem(cellId, `${cell.image.name}@${cell.salt ?? 'default'}`, uri);
      cellItem.description = cell.init ? 'systemd' : undefined;
      if (cell.image.line) cellItem.range = new vscode.Range(cell.image.line - 1, 0, cell.image.line - 1, 0);
      for (const phase of cell.phases) cellItem.children.add(this.controller.createTestItem(itemIds.phase(cellId, phase), phase, uri));
      item.children.get(itemIds.suite(id, cell.suite.name))!.children.add(cellItem);
    }
  }

  /** The cells an item stands for: a file's, a suite's, a cell itself, the cell of a phase. */
  private cellsOf(item: vscode.TestItem): { file: FileEntry; cells: string[] }[] {
    for (const file of this.files.values()) {
      const ids = [...file.cells.keys()];
      if (item.id === file.item.id) return [{ file, cells: ids }];
      if (!item.id.startsWith(`${file.item.id}::`)) continue;
      const hit = ids.filter((id) => id === item.id || item.id.startsWith(`${id}::`) || itemIds.suite(file.item.id, file.cells.get(id)!.suite.name) === item.id);
      return [{ file, cells: hit }];
    }
    return [];
  }

  async runHandler(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    await this.discover();
    await this.runOnce(request, token);
    if (!request.continuous) return;
    // Continuous run: the same cells again after a Salt file or the matrix changes, until stopped.
    const watcher = vscode.workspace.createFileSystemWatcher(SOURCE_GLOB);
    let timer: NodeJS.Timeout | undefined;
    let running = Promise.resolve();
    const again = () => {
      clearTimeout(timer);
      timer = setTimeout(() => (running = running.then(() => this.runOnce(request, token))), 1000);
    };
    const listeners = [watcher, watcher.onDidChange(again), watcher.onDidCreate(again), watcher.onDidDelete(again)];
    await new Promise<void>((resolve) => token.onCancellationRequested(() => resolve()));
    clearTimeout(timer);
    for (const l of listeners) l.dispose();
    await running;
  }

  /** One run of the request's cells; resolves when every cell is done and reported. */
  async runOnce(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const run = this.controller.createTestRun(request);
    this.runs++;
    this.outcomes.clear();
    try {
      const roots = request.include ?? [...this.files.values()].map((f) => f.item);
      const excluded = new Set((request.exclude ?? []).flatMap((item) => this.cellsOf(item).flatMap((c) => c.cells)));
      const byFile = new Map<FileEntry, Set<string>>();
      for (const root of roots) {
        for (const { file, cells } of this.cellsOf(root)) {
          const set = byFile.get(file) ?? new Set<string>();
          for (const id of cells) if (!excluded.has(id)) set.add(id);
          byFile.set(file, set);
        }
      }
      if (!vscode.workspace.isTrusted) {
        const message = new vscode.TestMessage('State tests are disabled in Restricted Mode: they run this workspace\'s Salt states in containers. Trust the workspace to run them.');
        for (const [file, ids] of byFile) for (const id of ids) this.report(run, this.itemOf(file, id), { state: 'errored', messages: [message] });
        return;
      }
      for (const [file, ids] of byFile) if (file.matrix && ids.size) await this.runCells(run, file, file.matrix, ids, token);
    } finally {
      run.end();
    }
  }

  private itemOf(file: FileEntry, id: string): vscode.TestItem {
    const suite = file.item.children.get(itemIds.suite(file.item.id, file.cells.get(id)!.suite.name))!;
    return suite.children.get(id)!;
  }

  private report(run: vscode.TestRun, item: vscode.TestItem, outcome: ItemOutcome, durationMs?: number): void {
    this.outcomes.set(item.id, outcome);
    if (outcome.state === 'started') run.started(item);
    else if (outcome.state === 'passed') run.passed(item, durationMs);
    else if (outcome.state === 'skipped') run.skipped(item);
    else if (outcome.state === 'failed') run.failed(item, outcome.messages, durationMs);
    else if (outcome.state === 'errored') run.errored(item, outcome.messages, durationMs);
  }

  private async runCells(run: vscode.TestRun, file: FileEntry, matrix: Matrix, ids: Set<string>, token: vscode.CancellationToken): Promise<void> {
    const runtime = await loadRuntime();
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    const out = (line: string) => run.appendOutput(`${line.replace(/\n/g, '\r\n')}\r\n`);
    const toMessage = (m: ReportMessage) => {
      const message = m.expected !== undefined ? vscode.TestMessage.diff(m.message, m.expected, m.actual ?? '') : new vscode.TestMessage(m.message);
      if (m.location) message.location = new vscode.Location(vscode.Uri.file(m.location.file), new vscode.Position(m.location.line, m.location.column));
      return message;
    };
    const specs = [...ids].map((id) => file.cells.get(id)!);
    const itemFor = (cell: CellSpec) => this.itemOf(file, itemIds.cell(file.item.id, cell));
    const phaseItem = (cell: CellSpec, phase: string) => itemFor(cell).children.get(itemIds.phase(itemFor(cell).id, phase));
    for (const cell of specs) {
      run.enqueued(itemFor(cell));
      itemFor(cell).children.forEach((child) => run.enqueued(child));
    }
    try {
      const configured = (await this.ctx.engines.runner()).salt;
      // The engines the matrix names; `default` is the primary engine of the settings.
      // An image none of them has is pulled: its progress in the run's output.
      const pool = await runtime.EnginePool.open(matrix.engines, { selection: engineSelection(), log: (line) => this.ctx.log(line), onPull: runtime.pullLines(out) });
      for (const lost of pool.unreachable) out(`engine ${lost.name}${lost.address ? ` (${lost.address})` : ''} is left out: ${lost.error.message}`);
      const result = await runtime.runMatrix(matrix, {
        cells: specs,
        provider: runtime.spreadOver(pool),
        salt: new runtime.SaltVersions({ configured, onProgress: (version, line) => out(`Salt ${version}: ${line}`), log: (line) => this.ctx.log(line) }),
        signal: abort.signal,
        events: {
          cellStarted: (cell) => this.report(run, itemFor(cell), { state: 'started' }),
          step: (cell, step) => {
            out(`${cell.key}: ${step}…`);
            const item = phaseItem(cell, step);
            if (item) this.report(run, item, { state: 'started' });
          },
          phaseFinished: (cell, phase) => this.reportPhase(run, phaseItem(cell, phase.phase), phase, cell, matrix, toMessage, runtime),
          cellRestarted: (cell, lost) => out(`${cell.key}: engine ${lost.engine} stopped answering; the cell starts again on another engine`),
          cellFinished: (cell) => this.reportCell(run, itemFor(cell.cell), cell, matrix, toMessage, runtime, out),
        },
      });
      out(`${result.cells.length} cells: ${result.cells.filter((c) => c.passed).length} passed, ${result.cells.filter((c) => c.passed === false).length} failed`);
    } catch (error) {
      const message = new vscode.TestMessage((error as Error).message);
      for (const cell of specs) this.report(run, itemFor(cell), { state: 'errored', messages: [message] });
    } finally {
      cancel.dispose();
    }
  }

  private reportPhase(
    run: vscode.TestRun,
    item: vscode.TestItem | undefined,
    phase: PhaseResult,
    cell: CellSpec,
    matrix: Matrix,
    toMessage: (m: ReportMessage) => vscode.TestMessage,
    runtime: Awaited<ReturnType<typeof loadRuntime>>,
  ): void {
    if (!item) return;
    if (phase.passed === null) return this.report(run, item, { state: 'skipped' });
    if (phase.passed) return this.report(run, item, { state: 'passed' }, phase.durationMs);
    const messages = runtime.phaseMessages(phase, cell, matrix).map(toMessage);
    const infrastructure = phase.errors.some(runtime.isInfrastructure);
    this.report(run, item, { state: infrastructure ? 'errored' : 'failed', messages }, phase.durationMs);
  }

  private reportCell(
    run: vscode.TestRun,
    item: vscode.TestItem,
    cell: CellResult,
    matrix: Matrix,
    toMessage: (m: ReportMessage) => vscode.TestMessage,
    runtime: Awaited<ReturnType<typeof loadRuntime>>,
    out: (line: string) => void,
  ): void {
    out(`${cell.key} on ${cell.engine}: ${cell.passed ? 'passed' : cell.passed === false ? 'failed' : 'cancelled'} in ${(cell.durationMs / 1000).toFixed(1)} s`);
    // Inline, as after an apply: what the converge of the cell that finished last did on each state's line.
    const converge = cell.phases.find((p) => p.phase === 'converge' && p.passed !== null);
    if (converge) {
      const lines = runtime.inlineResultsOf(converge, matrix.stateRoot);
      this.ctx.inline.update([...lines.keys()], lines);
    }
    // Phases that never started are skipped (reportPhase saw only the ones that ran).
    for (const phase of cell.phases) {
      const child = item.children.get(itemIds.phase(item.id, phase.phase));
      if (child && !this.outcomes.has(child.id)) this.report(run, child, { state: 'skipped' });
    }
    if (cell.errors.length) {
      const messages = runtime.cellErrorMessages(cell.errors, cell.cell, matrix).map(toMessage);
      this.report(run, item, { state: cell.errors.some(runtime.isInfrastructure) ? 'errored' : 'failed', messages }, cell.durationMs);
    } else if (cell.passed === null) this.report(run, item, { state: 'skipped' });
    else if (cell.passed) this.report(run, item, { state: 'passed' }, cell.durationMs);
    else this.report(run, item, { state: 'failed', messages: [new vscode.TestMessage(`${cell.key}: ${cell.phases.filter((p) => p.passed === false).map((p) => p.phase).join(' and ')} failed`)] }, cell.durationMs);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.controller.dispose();
  }
}
