/**
 * The engine's vocabulary: what a run is given (trees, controls, options) and what the seams between
 * its parts pass (a salt-call's spec and outcome, warm runs). Types only, so every part of the engine
 * and every front door can name them without importing the parts that do the work (runner.ts, the
 * facade; run.ts, the cold run; session/, the warm one; launch.ts, what both share; build.ts) or each
 * other.
 */
import type { PullProgress } from './docker/pull';
import type { CallRun, PythonUsed, RawOutput, RunError } from './results/model';
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

/**
 * Unsaved editor buffers laid over the trees for one run: the file's absolute path on the host to the
 * text Salt reads in its place. The files on disk are not touched; the next run without them has the
 * disk's text again (a warm session sends it back).
 */
export type TreeOverlay = ReadonlyMap<string, string>;

export interface ApplyOptions extends RunControl {
  /** Dry run: Salt reports what would change and changes nothing. */
  test?: boolean;
  /**
   * Salt's mock run (`mock=True`): every state rendered, compiled and checked (requisites, the state
   * functions this Salt has), none called. Only `onlyif`/`unless`/`creates` commands of states without
   * their own run check are run, as in a test run.
   */
  mock?: boolean;
  /** Buffers that stand for their files in this run only (the live render of an unsaved edit). */
  overlay?: TreeOverlay;
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

export interface SaltCallSpec {
  container: string;
  /** salt-call's positional part: the function and its arguments, e.g. ['state.sls', 'web', 'test=True']. */
  args: string[];
  tree: SaltTree;
  saltenv?: string;
  /** Texts that stand for tree files in this run only. */
  overlay?: TreeOverlay;
}

export interface SaltCallOutcome {
  container: { id: string; name: string };
  saltVersion?: string;
  /** The Python that ran Salt. */
  python?: PythonUsed;
  raw?: RawOutput;
  /** Set when the run could not produce Salt output at all (engine, container, Python, cancel). */
  error?: RunError;
  durationMs: number;
  notes?: string[];
  /** True when a warm session ran it (engine/session), not a salt-call of its own. */
  warm?: boolean;
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
