/**
 * Jinja inside SLS: found and blanked so that YAML can be parsed with positions that are source positions.
 * Every Jinja tag becomes same-length filler (newlines kept), `raw` blocks keep their content. An
 * expression that opens a line and is followed by more YAML on it (`{{ id }}:`) becomes `_` filler so
 * the line keeps its YAML meaning; every other tag becomes spaces.
 */

export type JinjaKind = 'expression' | 'statement' | 'comment';

export interface JinjaTag {
  kind: JinjaKind;
  /** Offsets in the source, end exclusive. */
  start: number;
  end: number;
  /** For statements: the first word (`for`, `endfor`, `set`, ...). */
  keyword?: string;
  /** The tag was not closed: it runs to the end of its line. */
  unterminated?: boolean;
}

/** A `{% for %}`/`{% if %}`/... block, from its opening tag's start to its closing tag's end. */
export interface JinjaBlock {
  keyword: string;
  start: number;
  end: number;
}

export interface BlankedSource {
  /** Same length as the source; same newlines. */
  text: string;
  tags: JinjaTag[];
  blocks: JinjaBlock[];
}

const CLOSERS: Record<string, string> = { '{{': '}}', '{%': '%}', '{#': '#}' };
const KINDS: Record<string, JinjaKind> = { '{{': 'expression', '{%': 'statement', '{#': 'comment' };
const BLOCK_KEYWORDS = new Set(['for', 'if', 'macro', 'call', 'filter', 'block', 'with', 'raw', 'autoescape', 'trans']);

/**
 * The one quote-aware scan of Jinja text: walks `text` from `from`, skipping quoted strings (a backslash
 * escapes the next character), and calls `visit` for every other character; stops at the index where
 * `visit` returns true, else returns -1. `newlineEndsQuote` lets a stray quote in a tag end at its line
 * instead of swallowing the file.
 */
export function walkOutsideQuotes(
  text: string,
  from: number,
  newlineEndsQuote: boolean,
  visit: (c: string, i: number) => boolean | void,
): number {
  let quote = '';
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote || (newlineEndsQuote && c === '\n')) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (visit(c, i)) return i;
  }
  return -1;
}

/** Where a tag that starts at `from` (just after the opener) ends; skips quoted strings in expressions and statements. */
function findClose(source: string, from: number, closer: string, quoted: boolean): number {
  const isCloser = (i: number): boolean => source[i] === closer[0] && source[i + 1] === closer[1];
  // Comments hold prose: a quote there opens nothing.
  const at = quoted ? walkOutsideQuotes(source, from, true, (_c, i) => isCloser(i)) : source.indexOf(closer, from);
  return at < 0 ? -1 : at + 2;
}

export function scanJinja(source: string): JinjaTag[] {
  const tags: JinjaTag[] = [];
  let i = source.indexOf('{');
  while (i >= 0 && i < source.length - 1) {
    const opener = source.slice(i, i + 2);
    const closer = CLOSERS[opener];
    if (!closer) {
      i = source.indexOf('{', i + 1);
      continue;
    }
    const kind = KINDS[opener];
    let end = findClose(source, i + 2, closer, kind !== 'comment');
    let unterminated = false;
    if (end < 0) {
      unterminated = true;
      const newline = source.indexOf('\n', i);
      end = newline < 0 ? source.length : newline;
    }
    const tag: JinjaTag = { kind, start: i, end };
    if (unterminated) tag.unterminated = true;
    if (kind === 'statement') {
      const word = /^\{%[-+]?\s*([A-Za-z_]+)/.exec(source.slice(i, Math.min(end, i + 64)));
      if (word) tag.keyword = word[1];
    }
    tags.push(tag);
    if (tag.keyword === 'raw') {
      // Content up to {% endraw %} is literal text.
      const endRaw = /\{%[-+]?\s*endraw\s*[-+]?%\}/g;
      endRaw.lastIndex = end;
      const m = endRaw.exec(source);
      if (m) {
        tags.push({ kind: 'statement', start: m.index, end: m.index + m[0].length, keyword: 'endraw' });
        i = source.indexOf('{', m.index + m[0].length);
        continue;
      }
    }
    i = source.indexOf('{', end);
  }
  return tags;
}

/** The `{% for %}`/`{% if %}`/... blocks the tags open and close. */
export function matchBlocks(tags: readonly JinjaTag[]): JinjaBlock[] {
  const blocks: JinjaBlock[] = [];
  const stack: { keyword: string; start: number }[] = [];
  for (const tag of tags) {
    const word = tag.keyword;
    if (!word) continue;
    if (BLOCK_KEYWORDS.has(word)) stack.push({ keyword: word, start: tag.start });
    else if (word.startsWith('end')) {
      const opened = word.slice(3);
      const index = stack.map((s) => s.keyword).lastIndexOf(opened);
      if (index >= 0) {
        const [open] = stack.splice(index);
        blocks.push({ keyword: open.keyword, start: open.start, end: tag.end });
      }
    }
  }
  return blocks.sort((a, b) => a.start - b.start);
}

export function blankJinja(source: string): BlankedSource {
  const tags = scanJinja(source);
  if (tags.length === 0) return { text: source, tags, blocks: [] };
  const chars = source.split('');
  for (const tag of tags) {
    for (let i = tag.start; i < tag.end; i++) if (chars[i] !== '\n' && chars[i] !== '\r') chars[i] = ' ';
  }
  // An expression that opens a line followed by more YAML (`{{ id }}:`) keeps the line's shape as `_` filler.
  for (const tag of tags) {
    if (tag.kind !== 'expression' || source.slice(tag.start, tag.end).includes('\n')) continue;
    const lineStart = source.lastIndexOf('\n', tag.start - 1) + 1;
    if (chars.slice(lineStart, tag.start).join('').trim() !== '') continue;
    let lineEnd = source.indexOf('\n', tag.end);
    if (lineEnd < 0) lineEnd = source.length;
    const rest = chars.slice(tag.end, lineEnd).join('').trim();
    if (rest !== '' && !rest.startsWith('#')) for (let i = tag.start; i < tag.end; i++) chars[i] = '_';
  }
  return { text: chars.join(''), tags, blocks: matchBlocks(tags) };
}

/** True when [start, end) overlaps a Jinja tag. */
export function overlapsJinja(tags: readonly JinjaTag[], start: number, end: number): boolean {
  // Tags are sorted by start: binary search the first tag that ends after start.
  let lo = 0;
  let hi = tags.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tags[mid].end <= start) lo = mid + 1;
    else hi = mid;
  }
  return lo < tags.length && tags[lo].start < end;
}

