/**
 * From a run to problems on lines: a failed state is an error at its ID's line in the file that
 * defines it (through `__sls__` and the state root), pending changes in test mode are information,
 * render errors sit at the line Salt names. Pure (no vscode import): the extension turns these into
 * Diagnostics. When a location can't be known for sure the problem goes to the top of the right file
 * (what locateState returns), or nowhere, never to a wrong file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildRun, RenderRun, RunError, StateResult, StateRun } from '../../engine';
import { locateRunError, locateState, type RunRoots } from '../../sls/locate';
import { fileForModule } from '../../sls/modules';

export type ProblemSeverity = 'error' | 'information';

export interface Problem {
  file: string;
  /** 0-based. */
  line: number;
  /** 0-based. */
  column: number;
  severity: ProblemSeverity;
  message: string;
  /** The state ID, or the error kind for run errors. */
  code: string;
  /** False when the line is a fallback (top of the file): the ID was made by Jinja, say. */
  exact: boolean;
}

/** Where a state is defined, or undefined when Salt did not say (no `__sls__`) or the file is gone. */
export function stateLocation(stateRoot: string, state: Pick<StateResult, 'sls' | 'id'>): { file: string; line: number; exact: boolean } | undefined {
  if (!state.sls || !state.id) return undefined;
  const location = locateState(stateRoot, state.sls, state.id);
  return location && { file: location.file, line: location.line, exact: location.exact };
}

/**
 * A state's comment as a problem's message. Salt's comment for a state that raised is the whole
 * traceback, whose first line says nothing ("An exception occurred in this state: Traceback (most
 * recent call last):"): the exception's own line goes first, where the Problems view shows it.
 */
export function stateMessage(comment: string): string {
  const traceback = /Traceback \(most recent call last\):\n/.exec(comment);
  const raised = traceback && comment.trimEnd().split('\n').pop()!.trim();
  return raised ? `${comment.slice(0, traceback.index)}${raised}\n${comment.slice(traceback.index)}` : comment;
}

function stateProblem(stateRoot: string, run: StateRun | BuildRun, state: StateResult): Problem | undefined {
  const failed = state.result === false;
  const pending = state.result === null && run.test && Object.keys(state.changes).length > 0;
  if (!failed && !pending) return undefined;
  let location = stateLocation(stateRoot, state);
  // A highstate that matched nothing comes back as one result with no __sls__: it is about top.sls.
  if (!location && run.highstate && existsSync(join(stateRoot, 'top.sls'))) location = { file: join(stateRoot, 'top.sls'), line: 0, exact: false };
  if (!location) return undefined;
  const message = state.comment ? stateMessage(state.comment) : failed ? `${state.function} failed` : `${state.function} would change`;
  return { ...location, column: 0, severity: failed ? 'error' : 'information', message, code: state.id || state.function };
}

function errorProblem(roots: RunRoots, run: StateRun | BuildRun, error: RunError): Problem | undefined {
  // Not about a file Salt named (or one that can be found): the panel and the notification show it.
  const location = locateRunError(roots, error, run);
  if (!location) return undefined;
  const column = error.column !== undefined ? Math.max(0, error.column - 1) : location.column;
  const message = error.hint ? `${error.message}\n${error.hint}` : error.message;
  return { file: location.file, line: location.line, column, severity: 'error', message, code: error.kind, exact: location.exact };
}

/** `roots`: the state root, and the pillar root where the run had one (pillar errors go there). */
export function problemsOf(run: StateRun | BuildRun, roots: RunRoots): Problem[] {
  const stateRoot = typeof roots === 'string' ? roots : roots.stateRoot;
  const problems: Problem[] = [];
  for (const state of run.states) {
    const problem = stateProblem(stateRoot, run, state);
    if (problem) problems.push(problem);
  }
  for (const error of run.errors) {
    const problem = errorProblem(roots, run, error);
    if (problem) problems.push(problem);
  }
  return problems;
}

/**
 * The files whose problems this run speaks for: the modules it applied, every module a state came
 * from and every module an error names. Their old problems are replaced by this run's (or cleared).
 */
export function filesOfRun(run: StateRun | BuildRun, roots: RunRoots): string[] {
  const stateRoot = typeof roots === 'string' ? roots : roots.stateRoot;
  const modules = new Set<string>(run.mods);
  for (const state of run.states) if (state.sls) modules.add(state.sls);
  const files = new Set<string>();
  for (const module of modules) {
    const file = fileForModule(stateRoot, module);
    if (file) files.add(file);
  }
  for (const error of run.errors) {
    const location = locateRunError(roots, error, run);
    if (location) files.add(location.file);
  }
  if (run.highstate && existsSync(join(stateRoot, 'top.sls'))) files.add(join(stateRoot, 'top.sls'));
  return [...files];
}

/** A key for "the same run again": same modules (or highstate) against the same state root. */
export function runKey(run: Pick<StateRun, 'mods' | 'highstate'>, stateRoot: string): string {
  return `${stateRoot}\n${run.highstate ? '<highstate>' : [...run.mods].sort().join(',')}`;
}

/** A render's errors on the rendered file: at the line Jinja names, else at its top (never in another file). */
export function problemsOfRender(run: RenderRun, stateRoot: string, file: string): Problem[] {
  return run.errors.map((error) => {
    const location = locateRunError(stateRoot, error, { mods: [run.module], highstate: false });
    const at = location?.file === file ? location : { line: 0, column: 0, exact: false };
    const column = error.column !== undefined ? Math.max(0, error.column - 1) : at.column;
    return { file, line: at.line, column, severity: 'error', message: error.hint ? `${error.message}\n${error.hint}` : error.message, code: error.kind, exact: at.exact };
  });
}
