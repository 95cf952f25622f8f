/**
 * Salt's own verdict on a module (a `state.sls MOD mock=True` or `state.show_sls MOD` run: rendered,
 * compiled, nothing applied) as findings at the source lines they are about: render and compile errors
 * at the line Salt names, an error raised in an imported template (map.jinja, a macro) at the line that
 * imports it with the template's own line as related information, a YAML error found after Jinja mapped
 * back from the rendered line to the source line, a requisite that matches nothing at the requisite's
 * line, a state function this Salt lacks at its state. Pure: the runs are the caller's (the CLI's
 * `check --container`, the editor's live render); the files are read from disk unless `texts` (unsaved
 * buffers) stand for them. The shapes are structural so that this module needs nothing of the engine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateRunError, locateState, type ErrorPlace, type RunRoots, type SourceLocation, type Texts } from './locate';
import { fileForModule } from './modules';
import { parseSls } from './parse';
import { templateFile } from './tree';

/** A run error as the engine parses Salt's (engine/results/model.ts RunError). */
export interface SaltRunError extends ErrorPlace {
  kind: string;
  message: string;
  column?: number;
}

/** A state's result as the engine parses Salt's (engine/results/model.ts StateResult). */
export interface SaltStateResult {
  id: string;
  sls: string;
  function: string;
  result: boolean | null;
  comment: string;
}

export interface SaltFinding {
  file: string;
  /** 0-based. */
  line: number;
  /** 0-based. */
  column: number;
  /** False when Salt named no line and the finding is at the top of the right file. */
  exact: boolean;
  message: string;
  /** What kind of fact: render, yaml, template, requisite, state-function, state. */
  code: string;
  /** Where the fact really is when the finding stands at another line (the imported template's line). */
  related?: { file: string; line: number; message: string };
}

/** A finding the static checks already made (0-based line): Salt's at the same line is that fact again. */
export interface KnownFinding {
  file: string;
  line: number;
}

