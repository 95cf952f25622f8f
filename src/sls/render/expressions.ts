/**
 * Jinja expressions as far as the source decides them: top-level splitting (outside quotes and brackets),
 * string values of small expressions, the known and unknown parts of a concatenation, macro calls and the
 * indent filter.
 */
import { walkOutsideQuotes } from '../jinja';

const MAX_EXPRESSION = 400;

/**
 * Walks `text` from `from` outside quoted strings, and calls `visit` for each other character with the
 * bracket depth before it; stops where `visit` returns true (that index), else -1.
 */
function walkTopLevel(text: string, from: number, visit: (c: string, i: number, depth: number) => boolean | void): number {
  let depth = 0;
  return walkOutsideQuotes(text, from, false, (c, i) => {
    if (visit(c, i, depth)) return true;
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
  });
}

/** Splits at top-level separators (outside quotes and brackets). */
export function splitTopLevel(text: string, separator = ','): string[] {
  const parts: string[] = [];
  let from = 0;
  walkTopLevel(text, 0, (c, i, depth) => {
    if (c === separator && depth === 0) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
  });
  parts.push(text.slice(from));
  const trimmed = parts.map((p) => p.trim());
  return trimmed.length === 1 && trimmed[0] === '' ? [] : trimmed;
}

/** The index of the bracket that closes the one at `open`, or -1. */
function closingBracket(text: string, open: number): number {
  return walkTopLevel(text, open, (c, _i, depth) => ')]}'.includes(c) && depth === 1);
}

