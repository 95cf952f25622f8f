/**
 * What `salt-containers test` prints: the --json contract (README), the progress lines, and the human
 * report (failed states in full at their lines, then a table of cells and phases). Pure: unit-tested.
 */
import type { RunError } from '../engine/results/model';
import { locateRunError, locateState } from '../sls/locate';
import { CHECK_PHASES, errorRoots, type CellResult, type CellSpec, type CellStep, type Matrix, type MatrixNote, type MatrixRun, type PhaseResult, type Shard } from '../testing';
import { errorLines, indent, jsonError, jsonState, relativeTo, stateBlock, table, type Style } from './format';

/** The --json document: exactly the keys the README promises. */
export function testJson(run: MatrixRun): Record<string, unknown> {
  return {
    retcode: run.retcode,
    matrix: { file: run.matrix.file, format: run.matrix.format, notes: run.matrix.notes.map((n) => ({ key: n.key, message: n.message, line: n.line ?? null })) },
    engines: (run.engines ?? []).map((e) => ({ name: e.name, address: e.address ?? null, reachable: e.reachable, message: e.message ?? null })),
    cells: run.cells.map((cell) => ({
      key: cell.key,
      suite: cell.suite,
      image: cell.image,
      imageName: cell.cell.image.name,
      salt: cell.salt,
      engine: cell.engine,
      passed: cell.passed,
      durationMs: cell.durationMs,
      container: cell.kept ?? null,
      notes: cell.notes ?? [],
      errors: cell.errors.map(jsonError),
      phases: cell.phases.map((p) => ({
        phase: p.phase,
        passed: p.passed,
        durationMs: p.durationMs,
        skipped: p.skipped ?? null,
        python: p.python ? { kind: p.python.kind, version: p.python.version } : null,
        states: p.states.map(jsonState),
        checks: (p.checks ?? []).map((c) => ({ name: c.name, passed: c.passed, message: c.message ?? null, file: c.file ?? null, line: c.line ?? null, durationMs: c.durationMs })),
        errors: p.errors.map(jsonError),
      })),
    })),
  };
}

/** `test --list --json`: the cells a run (or a shard) would run, for a CI's dynamic matrix. */
export function cellListJson(matrix: Matrix, cells: readonly CellSpec[], shard?: Shard): Record<string, unknown> {
  return {
    matrix: { file: matrix.file, format: matrix.format },
    shard: shard ? { index: shard.index, count: shard.count } : null,
    cells: cells.map((c) => ({ key: c.key, suite: c.suite.name, image: c.image.image, imageName: c.image.name, salt: c.salt ?? null, phases: c.phases })),
  };
}

const secondsText = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function noteLine(note: MatrixNote, file: string, cwd: string, style: Style): string {
  return style.yellow(`note: ${relativeTo(cwd, file)}${note.line ? `:${note.line}` : ''}: ${note.message}`);
}

/** What a phase found, in a few words. */
function phaseSummary(phase: PhaseResult): string {
  if (phase.skipped !== undefined) return `skipped (${phase.skipped})`;
  if (phase.passed === null) return 'cancelled';
  const failed = phase.states.filter((s) => s.result === false);
  if (phase.errors.length) return `${secondsText(phase.durationMs)}: ${phase.errors[0].message.split('\n')[0]}`;
  if (phase.checks) {
    const bad = phase.checks.filter((c) => c.passed === false);
    return `${secondsText(phase.durationMs)} (${phase.checks.length - bad.length} of ${phase.checks.length} check${phase.checks.length === 1 ? '' : 's'} passed${bad.length ? `; failed: ${bad.map((c) => c.name).join(', ')}` : ''})`;
  }
  if (failed.length) {
    const what = phase.phase === 'idempotence' ? 'changed again' : phase.phase === 'verify' ? 'would change' : 'failed';
    return `${secondsText(phase.durationMs)}: ${failed.length} ${what}: ${failed.map((s) => s.id).join(', ')}`;
  }
  const changed = phase.states.filter((s) => Object.keys(s.changes).length > 0).length;
  return `${secondsText(phase.durationMs)} (${phase.states.length} state${phase.states.length === 1 ? '' : 's'}${phase.phase === 'converge' ? `, ${changed} changed` : ''})`;
}

function mark(passed: boolean | null, style: Style): string {
  return passed === true ? style.green('✓') : passed === false ? style.red('✗') : style.yellow('-');
}