/**
 * A pattern for the values a text written with Jinja may take: literal parts kept, each tag matching
 * anything. `web_site_{{ site }}` matches `web_site_blog`.
 */
export function templateRegex(text: string): RegExp {
  const pattern = text
    .split(/(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\})/)
    .map((part, i) => (i % 2 ? '.*?' : escapeRegExp(part)))
    .join('');
  return new RegExp(`^${pattern.replace(/(\.\*\?)+/g, '.*?')}$`, 's');
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A name a Jinja statement binds: `{% set x %}`, `{% for a, b in ... %}`, `{% macro m() %}`, imports. */
export interface JinjaName {
  name: string;
  /** Where the name is written in the statement. */
  start: number;
  end: number;
  kind: 'set' | 'for' | 'macro' | 'import';
  /** For `{% from "f" import x as y %}` and `{% import "f" as y %}`: the file and the name there. */
  from?: { path: string; original?: string };
}

/** The names the Jinja statements of a source bind, in source order. */
export function jinjaNames(source: string, tags: readonly JinjaTag[]): JinjaName[] {
  const names: JinjaName[] = [];
  /** `list` (`a, b as c`) starts `listAt` characters into the tag at `tagStart`. */
  const push = (tagStart: number, list: string, listAt: number, kind: JinjaName['kind'], from?: { path: string; named: boolean }) => {
    let at = listAt;
    for (const part of list.split(',')) {
      const m = /^(\s*)(\w+)(?:(\s+as\s+)(\w+))?/.exec(part);
      if (m) {
        const aliased = m[4] !== undefined;
        const bound = aliased ? m[4] : m[2];
        const offset = tagStart + at + m[1].length + (aliased ? m[2].length + m[3].length : 0);
        names.push({ name: bound, start: offset, end: offset + bound.length, kind, from: from && { path: from.path, original: from.named ? m[2] : undefined } });
      }
      at += part.length + 1;
    }
  };
  for (const tag of tags) {
    if (tag.kind !== 'statement' || !tag.keyword) continue;
    const text = source.slice(tag.start, tag.end);
    let m: RegExpExecArray | null;
    if ((m = /^(\{%[-+]?\s*set\s+)([\w\s,]+?)\s*(?:=|[-+]?%\})/.exec(text))) push(tag.start, m[2], m[1].length, 'set');
    else if ((m = /^(\{%[-+]?\s*for\s+)([\w\s,]+?)\s+in\b/.exec(text))) push(tag.start, m[2], m[1].length, 'for');
    else if ((m = /^(\{%[-+]?\s*macro\s+)(\w+)/.exec(text))) push(tag.start, m[2], m[1].length, 'macro');
    else if ((m = /^(\{%[-+]?\s*from\s+(['"])([^'"]+)\2\s+import\s+)([\w\s,]+?)(?:\s+(?:with|without)\s+context)?\s*[-+]?%\}/.exec(text)))
      push(tag.start, m[4], m[1].length, 'import', { path: m[3], named: true });
    else if ((m = /^(\{%[-+]?\s*(?:import|import_yaml|import_json|import_text)\s+(['"])([^'"]+)\2\s+as\s+)(\w+)/.exec(text)))
      push(tag.start, m[4], m[1].length, 'import', { path: m[3], named: false });
  }
  return names;
}

/** The Jinja identifier at an offset, if the offset is inside a tag: the root of a dotted name (`web` for `web.conf_dir`). */
export function jinjaIdentifierAt(source: string, tags: readonly JinjaTag[], offset: number): string | undefined {
  const tag = tags.find((t) => t.start <= offset && offset <= t.end && t.kind !== 'comment');
  if (!tag) return undefined;
  let start = offset;
  while (start > tag.start && /[\w.]/.test(source[start - 1])) start--;
  let end = offset;
  while (end < tag.end && /\w/.test(source[end])) end++;
  // Inside a string literal of the tag: not a name.
  const before = source.slice(tag.start, offset);
  if ((before.match(/"/g)?.length ?? 0) % 2 === 1 || (before.match(/'/g)?.length ?? 0) % 2 === 1) return undefined;
  const root = source.slice(start, end).split('.')[0];
  return /^[A-Za-z_]\w*$/.test(root) && !JINJA_KEYWORDS.has(root) ? root : undefined;
}

const JINJA_KEYWORDS = new Set(['from', 'import', 'as', 'with', 'without', 'context', 'set', 'for', 'in', 'if', 'elif', 'else', 'endif', 'endfor', 'macro', 'endmacro', 'call', 'endcall', 'include', 'import_yaml', 'import_json', 'import_text', 'is', 'not', 'and', 'or', 'true', 'false', 'none', 'True', 'False', 'None', 'raw', 'endraw', 'do', 'filter', 'endfilter', 'block', 'endblock', 'extends', 'recursive', 'ignore', 'missing']);
