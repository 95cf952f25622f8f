/**
 * Jinja rendered as far as the source alone decides it: the text Salt's YAML reader would get, with a map
 * back to the source. Whitespace control (`{%-`, `-%}`) is applied as Jinja applies it; a `for` body is
 * rendered once; an `if` chain renders one branch, the pass number picking which, so that every branch is
 * read in some pass; macros defined in the file or imported from the tree are expanded where they are called
 * (literal arguments substituted); `{% set %}` names with a value the source decides (`tpldir.split('/')[0] ~
 * '.service'`) are substituted; any other expression is a placeholder scalar where it stands inside a line,
 * and nothing where it stands alone on its line (there it may make any structure: keys, list items, nothing).
 */
import { scanJinja, type JinjaTag } from './jinja';

/** One run of the rendered text and where it comes from. */
export interface Piece {
  text: string;
  /** Source span (end exclusive). For an exact piece, text is source[start, end). */
  start: number;
  end: number;
  exact: boolean;
  /** What to show for this piece when it is not the text itself (the Jinja that made it). */
  label?: string;
  /** The value is not known (a placeholder). */
  unknown: boolean;
  /** Made by a macro expanded here: start/end are the call's span, label the macro's own Jinja. */
  expanded: boolean;
}

/** An `if` chain (or a `for` with an `else`): its conditions and the source span of each branch. */
export interface JinjaChain {
  keyword: string;
  conditions: string[];
  branches: { start: number; end: number }[];
}

export interface RenderedJinja {
  text: string;
  pieces: Piece[];
  /** How many passes read every branch of every chain (at least 1). */
  passes: number;
  chains: JinjaChain[];
  /** Paths Jinja statements load, as the source decides them (`{% from tplroot ~ "/map.jinja" import x %}`). */
  imports: { path: string; start: number; end: number }[];
}

/** Salt's template context for an SLS file: its path under the state root (`web/init.sls`). */
export interface RenderContext {
  /** The file's path below the state root with `/` separators; undefined when it is outside any root. */
  path?: string;
  /** Reads a template the file imports (a path as Jinja names it); undefined when not found. */
  load?: (path: string, from: string | undefined) => string | undefined;
}

const PLACEHOLDER = 'JINJA';
const MAX_DEPTH = 6;
const MAX_PIECES = 200_000;
const MAX_PASSES = 4;
const MAX_EXPRESSION = 400;

// ------------------------------------------------------------------------------------------ structure

type Node = TextNode | ExprNode | StmtNode | BlockNode;
interface TextNode {
  type: 'text';
  start: number;
  end: number;
}
interface ExprNode {
  type: 'expr';
  start: number;
  end: number;
  inner: string;
}
interface StmtNode {
  type: 'stmt';
  start: number;
  end: number;
  keyword: string;
  inner: string;
}
interface Branch {
  head: string;
  start: number;
  end: number;
  children: Node[];
}
interface BlockNode {
  type: 'block';
  keyword: string;
  start: number;
  end: number;
  head: string;
  branches: Branch[];
}

/** The statements that bind names or load templates (the others, `do` and the like, make nothing to read). */
const STATEMENTS_READ = new Set(['set', 'from', 'import', 'import_yaml', 'import_json', 'import_text', 'include', 'extends']);
const OPENERS = new Set(['if', 'for', 'macro', 'call', 'filter', 'with', 'autoescape', 'block', 'trans', 'raw']);

/** The inside of a tag without its delimiters and whitespace-control marks. */
function innerOf(source: string, tag: JinjaTag): string {
  const close = tag.unterminated ? tag.end : tag.end - 2;
  return source
    .slice(tag.start + 2, Math.max(tag.start + 2, close))
    .replace(/^[-+]/, '')
    .replace(/[-+]$/, '')
    .trim();
}

