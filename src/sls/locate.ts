/**
 * Maps a state result (its `__sls__` and `__id__`) to the file and line that define it, with the
 * Jinja-tolerant parser: an ID made by Jinja (`web_site_{{ site }}` producing `web_site_blog`) maps to
 * the key line that makes it; failing everything, the top of the module's file (never another file).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileForModule, resolveInclude } from './modules';
import { escapeRegExp } from './jinja';
import { parseSls, type ParsedSls } from './parse';
import { mostSpecificFirst, renderContext, templatedIncludePattern } from './tree';

export interface SourceLocation {
  file: string;
  /** 0-based line. */
  line: number;
  /** 0-based column. */
  column: number;
  /** False when the ID was not found in the file: the location is the top of the right file. */
  exact: boolean;
}

/**
 * Parsed files by path, valid while the size and mtime of the file and of every template its parse
 * read (map.jinja, macros) stay the same: a run maps many results to few files.
 */
const cache = new Map<string, { stamps: Map<string, string>; parsed: ParsedSls }>();

const stampOf = (file: string) => {
  const { mtimeMs, size } = statSync(file);
  return `${size}:${mtimeMs}`;
};

function unchanged(stamps: Map<string, string>): boolean {
  try {
    return [...stamps].every(([file, stamp]) => stampOf(file) === stamp);
  } catch {
    return false; // one of them is gone
  }
}

/**
 * Texts that stand for their files (an editor's unsaved buffers, by absolute path): a run made with
 * them is located in them, not in the files on disk.
 */
export type Texts = ReadonlyMap<string, string>;

function parsedFile(stateRoot: string, file: string, texts?: Texts): ParsedSls | undefined {
  if (texts?.size) {
    // Buffers change with every keystroke: parsed anew, and not cached.
    try {
      const read = (f: string) => texts.get(f) ?? readFileSync(f, 'utf8');
      return parseSls(read(file), { isTop: basename(file) === 'top.sls', context: renderContext(stateRoot, file, read) });
    } catch {
      return undefined;
    }
  }
  try {
    const hit = cache.get(file);
    if (hit && unchanged(hit.stamps)) return hit.parsed;
    const stamps = new Map([[file, stampOf(file)]]);
    const read = (f: string) => {
      const text = readFileSync(f, 'utf8');
      if (f !== file) stamps.set(f, stampOf(f));
      return text;
    };
    const parsed = parseSls(read(file), { isTop: basename(file) === 'top.sls', context: renderContext(stateRoot, file, read) });
    if (cache.size > 256) cache.clear();
    cache.set(file, { stamps, parsed });
    return parsed;
  } catch {
    return undefined;
  }
}

/**
 * The line of state `id` of module `sls`. With `argument` (a requisite Salt says is malformed), the line
 * of that argument in the state: among the declarations that may make the ID (Jinja branches), the
 * one that has it.
 */
export function locateState(stateRoot: string, sls: string, id: string, texts?: Texts, argument?: string): SourceLocation | undefined {
  const file = fileForModule(stateRoot, sls);
  if (!file) return undefined;
  const parsed = parsedFile(stateRoot, file, texts);
  if (!parsed) return { file, line: 0, column: 0, exact: false };
  const at = (offset: number): SourceLocation => {
    const { line, character } = parsed.lines.position(offset);
    return { file, line, column: character, exact: true };
  };
  const candidates = [
    ...parsed.states.filter((s) => !s.templated && s.id === id),
    ...mostSpecificFirst(parsed.states.filter((s) => s.templated && s.pattern?.test(id)).map((state) => ({ state }))).map((hit) => hit.state),
  ];
  if (argument) {
    const written = new RegExp(`^(\\s*-\\s*)${escapeRegExp(argument)}\\s*:`);
    for (const state of candidates) {
      const first = parsed.lines.position(state.extent.start).line;
      const last = parsed.lines.position(state.extent.end).line;
      for (let line = first; line <= last; line++) {
        const match = written.exec(parsed.lines.lineText(line));
        if (match) return { file, line, column: match[1].length, exact: true };
      }
    }
  }
  if (candidates.length) return at(candidates[0].span.start);
  // YAML the parser could not read (or a state in an unusual place): the literal key line, if there is one.
  const pattern = new RegExp(`^\\s*(['"]?)${escapeRegExp(id)}\\1\\s*:`);
  for (let line = 0; line < parsed.lines.lineCount; line++) {
    const text = parsed.lines.lineText(line);
    if (pattern.test(text)) return { file, line, column: text.length - text.trimStart().length, exact: true };
  }
  return { file, line: 0, column: 0, exact: false };
}

/** The file and line for an error Salt reported in an SLS module (line is 1-based as Salt prints it). */
export function locateSls(stateRoot: string, sls: string, line?: number): SourceLocation | undefined {
  const file = fileForModule(stateRoot, sls);
  if (!file) return undefined;
  return { file, line: Math.max(0, (line ?? 1) - 1), column: 0, exact: line !== undefined };
}

