/**
 * From a state test's results to what the Testing view shows (pure: no vscode import; controller.ts
 * makes the TestMessages): a message per failed state at the line that defines it (an idempotence
 * failure with its changes as a diff against none), a message per error at the line Salt names.
 */
import { changesText } from '../../engine/results/changes';
import type { RunError } from '../../engine/results/model';
import { locateRunError, locateState } from '../../sls/locate';
import { errorRoots, type CellSpec, type Matrix, type PhaseResult } from '../../testing';

export interface ReportMessage {
  message: string;
  /** 0-based line and column in file. */
  location?: { file: string; line: number; column: number };
  /** For a diff (idempotence): what was expected (no changes) and what happened (the changes). */
  expected?: string;
  actual?: string;
}

export const NO_CHANGES = 'no changes\n';

/** The matrix's roots: where errors and states are located. */
type Roots = Pick<Matrix, 'stateRoot' | 'pillarRoot'>;

function errorMessage(error: RunError, matrix: Roots, cell: CellSpec): ReportMessage {
  const where = locateRunError(errorRoots(matrix, cell.suite, error.sls), error, { mods: cell.suite.states, highstate: cell.suite.highstate });
  const message = error.hint ? `${error.message}\n${error.hint}` : error.message;
  return { message, ...(where ? { location: { file: where.file, line: where.line, column: error.column ? error.column - 1 : 0 } } : {}) };
}

/** What a failed phase says: one message per failed state and per error. */
export function phaseMessages(phase: PhaseResult, cell: CellSpec, matrix: Roots): ReportMessage[] {
  const { stateRoot } = matrix;
  const messages: ReportMessage[] = [];
  for (const state of phase.states.filter((s) => s.result === false)) {
    const where = state.sls ? locateState(stateRoot, state.sls, state.id) : undefined;
    const changes = changesText(state.changes);
    const text = `${state.id} (${state.function} ${state.name}): ${state.comment || 'failed'}`;
    const message: ReportMessage = { message: phase.phase === 'idempotence' || !changes ? text : `${text}\n\n${changes}` };
    if (where) message.location = { file: where.file, line: where.line, column: where.column };
    if (phase.phase === 'idempotence' && changes) {
      message.expected = NO_CHANGES;
      message.actual = changes;
    }
    messages.push(message);
  }
  for (const check of (phase.checks ?? []).filter((c) => c.passed === false)) {
    messages.push({ message: `${check.name}: ${check.message ?? 'failed'}`, ...(check.file ? { location: { file: check.file, line: Math.max(0, (check.line ?? 1) - 1), column: 0 } } : {}) });
  }
  for (const error of phase.errors) messages.push(errorMessage(error, matrix, cell));
  return messages;
}

/** What kept a cell from running, as messages (no location: they are about the image, the engine, Salt). */
export function cellErrorMessages(errors: RunError[], cell: CellSpec, matrix: Roots): ReportMessage[] {
  return errors.map((error) => errorMessage(error, matrix, cell));
}