/** The tags' text runs with whitespace control applied, then the block structure. */
function parseTemplate(source: string, tags: readonly JinjaTag[]): Node[] {
  const flat: Node[] = [];
  let at = 0;
  let stripNext = false;
  const pushText = (start: number, end: number, stripLeft: boolean, stripRight: boolean) => {
    if (stripLeft) while (start < end && /\s/.test(source[start])) start++;
    if (stripRight) while (end > start && /\s/.test(source[end - 1])) end--;
    if (end > start) flat.push({ type: 'text', start, end });
  };
  for (const tag of tags) {
    const stripBefore = source[tag.start + 2] === '-';
    pushText(at, tag.start, stripNext, stripBefore);
    stripNext = !tag.unterminated && source[tag.end - 3] === '-';
    at = tag.end;
    if (tag.kind === 'comment') continue;
    const inner = innerOf(source, tag);
    if (tag.kind === 'expression') flat.push({ type: 'expr', start: tag.start, end: tag.end, inner });
    else flat.push({ type: 'stmt', start: tag.start, end: tag.end, keyword: tag.keyword ?? '', inner });
  }
  pushText(at, source.length, stripNext, false);

  const root: Node[] = [];
  const stack: { block: BlockNode; children: Node[] }[] = [];
  const current = () => (stack.length ? stack[stack.length - 1].children : root);
  for (const node of flat) {
    if (node.type !== 'stmt') {
      current().push(node);
      continue;
    }
    const word = node.keyword;
    const opensSet = word === 'set' && !/^set\s+[\w\s,.]+=/.test(node.inner);
    if (OPENERS.has(word) || opensSet) {
      const branch: Branch = { head: node.inner.slice(word.length).trim(), start: node.start, end: node.end, children: [] };
      const block: BlockNode = { type: 'block', keyword: word, start: node.start, end: node.end, head: branch.head, branches: [branch] };
      current().push(block);
      stack.push({ block, children: branch.children });
      continue;
    }
    if ((word === 'elif' || word === 'else') && stack.length) {
      const top = stack[stack.length - 1];
      if (top.block.keyword === 'if' || (top.block.keyword === 'for' && word === 'else')) {
        const last = top.block.branches[top.block.branches.length - 1];
        last.end = node.start;
        const branch: Branch = { head: word === 'elif' ? node.inner.slice(4).trim() : '', start: node.start, end: node.end, children: [] };
        top.block.branches.push(branch);
        top.children = branch.children;
        continue;
      }
    }
    if (word.startsWith('end')) {
      const opened = word.slice(3);
      let index = -1;
      for (let i = stack.length - 1; i >= 0 && index < 0; i--) if (stack[i].block.keyword === opened) index = i;
      if (index >= 0) {
        for (const open of stack.splice(index)) {
          open.block.end = node.end;
          const last = open.block.branches[open.block.branches.length - 1];
          last.end = node.start;
        }
        continue;
      }
    }
    current().push(node);
  }
  for (const open of stack) {
    open.block.end = source.length;
    open.block.branches[open.block.branches.length - 1].end = source.length;
  }
  return root;
}

// ------------------------------------------------------------------------------------------ expressions

/**
 * Walks `text` from `from`, skipping quoted strings, and calls `visit` for each other character with the
 * bracket depth before it; stops where `visit` returns true (that index), else -1.
 */
function walkTopLevel(text: string, from: number, visit: (c: string, i: number, depth: number) => boolean | void): number {
  let depth = 0;
  let quote = '';
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (visit(c, i, depth)) return i;
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
  }
  return -1;
}

