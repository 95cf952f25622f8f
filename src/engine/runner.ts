/**
 * The one object the front doors (CLI, extension, tests, benchmarks) use to run Salt in containers.
 * Runs never throw for Salt or engine problems: those come back in the run's `errors` with a hint,
 * next to every state result that was produced.
 */
import type { DockerEngine } from './docker/engine';
import type { SaltSource } from './salt/source';
import type { BuildRun, CallRun, StateRun } from './results/model';

export interface SaltTree {
  /** file_roots: the folder holding top.sls and the SLS files. */
  stateRoot: string;
  /** pillar_roots: undefined when there is no pillar tree. */
  pillarRoot?: string;
}

export type RunStage = 'preparing' | 'injecting' | 'running' | 'cleaning' | 'committing';

export interface RunControl {
  /** Aborting kills salt-call in the container; cleanup still happens. */
  signal?: AbortSignal;
  /** Called as the run moves through its stages (for progress notifications). */
  onStage?: (stage: RunStage) => void;
  /** The exact engine calls and Salt's raw output, line by line (for an output channel or --debug). */
  log?: (line: string) => void;
  /** User to run salt-call as in the container (default root: states install packages). */
  user?: string;
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
