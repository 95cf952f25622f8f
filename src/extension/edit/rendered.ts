/**
 * Show Rendered SLS: what Salt's Jinja makes of an SLS file for the target container (its grains, its
 * pillar), as a read-only document beside the source (scheme `salt-rendered`), refreshed when a file of
 * its trees changes on disk: saved in the editor, or changed outside it (a git pull). Jinja's output is the most useful view for an author: the YAML Salt then reads,
 * line for line what was written, loops unrolled and map.jinja values filled in. A render error goes on
 * the source line Jinja names (diagnostics) and the document says what failed.
 */
import { relative, sep } from 'node:path';
import * as vscode from 'vscode';
import type { RenderRun, SaltTree } from '../../engine';
import { treeOfChange } from '../../sls/roots';
import { rootsFor } from '../config';
import { refusal, type CommandFactory, type Ctx } from '../ctx';
import { loadRuntime } from '../engines';
import { errorWithHint } from '../format';
import { activeSlsUri, chooseContainer, type ContainerOptions } from '../pick';
import { startRun } from '../runs';
import type { ContainerChoice } from '../targetContainer';
import { applyTarget } from '../targets';

export interface RenderRequest {
  source: vscode.Uri;
  module: string;
  tree: SaltTree;
  container: ContainerChoice;
}

const scheme = 'salt-rendered';

export class RenderedDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly requests = new Map<string, RenderRequest>();
  /** Rendered documents whose trees changed while no editor showed them: rendered again when one does. */
  private readonly stale = new Set<string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The last render of each source (tests read it through the extension's API). */
  readonly lastRuns = new Map<string, RenderRun>();

  constructor(private readonly ctx: Ctx) {
    this.subscriptions.push(
      this.changed,
      vscode.workspace.registerTextDocumentContentProvider(scheme, this),
      ctx.treeFiles.onDidChange((files) => this.onChange(files)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => {
        for (const editor of editors) if (this.stale.delete(editor.document.uri.toString())) this.renderAgain(editor.document.uri.toString());
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (document.uri.scheme !== scheme) return;
        this.requests.delete(document.uri.toString());
        this.stale.delete(document.uri.toString());
      }),
    );
  }

  static uriFor(source: vscode.Uri): vscode.Uri {
    return vscode.Uri.from({ scheme, path: `${source.path}.rendered.yaml`, query: source.toString() });
  }

  /** Renders and opens the document beside the source; returns the render run. */
  async show(request: RenderRequest, signal?: AbortSignal): Promise<RenderRun | undefined> {
    const uri = RenderedDocuments.uriFor(request.source);
    this.requests.set(uri.toString(), request);
    const run = await this.render(uri, request, signal);
    const document = await vscode.workspace.openTextDocument(uri);
    if (document.languageId !== 'yaml') await vscode.languages.setTextDocumentLanguage(document, 'yaml').then(undefined, () => undefined);
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
    return run;
  }

  private async render(uri: vscode.Uri, request: RenderRequest, signal?: AbortSignal): Promise<RenderRun | undefined> {
    const file = request.source.fsPath;
    const path = relative(request.tree.stateRoot, file).split(sep).join('/');
    const container = request.container;
    return startRun(this.ctx, {
      title: `rendering ${path} on ${container.name}`,
      logLine: `render ${path} on ${container.name}`,
      container,
      warmFor: request.source,
      signal,
      quiet: true,
      run: (runner, control) => runner.render(container.name, { module: request.module, path }, request.tree, control),
      show: async (run) => {
        this.lastRuns.set(file, run);
        this.ctx.showNotes(run);
        // Render errors on the source line; a good render clears them.
        const runtime = await loadRuntime();
        this.ctx.diagnostics.update(`rendered:${file}`, [file], runtime.problemsOfRender(run, request.tree.stateRoot, file));
        const header = `# ${path} rendered by Salt ${run.saltVersion ?? ''} for ${container.name} (its grains and pillar). Read-only; refreshed when a file of its trees changes.\n`;
        const body = run.rendered ?? `# Salt could not render it:\n${run.errors.map((e) => `#   ${errorWithHint(e).split('\n').join('\n#   ')}`).join('\n')}\n`;
        this.contents.set(uri.toString(), header + body);
        this.changed.fire(uri);
      },
    });
  }

  /**
   * A change in a rendered file's trees (a save, a checkout) renders it again if an editor shows it; a
   * hidden one (VS Code keeps a closed editor's document for a while) when it is shown again.
   */
  private onChange(files: string[]): void {
    const shown = new Set(vscode.window.visibleTextEditors.map((e) => e.document.uri.toString()));
    for (const [key, request] of this.requests) {
      const roots = [request.tree.stateRoot, request.tree.pillarRoot].filter((r): r is string => !!r);
      if (!files.some((file) => treeOfChange(roots, file))) continue;
      if (shown.has(key)) this.renderAgain(key);
      else this.stale.add(key);
    }
  }

  private renderAgain(key: string): void {
    const request = this.requests.get(key);
    if (request) void this.render(vscode.Uri.parse(key), request);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }
}

/** Show Rendered SLS (showRendered): what Salt renders an SLS file to for the target container, beside it. */
export function showRenderedCommand(rendered: RenderedDocuments): CommandFactory {
  return (ctx) => async (uri?: vscode.Uri, options?: ContainerOptions) => {
    const refused = ctx.refuseUntrusted('Show Rendered SLS');
    if (refused) return refused;
    const resource = uri ?? activeSlsUri();
    const roots = resource && rootsFor(resource);
    if (!resource || !roots) return refusal('no-target', 'Open an .sls file of the state tree first.');
    const target = applyTarget(roots.stateRoot, resource.fsPath, false);
    if (target.kind !== 'sls') return refusal('no-target', target.kind === 'none' ? target.problem : 'top.sls is rendered by the master, not as a module.');
    const container = await chooseContainer(ctx, undefined, options, resource);
    if (!container || 'refused' in container) return container;
    return rendered.show({ source: resource, module: target.module, tree: roots, container }, options?.signal);
  };
}
