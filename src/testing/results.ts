/**
 * What a test run found: per cell its phases (converge, idempotence, verify), each with the states in
 * the apply contract's shape and the errors; and the run's exit code. Pure.
 */
import type { ErrorKind, PythonUsed, RunError, StateResult } from '../engine/results/model';
import type { CellSpec, PhaseName } from './cells';
import type { Matrix } from './matrix';
import type { EngineReport } from './engines';
import type { CheckResult } from './checks';

export interface PhaseResult {
  phase: PhaseName;
  /** null: not run (skipped, cancelled). */
  passed: boolean | null;
  durationMs: number;
  /** Run order. In idempotence a state that changed again, and in verify one that would change, has result false. */
  states: StateResult[];
  errors: RunError[];
  /** Why the phase did not run. */
  skipped?: string;
  /** The Python that ran Salt in the container (the container's own or the bundled one), when one did. */
  python?: PythonUsed;
  /** A check phase's checks (saltcheck tests, testinfra tests, the shell verifier), passed and failed. */
  checks?: CheckResult[];
}

export interface CellResult {
  cell: CellSpec;
  key: string;
  suite: string;
  /** The image reference. */
  image: string;
  /** The Salt version that ran (the configured Salt's own when the matrix names none). */
  salt: string;
  /** The engine the cell ran on, as `engines:` names it. */
  engine: string;
  /** null: cancelled before it could say. */
  passed: boolean | null;
  phases: PhaseResult[];
  /** What kept the cell from running its phases (the image, the engine, Salt, cancel). */
  errors: RunError[];
  durationMs: number;
  /** The container's name when it was kept (`--keep` and the cell failed). */
  kept?: string;
  /** What the cell ran otherwise than asked (privileged refused by the engine, a verifier not run). */
  notes?: string[];
}

export interface MatrixRun {
  matrix: Matrix;
  cells: CellResult[];
  /** The engines the cells were spread over, when the provider names them (reachable or not). */
  engines?: EngineReport[];
  /** 0 all passed, 2 a test failed, 1 anything else (an engine or Salt problem, cancel). */
  retcode: 0 | 1 | 2;
  durationMs: number;
  cancelled: boolean;
}

/** Errors about the machinery, not the states under test: they make the run's exit code 1. */
const INFRASTRUCTURE: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'engine-unreachable',
  'container-not-found',
  'container-not-running',
  'container-gone',
  'container-refused',
  'image-not-found',
  'registry',
  'no-python',
  'no-salt',
  'salt-source',
  'cancelled',
]);

export function isInfrastructure(error: RunError): boolean {
  return INFRASTRUCTURE.has(error.kind);
}

/** 1 when something other than the states under test failed: a cell that could not run its phases (its errors), the machinery, cancel. */
export function retcodeOfCells(cells: readonly CellResult[]): 0 | 1 | 2 {
  if (cells.some((c) => c.errors.length > 0 || c.passed === null || c.phases.some((p) => p.errors.some(isInfrastructure)))) return 1;
  return cells.some((c) => c.passed === false) ? 2 : 0;
}

export function skippedPhase(phase: PhaseName, reason: string): PhaseResult {
  return { phase, passed: null, durationMs: 0, states: [], errors: [], skipped: reason };
}

/** The second converge's verdict: any state that changed fails, its changes kept to show. */
export function judgeIdempotence(states: readonly StateResult[]): StateResult[] {
  return states.map((s) =>
    Object.keys(s.changes).length > 0 ? { ...s, result: false, comment: `not idempotent: changed again on the second run${s.comment ? `. ${s.comment}` : ''}` } : s,
  );
}

/** verify's verdict (test mode): any state that would change fails, its pending changes kept to show. */
export function judgeVerify(states: readonly StateResult[]): StateResult[] {
  return states.map((s) => (s.result === null ? { ...s, result: false, comment: `would change: verify expects nothing to change${s.comment ? `. ${s.comment}` : ''}` } : s));
}

export function phasePassed(states: readonly StateResult[], errors: readonly RunError[], checks: readonly CheckResult[] = []): boolean | null {
  if (errors.some((e) => e.kind === 'cancelled')) return null;
  return errors.length === 0 && !states.some((s) => s.result === false) && !checks.some((c) => c.passed === false);
}

/** A cell passed when every phase that ran passed and nothing stopped it. */
export function cellPassed(phases: readonly PhaseResult[], errors: readonly RunError[]): boolean | null {
  if ([...errors, ...phases.flatMap((p) => p.errors)].some((e) => e.kind === 'cancelled')) return null;
  if (errors.length) return false;
  return phases.every((p) => p.passed !== false) && phases.some((p) => p.passed === true);
}
