/**
 * The one object the front doors (CLI, extension, tests, benchmarks) use to run Salt in containers.
 * Runs never throw for Salt or engine problems: those come back in the run's `errors` with a hint,
 * next to every state result that was produced.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { buildImage } from './build';
import type { DockerEngine } from './docker/engine';
import type { PullProgress } from './docker/pull';
import { retcodeOf, type BuildRun, type CallRun, type RawOutput, type RunError, type StateRun } from './results/model';
import { parseCall, parseRenderError, parseStateRun } from './results/parse';
import { SaltCallRunner, type SaltCallOutcome, type SaltCallSpec } from './run';
import type { SaltSource } from './salt/source';
import type { PythonRuntimeSetting } from './runtime/choose';

export interface SaltTree {
  /** file_roots: the folder holding top.sls and the SLS files. */
  stateRoot: string;
  /**
   * pillar_roots: undefined when there is no pillar tree. A file (a formula's pillar.example) is a
   * pillar tree of that one module, given to every minion.
   */
  pillarRoot?: string;
  /**
   * Other formulas the run's state tree holds beside its own files, as Test Kitchen's path
   * dependencies place them: `root/name/` at `name/`, and root's `_modules`, `_states`... with the
   * tree's own (the tree's files win where both have one).
   */
  formulas?: FormulaDir[];
}

export interface FormulaDir {
  /** The formula's folder name, which is its SLS modules' first part. */
  name: string;
  /** The folder that holds `name/` (and maybe `_modules/`...). */
  root: string;
}

/**
 * building-runtime: the bundled Python is being built (once per architecture; see runtime/build.ts);
 * pulling: a build's base image is not on the engine and comes from its registry (see onPull).
 */
export type RunStage = 'preparing' | 'pulling' | 'building-runtime' | 'injecting' | 'running' | 'cleaning' | 'committing';

export interface RunControl {
  /** Aborting kills salt-call in the container; cleanup still happens. */
  signal?: AbortSignal;
  /** Which Python runs Salt (the `saltContainers.pythonRuntime` setting, the CLI's --python): auto (default: the container's when the Salt source supports it, else the bundled one), container, bundled. */
  python?: PythonRuntimeSetting;
  /** Called as the run moves through its stages (for progress notifications). */
  onStage?: (stage: RunStage) => void;
  /** A pull's progress, when the run needs an image the engine lacks (a build's base image). */
  onPull?: (progress: PullProgress) => void;
  /** The exact engine calls and Salt's raw output, line by line (for an output channel or --debug). */
  log?: (line: string) => void;
  /**
   * Run through the container's warm session when the runner has one (see WarmRuns): the edit loop's
   * runs. Otherwise, or when the session cannot take the run, it runs cold (a salt-call of its own).
   */
  warm?: boolean;
}

/**
 * The seam between cold runs and warm sessions: a provider that may take a salt-call run (returning
 * the same outcome a cold run gives) or decline it (undefined), in which case the run goes cold.
 */
export interface WarmRuns {
  run(spec: SaltCallSpec, control: RunControl): Promise<SaltCallOutcome | undefined>;
}

export interface ApplyOptions extends RunControl {
  /** Dry run: Salt reports what would change and changes nothing. */
  test?: boolean;
  saltenv?: string;
  /** Pillar overrides, passed as `pillar=` on the command line. */
  pillar?: Record<string, unknown>;
}

export interface CallOptions extends RunControl {
  saltenv?: string;
}

export interface BuildOptions extends ApplyOptions {
  baseImage: string;
  /** repo[:tag] of the image to make. */
  tag: string;
  /** Commit a failed run as TAG-failed for inspection (and say so). */
  commitOnFailure?: boolean;
}

export interface SaltRunnerApi {
  readonly engine: DockerEngine;
  readonly salt: SaltSource;
  /** The cold runs (a warm session starts the way they do). */
  readonly calls: SaltCallRunner;
  /** Warm sessions for runs that ask for one (`warm`); set by whoever owns their lifetime (the extension, `watch`). */
  warm: WarmRuns | undefined;
  apply(container: string, mods: string[], tree: SaltTree, options?: ApplyOptions): Promise<StateRun>;
  /** One state of a module alone: `state.sls_id ID mods=MODULE`. */
  applyState(container: string, id: string, module: string, tree: SaltTree, options?: ApplyOptions): Promise<StateRun>;
  /** What Salt's Jinja makes of an SLS file for this container (its grains, its pillar); render errors carry the line. */
  render(container: string, sls: SlsFile, tree: SaltTree, options?: CallOptions): Promise<RenderRun>;
  highstate(container: string, tree: SaltTree, options?: ApplyOptions): Promise<StateRun>;
  /** Any execution function: `call(c, 'cmd.run', ['id'], {})`. The tree gives custom modules and salt:// files. */
  call(container: string, fn: string, args: string[], kwargs: Record<string, string>, tree?: SaltTree, options?: CallOptions): Promise<CallRun>;
  build(mods: string[], tree: SaltTree, options: BuildOptions): Promise<BuildRun>;
}

/** An SLS module and its file, relative to the state root with forward slashes (`web/init.sls`). */
export interface SlsFile {
  module: string;
  path: string;
}

