/**
 * The one object the front doors (CLI, extension, tests, benchmarks) use to run Salt in containers.
 * Runs never throw for Salt or engine problems: those come back in the run's `errors` with a hint,
 * next to every state result that was produced.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from './build';
import type { DockerEngine } from './docker/engine';
import { retcodeOf, type BuildRun, type CallRun, type StateRun } from './results/model';
import { parseCall, parseStateRun } from './results/parse';
import { SaltCallRunner } from './run';
import type { SaltSource } from './salt/source';
import type { PythonRuntimeSetting } from './runtime/choose';

export interface SaltTree {
  /** file_roots: the folder holding top.sls and the SLS files. */
  stateRoot: string;
  /** pillar_roots: undefined when there is no pillar tree. */
  pillarRoot?: string;
}

/** building-runtime: the bundled Python is being built (once per architecture; see runtime/build.ts). */
export type RunStage = 'preparing' | 'building-runtime' | 'injecting' | 'running' | 'cleaning' | 'committing';

export interface RunControl {
  /** Aborting kills salt-call in the container; cleanup still happens. */
  signal?: AbortSignal;
  /** Which Python runs Salt (the `saltContainers.pythonRuntime` setting, the CLI's --python): auto (default: the container's when the Salt source supports it, else the bundled one), container, bundled. */
  python?: PythonRuntimeSetting;
  /** Called as the run moves through its stages (for progress notifications). */
  onStage?: (stage: RunStage) => void;
  /** The exact engine calls and Salt's raw output, line by line (for an output channel or --debug). */
  log?: (line: string) => void;
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
  apply(container: string, mods: string[], tree: SaltTree, options?: ApplyOptions): Promise<StateRun>;
  highstate(container: string, tree: SaltTree, options?: ApplyOptions): Promise<StateRun>;
  /** Any execution function: `call(c, 'cmd.run', ['id'], {})`. The tree gives custom modules and salt:// files. */
  call(container: string, fn: string, args: string[], kwargs: Record<string, string>, tree?: SaltTree, options?: CallOptions): Promise<CallRun>;
  build(mods: string[], tree: SaltTree, options: BuildOptions): Promise<BuildRun>;
}

/** The engine behind every front door: one SaltCallRunner (it caches per-container facts) for all runs. */
export class SaltRunner implements SaltRunnerApi {
  private readonly calls: SaltCallRunner;

  constructor(
    readonly engine: DockerEngine,
    readonly salt: SaltSource,
  ) {
    this.calls = new SaltCallRunner(engine, salt);
  }

  apply(container: string, mods: string[], tree: SaltTree, options: ApplyOptions = {}): Promise<StateRun> {
    return this.stateRun(container, mods, tree, options);
  }

  highstate(container: string, tree: SaltTree, options: ApplyOptions = {}): Promise<StateRun> {
    return this.stateRun(container, [], tree, options);
  }

  async call(container: string, fn: string, args: string[], kwargs: Record<string, string>, tree?: SaltTree, options: CallOptions = {}): Promise<CallRun> {
    const outcome = await this.calls.run(
      { container, args: [fn, ...args, ...Object.entries(kwargs).map(([k, v]) => `${k}=${v}`)], tree: tree ?? { stateRoot: emptyTree() }, saltenv: options.saltenv },
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

  private async stateRun(container: string, mods: string[], tree: SaltTree, options: ApplyOptions): Promise<StateRun> {
    const highstate = mods.length === 0;
    const args = highstate ? ['state.highstate'] : ['state.sls', mods.join(',')];
    if (options.test) args.push('test=True');
    if (options.saltenv) args.push(`saltenv=${options.saltenv}`);
    if (options.pillar && Object.keys(options.pillar).length) args.push(`pillar=${JSON.stringify(options.pillar)}`);
    const outcome = await this.calls.run({ container, args, tree, saltenv: options.saltenv }, options);
    const { error, ...facts } = outcome;
    const parsed = error || !outcome.raw ? { states: [], errors: [] } : parseStateRun(outcome.raw);
    const errors = error ? [...parsed.errors, error] : parsed.errors;
    return { kind: 'state', mods, highstate, test: options.test ?? false, states: parsed.states, retcode: retcodeOf(parsed.states, errors), errors, ...facts };
  }
}

let emptyTreeDir: string | undefined;
/** An empty state tree for calls made without a workspace. */
function emptyTree(): string {
  emptyTreeDir ??= mkdtempSync(join(tmpdir(), 'salt-containers-empty-'));
  return emptyTreeDir;
}
