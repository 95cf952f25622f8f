/**
 * The results panel's data: a plain JSON model built from a run (pure, no vscode import). The webview
 * script (media/results.js) renders it with textContent only; the same model is the panel's saved
 * state, so the panel comes back after a window reload.
 */
import type { BuildRun, RunSummary, StateResult, StateRun } from '../../engine';
import { summarize } from '../../engine/results/model';
import { formatDuration } from '../format';
import { stateLocation } from './problems';

export type Outcome = 'succeeded' | 'changed' | 'failed' | 'pending';

export interface ChangeEntry {
  key: string;
  /** A unified diff (file.managed and friends), shown line by line as a diff. */
  diff?: string;
  /** Anything else, as indented JSON or plain text. */
  text?: string;
}

export interface ResultRow {
  /** Position in run order (0-based). */
  index: number;
  outcome: Outcome;
  id: string;
  sls: string;
  function: string;
  name: string;
  durationMs: number;
  duration: string;
  comment: string;
  changes: ChangeEntry[];
  /** Where the state is defined (0-based line), when known. */
  location?: { file: string; line: number; exact: boolean };
}

export interface ResultsModel {
  version: 1;
  /** Same key, same modules (or highstate, or state): runs that can be compared. */
  key?: string;
  title: string;
  /** e.g. "on t2 · test mode · 12:03:04". */
  subtitle: string;
  retcode: 0 | 1 | 2;
  summary: RunSummary;
  totalTime: string;
  errors: { kind: string; message: string; hint?: string }[];
  rows: ResultRow[];
  image?: { tag: string; id: string; failed: boolean };
}

export function outcomeOf(state: StateResult): Outcome {
  if (state.result === false) return 'failed';
  if (state.result === null) return 'pending';
  return Object.keys(state.changes).length > 0 ? 'changed' : 'succeeded';
}

const looksLikeDiff = (text: string) => /^(---|\+\+\+|@@) /m.test(text);

export function changeEntries(changes: Record<string, unknown>): ChangeEntry[] {
  return Object.entries(changes).map(([key, value]) => {
    if (typeof value === 'string' && looksLikeDiff(value)) return { key, diff: value };
    if (typeof value === 'string') return { key, text: value };
    return { key, text: JSON.stringify(value, null, 2) };
  });
}

/** The key of runs that compare: the same modules (any order), highstate, or one state of a module. */
export function compareKey(run: Pick<StateRun, 'mods' | 'highstate' | 'stateId'>): string {
  if (run.highstate) return 'highstate';
  const mods = [...run.mods].sort().join(',');
  return run.stateId !== undefined ? `${mods}#${run.stateId}` : mods;
}

export function buildResultsModel(run: StateRun | BuildRun, stateRoot: string, finishedAt = new Date()): ResultsModel {
  const what = run.highstate ? 'Highstate' : run.stateId !== undefined ? `${run.stateId} (${run.mods.join(', ')})` : run.mods.join(', ');
  const title = run.kind === 'build' ? `Build ${run.image?.tag ?? ''} from ${what}`.replace('  ', ' ') : what;
  const where = run.kind === 'build' ? `from ${run.baseImage}` : run.container ? `on ${run.container.name}` : '';
  const subtitle = [where, run.test ? 'test mode' : '', finishedAt.toTimeString().slice(0, 8)].filter(Boolean).join(' · ');
  const rows = run.states.map((state, index) => ({
    index,
    outcome: outcomeOf(state),
    id: state.id,
    sls: state.sls,
    function: state.function,
    name: state.name,
    durationMs: state.durationMs,
    duration: formatDuration(state.durationMs),
    comment: state.comment,
    changes: changeEntries(state.changes),
    location: stateLocation(stateRoot, state),
  }));
  return {
    version: 1,
    key: compareKey(run),
    title,
    subtitle,
    retcode: run.retcode,
    summary: summarize(run.states),
    totalTime: formatDuration(run.durationMs),
    errors: run.errors.map((e) => ({ kind: e.kind, message: e.message, hint: e.hint })),
    rows,
    image: run.kind === 'build' ? run.image : undefined,
  };
}

export interface ComparisonRow {
  id: string;
  sls: string;
  function: string;
  /** Absent: the state was not in that run. */
  before?: Outcome;
  after?: Outcome;
  /** What differs, in words: "changed → unchanged", "new", "gone", "other changes". */
  what: string;
}

export interface Comparison {
  title: string;
  before: string;
  after: string;
  rows: ComparisonRow[];
  /** States alike in both runs. */
  same: number;
}

/** What changed between two runs of the same module: states new, gone, with another outcome or other changes. */
export function compareModels(before: ResultsModel, after: ResultsModel): Comparison {
  // A state is its ID and function in its module: its name may be what an edit changed.
  const keyOf = (row: ResultRow) => `${row.sls}\n${row.id}\n${row.function}`;
  const older = new Map(before.rows.map((row) => [keyOf(row), row]));
  const rows: ComparisonRow[] = [];
  let same = 0;
  for (const row of after.rows) {
    const was = older.get(keyOf(row));
    older.delete(keyOf(row));
    const base = { id: row.id, sls: row.sls, function: row.function, after: row.outcome };
    if (!was) rows.push({ ...base, what: 'new' });
    else if (was.outcome !== row.outcome) rows.push({ ...base, before: was.outcome, what: `${was.outcome} → ${row.outcome}` });
    else if (JSON.stringify(was.changes) !== JSON.stringify(row.changes)) rows.push({ ...base, before: was.outcome, what: 'other changes' });
    else same++;
  }
  for (const row of older.values()) rows.push({ id: row.id, sls: row.sls, function: row.function, before: row.outcome, what: 'gone' });
  return { title: after.title, before: before.subtitle, after: after.subtitle, rows, same };
}
