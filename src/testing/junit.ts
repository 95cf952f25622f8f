/**
 * JUnit XML of a test run, as CI reporters read it: a testsuite per matrix suite; a testcase per cell
 * and phase (classname `SUITE.IMAGE@SALT`, name `PHASE`) and one per failed state (name
 * `PHASE: STATE_ID`, with `file` and `line` of the state relative to the matrix file's folder); the
 * failure message carries the comment, the body the changes; time in seconds. Pure.
 */
import { relative, sep } from 'node:path';
import { changesText } from '../engine/results/changes';
import type { RunError, StateResult } from '../engine/results/model';
import { locateRunError, locateState } from '../sls/locate';
import { isInfrastructure, type CellResult, type MatrixRun, type PhaseResult } from './results';
import { errorRoots } from './matrix';

interface Where {
  file?: string;
  line?: number;
}

/** XML 1.0 text: the five entities, and no control characters (Salt output may carry terminal codes). */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function attributes(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

function errorText(error: RunError): string {
  return error.hint ? `${error.message} (${error.hint})` : error.message;
}

interface Case {
  name: string;
  classname: string;
  timeMs: number;
  where?: Where;
  failure?: { message: string; type: string; body: string };
  error?: { message: string; type: string; body: string };
  skipped?: string;
}

function caseXml(c: Case): string {
  const open = `    <testcase${attributes({ classname: c.classname, name: c.name, time: seconds(c.timeMs), file: c.where?.file, line: c.where?.line })}`;
  const inner = c.failure
    ? `<failure${attributes({ message: c.failure.message, type: c.failure.type })}>${xmlEscape(c.failure.body)}</failure>`
    : c.error
      ? `<error${attributes({ message: c.error.message, type: c.error.type })}>${xmlEscape(c.error.body)}</error>`
      : c.skipped !== undefined
        ? `<skipped${attributes({ message: c.skipped })}/>`
        : '';
  return inner ? `${open}>${inner}</testcase>` : `${open}/>`;
}

export function junitXml(run: MatrixRun): string {
  const { stateRoot, dir } = run.matrix;
  const rel = (file: string) => relative(dir, file).split(sep).join('/');
  const stateWhere = (state: StateResult): Where => {
    const location = state.sls && state.id ? locateState(stateRoot, state.sls, state.id) : undefined;
    return location ? { file: rel(location.file), line: location.line + 1 } : {};
  };
  const errorWhere = (cell: CellResult, error: RunError): Where => {
    const location = locateRunError(errorRoots(run.matrix, cell.cell.suite, error.sls), error, { mods: cell.cell.suite.states, highstate: cell.cell.suite.highstate });
    return location ? { file: rel(location.file), line: location.line + 1 } : {};
  };
  const phaseCases = (cell: CellResult, phase: PhaseResult): Case[] => {
    const classname = cell.key;
    const failed = phase.states.filter((s) => s.result === false);
    const base: Case = { name: phase.phase, classname, timeMs: phase.durationMs };
    if (phase.skipped !== undefined) return [{ ...base, skipped: phase.skipped }];
    if (phase.passed === null) return [{ ...base, skipped: 'cancelled' }];
    const cases: Case[] = [base];
    const infra = phase.errors.filter(isInfrastructure);
    if (infra.length) base.error = { message: errorText(infra[0]), type: infra[0].kind, body: phase.errors.map(errorText).join('\n') };
    else if (phase.errors.length) {
      base.failure = { message: errorText(phase.errors[0]), type: phase.errors[0].kind, body: phase.errors.map(errorText).join('\n') };
      base.where = errorWhere(cell, phase.errors[0]);
    } else if (failed.length) {
      const what = phase.phase === 'idempotence' ? 'changed again' : phase.phase === 'verify' ? 'would change or failed' : 'failed';
      base.failure = { message: `${failed.length} of ${phase.states.length} states ${what}: ${failed.map((s) => s.id).join(', ')}`, type: phase.phase, body: '' };
    }
    // Check phases: every check a case of its own (passed ones listed too), at its file and line.
    for (const check of phase.checks ?? []) {
      cases.push({
        name: `${phase.phase}: ${check.name}`,
        classname,
        timeMs: check.durationMs,
        where: check.file ? { file: rel(check.file), line: check.line } : {},
        ...(check.passed === false ? { failure: { message: (check.message ?? 'failed').split('\n')[0], type: phase.phase, body: check.message ?? '' } } : check.passed === null ? { skipped: check.message ?? 'skipped' } : {}),
      });
    }
    const failedChecks = (phase.checks ?? []).filter((c) => c.passed === false);
    if (failedChecks.length && !base.failure && !base.error) base.failure = { message: `${failedChecks.length} of ${phase.checks!.length} checks failed: ${failedChecks.map((c) => c.name).join(', ')}`, type: phase.phase, body: '' };
    for (const state of failed) {
      const changes = changesText(state.changes);
      cases.push({
        name: `${phase.phase}: ${state.id}`,
        classname,
        timeMs: state.durationMs,
        where: stateWhere(state),
        failure: { message: state.comment || `${state.function} failed`, type: state.function, body: [`${state.function} ${state.name}`, state.comment, changes && `changes:\n${changes}`].filter(Boolean).join('\n') },
      });
    }
    return cases;
  };
  const suites = [...new Set(run.cells.map((c) => c.suite))].map((suite) => {
    const cells = run.cells.filter((c) => c.suite === suite);
    const cases = cells.flatMap((cell) => [
      // What kept the cell from running its phases is never the states' fault: an <error>.
      ...cell.errors.map((error): Case => ({ name: 'create', classname: cell.key, timeMs: 0, error: { message: errorText(error), type: error.kind, body: errorText(error) } })),
      ...cell.phases.flatMap((phase) => phaseCases(cell, phase)),
    ]);
    return { suite, cases, timeMs: cells.reduce((n, c) => n + c.durationMs, 0) };
  });
  const count = (cases: Case[]) => ({
    tests: cases.length,
    failures: cases.filter((c) => c.failure).length,
    errors: cases.filter((c) => c.error).length,
    skipped: cases.filter((c) => c.skipped !== undefined).length,
  });
  const all = suites.flatMap((s) => s.cases);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attributes({ name: 'salt-containers test', ...count(all), time: seconds(run.durationMs) })}>`];
  for (const s of suites) {
    lines.push(`  <testsuite${attributes({ name: s.suite, ...count(s.cases), time: seconds(s.timeMs) })}>`);
    lines.push(...s.cases.map(caseXml));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
