/**
 * What the CLI prints: the JSON contract (see README: scripts depend on these exact keys) and a
 * human summary in the manner of Salt's highstate outputter, failures first. Pure: unit-tested.
 */
import { dump } from 'js-yaml';
import { relative } from 'node:path';
import { changesText } from '../engine/results/changes';
import { summarize, type AnyRun, type BuildRun, type CallRun, type RunError, type StateResult, type StateRun } from '../engine/results/model';
import type { ContainerInfo, ImageInfo } from '../engine/docker/engine';
import type { EngineCacheEntry } from '../engine/helper/cache';

/** A state in --json: the result model's fields that the README promises, in that order. */
export type JsonState = Pick<StateResult, 'id' | 'sls' | 'function' | 'name' | 'result' | 'comment' | 'changes' | 'durationMs' | 'runNum'>;

export interface JsonError {
  message: string;
  sls: string | null;
  line: number | null;
  /** Only when the error is in a template the SLS imports (relative to the state root); `line` is that file's. */
  file?: string;
  /** Only when the error is in the pillar: `sls` is then a pillar module, `line` its file's. */
  pillar?: true;
}

export const jsonError = (e: RunError): JsonError => ({
  message: e.hint ? `${e.message} (${e.hint})` : e.message,
  sls: e.sls ?? null,
  line: e.line ?? null,
  ...(e.file ? { file: e.file } : {}),
  ...(e.pillar ? { pillar: true as const } : {}),
});
export const jsonState = (s: StateResult): JsonState => ({ id: s.id, sls: s.sls, function: s.function, name: s.name, result: s.result, comment: s.comment, changes: s.changes, durationMs: s.durationMs, runNum: s.runNum });

/** The --json document for a run: exactly the keys the README promises. */
export function toJson(run: AnyRun): Record<string, unknown> {
  if (run.kind === 'call') return { retcode: run.retcode, return: run.return ?? null, errors: run.errors.map(jsonError) };
  const doc: Record<string, unknown> = { retcode: run.retcode, states: run.states.map(jsonState), errors: run.errors.map(jsonError) };
  if (run.kind === 'build') doc.image = run.image ? { id: run.image.id, tag: run.image.tag } : null;
  return doc;
}

export interface Style {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  bold(text: string): string;
}

const code = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
export const colors: Style = { red: code(31, 39), green: code(32, 39), yellow: code(33, 39), cyan: code(36, 39), bold: code(1, 22) };
export const plain: Style = { red: (t) => t, green: (t) => t, yellow: (t) => t, cyan: (t) => t, bold: (t) => t };

export function indent(text: string, by: string): string {
  return text.replace(/\n$/, '').split('\n').map((line) => by + line).join('\n');
}

export function stateBlock(state: StateResult, style: Style): string {
  const colour = state.result === false ? style.red : state.result === null ? style.yellow : style.green;
  const lines = [
    colour('----------'),
    colour(`          ID: ${state.id}`),
    colour(`    Function: ${state.function}`),
    colour(`        Name: ${state.name}`),
    colour(`      Result: ${state.result === null ? 'None' : state.result ? 'True' : 'False'}`),
    colour(`     Comment: ${indent(state.comment, '              ').trimStart()}`),
    colour(`         SLS: ${state.sls}`),
    colour(`    Duration: ${state.durationMs.toFixed(1)} ms`),
  ];
  const changes = changesText(state.changes);
  lines.push(colour(`     Changes:${changes ? '\n' + indent(changes, '              ') : ''}`));
  return lines.join('\n');
}

function terseLine(state: StateResult, style: Style): string {
  const changed = Object.keys(state.changes).length > 0;
  const mark = state.result === null ? style.yellow('~') : changed ? style.green('*') : style.green('✓');
  return `  ${mark} ${state.id} (${state.function}) ${style.cyan(state.name)}${state.comment ? ` - ${state.comment.split('\n')[0]}` : ''}`;
}

/** Where an error points, relative to cwd, when the SLS could be found. */
export type ErrorLocator = (error: RunError) => string | undefined;

function noteLines(notes: string[] | undefined, style: Style): string[] {
  return (notes ?? []).map((note) => style.yellow(`note: ${note}`));
}

export function errorLines(errors: RunError[], style: Style, locate: ErrorLocator): string[] {
  return errors.map((e) => {
    const where = locate(e);
    const lines = [style.red(`error: ${e.message}`)];
    if (where) lines.push(`  at ${where}`);
    else if (e.file) lines.push(`  in salt://${e.file}${e.line ? `, line ${e.line}` : ''}`);
    else if (e.sls) lines.push(`  in SLS ${e.sls}${e.line ? `, line ${e.line}` : ''}`);
    if (e.hint) lines.push(indent(`hint: ${e.hint}`, '  '));
    return lines.join('\n');
  });
}

