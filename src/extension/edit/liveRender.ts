/**
 * The target's real render, live (`saltContainers.liveRender`): after a pause in typing (300 ms) in a
 * file of a state tree whose folder has a target container, the edited module (or, for a map.jinja or
 * another file a module uses, the SLS modules open in the editor) is rendered and compiled by the
 * target's warm Salt with the unsaved buffers laid over the tree for that run only (`state.sls MOD
 * mock=True`: nothing applied, the files on disk untouched). Salt's verdict (sls/saltFindings.ts) lands
 * as diagnostics of its own collection, source `salt (container NAME)`, minus what the language
 * server's static checks say at the same line (checked again whenever theirs change). One render per folder at a time: edits meanwhile
 * make one more render with the newest buffers, and a render whose buffers changed since it started is
 * dropped (its Salt run is left to finish: cancelling it would end the warm session).
 */
import * as vscode from 'vscode';
import type { SaltTree, StateRun } from '../../engine';
import { isPillarDataFile, isUnder, moduleForFile } from '../../sls/modules';
import type { SaltFinding } from '../../sls/saltFindings';
import { folderFor, liveRenderEnabled, rootsFor, runSettings, section } from '../config';
import type { Ctx } from '../ctx';
import { loadRuntime } from '../engines';
import { startRun } from '../runs';
import type { ContainerChoice } from '../targetContainer';

export const liveDiagnosticsName = 'salt-containers-live';

/** The static checks' diagnostic sources (server/diagnostics.ts): the facts they state are not said again. */
const STATIC_SOURCES = new Set(['sls', 'jinja']);

type Runtime = Awaited<ReturnType<typeof loadRuntime>>;

/** A finding and the source its diagnostic names. */
type Found = SaltFinding & { source: string };

interface FolderState {
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  again: boolean;
  /** The documents whose edits asked for a render since the last one started. */
  edited: Set<vscode.TextDocument>;
}