/**
 * The include entry (or top.sls entry) that names `missing`, searched from the modules a run applied
 * through their includes; for a module that does not exist this is the line to point at. Else the
 * entry Jinja makes that may name it, when only one may.
 */
export function locateInclude(stateRoot: string, from: { mods: string[]; highstate: boolean }, missing: string, texts?: Texts): SourceLocation | undefined {
  const at = (file: string, parsed: ParsedSls, offset: number): SourceLocation => {
    const { line, character } = parsed.lines.position(offset);
    return { file, line, column: character, exact: true };
  };
  const queue = [...from.mods];
  if (from.highstate) {
    const top = join(stateRoot, 'top.sls');
    const parsed = parsedFile(stateRoot, top, texts);
    for (const entry of parsed?.topEntries ?? []) {
      if (entry.module === missing) return at(top, parsed!, entry.span.start);
      queue.push(entry.module);
    }
  }
  const seen = new Set<string>();
  // Entries Jinja makes that may name it (`- {{ dep }}` over a pillar list): the one, when one fits.
  const made: SourceLocation[] = [];
  while (queue.length) {
    const module = queue.shift()!;
    if (seen.has(module)) continue;
    seen.add(module);
    const file = fileForModule(stateRoot, module);
    const parsed = file && parsedFile(stateRoot, file, texts);
    if (!file || !parsed) continue;
    const place = { module, isInit: basename(file) === 'init.sls' };
    for (const include of parsed.includes) {
      const named = resolveInclude(include.module, place);
      if (include.templated) {
        if (templatedIncludePattern(include, named)?.test(missing)) made.push(at(file, parsed, include.span.start));
        continue;
      }
      if (named === missing) return at(file, parsed, include.span.start);
      queue.push(named);
    }
  }
  if (made.length === 1) return made[0];
  // Several could: the first one's file, its line unknown.
  return made.length ? { file: made[0].file, line: 0, column: 0, exact: false } : undefined;
}

/** The state of module `sls` whose `name` argument is `name` (Salt names states by name in requisite errors). */
function locateNamed(stateRoot: string, sls: string, name: string, texts?: Texts): SourceLocation | undefined {
  const file = fileForModule(stateRoot, sls);
  const parsed = file && parsedFile(stateRoot, file, texts);
  const state = parsed && parsed.states.find((s) => s.id === name || s.names.includes(name) || s.namePatterns.some((p) => p.test(name)));
  if (!file || !parsed || !state) return undefined;
  const { line, character } = parsed.lines.position(state.span.start);
  return { file, line, column: character, exact: true };
}

/** The trees a run's errors are in: its state root, or the state root and the pillar root (a folder, or one pillar file). */
export type RunRoots = string | { stateRoot: string; pillarRoot?: string };

/**
 * Where a pillar module's error belongs: its file in the pillar folder, or the one pillar file given
 * as the pillar (a formula's pillar.example, which the bundle ships as the only module).
 */
function locatePillar(pillarRoot: string, sls: string, line?: number): SourceLocation | undefined {
  let file: string | undefined;
  try {
    file = statSync(pillarRoot).isFile() ? pillarRoot : fileForModule(pillarRoot, sls);
  } catch {
    return undefined; // the pillar is gone
  }
  return file ? { file, line: Math.max(0, (line ?? 1) - 1), column: 0, exact: line !== undefined } : undefined;
}

/**
 * Where a run error says it is, as the engine parses Salt's (engine/results/model.ts RunError, which
 * sls/ may not import): the module, its line, an imported template, the state by ID or name, pillar.
 */
export interface ErrorPlace {
  sls?: string;
  line?: number;
  file?: string;
  id?: string;
  name?: string;
  /** The state's argument at fault (a malformed requisite). */
  argument?: string;
  pillar?: boolean;
}

/**
 * Where a run error belongs: the line Salt names in the file it names (the SLS, or a template it
 * imports; a pillar module in the pillar root), else the state it names; for an SLS that does not
 * exist, the include or top.sls entry that asked for it.
 */
export function locateRunError(
  roots: RunRoots,
  error: ErrorPlace,
  run: { mods: string[]; highstate: boolean },
  texts?: Texts,
): SourceLocation | undefined {
  const { stateRoot, pillarRoot } = typeof roots === 'string' ? { stateRoot: roots, pillarRoot: undefined } : roots;
  if (error.pillar) return pillarRoot && error.sls ? locatePillar(pillarRoot, error.sls, error.line) : undefined;
  if (error.file) {
    const file = join(stateRoot, ...error.file.split('/'));
    if (existsSync(file)) return { file, line: Math.max(0, (error.line ?? 1) - 1), column: 0, exact: error.line !== undefined };
  }
  if (!error.sls) return undefined;
  if (error.line === undefined && error.id) {
    const at = locateState(stateRoot, error.sls, error.id, texts, error.argument);
    if (at) return at;
  }
  if (error.line === undefined && error.name) {
    const at = locateNamed(stateRoot, error.sls, error.name, texts);
    if (at) return at;
  }
  return locateSls(stateRoot, error.sls, error.line) ?? locateInclude(stateRoot, run, error.sls, texts);
}