/** The human output of a state run or a build: failed states in full first, then the rest in one line each, then the summary. */
export function formatStateRun(run: StateRun | BuildRun, style: Style, locate: ErrorLocator): string {
  const out: string[] = [];
  const target = run.kind === 'build' ? `build of ${run.mods.join(',')} on ${run.baseImage}` : `${run.highstate ? 'highstate' : run.mods.join(',')} on ${run.container?.name ?? '?'}`;
  out.push(style.bold(`${target}${run.test ? ' (test mode: nothing changed)' : ''}${run.saltVersion ? `, Salt ${run.saltVersion}` : ''}`));
  const failed = run.states.filter((s) => s.result === false);
  for (const state of failed) out.push(stateBlock(state, style));
  const rest = run.states.filter((s) => s.result !== false);
  if (rest.length) out.push(failed.length ? '\nother states:' : 'states:');
  for (const state of rest) {
    out.push(terseLine(state, style));
    const changes = changesText(state.changes);
    if (changes) out.push(style.cyan(indent(changes, '      ')));
  }
  out.push(...errorLines(run.errors, style, locate));
  if (run.states.length === 0 && run.errors.length > 0) return [...out, ...noteLines(run.notes, style)].join('\n'); // nothing ran: the errors say it all
  const summary = summarize(run.states);
  out.push('');
  out.push(`Summary for ${run.container?.name ?? 'run'}`);
  out.push('------------');
  out.push(style.green(`Succeeded: ${summary.succeeded} (changed=${summary.changed})`));
  out.push((summary.failed ? style.red : (t: string) => t)(`Failed:    ${summary.failed}`));
  if (summary.pending) out.push(style.yellow(`Pending:   ${summary.pending}`));
  out.push('------------');
  out.push(`Total states run: ${summary.total}`);
  out.push(`Total run time:   ${summary.stateDurationMs.toFixed(3)} ms (whole run ${(run.durationMs / 1000).toFixed(1)} s)`);
  if (run.kind === 'build' && run.image) out.push(style.bold(`${run.image.failed ? 'committed failed run as' : 'built'} ${run.image.tag} (${run.image.id.replace(/^sha256:/, '').slice(0, 12)})`));
  out.push(...noteLines(run.notes, style));
  return out.join('\n');
}

export function formatCall(run: CallRun, style: Style, locate: ErrorLocator): string {
  const out: string[] = [];
  if (run.return !== undefined) out.push(typeof run.return === 'string' ? run.return : dump(run.return, { lineWidth: 120, noRefs: true }).replace(/\n$/, ''));
  out.push(...errorLines(run.errors, style, locate));
  out.push(...noteLines(run.notes, style));
  return out.join('\n');
}

function age(seconds: number, now: number): string {
  const s = Math.max(0, now / 1000 - seconds);
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400 * 2) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export function formatList(containers: ContainerInfo[], images: ImageInfo[], now = Date.now()): string {
  const running = [...containers].sort((a, b) => Number(b.state === 'running') - Number(a.state === 'running') || a.name.localeCompare(b.name));
  const c = [['CONTAINER', 'IMAGE', 'STATE', 'STATUS'], ...running.map((x) => [x.name, x.image, x.state, x.status])];
  const tagged = images.filter((i) => !i.dangling);
  const i = [['IMAGE', 'ID', 'SIZE', 'CREATED'], ...tagged.flatMap((x) => x.tags.map((t) => [t, x.id.replace(/^sha256:/, '').slice(0, 12), `${(x.size / 1e6).toFixed(0)} MB`, `${age(x.created, now)} ago`]))];
  return `${table(c)}\n\n${table(i)}`;
}

/** `cache`: what the engine keeps for Salt Containers, a line each. */
export function formatEngineCache(entries: EngineCacheEntry[], now = Date.now()): string {
  if (!entries.length) return 'the engine keeps nothing for Salt Containers';
  return table([['CACHE IMAGE', 'HOLDS', 'SIZE', 'CREATED'], ...entries.map((e) => [e.tag, e.kind, `${(e.size / 1e6).toFixed(0)} MB`, `${age(e.created, now)} ago`])]);
}

/** A path as the user at `cwd` would type it: relative below it (`.` for itself), else absolute. */
export function relativeTo(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel.startsWith('..') ? file : rel || '.';
}