const STRING = /^(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")$/s;

/** The value of a string literal, or undefined. */
export function stringLiteral(text: string): string | undefined {
  const m = STRING.exec(text.trim());
  if (!m) return undefined;
  return (m[1] ?? m[2]).replace(/\\(.)/g, '$1');
}

export type Lookup = (name: string) => string | undefined;

/**
 * The string value of a small expression when the source decides it (filters bind tighter than `~` and
 * `+`, as in Jinja): literals, known names, `~` and `+` of strings, `.split(sep)[i]`, `.replace(a, b)`, `| replace(a, b)`, `| lower`, `| upper`; else undefined.
 */
export function evaluate(expr: string, lookup: Lookup, depth = 0): string | undefined {
  const text = expr.trim();
  // Lists, dicts and long expressions are never a string the source decides (and would cost time to split).
  if (!text || depth > 20 || text.length > MAX_EXPRESSION || text[0] === '[' || text[0] === '{') return undefined;
  const literal = stringLiteral(text);
  if (literal !== undefined) return literal;
  if (/^-?\d+(\.\d+)?$/.test(text)) return text;
  for (const op of ['~', '+']) {
    const parts = splitTopLevel(text, op);
    if (parts.length > 1) {
      const values = parts.map((p) => evaluate(p, lookup, depth + 1));
      return values.every((v) => v !== undefined) ? values.join('') : undefined;
    }
  }
  const filters = splitTopLevel(text, '|');
  if (filters.length > 1) {
    let value = evaluate(filters[0], lookup, depth + 1);
    for (const filter of filters.slice(1)) {
      if (value === undefined) return undefined;
      const m = /^(\w+)\s*(?:\((.*)\))?$/s.exec(filter);
      if (!m) return undefined;
      const args = m[2] ? splitTopLevel(m[2]).map((a) => evaluate(a, lookup, depth + 1)) : [];
      if (m[1] === 'lower') value = value.toLowerCase();
      else if (m[1] === 'upper') value = value.toUpperCase();
      else if (m[1] === 'replace' && args.length === 2 && args.every((a) => a !== undefined)) value = value.split(args[0]!).join(args[1]!);
      else if (m[1] === 'string') continue;
      else if (m[1] === 'indent' && !value.includes('\n')) {
        // One line: only `first=True` changes it.
        const indent = indentFilter(filter);
        const width = m[2] ? Number(evaluate(splitTopLevel(m[2])[0] ?? '', lookup, depth + 1)) : 4;
        if (indent?.first || /,\s*(first\s*=\s*)?true\s*$/i.test(m[2] ?? '')) value = ' '.repeat(Number.isFinite(width) ? width : 4) + value;
      } else return undefined;
    }
    return value;
  }
  if (text.startsWith('(') && closingBracket(text, 0) === text.length - 1) return evaluate(text.slice(1, -1), lookup, depth + 1);
  const name = /^[A-Za-z_]\w*/.exec(text);
  if (!name) return undefined;
  let value = lookup(name[0]);
  let rest = text.slice(name[0].length).trim();
  while (value !== undefined && rest) {
    const call = /^\.(split|replace|lower|upper|strip)\s*\(/.exec(rest);
    if (!call) return undefined;
    const close = closingBracket(rest, call[0].length - 1);
    if (close < 0) return undefined;
    const args = splitTopLevel(rest.slice(call[0].length, close)).map((a) => evaluate(a, lookup, depth + 1));
    rest = rest.slice(close + 1).trim();
    if (call[1] === 'split') {
      const index = /^\[\s*(-?\d+)\s*\]/.exec(rest);
      if (!index || args.length > 1 || (args.length === 1 && args[0] === undefined)) return undefined;
      const parts = args.length ? value.split(args[0]!) : value.split(/\s+/);
      value = parts[Number(index[1]) < 0 ? parts.length + Number(index[1]) : Number(index[1])];
      rest = rest.slice(index[0].length).trim();
    } else if (call[1] === 'replace' && args.length === 2 && args.every((a) => a !== undefined)) value = value.split(args[0]!).join(args[1]!);
    else if (call[1] === 'lower') value = value.toLowerCase();
    else if (call[1] === 'upper') value = value.toUpperCase();
    else if (call[1] === 'strip' && args.length === 0) value = value.trim();
    else return undefined;
  }
  return value;
}

/** A concatenation of known text and unknown expressions, in order (`unknown` holds the expression). */
export type Shape = { text: string; unknown?: string }[];

/** The shape of `'a_' ~ x ~ '_b'` when it has some known text; undefined otherwise. */
export function shapeOf(expr: string, lookup: Lookup): Shape | undefined {
  if (expr.length > MAX_EXPRESSION) return undefined;
  for (const op of ['~', '+']) {
    const parts = splitTopLevel(expr.trim(), op);
    if (parts.length < 2) continue;
    const shape: Shape = parts.map((part) => {
      const value = evaluate(part, lookup);
      return value === undefined ? { text: '', unknown: part } : { text: value };
    });
    return shape.some((p) => p.unknown === undefined && p.text !== '') ? shape : undefined;
  }
  return undefined;
}

export const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((p, i) => p.text === b[i].text && (p.unknown === undefined) === (b[i].unknown === undefined));

/** `name(args) | filter ...` or `lib.name(args)`: a call whose result is the whole expression. */
export function callOf(inner: string): { name: string; args: string[]; filters: string[] } | undefined {
  const m = /^([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)?)\s*\(/.exec(inner);
  if (!m) return undefined;
  const close = closingBracket(inner, m[0].length - 1);
  if (close < 0) return undefined;
  const after = inner.slice(close + 1).trim();
  if (after && !after.startsWith('|')) return undefined;
  const filters = after ? splitTopLevel(after.slice(1), '|') : [];
  return { name: m[1], args: splitTopLevel(inner.slice(m[0].length, close)), filters };
}

/** `indent(4)`, `indent(width=4, first=True)`: the spaces and whether the first line gets them too. */
export function indentFilter(filter: string): { width: number; first: boolean } | undefined {
  const m = /^indent\s*(?:\((.*)\))?$/s.exec(filter.trim());
  if (!m) return undefined;
  let width = 4;
  let first = false;
  const args = m[1] ? splitTopLevel(m[1]) : [];
  args.forEach((arg, i) => {
    const kw = /^(\w+)\s*=\s*(.*)$/s.exec(arg);
    const key = kw ? kw[1] : i === 0 ? 'width' : i === 1 ? 'first' : '';
    const value = (kw ? kw[2] : arg).trim();
    if (key === 'width' && /^\d+$/.test(value)) width = Number(value);
    if (key === 'first') first = /^true$/i.test(value);
  });
  return { width, first };
}
