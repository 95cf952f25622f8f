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
import { retcodeOf, type BuildRun, type CallRun, type RawOutput, type RunError, type StateRun } from './results/model';
import { Launcher } from './launch';
import { parseCall, parseRenderError, parseStateRun } from './results/parse';
import { SaltCallRunner } from './run';
import type { SaltSource } from './salt/source';
import type { ApplyOptions, BuildOptions, CallOptions, RenderRun, RunControl, SaltCallOutcome, SaltCallSpec, SaltTree, SlsFile, WarmRuns } from './spec';

// The vocabulary moved to spec.ts; names imported from here before still are.
export type * from './spec';

export interface SaltRunnerApi {
  readonly engine: DockerEngine;
  readonly salt: SaltSource;
  /** What cold runs and warm sessions share (the Python each image runs with, the runtimes built): give it to WarmSessions. */
  readonly launcher: Launcher;
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

/** The engine behind every front door: one Launcher (it caches per-image facts) for all runs, cold and warm. */
export class SaltRunner implements SaltRunnerApi {
  readonly launcher: Launcher;
  /** The cold runs. */
  private readonly calls: SaltCallRunner;
  warm: WarmRuns | undefined;

  constructor(
    readonly engine: DockerEngine,
    readonly salt: SaltSource,
  ) {
    this.launcher = new Launcher(engine, salt);
    this.calls = new SaltCallRunner(this.launcher);
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
    if (options.mock) args.push('mock=True');
    if (options.saltenv) args.push(`saltenv=${options.saltenv}`);
    if (options.pillar && Object.keys(options.pillar).length) args.push(`pillar=${JSON.stringify(options.pillar)}`);
    const outcome = await this.saltCall({ container, args, tree, saltenv: options.saltenv, overlay: options.overlay }, options);
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
