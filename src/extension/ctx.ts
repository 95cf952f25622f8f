/**
 * The extension's one context object (as rust-analyzer's editors/code has): the services every feature
 * uses (the engines and their runners, warm sessions, target containers, the results: diagnostics,
 * inline, panel, documents; the output channel, progress, notifications, trust) and every disposable.
 * It imports no feature: main.ts makes the features (views, apply on save, rendered documents, state
 * tests, CodeLens) and hands each this object. Commands are made by factories that take it (commands/, the table in commands/index.ts).
 */
import * as vscode from 'vscode';
import type { AnyRun, BuildRun, RunControl, RunError, RunStage, SaltRunnerApi, StateRun } from '../engine';
import { runSettings, section } from './config';
import { RunDiagnostics } from './results/diagnostics';
import { InlineResults } from './results/inline';
import { TreeFiles } from './treeFiles';
import { Sessions } from './sessions';
import { TargetContainers, type ContainerChoice } from './targetContainer';
import { Engines, loadRuntime } from './engines';
import { errorWithHint } from './format';
import { ResultsPanel } from './results/panel';

/** Makes a command handler; handlers take typed arguments (documented in commands/index.ts). */
export type CommandFactory = (ctx: Ctx) => (...args: never[]) => unknown;

const stageLabels: Record<RunStage, string> = {
  preparing: 'Preparing',
  pulling: 'Pulling the base image',
  'building-runtime': 'Building the Python runtime (once)',
  injecting: 'Injecting Salt',
  running: 'Running states',
  cleaning: 'Cleaning up',
  committing: 'Committing',
};

/** What a refused command returns (untrusted workspace, nothing to run on): tests assert it. */
export interface Refused {
  refused: true;
  reason: 'untrusted-workspace' | 'no-container' | 'no-target' | 'cancelled';
  message: string;
}

export const refusal = (reason: Refused['reason'], message: string): Refused => ({ refused: true, reason, message });