const textOf = (file: string, texts?: Texts): string | undefined => {
  const text = texts?.get(file);
  if (text !== undefined) return text;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** Salt's message on one line: without the template excerpt Jinja errors carry, or YAML's caret lines. */
export function oneLine(message: string): string {
  return message
    .replace(/\n---\n[\s\S]*?\n---/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^\^+$/.test(line))
    .join(' ');
}

/**
 * A YAML error after render: PyYAML's problem mark (`line N, column M:`, the last) and the rendered line
 * it shows under it; its context mark (the first) when the problem is the end of the text.
 */
function yamlMark(message: string): { line: number; text: string } | undefined {
  const marks = yamlMarks(message);
  const mark = [...marks].reverse().find((m) => m.text.trim()) ?? marks[0];
  if (!mark || !/<unicode string>|while (parsing|scanning)|could not find expected|mapping values are not allowed|found character|expected/.test(message)) return undefined;
  return mark;
}

/** PyYAML's marks in a message, in order: `line N, column M:` and the rendered line's text below it. */
function yamlMarks(message: string): { line: number; text: string }[] {
  return [...message.matchAll(/line (\d+), column \d+:?\n([^\n]*)/g)].map((m) => ({ line: Number(m[1]), text: m[2] }));
}

/** Whether a source line makes a rendered line's text: the same, or the same with its `{{ ... }}` standing for anything. */
function makes(sourceLine: string, rendered: string): boolean {
  const text = sourceLine.trim();
  if (text === rendered) return true;
  if (!text.includes('{{')) return false;
  const pattern = text
    .split(/\{\{[\s\S]*?\}\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(rendered);
}

/**
 * The source line (0-based) a rendered line (1-based, as PyYAML counts) came from: the same line when its
 * text is the same, else the nearest source line that makes that text (its `{{ ... }}` standing for
 * anything; the later of two as near), else the rendered line's number.
 */
export function sourceLineOf(source: string, renderedLine: number, renderedText: string | undefined): number {
  const lines = source.split(/\r?\n/);
  const at = Math.min(Math.max(0, renderedLine - 1), Math.max(0, lines.length - 1));
  const wanted = renderedText?.trim();
  if (!wanted) return at;
  if (makes(lines[at] ?? '', wanted)) return at;
  // Jinja's tags take lines out of the render more often than they add some: between two as near, the later.
  let best: number | undefined;
  for (let i = 0; i < lines.length; i++) if (makes(lines[i], wanted) && (best === undefined || Math.abs(i - at) <= Math.abs(best - at))) best = i;
  return best ?? at;
}

/**
 * For Salt's "found conflicting ID": the source line (0-based) of the repeat, the first line after the
 * first key's that makes the same text (the rendered lines' numbers are not the source's: Jinja's tags
 * take lines out). Undefined for other errors.
 */
function repeatedKeyLine(source: string, message: string): number | undefined {
  if (!/found conflicting ID/.test(message)) return undefined;
  const [key, repeat] = yamlMarks(message);
  if (!repeat?.text.trim()) return undefined;
  const first = sourceLineOf(source, key.line, key.text);
  const lines = source.split(/\r?\n/);
  for (let i = first + 1; i < lines.length; i++) if (makes(lines[i], repeat.text.trim())) return i;
  return undefined;
}

/** The line of `file` that imports `template` (directly: `{% from %}`, `{% import %}`, `{% include %}`), else its first import. */
function importLine(stateRoot: string, file: string, template: string, texts?: Texts): SourceLocation | undefined {
  const source = textOf(file, texts);
  if (source === undefined) return undefined;
  const parsed = parseSls(source);
  const direct = parsed.jinjaImports.find((i) => templateFile(stateRoot, file, i.path) === template);
  const imp = direct ?? parsed.jinjaImports[0];
  if (!imp) return undefined;
  const { line, character } = parsed.lines.position(imp.span.start);
  return { file, line, column: character, exact: true };
}

/**
 * The line below a state that gives a requisite (`- file: nothing_here`, or a line whose Jinja makes it),
 * else the state's own line.
 */
function requisiteLine(at: SourceLocation, requisite: { type: string; target: string }, texts?: Texts): SourceLocation {
  const lines = (textOf(at.file, texts) ?? '').split(/\r?\n/);
  const indent = (text: string) => text.length - text.trimStart().length;
  const stateIndent = indent(lines[at.line] ?? '');
  const rendered = [`- ${requisite.type}: ${requisite.target}`, `${requisite.type}: ${requisite.target}`, `- ${requisite.target}`];
  for (let i = at.line + 1; i < lines.length; i++) {
    const text = lines[i];
    if (text.trim() && indent(text) <= stateIndent && !text.trimStart().startsWith('{')) break;
    if (rendered.some((r) => makes(text, r))) return { file: at.file, line: i, column: indent(text), exact: true };
  }
  return at;
}

/** Salt's requisite errors, compile-time (3007: "Referenced state does not exist for requisite [require: (file: x)]") or run-time (3006: "The following requisites were not found"). */
const REQUISITE_COMPILED = /requisite \[\w+: \((\w+): ([^)]*)\)\]/;
const REQUISITE_RUN = /^The following requisites were not found:\s*\n\s*\w+:\s*\n\s*(\w+): (.+)$/m;

/**
 * Salt's errors and failed states of one run over `mods` as findings, one per file and line, in the
 * order Salt gave them. Errors that are not Salt's verdict on the source (the engine's, a cancel) are the
 * caller's to report, and are left out here, as are pillar errors (they are the pillar's files').
 */
export function locateSaltRun(
  roots: RunRoots,
  run: { errors: readonly SaltRunError[]; states: readonly SaltStateResult[] },
  mods: string[],
  texts?: Texts,
): SaltFinding[] {
  const stateRoot = typeof roots === 'string' ? roots : roots.stateRoot;
  const found: SaltFinding[] = [];
  const seen = new Set<string>();
  const add = (finding: SaltFinding) => {
    const key = `${finding.file}:${finding.line}`;
    if (seen.has(key)) return;
    seen.add(key);
    found.push(finding);
  };
  const moduleFile = (sls: string | undefined) => fileForModule(stateRoot, sls ?? mods[0] ?? '');
  for (const error of run.errors) {
    if (error.kind !== 'render' || error.pillar) continue;
    const message = oneLine(error.message);
    const where = locateRunError(roots, error, { mods, highstate: false }, texts);
    const file = moduleFile(error.sls);
    if (error.file && where) {
      // Raised in a template the module imports: at the import, the template's line related.
      const imported = file && file !== where.file ? importLine(stateRoot, file, join(stateRoot, ...error.file.split('/')), texts) : undefined;
      const related = { file: where.file, line: where.line, message: `${error.file}${where.exact ? ` line ${where.line + 1}` : ''}: ${message}` };
      if (imported) add({ ...imported, message, code: 'template', related });
      else add({ ...where, message, code: 'template' });
      continue;
    }
    const mark = yamlMark(error.message);
    if (mark && file && where?.file === file) {
      const source = textOf(file, texts);
      const line = source === undefined ? mark.line - 1 : (repeatedKeyLine(source, error.message) ?? sourceLineOf(source, mark.line, mark.text));
      add({ file, line, column: 0, exact: true, message, code: 'yaml' });
      continue;
    }
    const requisite = REQUISITE_COMPILED.exec(error.message);
    if (where && requisite) {
      add({ ...requisiteLine(where, { type: requisite[1], target: requisite[2].trim() }, texts), message, code: 'requisite' });
      continue;
    }
    if (where) add({ ...where, message, code: 'render' });
    else if (file) add({ file, line: 0, column: 0, exact: false, message, code: 'render' });
    // Salt names no file we have (an include of a module that does not exist, that Jinja made): the
    // module rendered, at its top; never dropped.
    else {
      const rendered = moduleFile(undefined);
      if (rendered) add({ file: rendered, line: 0, column: 0, exact: false, message, code: 'render' });
    }
  }
  for (const state of run.states) {
    if (state.result !== false) continue;
    const at = locateState(stateRoot, state.sls || mods[0] || '', state.id, texts);
    if (!at) continue;
    const message = oneLine(state.comment);
    const requisite = REQUISITE_RUN.exec(state.comment);
    if (requisite) add({ ...requisiteLine(at, { type: requisite[1], target: requisite[2].trim() }, texts), message, code: 'requisite' });
    else if (/^State '[^']+' was not found in SLS/.test(state.comment)) add({ ...at, message, code: 'state-function' });
    else add({ ...at, message, code: 'state' });
  }
  return found;
}

/** Salt's findings without those the static checks made already (the same file and line): one fact, said once. */
export function withoutKnown<F extends { file: string; line: number }>(findings: readonly F[], known: readonly KnownFinding[]): F[] {
  const at = new Set(known.map((k) => `${k.file}:${k.line}`));
  return findings.filter((f) => !at.has(`${f.file}:${f.line}`));
}