/** Progress lines (stderr): a cell's steps as they start, its phases and itself as they end. */
export const progress = {
  step: (cell: CellSpec, step: CellStep) => `  ${cell.key}: ${step}…`,
  phase: (cell: CellSpec, phase: PhaseResult, style: Style) => `  ${mark(phase.passed, style)} ${cell.key}: ${phase.phase} ${phaseSummary(phase)}`,
  restarted: (cell: CellSpec, lost: CellResult, style: Style) => style.yellow(`  ${cell.key}: engine ${lost.engine} stopped answering; the cell starts again on another engine`),
  cell: (cell: CellResult, done: number, total: number, style: Style) =>
    `${(cell.notes ?? []).map((note) => style.yellow(`  ${cell.key}: note: ${note}\n`)).join('')}${mark(cell.passed, style)} [${done}/${total}] ${cell.key} on ${cell.engine}: ${cell.passed ? style.green('passed') : cell.passed === false ? style.red('failed') : style.yellow('cancelled')} in ${secondsText(cell.durationMs)}${cell.kept ? `, container kept: ${cell.kept}` : ''}`,
};

export interface TestReportContext {
  cwd: string;
  style: Style;
}

function locatedErrors(cell: CellResult, errors: RunError[], matrix: Matrix, context: TestReportContext): string[] {
  return errorLines(errors, context.style, (error) => {
    const where = locateRunError(errorRoots(matrix, cell.cell.suite, error.sls), error, { mods: cell.cell.suite.states, highstate: cell.cell.suite.highstate });
    return where && `${relativeTo(context.cwd, where.file)}${where.exact ? `:${where.line + 1}` : ''}`;
  });
}

/** The human report: each failed cell's failed phases in full, then the table, then the totals. */
export function formatTestRun(run: MatrixRun, context: TestReportContext): string {
  const { style, cwd } = context;
  const { stateRoot } = run.matrix;
  const out: string[] = [];
  for (const cell of run.cells.filter((c) => c.passed === false)) {
    out.push(style.bold(style.red(`FAILED ${cell.key} on ${cell.engine}`)));
    out.push(...locatedErrors(cell, cell.errors, run.matrix, context));
    for (const phase of cell.phases.filter((p) => p.passed === false)) {
      out.push(style.bold(`${phase.phase}:`));
      for (const state of phase.states.filter((s) => s.result === false)) {
        out.push(stateBlock(state, style));
        const where = state.sls ? locateState(stateRoot, state.sls, state.id) : undefined;
        if (where) out.push(`          at ${relativeTo(cwd, where.file)}${where.exact ? `:${where.line + 1}` : ''}`);
      }
      for (const check of (phase.checks ?? []).filter((c) => c.passed === false)) {
        out.push(`  ${style.red('✗')} ${check.name}${check.file ? `  at ${relativeTo(cwd, check.file)}${check.line ? `:${check.line}` : ''}` : ''}`);
        if (check.message) out.push(indent(check.message.split('\n').slice(0, 20).join('\n'), '      '));
      }
      for (const check of (phase.checks ?? []).filter((c) => c.passed === true)) out.push(`  ${style.green('✓')} ${check.name}`);
      out.push(...locatedErrors(cell, phase.errors, run.matrix, context));
    }
    out.push('');
  }
  const phaseNames = ['converge', 'idempotence', 'verify', ...CHECK_PHASES] as const;
  const shown = phaseNames.filter((name) => run.cells.some((c) => c.phases.some((p) => p.phase === name)));
  const cellOf = (cell: CellResult, name: (typeof phaseNames)[number]) => {
    const phase = cell.phases.find((p) => p.phase === name);
    if (!phase) return '';
    if (phase.skipped !== undefined || phase.passed === null) return '- skipped';
    return `${phase.passed ? '✓' : '✗'} ${secondsText(phase.durationMs)}`;
  };
  const rows = [
    ['SUITE', 'IMAGE', 'SALT', 'ENGINE', ...shown.map((n) => n.toUpperCase()), 'RESULT', 'TIME'],
    ...run.cells.map((c) => [c.suite, c.cell.image.name, c.salt, c.engine, ...shown.map((n) => cellOf(c, n)), c.passed ? 'passed' : c.passed === false ? 'FAILED' : 'cancelled', secondsText(c.durationMs)]),
  ];
  for (const cell of run.cells) for (const note of cell.notes ?? []) out.push(style.yellow(`note: ${cell.key}: ${note}`));
  out.push(table(rows));
  const passed = run.cells.filter((c) => c.passed === true).length;
  const failed = run.cells.filter((c) => c.passed === false).length;
  const other = run.cells.length - passed - failed;
  const totals = `${run.cells.length} cell${run.cells.length === 1 ? '' : 's'}: ${passed} passed, ${failed} failed${other ? `, ${other} cancelled` : ''} in ${secondsText(run.durationMs)}`;
  out.push('', failed ? style.red(totals) : other ? style.yellow(totals) : style.green(totals));
  const kept = run.cells.filter((c) => c.kept).map((c) => c.kept!);
  if (kept.length) out.push(`kept for inspection: ${kept.join(', ')}`, indent(`look inside: docker exec -it ${kept[0]} sh; remove: docker rm -f ${kept.join(' ')}`, '  '));
  return out.join('\n');
}
