/**
 * The typed result model shared by the engine, the CLI, the extension and the tests. Every shape that
 * salt-call prints (state results, render errors, unknown function, bad arguments, exceptions, no
 * Python) ends up as a StateRun or a CallRun; nothing is dropped because something else failed.
 */

/** One state's result, in the order Salt ran it. */
export interface StateResult {
  /** The state ID (`__id__`). */
  id: string;
  /** The dotted SLS module that defines it (`__sls__`), e.g. `web` or `web.config`. */
  sls: string;
  /** `module.function`, e.g. `pkg.installed`. */
  function: string;
  /** The state's `name` argument. */
  name: string;
  /** true = succeeded, false = failed, null = would change (test mode) or not run. */
  result: boolean | null;
  comment: string;
  changes: Record<string, unknown>;
  durationMs: number;
  /** Salt's `__run_num__`: the order it ran in. */
  runNum: number;
  /** Salt's full tag `<module>_|-<id>_|-<name>_|-<fun>` (never split on `_|-`: ids may contain it). */
  tag: string;
  /** Time of day the state started, as Salt prints it (container-local). */
  startTime?: string;
}

export type ErrorKind =
  | 'render' // Jinja, YAML, a missing SLS, or one Salt cannot compile (a state not formed as a list, a requisite that matches nothing): names the SLS and usually the line or the state
  | 'unknown-function' // `'nosuch.fn' is not available.`
  | 'bad-arguments' // Salt printed the function's docstring
  | 'exception' // a traceback on stderr
  | 'no-python' // the image has no Python for Salt
  | 'salt' // any other failure Salt reported in words
  | 'engine-unreachable'
  | 'container-not-found'
  | 'container-not-running'
  | 'container-gone' // removed or stopped while running
  | 'container-refused' // the engine would not create or start a container with the settings asked for
  | 'image-not-found'
  | 'registry' // a pull failed: the registry unreachable from the engine, credentials refused, a rate limit, TLS
  | 'engine' // the engine refused or failed: permissions, TLS, API version, a context, a container that would not start
  | 'no-salt' // no Python with Salt on the host at all: installSalt can make one
  | 'salt-source' // the host's Python with Salt failed, or thin generation did
  | 'cancelled'
  | 'output'; // output that could not be parsed

export interface RunError {
  kind: ErrorKind;
  message: string;
  /** The SLS module the error is in, when Salt names one (`web`, `web.config`). */
  sls?: string;
  /** 1-based line in that SLS, when Salt names one. */
  line?: number;
  /** 1-based column, when Salt names one (YAML errors). */
  column?: number;
  /**
   * The state tree file the error is in when it is not the SLS's own: a template the SLS imports
   * (`web/map.jinja`, relative to the state root). `line` is then that file's line.
   */
  file?: string;
  /** The state the error is about, when Salt names its ID (`State 'web' in SLS 'web' is not formed as a list`). */
  id?: string;
  /** The state the error is about, when Salt names it by its `name` (a requisite that matches nothing). */
  name?: string;
  /** The argument of that state the error is about, when Salt names one (`require` in "The require statement in state 'x' ... needs to be formed as a list"). */
  argument?: string;
  /** What to do about it, for people. */
  hint?: string;
  /** The error is in the pillar tree: `sls` names a pillar module, `line` is its file's. */
  pillar?: boolean;
}

/** The exact salt-call that ran and what it printed, for the output channel and --debug. */
export interface RawOutput {
  argv: string[];
  stdout: string;
  stderr: string;
  /** null when the process never finished (cancelled, container gone). */
  exitCode: number | null;
  /**
   * What Salt wrote to its log file during the run (errors and worse): the reason of a render failure
   * that Salt's output leaves to "see master log". Taken out of stderr (withSaltLog).
   */
  log?: string;
}

/** The Python that ran Salt in the container. */
export interface PythonUsed {
  /** The container's own, or the runtime the engine brought (runtime/). */
  kind: 'container' | 'bundled';
  /** major.minor */
  version: string;
  /** Its command or path in the container. */
  path: string;
}

export interface ContainerRef {
  id: string;
  name: string;
}

interface RunBase {
  /** 0 all good, 2 a state failed, 1 anything else (render error, no Python, engine down, cancel). */
  retcode: 0 | 1 | 2;
  errors: RunError[];
  container?: ContainerRef;
  saltVersion?: string;
  /** The Python that ran Salt, when one did. */
  python?: PythonUsed;
  durationMs: number;
  raw?: RawOutput;
  /** Worth telling about how the run went, not errors: e.g. what would make runs faster. */
  notes?: string[];
  /** True when the container's warm session ran it (no Salt start paid). */
  warm?: boolean;
}

export interface StateRun extends RunBase {
  kind: 'state';
  /** Modules applied; empty for a highstate. */
  mods: string[];
  highstate: boolean;
  /** Set when one state of the modules ran alone (`state.sls_id`). */
  stateId?: string;
  test: boolean;
  /** Sorted by runNum. */
  states: StateResult[];
}

export interface CallRun extends RunBase {
  kind: 'call';
  function: string;
  /** What the function returned (parsed JSON), undefined when it failed. */
  return: unknown;
}

export interface BuiltImage {
  id: string;
  tag: string;
  /** True when a failed run was committed for inspection as TAG-failed. */
  failed: boolean;
}

export interface BuildRun extends Omit<StateRun, 'kind'> {
  kind: 'build';
  baseImage: string;
  image?: BuiltImage;
}

export type AnyRun = StateRun | CallRun | BuildRun;

export interface RunSummary {
  succeeded: number;
  changed: number;
  failed: number;
  /** Would change (test mode) or did not run. */
  pending: number;
  total: number;
  /** Sum of the states' own durations. */
  stateDurationMs: number;
}

export function summarize(states: readonly StateResult[]): RunSummary {
  const summary: RunSummary = { succeeded: 0, changed: 0, failed: 0, pending: 0, total: states.length, stateDurationMs: 0 };
  for (const state of states) {
    if (state.result === false) summary.failed++;
    else if (state.result === null) summary.pending++;
    else summary.succeeded++;
    if (state.result === true && Object.keys(state.changes).length > 0) summary.changed++;
    summary.stateDurationMs += state.durationMs;
  }
  return summary;
}

/** The retcode the CLI and the extension report: 2 when a state failed, 1 for any other error. */
export function retcodeOf(states: readonly StateResult[], errors: readonly RunError[]): 0 | 1 | 2 {
  if (errors.length > 0) return 1;
  return states.some((s) => s.result === false) ? 2 : 0;
}