export class Ctx implements vscode.Disposable {
  readonly subscriptions: vscode.Disposable[] = [];
  readonly engines = new Engines();
  readonly results: ResultsPanel;
  readonly diagnostics = new RunDiagnostics();
  /** Read-only documents for function results and grains (scheme `salt-containers`). */
  readonly documents = new ResultDocuments();
  readonly inline = new InlineResults();
  readonly targets: TargetContainers;
  /** The trees' files changed on disk, in the editor or outside it. */
  readonly treeFiles = new TreeFiles();
  readonly sessions: Sessions;
  lastRun: AnyRun | undefined;
  /** The last state run of each state tree and the files it spoke for (apply on save runs it again). */
  readonly lastStateRuns = new Map<string, { run: StateRun | BuildRun; files: string[] }>();
  /** Runs in progress by container (engine key and name): apply on save waits for them. */
  private readonly inProgress = new Map<string, Set<Promise<unknown>>>();
  private outputChannel: vscode.OutputChannel | undefined;
  /** Run notes already shown this session: each is worth one notification, not one per run. */
  private readonly notesShown = new Set<string>();
  /** A command changed what a view lists (a container made, an image built): the view lists again. */
  private readonly listsChanged = new vscode.EventEmitter<'containers' | 'images'>();
  readonly onDidChangeLists = this.listsChanged.event;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.results = new ResultsPanel(extension);
    this.targets = new TargetContainers(extension.workspaceState);
    this.sessions = new Sessions(this.targets, (line) => this.log(line));
    this.subscriptions.push(
      this.sessions,
      this.engines,
      this.results,
      this.diagnostics,
      this.inline,
      this.targets,
      this.treeFiles,
      this.listsChanged,
      vscode.workspace.registerTextDocumentContentProvider(ResultDocuments.scheme, this.documents),
    );
  }

  /** Says that the containers (or images) a view lists changed; the view (main.ts) lists again. */
  listChanged(view: 'containers' | 'images'): void {
    this.listsChanged.fire(view);
  }

  /** The runner for a container's engine, with warm sessions for the runs that go to a target. */
  async runner(container: ContainerChoice): Promise<SaltRunnerApi> {
    const runner = await this.engines.runner(container.engineKey);
    await this.sessions.attach(runner, container.engineKey);
    return runner;
  }

  /** Runs work on a container, known as in progress until it settles (see idle). */
  track<T>(container: ContainerChoice, work: () => Promise<T>): Promise<T> {
    const key = `${container.engineKey}\n${container.name}`;
    const running = work();
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    const set = this.inProgress.get(key) ?? new Set<Promise<unknown>>();
    set.add(settled);
    this.inProgress.set(key, set);
    void settled.then(() => set.delete(settled));
    return running;
  }

  /** Resolves once no run is in progress on the container. */
  async idle(container: ContainerChoice): Promise<void> {
    const set = this.inProgress.get(`${container.engineKey}\n${container.name}`);
    while (set?.size) await Promise.all(set);
  }

  get output(): vscode.OutputChannel {
    if (!this.outputChannel) {
      this.outputChannel = vscode.window.createOutputChannel('Salt Containers');
      this.subscriptions.push(this.outputChannel);
    }
    return this.outputChannel;
  }

  /** The output channel's last lines this session (the API's outputLines: what tests read of the log). */
  readonly logged: string[] = [];

  log(line: string): void {
    this.output.appendLine(line);
    this.logged.push(line);
    if (this.logged.length > 1000) this.logged.splice(0, this.logged.length - 1000);
  }

  registerCommand(name: string, factory: CommandFactory): void {
    this.subscriptions.push(vscode.commands.registerCommand(`saltContainers.${name}`, factory(this)));
  }

  /**
   * Runs long work under a cancellable progress notification that shows the run's stages; Cancel
   * aborts the run's signal (the runner kills salt-call and still cleans up).
   */
  withRunProgress<T>(title: string, work: (control: RunControl) => Promise<T>, external?: AbortSignal, quiet = false): Promise<T> {
    // Quiet runs (apply on save, renders) show in the status bar: a notification per save is noise.
    const location = quiet ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification;
    return Promise.resolve(
      vscode.window.withProgress({ location, title, cancellable: !quiet }, async (progress, token) => {
        const abort = new AbortController();
        const onCancel = () => {
          if (abort.signal.aborted) return;
          this.log('Cancel requested: stopping salt-call and cleaning up');
          abort.abort();
        };
        const cancel = token.onCancellationRequested(onCancel);
        // A caller's own signal (commands take one in their options) cancels the same way.
        if (external?.aborted) onCancel();
        external?.addEventListener('abort', onCancel, { once: true });
        try {
          const runtime = await loadRuntime();
          return await work({
            signal: abort.signal,
            onStage: (stage) => progress.report({ message: stageLabels[stage] ?? stage }),
            // A build's base image the engine lacks: its layers and bytes as they come.
            onPull: (pull) => progress.report({ message: runtime.describePull(pull) }),
            log: (line) => this.log(line),
            // Every run of the extension goes through here: the Python setting too.
            python: runSettings().python,
          });
        } finally {
          cancel.dispose();
          external?.removeEventListener('abort', onCancel);
        }
      }),
    );
  }

  /** Tells a run's notes (e.g. what would make runs faster): logged every time, shown once a session. */
  showNotes(run: AnyRun): void {
    for (const note of run.notes ?? []) {
      this.log(`note: ${note}`);
      if (this.notesShown.has(note)) continue;
      this.notesShown.add(note);
      void vscode.window.showInformationMessage(`Salt Containers: ${note}`);
    }
  }

  /**
   * Puts a state or build run everywhere it shows: inline, diagnostics, panel (brought forward unless
   * `reveal` is false), status bar, one notification at most (plus new notes).
   */
  async showStateRun(run: StateRun | BuildRun, stateRoot: string, { reveal = true, pillarRoot }: { reveal?: boolean; pillarRoot?: string } = {}): Promise<void> {
    this.lastRun = run;
    this.showNotes(run);
    const runtime = await loadRuntime();
    const files = runtime.filesOfRun(run, { stateRoot, pillarRoot });
    this.lastStateRuns.set(stateRoot, { run, files });
    this.diagnostics.update(runtime.runKey(run, stateRoot), files, runtime.problemsOf(run, { stateRoot, pillarRoot }));
    this.inline.update(files, runtime.inlineResultsOf(run, stateRoot));
    const model = runtime.buildResultsModel(run, stateRoot);
    this.results.showRun(model, reveal);
    const s = model.summary;
    this.log(`${model.title} ${model.subtitle}: ${s.succeeded} succeeded, ${s.changed} changed, ${s.failed} failed, ${s.pending} pending, ${s.total} total, retcode ${run.retcode}, ${model.totalTime}`);
    const cancelled = run.errors.find((e) => e.kind === 'cancelled');
    if (cancelled) {
      void vscode.window.showInformationMessage(`Salt Containers: ${model.title} cancelled. ${cancelled.message}`);
    } else if (run.errors.length) {
      this.notifyRunError(model.title, run.errors[0]);
    } else if (s.failed) {
      void this.notifyError(`${model.title}: ${s.failed} of ${s.total} states failed.`);
    }
  }

  /** A run's error as a toast; a machine without Salt is offered the install instead. */
  notifyRunError(title: string, error: RunError): void {
    if (error.kind === 'no-salt') void this.offerSaltInstall(title, error);
    else void this.notifyError(`${title}: ${errorWithHint(error)}`);
  }

  /**
   * No Python with Salt here (and, where the engine was asked too, why it could not make Salt): one
   * click installs the pinned Salt into the cache (saltContainers.installSalt).
   */
  private async offerSaltInstall(title: string, error: RunError): Promise<void> {
    const { PINNED_SALT_VERSION } = await loadRuntime();
    const install = `Install Salt ${PINNED_SALT_VERSION}`;
    // The engine's reason (a helper image it cannot pull, no network) is what the person can fix.
    const engineTried = /the engine could not make Salt/.test(error.message);
    const choice = await vscode.window.showErrorMessage(
      engineTried
        ? `Salt Containers: ${title}: ${errorWithHint(error)}`
        : `Salt Containers: ${title}: this machine has no Python with Salt. Install Salt ${PINNED_SALT_VERSION} from PyPI into Salt Containers' cache (about a minute), or set saltContainers.saltPython to a Python that has Salt.`,
      install,
      'Open Settings',
    );
    if (choice === install) await vscode.commands.executeCommand('saltContainers.installSalt');
    else if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', engineTried ? `${section}.helpers` : `${section}.saltPython`);
  }

  /** One error toast with the ways to look closer; never awaited by commands (tests run headless). */
  async notifyError(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(`Salt Containers: ${message}`, 'Show Results', 'Show Output');
    if (choice === 'Show Results') this.results.reveal();
    else if (choice === 'Show Output') this.output.show(true);
  }

  /** Refuses work that runs Salt when the workspace is not trusted, and says why. */
  refuseUntrusted(what: string): Refused | undefined {
    if (vscode.workspace.isTrusted) return undefined;
    const message = `${what} is disabled in Restricted Mode: it runs this workspace's Salt states and modules, which can run any command in the container and use your Docker engine. Trust the workspace to use it.`;
    void vscode.window.showWarningMessage(`Salt Containers: ${message}`, 'Manage Workspace Trust').then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return { refused: true, reason: 'untrusted-workspace', message };
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }
}

/** Read-only JSON documents for what functions return; reopening the same URI shows the new content. */
export class ResultDocuments implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'salt-containers';
  private contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  async show(name: string, content: string): Promise<vscode.TextEditor> {
    const uri = vscode.Uri.from({ scheme: ResultDocuments.scheme, path: `/${name}` });
    this.contents.set(uri.toString(), content);
    this.changed.fire(uri);
    const document = await vscode.workspace.openTextDocument(uri);
    if (name.endsWith('.json')) await vscode.languages.setTextDocumentLanguage(document, 'json');
    return vscode.window.showTextDocument(document, { preview: true, preserveFocus: false });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }
}