/** Splits at top-level separators (outside quotes and brackets). */
function splitTopLevel(text: string, separator = ','): string[] {
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
function stringLiteral(text: string): string | undefined {
  const m = STRING.exec(text.trim());
  if (!m) return undefined;
  return (m[1] ?? m[2]).replace(/\\(.)/g, '$1');
}

type Lookup = (name: string) => string | undefined;

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
type Shape = { text: string; unknown?: string }[];

/** The shape of `'a_' ~ x ~ '_b'` when it has some known text; undefined otherwise. */
function shapeOf(expr: string, lookup: Lookup): Shape | undefined {
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

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((p, i) => p.text === b[i].text && (p.unknown === undefined) === (b[i].unknown === undefined));

/** `name(args) | filter ...` or `lib.name(args)`: a call whose result is the whole expression. */
function callOf(inner: string): { name: string; args: string[]; filters: string[] } | undefined {
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
function indentFilter(filter: string): { width: number; first: boolean } | undefined {
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

// ------------------------------------------------------------------------------------------ templates

interface Macro {
  params: { name: string; default?: string }[];
  body: Node[];
  unit: Unit;
}

/** One template (the SLS file, or a file it imports): its structure, macros, names with a known value. */
interface Unit {
  source: string;
  nodes: Node[];
  macros: Map<string, Macro>;
  /** `{% import "x" as lib %}`: `lib` -> the unit. */
  libraries: Map<string, Unit>;
  /** Names bound by a top-level `{% set %}` once, with a value the source decides. */
  values: Map<string, string>;
  /**
   * Names every `{% set %}` of which gives the same mix of known text and unknown parts
   * (`'server_conf_' ~ loop.index0`): null where two sets of the name disagree.
   */
  shapes: Map<string, Shape | null>;
  imports: { path: string; start: number; end: number }[];
  /** `{% include %}` statements by where they start: the path they name. */
  includes: Map<number, string>;
  /** The path this unit was loaded by (undefined for the SLS file itself). */
  path?: string;
}

const templates = new Map<string, Node[]>();
function templateNodes(source: string): Node[] {
  let nodes = templates.get(source);
  if (!nodes) {
    if (templates.size >= 128) templates.clear();
    nodes = parseTemplate(source, scanJinja(source));
    templates.set(source, nodes);
  }
  return nodes;
}

/** Salt's names for where the template is (`tpldir`, `sls`, `slspath`...). */
function saltNames(path: string | undefined): Map<string, string> {
  const names = new Map<string, string>();
  if (!path) return names;
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  const tpldir = dir || '.';
  const module = path.replace(/\.sls$/, '').replace(/\/init$/, '').split('/').join('.');
  names.set('tplpath', path);
  names.set('tplfile', path);
  names.set('tpldir', tpldir);
  names.set('tpldot', tpldir.split('/').join('.'));
  names.set('slspath', tpldir);
  names.set('slsdotpath', tpldir.split('/').join('.'));
  names.set('slscolonpath', tpldir.split('/').join(':'));
  if (path.endsWith('.sls')) names.set('sls', module);
  return names;
}

/** Names a block of nodes binds anywhere (sets, loop variables): such a name has no single value there. */
function boundNames(nodes: readonly Node[], into = new Map<string, number>()): Map<string, number> {
  const add = (name: string) => into.set(name, (into.get(name) ?? 0) + 1);
  for (const node of nodes) {
    if (node.type === 'stmt' && node.keyword === 'set') {
      const m = /^set\s+([\w\s,]+?)\s*=/.exec(node.inner);
      if (m) for (const name of m[1].split(',')) add(name.trim());
    } else if (node.type === 'block') {
      if (node.keyword === 'for') for (const name of (/^([\w\s,]+?)\s+in\b/.exec(node.head)?.[1] ?? '').split(',')) add(name.trim());
      if (node.keyword === 'set') add(node.head.split(/[\s|(]/)[0]);
      if (node.keyword === 'macro' || node.keyword === 'call') {
        // Names inside a macro are its own.
        continue;
      }
      for (const branch of node.branches) {
        // Inside a block a name may be bound any number of times (or not at all): never one value.
        for (const [name] of boundNames(branch.children)) into.set(name, 2);
      }
    }
  }
  return into;
}

class Renderer {
  readonly chains: JinjaChain[] = [];
  /** The most branches of any chain rendered (in the file or in a macro it expands). */
  maxBranches = 1;
  readonly salt: Map<string, string>;
  private pieces = 0;
  private readonly units = new Map<string, Unit | null>();

  constructor(
    private readonly context: RenderContext,
    private readonly pass: number,
  ) {
    this.salt = saltNames(context.path);
  }

  /** `tags` of the SLS file itself are known; an imported template's structure is kept across files (many import the same map.jinja). */
  unit(source: string, tags: readonly JinjaTag[] | undefined, importedFrom?: string): Unit {
    const nodes = tags ? parseTemplate(source, tags) : templateNodes(source);
    const unit: Unit = { source, nodes, macros: new Map(), libraries: new Map(), values: new Map(), shapes: new Map(), imports: [], includes: new Map(), path: importedFrom };
    const counts = boundNames(nodes);
    const lookup: Lookup = (name) => unit.values.get(name) ?? this.salt.get(name);
    const visit = (list: readonly Node[], top: boolean) => {
      for (const node of list) {
        if (node.type === 'stmt') this.statement(unit, node, top, counts, lookup);
        else if (node.type === 'block') {
          if (node.keyword === 'macro') this.defineMacro(unit, node);
          else for (const branch of node.branches) visit(branch.children, false);
        }
      }
    };
    visit(nodes, true);
    return unit;
  }

  private statement(unit: Unit, node: StmtNode, top: boolean, counts: Map<string, number>, lookup: Lookup) {
    const { inner, keyword } = node;
    if (!STATEMENTS_READ.has(keyword)) return;
    const set = /^set\s+(\w+)\s*=\s*([\s\S]*)$/.exec(inner);
    if (set) {
      const value = evaluate(set[2], lookup);
      if (top && counts.get(set[1]) === 1 && value !== undefined) unit.values.set(set[1], value);
      else {
        const shape = value === undefined ? shapeOf(set[2], lookup) : undefined;
        const known = unit.shapes.get(set[1]);
        unit.shapes.set(set[1], shape && (known === undefined || (known && sameShape(known, shape))) ? shape : null);
      }
      return;
    }
    const from = /^from\s+([\s\S]+?)\s+import\s+([\w\s,]+?)(?:\s+(?:with|without)\s+context)?\s*$/.exec(inner);
    const lib = /^import\s+([\s\S]+?)\s+as\s+(\w+)(?:\s+(?:with|without)\s+context)?\s*$/.exec(inner);
    const other = /^(import_yaml|import_json|import_text|include|extends)\s+([\s\S]+?)(?:\s+as\s+\w+)?(?:\s+ignore\s+missing)?(?:\s+(?:with|without)\s+context)?\s*$/.exec(inner);
    const pathExpr = from?.[1] ?? lib?.[1] ?? other?.[2];
    if (!pathExpr) return;
    const path = evaluate(pathExpr, lookup);
    if (path === undefined) return;
    // Where the path is written: the literal's inside when it is one, else the whole expression.
    const exprAt = unit.source.indexOf(pathExpr, node.start);
    const literal = stringLiteral(pathExpr) !== undefined;
    const start = exprAt + (literal ? 1 : 0);
    unit.imports.push({ path, start, end: exprAt + pathExpr.length - (literal ? 1 : 0) });
    if (other?.[1] === 'include') unit.includes.set(node.start, path);
    if (!from && !lib) return;
    const imported = this.load(path, unit.path);
    if (!imported) return;
    if (lib) {
      unit.libraries.set(lib[2], imported);
      return;
    }
    for (const part of from![2].split(',')) {
      const m = /^\s*(\w+)(?:\s+as\s+(\w+))?\s*$/.exec(part);
      const macro = m && imported.macros.get(m[1]);
      if (macro) unit.macros.set(m[2] ?? m[1], macro);
    }
  }

  private load(path: string, from: string | undefined): Unit | undefined {
    const key = `${from ?? ''}\u0000${path}`;
    if (this.units.has(key)) return this.units.get(key) ?? undefined;
    this.units.set(key, null); // a template importing itself stops here
    const text = this.context.load?.(path, from);
    if (text === undefined) return undefined;
    const unit = this.unit(text, undefined, path);
    this.units.set(key, unit);
    return unit;
  }

  private defineMacro(unit: Unit, block: BlockNode) {
    const m = /^(\w+)\s*\(([\s\S]*)\)\s*$/.exec(block.head);
    if (!m) return;
    const params = splitTopLevel(m[2])
      .filter((p) => p !== '')
      .map((p) => {
        const kw = /^(\w+)\s*=\s*([\s\S]*)$/.exec(p);
        return kw ? { name: kw[1], default: kw[2] } : { name: p.trim() };
      });
    unit.macros.set(m[1], { params, body: block.branches[0].children, unit });
  }

  private macroNamed(unit: Unit, name: string): Macro | undefined {
    const dot = name.indexOf('.');
    if (dot < 0) return unit.macros.get(name);
    return unit.libraries.get(name.slice(0, dot))?.macros.get(name.slice(dot + 1));
  }

  // ---------------------------------------------------------------------------------------- render

  /**
   * Renders nodes of `unit` to slots and pieces; `site` is the span in the root file everything rendered
   * here stands for (undefined: the root file itself, exact pieces).
   */
  render(unit: Unit, nodes: readonly Node[], scope: Scope, out: Item[], site: { start: number; end: number } | undefined, depth: number) {
    for (const node of nodes) {
      if (this.pieces > MAX_PIECES) return;
      this.pieces++;
      if (node.type === 'text') {
        const text = unit.source.slice(node.start, node.end);
        out.push(site ? { text, start: site.start, end: site.end, exact: false, unknown: false, expanded: true } : { text, start: node.start, end: node.end, exact: true, unknown: false, expanded: false });
      } else if (node.type === 'expr') this.expression(unit, node, scope, out, site, depth);
      else if (node.type === 'block') this.block(unit, node, scope, out, site, depth);
      else if (node.keyword === 'include') this.include(unit, node, scope, out, site, depth);
    }
  }

  private label(unit: Unit, node: { start: number; end: number }): string {
    return unit.source.slice(node.start, node.end);
  }

  private expression(unit: Unit, node: ExprNode, scope: Scope, out: Item[], site: { start: number; end: number } | undefined, depth: number) {
    const at = site ?? node;
    const label = this.label(unit, node);
    const value = evaluate(node.inner, (name) => scope.lookup(name));
    if (value !== undefined) {
      out.push({ text: value, start: at.start, end: at.end, exact: false, label, unknown: false, expanded: !!site });
      return;
    }
    const shape = /^\w+$/.test(node.inner) ? scope.shape(node.inner) : undefined;
    if (shape) {
      // What the name is made of shows instead of the name: `server_conf_{{ loop.index0 }}`.
      for (const part of shape) {
        if (part.unknown === undefined) out.push({ text: part.text, start: at.start, end: at.end, exact: false, unknown: false, expanded: true });
        else out.push({ text: PLACEHOLDER, start: at.start, end: at.end, exact: false, label: `{{ ${part.unknown} }}`, unknown: true, expanded: true });
      }
      return;
    }
    const slot: Slot = { slot: true, start: at.start, end: at.end, label, expanded: !!site };
    const call = callOf(node.inner);
    if (call && depth < MAX_DEPTH) {
      const expansion: Item[] = [];
      if (call.name === 'caller' && scope.caller) {
        const { unit: callerUnit, nodes, scope: callerScope, site: callerSite } = scope.caller;
        this.render(callerUnit, nodes, callerScope, expansion, callerSite, depth + 1);
        slot.expansion = expansion;
      } else {
        const macro = this.macroNamed(unit, call.name);
        if (macro) {
          this.expand(macro, call.args, scope, undefined, expansion, at, depth);
          slot.expansion = expansion;
        }
      }
      if (slot.expansion) {
        for (const filter of call.filters) {
          const indent = indentFilter(filter);
          if (indent) slot.expansion = indented(slot.expansion, indent.width, indent.first, at);
        }
      }
    }
    out.push(slot);
  }

  /** `{% include %}`: the template rendered where it stands, seeing the names of the one that includes it. */
  private include(unit: Unit, node: StmtNode, scope: Scope, out: Item[], site: { start: number; end: number } | undefined, depth: number) {
    const path = unit.includes.get(node.start);
    const included = path !== undefined && depth < MAX_DEPTH ? this.load(path, unit.path) : undefined;
    if (!included) return;
    const at = site ?? node;
    const expansion: Item[] = [];
    this.render(included, included.nodes, new Scope(included, this.salt, new Map(), undefined, new Set(), scope), expansion, at, depth + 1);
    out.push({ slot: true, start: at.start, end: at.end, label: this.label(unit, node), expansion, expanded: !!site });
  }

  /** A macro's body with its parameters bound to the call's literal arguments. */
  private expand(macro: Macro, args: string[], scope: Scope, caller: Scope['caller'], out: Item[], site: { start: number; end: number }, depth: number) {
    const bound = new Map<string, string | undefined>();
    const positional = args.filter((a) => !/^\w+\s*=(?!=)/.test(a));
    macro.params.forEach((param, i) => {
      const keyword = args.find((a) => new RegExp(`^${param.name}\\s*=(?!=)`).test(a));
      const expr = keyword ? keyword.slice(keyword.indexOf('=') + 1) : positional[i] ?? param.default;
      bound.set(param.name, expr === undefined ? undefined : evaluate(expr, (name) => scope.lookup(name)));
    });
    const inner = new Scope(macro.unit, this.salt, bound, caller);
    this.render(macro.unit, macro.body, inner, out, site, depth + 1);
  }

  private block(unit: Unit, node: BlockNode, scope: Scope, out: Item[], site: { start: number; end: number } | undefined, depth: number) {
    const { keyword } = node;
    if (keyword === 'macro' || keyword === 'set') return;
    if (keyword === 'if' || keyword === 'for') {
      if (keyword === 'if' || node.branches.length > 1) {
        this.maxBranches = Math.max(this.maxBranches, node.branches.length);
        if (!site) this.chains.push({ keyword, conditions: node.branches.map((b) => b.head), branches: node.branches.map((b) => ({ start: b.start, end: b.end })) });
      }
      const branch = node.branches[Math.min(this.pass, node.branches.length - 1)];
      let inner = scope;
      if (keyword === 'for' && branch === node.branches[0]) {
        const names = (/^([\w\s,]+?)\s+in\b/.exec(node.head)?.[1] ?? '').split(',').map((n) => n.trim());
        inner = scope.without(names);
      }
      this.render(unit, branch.children, inner, out, site, depth);
      return;
    }
    if (keyword === 'call') {
      const head = /^(?:\(([^)]*)\)\s*)?([\s\S]*)$/.exec(node.head);
      const call = head && callOf(head[2].trim());
      const macro = call && depth < MAX_DEPTH ? this.macroNamed(unit, call.name) : undefined;
      const at = site ?? node;
      const body = node.branches[0].children;
      if (!call || !macro) {
        this.render(unit, body, scope, out, site, depth);
        return;
      }
      const expansion: Item[] = [];
      this.expand(macro, call.args, scope, { unit, nodes: body, scope, site }, expansion, at, depth);
      out.push({ slot: true, start: at.start, end: at.end, label: this.label(unit, node), expansion, expanded: !!site });
      return;
    }
    if (keyword === 'filter') {
      const children: Item[] = [];
      this.render(unit, node.branches[0].children, scope, children, site, depth);
      let result = children;
      for (const filter of splitTopLevel(node.head, '|')) {
        const indent = indentFilter(filter);
        if (indent) result = indented(result, indent.width, indent.first, site ?? node);
      }
      out.push(...result);
      return;
    }
    // raw (its content is one text), with, autoescape, block, trans: their content.
    this.render(unit, node.branches[0].children, scope, out, site, depth);
  }
}

/** What names mean where a node is rendered: macro parameters first, then the unit's known values. */
class Scope {
  constructor(
    readonly unit: Unit,
    private readonly salt: ReadonlyMap<string, string>,
    private readonly params: Map<string, string | undefined> = new Map(),
    readonly caller?: { unit: Unit; nodes: readonly Node[]; scope: Scope; site: { start: number; end: number } | undefined },
    private readonly hidden: ReadonlySet<string> = new Set(),
    /** An included template sees the names of the one that includes it. */
    private readonly parent?: Scope,
  ) {}

  lookup(name: string): string | undefined {
    if (this.hidden.has(name)) return undefined;
    if (this.params.has(name)) return this.params.get(name);
    return this.unit.values.get(name) ?? this.parent?.lookup(name) ?? this.salt.get(name);
  }

  shape(name: string): Shape | undefined {
    if (this.hidden.has(name) || this.params.has(name) || this.unit.values.has(name)) return undefined;
    return this.unit.shapes.get(name) ?? this.parent?.shape(name);
  }

  without(names: string[]): Scope {
    return new Scope(this.unit, this.salt, this.params, this.caller, new Set([...this.hidden, ...names]), this.parent);
  }
}

/** An expression not decided yet: placeholder inline, its expansion or nothing alone on its line. */
interface Slot {
  slot: true;
  start: number;
  end: number;
  label: string;
  expanded: boolean;
  expansion?: Item[];
}
type Item = Piece | Slot;
const isSlot = (item: Item): item is Slot => 'slot' in item;

/**
 * Items with `width` spaces before every line but the first (and the first too when `first`), as Jinja's
 * indent filter does; empty lines stay empty.
 */
function indented(items: Item[], width: number, first: boolean, site: { start: number; end: number }): Item[] {
  const pad = (at: number): Piece => ({ text: ' '.repeat(width), start: at, end: at, exact: false, unknown: false, expanded: true });
  const out: Item[] = [];
  let pending = first;
  for (const item of items) {
    if (isSlot(item)) {
      if (pending) out.push(pad(item.start));
      pending = false;
      out.push(item.expansion ? { ...item, expansion: indented(item.expansion, width, false, site) } : item);
      continue;
    }
    let from = 0;
    for (let i = 0; i <= item.text.length; i++) {
      const atEnd = i === item.text.length;
      if (!atEnd && item.text[i] !== '\n') {
        if (pending) {
          if (i > from) out.push(slice(item, from, i));
          out.push(pad(item.exact ? item.start + i : site.start));
          from = i;
          pending = false;
        }
        continue;
      }
      if (atEnd) break;
      // A newline: the next line is indented once its first character comes (an empty line is not).
      pending = true;
    }
    out.push(slice(item, from, item.text.length));
  }
  return out.filter((i) => isSlot(i) || i.text !== '');
}

/** Part of a piece's text, with its source span cut to match when the piece is exact. */
function slice(piece: Piece, from: number, to: number): Piece {
  if (from === 0 && to === piece.text.length) return piece;
  const text = piece.text.slice(from, to);
  return piece.exact ? { ...piece, text, start: piece.start + from, end: piece.start + to } : { ...piece, text };
}

/** Text of the items on a work stack (next item last) up to the first newline, slots read as content. */
function lineAhead(stack: readonly Item[]): string {
  let text = '';
  for (let i = stack.length - 1; i >= 0; i--) {
    const item = stack[i];
    if (isSlot(item)) return text + 'x';
    const nl = item.text.indexOf('\n');
    if (nl >= 0) return text + item.text.slice(0, nl);
    text += item.text;
  }
  return text;
}

/** The flat text of items for the inline test: slots read as content. */
function flatText(items: readonly Item[]): string {
  return items.map((i) => (isSlot(i) ? 'x' : i.text)).join('');
}

/** Decides every slot, left to right: the rendered pieces. */
function settle(items: Item[]): Piece[] {
  const out: Piece[] = [];
  let lineSoFar = '';
  const work = [...items].reverse();
  while (work.length) {
    const item = work.pop()!;
    if (!isSlot(item)) {
      out.push(item);
      const nl = item.text.lastIndexOf('\n');
      lineSoFar = nl >= 0 ? item.text.slice(nl + 1) : lineSoFar + item.text;
      continue;
    }
    const alone = lineSoFar.trim() === '' && lineAhead(work).trim() === '';
    const expansion = item.expansion;
    let useExpansion = false;
    if (expansion) {
      const text = flatText(expansion);
      const firstLine = text.split('\n')[0];
      // Inline, an expansion that gives nothing to read is a value like any other: a placeholder.
      useExpansion = alone || (text.trim() !== '' && (!text.includes('\n') || firstLine.trim() === ''));
    }
    if (useExpansion) {
      for (let i = expansion!.length - 1; i >= 0; i--) work.push(expansion![i]);
      continue;
    }
    if (alone) continue;
    out.push({ text: PLACEHOLDER, start: item.start, end: item.end, exact: false, label: item.label, unknown: true, expanded: item.expanded });
    lineSoFar += PLACEHOLDER;
  }
  return out;
}

/**
 * Renders an SLS source for one pass (0 <= pass < passes). Never throws on any input; what it cannot decide
 * is a placeholder or nothing, as the module comment says.
 */
export function renderJinja(source: string, tags: readonly JinjaTag[], context: RenderContext = {}, pass = 0): RenderedJinja {
  const renderer = new Renderer(context, pass);
  const unit = renderer.unit(source, tags);
  const items: Item[] = [];
  renderer.render(unit, unit.nodes, new Scope(unit, renderer.salt), items, undefined, 0);
  const pieces = merge(settle(items));
  let text = '';
  for (const piece of pieces) text += piece.text;
  return { text, pieces, passes: Math.min(MAX_PASSES, renderer.maxBranches), chains: renderer.chains, imports: unit.imports };
}

/** Adjacent exact pieces that continue each other in the source become one (fewer pieces to search). */
function merge(pieces: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const piece of pieces) {
    if (piece.text === '') continue;
    const last = out[out.length - 1];
    if (last && last.exact && piece.exact && last.end === piece.start) out[out.length - 1] = { ...last, text: last.text + piece.text, end: piece.end };
    else out.push(piece);
  }
  return out;
}

/** The index of the last of ascending `sorted` that is at most `value` (0 when none is). */
export function lastAtOrBefore(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid] <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Rendered offsets back to source offsets, and what a rendered range shows. */
export class SourceMap {
  /** Offset in the rendered text where each piece starts (pieces are never empty). */
  private readonly offsets: number[] = [];

  constructor(
    readonly rendered: RenderedJinja,
    private readonly source: string,
  ) {
    let at = 0;
    for (const piece of rendered.pieces) {
      this.offsets.push(at);
      at += piece.text.length;
    }
  }

  /** Index of the piece holding rendered offset `at` (clamped to the first and last piece). */
  private pieceAt(at: number): number {
    return lastAtOrBefore(this.offsets, at);
  }

  /** The source offset where a rendered range starting at `at` starts. */
  start(at: number): number {
    const { pieces } = this.rendered;
    if (!pieces.length) return 0;
    const i = this.pieceAt(at);
    const piece = pieces[i];
    const into = at - this.offsets[i];
    if (into >= piece.text.length) return piece.end;
    return piece.exact ? piece.start + into : piece.start;
  }

  /** The source offset where a rendered range ending at `at` (exclusive) ends. */
  end(at: number): number {
    const { pieces } = this.rendered;
    if (!pieces.length) return 0;
    if (at <= 0) return pieces[0].start;
    const i = this.pieceAt(at - 1);
    const piece = pieces[i];
    return piece.exact ? piece.start + Math.min(piece.text.length, at - this.offsets[i]) : piece.end;
  }

  /** The pieces a rendered range touches, with where each starts. */
  private touched(from: number, to: number): { piece: Piece; offset: number }[] {
    const { pieces } = this.rendered;
    const out: { piece: Piece; offset: number }[] = [];
    if (!pieces.length) return out;
    for (let i = this.pieceAt(from); i < pieces.length && this.offsets[i] < Math.max(to, from + 1); i++) out.push({ piece: pieces[i], offset: this.offsets[i] });
    return out;
  }

  /**
   * What a rendered range reads as. `text`: its source where this file wrote it (Jinja included:
   * `web_site_{{ site }}`); where a macro made it, the macro's text with the Jinja of its unknown parts
   * (`postgres_database-{{ name }}`), or the call itself when the macro gives nothing literal. `value`:
   * the rendered text when every part of it is known.
   */
  describe(from: number, to: number): { text: string; value?: string } {
    const touched = this.touched(from, to);
    const value = this.known(from, to) ? this.rendered.text.slice(from, to) : undefined;
    const own = this.source.slice(this.start(from), this.end(to));
    if (!touched.some((t) => t.piece.expanded)) return { text: own, value };
    let text = '';
    for (const { piece, offset } of touched) {
      if (piece.unknown && piece.label !== undefined) text += piece.label;
      else text += piece.text.slice(Math.max(0, from - offset), Math.max(0, to - offset));
    }
    text = text.trim();
    if (text.replace(/\{\{[\s\S]*?\}\}/g, '').trim() === '') text = own;
    return { text, value };
  }

  /** The parts of a rendered range for a pattern of the values it may take: known text, or unknown. */
  parts(from: number, to: number): { text: string; unknown: boolean }[] {
    return this.touched(from, to).map(({ piece, offset }) => ({ text: piece.unknown ? '' : piece.text.slice(Math.max(0, from - offset), Math.max(0, to - offset)), unknown: piece.unknown }));
  }

  /** True when the rendered range is the file's own text, untouched by Jinja. */
  plain(from: number, to: number): boolean {
    const { pieces } = this.rendered;
    for (let i = this.pieceAt(from); i < pieces.length && this.offsets[i] < Math.max(to, from + 1); i++) if (!pieces[i].exact) return false;
    return true;
  }

  /** True when no piece is unknown in the rendered range (its text is what Salt reads). */
  known(from: number, to: number): boolean {
    const { pieces } = this.rendered;
    for (let i = this.pieceAt(from); i < pieces.length && this.offsets[i] < Math.max(to, from + 1); i++) if (pieces[i].unknown) return false;
    return true;
  }
}
