/**
 * Where the cursor is in SLS terms, read from the Jinja-blanked lines by indentation (so it works while
 * the YAML is half typed): the chain of keys above the cursor and what is being typed.
 */
import type { ParsedSls } from '../sls/parse';

export interface Ancestor {
  key: string;
  line: number;
  indent: number;
}

export interface CursorContext {
  /** Outermost first: `[state id, function, requisite keyword]`. */
  ancestors: Ancestor[];
  /** The line's text before the cursor (source, Jinja kept). */
  prefix: string;
  /** The line is a list item (`- ...`). */
  listItem: boolean;
  /** Text of the line before the cursor with the indentation and `- ` removed. */
  typed: string;
  /** `file` when the cursor is after `- file: `: the key of an inline `key: value` pair on this line. */
  inlineKey?: string;
  /** Offset where the word being typed starts. */
  wordStart: number;
}

const KEY = /^\s*(?:-\s+)?(['"]?)([^'"#:\s][^:#]*?)\1\s*:(?:\s|$)/;

function keyOf(line: string): string | undefined {
  const m = KEY.exec(line);
  return m ? m[2].trim() : undefined;
}

const indentOf = (line: string) => line.length - line.trimStart().length;

export function cursorContext(parsed: ParsedSls, offset: number): CursorContext {
  const { lines, blanked, source } = parsed;
  const { line, character } = lines.position(offset);
  const lineStart = lines.starts[line];
  const prefix = source.slice(lineStart, offset);
  const blankPrefix = blanked.slice(lineStart, offset);
  const dash = /^(\s*)-(\s+|$)/.exec(blankPrefix);
  const listItem = !!dash;
  const indent = indentOf(blankPrefix);
  const typed = blankPrefix.slice(dash ? dash[0].length : indent);
  const inline = /^(['"]?)([^'":\s]+)\1\s*:\s+(.*)$/.exec(typed);
  const word = /[^\s'"]*$/.exec(prefix)?.[0] ?? '';
  const ancestors: Ancestor[] = [];
  let limit = blankPrefix.trim() === '' ? character : indent;
  let limitIsDash = listItem;
  for (let l = line - 1; l >= 0 && limit > 0; l--) {
    const text = blanked.slice(lines.starts[l], l + 1 < lines.starts.length ? lines.starts[l + 1] - 1 : blanked.length);
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const i = indentOf(text);
    const isDash = /^\s*-(\s|$)/.test(text);
    const key = keyOf(text);
    // A list may sit at its parent key's own indentation (`include:` then `- common`).
    const parentAtSameIndent = i === limit && limitIsDash && !isDash && key !== undefined && trimmed.endsWith(':');
    if (i < limit || parentAtSameIndent) {
      if (key !== undefined) ancestors.unshift({ key, line: l, indent: i });
      limit = i;
      limitIsDash = isDash;
    }
  }
  return {
    ancestors,
    prefix,
    listItem,
    typed,
    inlineKey: inline ? inline[2] : undefined,
    wordStart: offset - word.length,
  };
}