export class LiveRender implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection(liveDiagnosticsName);
  private readonly subscriptions: vscode.Disposable[] = [this.collection];
  private readonly folders = new Map<string, FolderState>();
  /** The files each rendered module's findings were put in (by the module's file), for the next render to replace. */
  private readonly filesByModule = new Map<string, Set<string>>();
  private readonly byFile = new Map<string, Map<string, Found[]>>();
  /** What each file shows now (to publish only a change: publishing is itself a change of diagnostics). */
  private readonly published = new Map<string, string>();
  private withoutKnown: Runtime['withoutKnown'] | undefined;
  /** Renders done, for tests: each module rendered and how many findings it had. */
  readonly renders: { module: string; container: string; findings: number; ms: number }[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly debounceMs = 300,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length) this.edited(e.document);
      }),
      vscode.workspace.onDidSaveTextDocument((document) => this.edited(document)),
      vscode.workspace.onDidOpenTextDocument((document) => this.edited(document)),
      vscode.workspace.onDidCloseTextDocument((document) => this.forget(document.uri.fsPath)),
      ctx.targets.onDidChange(({ folder }) => this.targetChanged(folder)),
      vscode.languages.onDidChangeDiagnostics((e) => {
        for (const uri of e.uris) if (this.byFile.has(uri.fsPath)) this.publish(uri.fsPath);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${section}.liveRender`)) for (const folder of vscode.workspace.workspaceFolders ?? []) if (!liveRenderEnabled(folder.uri)) this.clearFolder(folder.uri);
      }),
    );
  }

  /** The folder's key, tree and target when the document is one the live render is for; else undefined. */
  private scope(document: vscode.TextDocument): { key: string; tree: SaltTree; target: ContainerChoice } | undefined {
    if (document.uri.scheme !== 'file' || !vscode.workspace.isTrusted || !liveRenderEnabled(document.uri)) return undefined;
    const roots = rootsFor(document.uri);
    if (!roots || !isUnder(roots.stateRoot, document.uri.fsPath)) return undefined;
    if ((roots.pillarRoot && isUnder(roots.pillarRoot, document.uri.fsPath)) || isPillarDataFile(roots.stateRoot, document.uri.fsPath)) return undefined;
    const target = this.ctx.targets.get(document.uri);
    if (!target) return undefined;
    const key = folderFor(document.uri)?.uri.toString() ?? roots.stateRoot;
    return { key, tree: roots, target };
  }

  private edited(document: vscode.TextDocument): void {
    const scope = this.scope(document);
    if (!scope) return;
    const state = this.folders.get(scope.key) ?? { again: false, edited: new Set() };
    this.folders.set(scope.key, state);
    state.edited.add(document);
    clearTimeout(state.timer);
    state.timer = setTimeout(() => this.start(scope.key), this.debounceMs);
  }

  private start(key: string): void {
    const state = this.folders.get(key);
    if (!state) return;
    if (state.running) {
      state.again = true; // the render in flight is stale: one more with the newest buffers when it ends
      return;
    }
    const edited = [...state.edited];
    state.edited.clear();
    state.running = this.renderFolder(edited)
      .catch((error: unknown) => this.ctx.log(`live render: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        state.running = undefined;
        if (state.again) {
          state.again = false;
          this.start(key);
        }
      });
  }

  /** The modules to render for these edits: an edited SLS module itself; for any other file of the tree, the SLS modules open in the editor. */
  private modulesFor(edited: vscode.TextDocument[], stateRoot: string): { module: string; file: string }[] {
    const modules = new Map<string, string>();
    const of = (document: vscode.TextDocument) => {
      const module = document.uri.fsPath.endsWith('.sls') ? moduleForFile(stateRoot, document.uri.fsPath) : undefined;
      return module && module !== 'top' ? module : undefined;
    };
    for (const document of edited) {
      const module = of(document);
      if (module) modules.set(module, document.uri.fsPath);
      else {
        for (const open of vscode.workspace.textDocuments) {
          const other = open.uri.scheme === 'file' && isUnder(stateRoot, open.uri.fsPath) ? of(open) : undefined;
          if (other) modules.set(other, open.uri.fsPath);
        }
      }
    }
    return [...modules].map(([module, file]) => ({ module, file }));
  }

  private async renderFolder(edited: vscode.TextDocument[]): Promise<void> {
    const scope = edited.map((d) => this.scope(d)).find((s) => s !== undefined);
    if (!scope) return;
    const { tree, target } = scope;
    for (const { module, file } of this.modulesFor(edited, tree.stateRoot)) await this.render(module, file, tree, target);
  }

  private async render(module: string, file: string, tree: SaltTree, target: ContainerChoice): Promise<void> {
    // The tree's open documents at the versions this render sees; the unsaved ones stand for their files.
    const open = vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'file' && isUnder(tree.stateRoot, d.uri.fsPath));
    const versions = new Map(open.map((d) => [d, d.version]));
    const overlay = new Map(open.filter((d) => d.isDirty).map((d) => [d.uri.fsPath, d.getText()]));
    const resource = vscode.Uri.file(file);
    const started = Date.now();
    let shown = false;
    await startRun<StateRun>(this.ctx, {
      title: `rendering ${module} on ${target.name}`,
      logLine: (warm) => `live render of ${module} on ${target.name} (${overlay.size} unsaved file(s), nothing applied${warm ? ', warm session' : ''})`,
      container: target,
      warmFor: resource,
      quiet: true,
      run: (runner, control) => runner.apply(target.name, [module], tree, { ...control, saltenv: runSettings(resource).saltenv, mock: true, overlay }),
      show: async (run) => {
        // Stale: a buffer changed while Salt rendered it (the next render is queued), or the target changed.
        if ([...versions].some(([d, v]) => d.version !== v) || this.ctx.targets.get(resource)?.name !== target.name) return;
        if (run.errors.some((e) => e.kind !== 'render')) return; // not Salt's verdict on the source (engine, container): logged by the funnel
        const { locateSaltRun, withoutKnown } = await loadRuntime();
        const findings = locateSaltRun(tree, run, [module], overlay);
        this.put(file, findings, `salt (container ${target.name})`, withoutKnown);
        this.renders.push({ module, container: target.name, findings: findings.length, ms: Date.now() - started });
        shown = true;
      },
    });
    if (!shown) this.ctx.log(`live render of ${module}: nothing shown (a newer edit, another target, or Salt did not run)`);
  }

  /** Replaces what one module's render found (in its file and any other) with these findings. */
  private put(moduleFile: string, findings: readonly SaltFinding[], source: string, withoutKnown: Runtime['withoutKnown']): void {
    this.withoutKnown = withoutKnown;
    const touched = new Set([moduleFile, ...(this.filesByModule.get(moduleFile) ?? [])]);
    for (const file of touched) this.byFile.get(file)?.delete(moduleFile);
    const files = new Set<string>();
    for (const finding of findings) {
      const perModule = this.byFile.get(finding.file) ?? new Map<string, Found[]>();
      perModule.set(moduleFile, [...(perModule.get(moduleFile) ?? []), { ...finding, source }]);
      this.byFile.set(finding.file, perModule);
      files.add(finding.file);
      touched.add(finding.file);
    }
    this.filesByModule.set(moduleFile, files);
    for (const file of touched) this.publish(file);
  }

  /**
   * A file's findings as diagnostics, without those the static checks state at the same line (as they
   * stand now: published again when theirs change, so Salt's never stands beside theirs).
   */
  private publish(file: string): void {
    const uri = vscode.Uri.file(file);
    const known = vscode.languages
      .getDiagnostics(uri)
      .filter((d) => STATIC_SOURCES.has(d.source ?? '') && d.severity <= vscode.DiagnosticSeverity.Warning)
      .map((d) => ({ file, line: d.range.start.line }));
    const all = [...(this.byFile.get(file)?.values() ?? [])].flat();
    const shown = this.withoutKnown ? this.withoutKnown(all, known) : all;
    const key = JSON.stringify(shown.map((f) => [f.line, f.column, f.message, f.source]));
    if (this.published.get(file) === key) return;
    this.published.set(file, key);
    if (!shown.length) {
      this.collection.delete(uri);
      return;
    }
    this.collection.set(
      uri,
      shown.map((finding) => {
        const diagnostic = new vscode.Diagnostic(this.rangeOf(finding.file, finding.line, finding.column), finding.message, vscode.DiagnosticSeverity.Error);
        diagnostic.source = finding.source;
        diagnostic.code = finding.code;
        if (finding.related) {
          const location = new vscode.Location(vscode.Uri.file(finding.related.file), this.rangeOf(finding.related.file, finding.related.line, 0));
          diagnostic.relatedInformation = [new vscode.DiagnosticRelatedInformation(location, finding.related.message)];
        }
        return diagnostic;
      }),
    );
  }

  /** The line from its first non-blank to its end, in the open document (else one character at the line's start). */
  private rangeOf(file: string, line: number, column: number): vscode.Range {
    const document = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    const text = document && line < document.lineCount ? document.lineAt(line).text : '';
    const start = column > 0 ? column : Math.max(0, text.search(/\S/));
    return new vscode.Range(line, start, line, Math.max(start + 1, text.length));
  }

  /** A closed document's module: its findings go (a render of it starts again when it opens). */
  private forget(file: string): void {
    const files = this.filesByModule.get(file);
    if (!files) return;
    this.filesByModule.delete(file);
    for (const f of new Set([file, ...files])) {
      this.byFile.get(f)?.delete(file);
      this.publish(f);
    }
  }

  private clearFolder(folder: vscode.Uri): void {
    for (const file of [...this.filesByModule.keys()]) if (folderFor(vscode.Uri.file(file))?.uri.toString() === folder.toString()) this.forget(file);
  }

  /** Another target: the old one's verdicts go, and the folder's open modules are rendered by the new one. */
  private targetChanged(folder: string): void {
    const uri = vscode.Uri.parse(folder);
    this.clearFolder(uri);
    for (const document of vscode.workspace.textDocuments) if (folderFor(document.uri)?.uri.toString() === folder) this.edited(document);
  }

  dispose(): void {
    for (const state of this.folders.values()) clearTimeout(state.timer);
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }
}
