/**
 * Jinja rendered as far as the source alone decides it: the text Salt's YAML reader would get, with a map
 * back to the source. Whitespace control (`{%-`, `-%}`) is applied as Jinja applies it; a `for` body is
 * rendered once; an `if` chain renders one branch, the pass number picking which, so that every branch is
 * read in some pass; macros defined in the file or imported from the tree are expanded where they are called
 * (literal arguments substituted); `{% set %}` names with a value the source decides (`tpldir.split('/')[0] ~
 * '.service'`) are substituted; any other expression is a placeholder scalar where it stands inside a line,
 * and nothing where it stands alone on its line (there it may make any structure: keys, list items, nothing).
 */
import type { JinjaTag } from '../jinja';
import { callOf, evaluate, indentFilter, sameShape, shapeOf, splitTopLevel, stringLiteral, type Lookup, type Shape } from './expressions';
import { STATEMENTS_READ, parseTemplate, templateNodes, type BlockNode, type ExprNode, type Node, type StmtNode } from './tree';

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

