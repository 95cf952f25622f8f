/**
 * What a run shows at the end of the lines that define its states: per file, per line, the outcome
 * (unchanged, changed with how many changes, failed, pending in test mode), the duration, and a hover
 * with Salt's comment and the changes (diffs as diffs). Pure (no vscode import): unit-tested; inline.ts
 * turns it into decorations.
 */
import type { BuildRun, StateResult, StateRun } from '../../engine';
import { formatDuration } from '../format';
import { stateLocation } from './problems';
import { changeEntries, outcomeOf, type Outcome } from './model';

export interface LineResult {
  /** 0-based. */
  line: number;
  /** The worst outcome on the line: failed, then pending, then changed, then unchanged. */
  outcome: Outcome;
  /** What the end of the line says, e.g. "● changed (2) · 31 ms". */
  label: string;
  /** Markdown for the hover: each state's function, outcome, comment and changes. */
  hover: string;
  ids: string[];
}

const symbols: Record<Outcome, string> = { succeeded: '✓', changed: '●', failed: '✗', pending: '◐' };
const severity: Record<Outcome, number> = { failed: 3, pending: 2, changed: 1, succeeded: 0 };

function changeCount(state: StateResult): number {
  // file.managed reports {diff: ...}; pkg.installed one key per package: each key is a change.
  return Object.keys(state.changes).length;
}

function stateLabel(state: StateResult): string {
  const outcome = outcomeOf(state);
  const count = changeCount(state);
  switch (outcome) {
    case 'failed':
      return 'failed';
    case 'pending':
      return count ? `pending (${count} change${count === 1 ? '' : 's'})` : 'pending';
    case 'changed':
      return `changed (${count})`;
    default:
      return 'unchanged';
  }
}

/** Markdown with every piece of Salt output fenced: comments and changes are data, never markup. */
function fence(text: string, language = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${language}\n${text.replace(/\n$/, '')}\n${ticks}`;
}

function stateHover(state: StateResult): string {
  const parts = [`**${symbols[outcomeOf(state)]} ${escapeMarkdown(state.id)}** · \`${state.function}\` · ${stateLabel(state)} · ${formatDuration(state.durationMs)}`];
  if (state.comment) parts.push(fence(state.comment));
  for (const change of changeEntries(state.changes)) {
    parts.push(`*${escapeMarkdown(change.key)}*`);
    parts.push(change.diff !== undefined ? fence(change.diff, 'diff') : fence(change.text ?? ''));
  }
  return parts.join('\n\n');
}

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!<>|~]/g, '\\$&');
}

/** The run's results by file (absolute path) and line; states whose file is unknown are left out. */
export function inlineResultsOf(run: Pick<StateRun | BuildRun, 'states'>, stateRoot: string): Map<string, LineResult[]> {
  const byFile = new Map<string, Map<number, StateResult[]>>();
  for (const state of run.states) {
    const location = stateLocation(stateRoot, state);
    if (!location) continue;
    const lines = byFile.get(location.file) ?? new Map<number, StateResult[]>();
    const list = lines.get(location.line) ?? [];
    list.push(state);
    lines.set(location.line, list);
    byFile.set(location.file, lines);
  }
  const out = new Map<string, LineResult[]>();
  for (const [file, lines] of byFile) {
    const results: LineResult[] = [];
    for (const [line, states] of [...lines].sort((a, b) => a[0] - b[0])) {
      const outcome = states.map(outcomeOf).reduce((worst, o) => (severity[o] > severity[worst] ? o : worst), 'succeeded' as Outcome);
      const duration = formatDuration(states.reduce((sum, s) => sum + s.durationMs, 0));
      let label: string;
      if (states.length === 1) label = `${symbols[outcome]} ${stateLabel(states[0])} · ${duration}`;
      else {
        const counts = new Map<Outcome, number>();
        for (const s of states) counts.set(outcomeOf(s), (counts.get(outcomeOf(s)) ?? 0) + 1);
        const words: Record<Outcome, string> = { failed: 'failed', pending: 'pending', changed: 'changed', succeeded: 'unchanged' };
        const summary = (['failed', 'pending', 'changed', 'succeeded'] as Outcome[]).filter((o) => counts.has(o)).map((o) => `${counts.get(o)} ${words[o]}`);
        label = `${symbols[outcome]} ${states.length} states: ${summary.join(', ')} · ${duration}`;
      }
      results.push({ line, outcome, label, hover: states.map(stateHover).join('\n\n---\n\n'), ids: states.map((s) => s.id) });
    }
    out.set(file, results);
  }
  return out;
}
