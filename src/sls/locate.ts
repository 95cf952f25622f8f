/**
 * Maps a state result (its `__sls__` and `__id__`) to the file and line that define it, with the
 * Jinja-tolerant parser: an ID made by Jinja (`web_site_{{ site }}` producing `web_site_blog`) maps to
 * the key line that makes it; failing everything, the top of the module's file (never another file).
 */
import { readFileSync, statSync } from 'node:fs';
import { fileForModule } from './modules';
import { escapeRegExp } from './jinja';
import { parseSls, type ParsedSls } from './parse';

export interface SourceLocation {
  file: string;
  /** 0-based line. */
  line: number;
  /** 0-based column. */
  column: number;
  /** False when the ID was not found in the file: the location is the top of the right file. */
  exact: boolean;
}

/** Parsed files by path, valid while size and mtime stay the same (a run maps many results to few files). */
const cache = new Map<string, { mtimeMs: number; size: number; parsed: ParsedSls }>();

function parsedFile(file: string): ParsedSls | undefined {
  try {
    const { mtimeMs, size } = statSync(file);
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === mtimeMs && hit.size === size) return hit.parsed;
    const parsed = parseSls(readFileSync(file, 'utf8'));
    if (cache.size > 256) cache.clear();
    cache.set(file, { mtimeMs, size, parsed });
    return parsed;
  } catch {
    return undefined;
  }
}

export function locateState(stateRoot: string, sls: string, id: string): SourceLocation | undefined {
  const file = fileForModule(stateRoot, sls);
  if (!file) return undefined;
  const parsed = parsedFile(file);
  if (!parsed) return { file, line: 0, column: 0, exact: false };
  const at = (offset: number): SourceLocation => {
    const { line, character } = parsed.lines.position(offset);
    return { file, line, column: character, exact: true };
  };
  const exact = parsed.states.find((s) => !s.templated && s.id === id);
  if (exact) return at(exact.span.start);
  const made = parsed.states.find((s) => s.templated && s.pattern?.test(id));
  if (made) return at(made.span.start);
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