/** The text Salt rendered an SLS file to (`rendered`), or the errors that stopped it. */
export interface RenderRun extends CallRun {
  module: string;
  rendered?: string;
}

/** The engine behind every front door: one SaltCallRunner (it caches per-container facts) for all runs. */
export class SaltRunner implements SaltRunnerApi {
  readonly calls: SaltCallRunner;
  warm: WarmRuns | undefined;

  constructor(
    readonly engine: DockerEngine,
    readonly salt: SaltSource,
  ) {
    this.calls = new SaltCallRunner(engine, salt);
  }

  /** The one place a run chooses: the warm session when asked for and able, else a cold salt-call. */
  private async saltCall(spec: SaltCallSpec, control: RunControl): Promise<SaltCallOutcome> {
    if (control.warm && this.warm) {
      const outcome = await this.warm.run(spec, control);
      if (outcome) return outcome;
    }
    return this.calls.run(spec, control);
  }

  apply(container: string, mods: string[], tree: SaltTree, options: ApplyOptions = {}): Promise<StateRun> {
    return this.stateRun(container, mods, tree, options);
  }

  highstate(container: string, tree: SaltTree, options: ApplyOptions = {}): Promise<StateRun> {
    return this.stateRun(container, [], tree, options);
  }

  applyState(container: string, id: string, module: string, tree: SaltTree, options: ApplyOptions = {}): Promise<StateRun> {
    return this.stateRun(container, [module], tree, options, id);
  }

  async render(container: string, { module, path }: SlsFile, tree: SaltTree, options: CallOptions = {}): Promise<RenderRun> {
    // Jinja only: the YAML the file becomes, line for line what the author wrote, with the container's
    // grains and pillar; `sls` gives the template Salt's own context (tpldir, slspath...).
    const kwargs = { path: `salt://${path}`, default_renderer: 'jinja', sls: module, saltenv: options.saltenv ?? 'base' };
    const run = await this.call(container, 'slsutil.renderer', [], kwargs, tree, options);
    const errors = run.errors.map((error) => renderErrorOf(error, run.raw, module));
    const rendered = errors.length === 0 ? (typeof run.return === 'string' ? run.return : dump(run.return, { lineWidth: 120, noRefs: true })) : undefined;
    return { ...run, errors, module, rendered };
  }

  async call(container: string, fn: string, args: string[], kwargs: Record<string, string>, tree?: SaltTree, options: CallOptions = {}): Promise<CallRun> {
    const outcome = await this.saltCall(
      { container, args: [fn, ...args, ...Object.entries(kwargs).map(([k, v]) => `${k}=${v}`)], tree: tree ?? { stateRoot: emptyTree(this.salt.cacheDir) }, saltenv: options.saltenv },
      options,
    );
    const { error, ...facts } = outcome;
    const parsed = error || !outcome.raw ? { value: undefined, errors: [] } : parseCall(outcome.raw);
    const errors = error ? [error] : parsed.errors;
    return { kind: 'call', function: fn, return: parsed.value, retcode: errors.length ? 1 : 0, errors, ...facts };
  }

  build(mods: string[], tree: SaltTree, options: BuildOptions): Promise<BuildRun> {
    return buildImage(this.engine, (container, m, t, o) => this.stateRun(container, m, t, o), mods, tree, options);
  }

  private async stateRun(container: string, mods: string[], tree: SaltTree, options: ApplyOptions, stateId?: string): Promise<StateRun> {
    const highstate = mods.length === 0;
    const args = stateId !== undefined ? ['state.sls_id', stateId, `mods=${mods.join(',')}`] : highstate ? ['state.highstate'] : ['state.sls', mods.join(',')];
    if (options.test) args.push('test=True');
    if (options.saltenv) args.push(`saltenv=${options.saltenv}`);
    if (options.pillar && Object.keys(options.pillar).length) args.push(`pillar=${JSON.stringify(options.pillar)}`);
    const outcome = await this.saltCall({ container, args, tree, saltenv: options.saltenv }, options);
    const { error, ...facts } = outcome;
    const parsed = error || !outcome.raw ? { states: [], errors: [] } : parseStateRun(outcome.raw);
    const errors = error ? [...parsed.errors, error] : parsed.errors;
    return { kind: 'state', mods, highstate, ...(stateId !== undefined ? { stateId } : {}), test: options.test ?? false, states: parsed.states, retcode: retcodeOf(parsed.states, errors), errors, ...facts };
  }
}

/** Salt reports a template that failed to render as an exception; it is a render error in `module`, at the line Jinja names. */
function renderErrorOf(error: RunError, raw: RawOutput | undefined, module: string): RunError {
  if (error.kind !== 'exception' || !raw) return error;
  const message = /SaltRenderError: (.*)/.exec(raw.stderr)?.[1];
  if (!message) return error;
  return { ...parseRenderError(message), sls: module };
}

/**
 * An empty state tree for calls made without a workspace: one folder in the cache, the user's own, kept
 * for every process (a temporary folder per process was left behind by each).
 */
function emptyTree(cacheDir: string): string {
  const dir = join(cacheDir, 'empty-tree');
  mkdirSync(dir, { recursive: true });
  return dir;
}
