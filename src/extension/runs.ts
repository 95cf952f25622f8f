/**
 * The one run funnel: every Salt run the extension starts (apply, one state, render, call, grains,
 * build) goes through `startRun`, so each gets the same treatment: the runner of its engine (with the
 * warm sessions), the target rule (a run on its folder's target container goes through the warm
 * session), tracking (apply on save waits for the runs in progress on its container), progress with
 * Cancel, the log lines, and the errors: the run's own and anything thrown, logged and notified alike.
 * The state runs every apply shares (commands, CodeLens, apply on save) are `runStates`, over the one
 * value for which SLS to run, `SlsToRun`.
 */
import * as vscode from 'vscode';
import type { AnyRun, RunControl, SaltRunnerApi, SaltTree, StateRun } from '../engine';
import { isUnder } from '../sls/modules';
import { runSettings } from './config';
import type { Ctx } from './ctx';
import { errorWithHint } from './format';
import type { ContainerChoice } from './targetContainer';

export interface RunRequest<R extends AnyRun> {
  /** What the progress says after `Salt Containers: ` (`applying web on c1`). */
  title: string;
  /** What the log's `---` line says after the time; told whether the run goes warm. */
  logLine: string | ((warm: boolean) => string);
  /** The container it runs on: tracked while the run lasts. A build names only its engine. */
  container: ContainerChoice | { engineKey: string | undefined; name?: undefined };
  /** The file or folder it is for: a run on that folder's target container goes warm. Unset: always cold. */
  warmFor?: vscode.Uri;
  /** Cancels the run like the notification's Cancel button. */
  signal?: AbortSignal;
  /** Progress in the status bar, not a notification (apply on save, renders). */
  quiet?: boolean;
  /** The run itself, on the runner with the control the funnel made (warm set by the target rule). */
  run: (runner: SaltRunnerApi, control: RunControl) => Promise<R>;
  /** Shows the run where it belongs (panel, document, diagnostics); its errors are logged already. */
  show: (run: R) => Promise<void>;
}

/** Runs one Salt run through the funnel; undefined when something other than Salt failed (logged and notified). */
export async function startRun<R extends AnyRun>(ctx: Ctx, request: RunRequest<R>): Promise<R | undefined> {
  const { container } = request;
  const target = request.warmFor && ctx.targets.get(request.warmFor);
  const warm = !!target && container.name !== undefined && target.engineKey === container.engineKey && target.name === container.name;
  const work = async (): Promise<R> => {
    const runner = container.name !== undefined ? await ctx.runner(container) : await ctx.engines.runner(container.engineKey);
    const logLine = typeof request.logLine === 'string' ? request.logLine : request.logLine(warm);
    ctx.log(`--- ${new Date().toISOString()} ${logLine}`);
    return ctx.withRunProgress(`Salt Containers: ${request.title}`, (control) => request.run(runner, { ...control, warm }), request.signal, request.quiet);
  };
  try {
    const run = container.name !== undefined ? await ctx.track(container, work) : await work();
    // The run's own errors (Salt's, the engine's, a cancel): in the log for every kind of run.
    for (const error of run.errors) ctx.log(`error: ${errorWithHint(error)}`);
    await request.show(run);
    return run;
  } catch (error) {
    // Runs report Salt and engine problems in `errors`; this is for anything else.
    ctx.log(`error: ${errorWithHint(error)}`);
    void ctx.notifyError(errorWithHint(error));
    return undefined;
  }
}

/** Saves open, modified files of the state and pillar trees: Salt reads them from disk. */
export async function saveTree(tree: SaltTree): Promise<void> {
  const roots = [tree.stateRoot, tree.pillarRoot].filter((r): r is string => !!r);
  const dirty = vscode.workspace.textDocuments.filter((d) => d.isDirty && d.uri.scheme === 'file' && roots.some((r) => isUnder(r, d.uri.fsPath)));
  await Promise.all(dirty.map((d) => d.save()));
}

/**
 * Which SLS a run applies: modules or the highstate, of which trees, for which file or folder. Chosen by
 * pick.ts's chooseSls, gathered from saves by apply on save, made by the commands that name a module;
 * state runs (runStates) and builds take it as it is.
 */
export interface SlsToRun {
  /** The file or folder the run is for: its folder's settings and target container (the warm session). */
  resource: vscode.Uri;
  tree: SaltTree;
  /** The modules applied, each once; not used by the highstate. */
  mods: string[];
  highstate: boolean;
}

/** How one state run goes: where, in test mode or not, one state alone. */
export interface StateRunOptions {
  container: ContainerChoice;
  test: boolean;
  /** One state of the (one) module alone (state.sls_id). */
  stateId?: string;
  signal?: AbortSignal;
  /** Apply on save: progress in the status bar, the results panel updated but not brought forward. */
  quiet?: boolean;
}

/**
 * Runs states and shows the run everywhere (inline, problems, panel, status bar). Every state run of the
 * extension is this one: the apply commands, CodeLens, apply on save.
 */
export async function runStates(ctx: Ctx, sls: SlsToRun, options: StateRunOptions): Promise<StateRun | undefined> {
  const { tree } = sls;
  const { container, stateId } = options;
  await saveTree(tree);
  const settings = runSettings(sls.resource);
  const label = sls.highstate ? 'highstate' : stateId !== undefined ? `${stateId} of ${sls.mods[0]}` : sls.mods.join(', ');
  return startRun(ctx, {
    title: `${options.test ? 'testing' : 'applying'} ${label} on ${container.name}`,
    logLine: (warm) => `${options.test ? 'test ' : ''}${label} on ${container.name} (state root ${tree.stateRoot}${tree.pillarRoot ? `, pillar root ${tree.pillarRoot}` : ''}, saltenv ${settings.saltenv}${warm ? ', warm session' : ''})`,
    container,
    warmFor: sls.resource,
    signal: options.signal,
    quiet: options.quiet,
    run: (runner, control) => {
      const applyOptions = { ...control, test: options.test, saltenv: settings.saltenv };
      if (sls.highstate) return runner.highstate(container.name, tree, applyOptions);
      if (stateId !== undefined) return runner.applyState(container.name, stateId, sls.mods[0], tree, applyOptions);
      return runner.apply(container.name, sls.mods, tree, applyOptions);
    },
    show: (run) => ctx.showStateRun(run, tree.stateRoot, { reveal: !options.quiet, pillarRoot: tree.pillarRoot }),
  });
}
