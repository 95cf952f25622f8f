/**
 * The SLS source model of one file: Jinja blanked (see jinja.ts), the YAML parsed with positions and read
 * as Salt reads it: state IDs and their functions (`pkg.installed: [...]` and `pkg: [installed, ...]`),
 * include, extend, requisites, `salt://` references, Jinja imports and top.sls entries. Never throws:
 * whatever cannot be read becomes a problem.
 */
import { parseDocument, isMap, isSeq, isScalar, isPair, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { blankJinja, jinjaImportPaths, overlapsJinja, templatePattern, type JinjaBlock, type JinjaTag } from './jinja';

/** Offsets in the source, end exclusive. */
export interface TextSpan {
  start: number;
  end: number;
}

export interface StateArgument {
  name: string;
  span: TextSpan;
}

export interface StateFunction {
  module: string;
  /** Undefined when the function is missing (`pkg: [{name: x}]`). */
  fun?: string;
  /** `pkg.installed` for the dotted form, `pkg` in the list form. */
  span: TextSpan;
  /** Where the function name is written (the list item in the list form). */
  funSpan?: TextSpan;
  args: StateArgument[];
}

export interface StateDeclaration {
  /** The ID as written: Jinja included (`web_site_{{ site }}`). */
  id: string;
  span: TextSpan;
  /** The whole entry: key and body. */
  extent: TextSpan;
  /** The ID is made by Jinja: `pattern` matches the IDs it may produce. */
  templated: boolean;
  pattern?: RegExp;
  /** Declared inside a Jinja `for`/`if`/... block (may appear any number of times, or not at all). */
  inJinjaBlock: boolean;
  functions: StateFunction[];
  /** Values of the `name` argument (requisites may target a state by name). */
  names: string[];
}

export const REQUISITE_KEYWORDS = ['require', 'watch', 'onchanges', 'onfail', 'prereq', 'listen', 'use'] as const;
const REQUISITE_FORMS = new Set<string>();
for (const k of REQUISITE_KEYWORDS) for (const suffix of ['', '_in', '_any', '_all']) REQUISITE_FORMS.add(k + suffix);
export const ALL_REQUISITE_FORMS: readonly string[] = [...REQUISITE_FORMS];
export const isRequisiteKeyword = (word: string) => REQUISITE_FORMS.has(word);

export interface Requisite {
  /** As written: `require`, `watch_in`, `onchanges_any`... */
  keyword: string;
  /** `file` in `- file: id`, `sls` in `- sls: name`; undefined for `- id`. */
  module?: string;
  target: string;
  span: TextSpan;
  templated: boolean;
  /** The state (or extend entry) that carries it. */
  owner: string;
}

export interface IncludeEntry {
  /** As written (`.motd`, `common`). */
  module: string;
  span: TextSpan;
  templated: boolean;
}

export interface ExtendEntry {
  id: string;
  span: TextSpan;
  templated: boolean;
  functions: StateFunction[];
}

export interface SaltUrl {
  url: string;
  /** The path below the state root (`web/files/site.conf`). */
  path: string;
  span: TextSpan;
  templated: boolean;
}

/** `{% from "web/map.jinja" import x %}`, `{% import_yaml 'a.yaml' as y %}`, `{% include 'b.sls' %}`. */
export interface JinjaImport {
  path: string;
  span: TextSpan;
}

export interface TopEntry {
  saltenv: string;
  target: string;
  module: string;
  span: TextSpan;
  templated: boolean;
}

export interface SlsProblem {
  message: string;
  span: TextSpan;
  severity: 'error' | 'warning';
  code: string;
}

export interface ParsedSls {
  source: string;
  /** The source with Jinja blanked (same length). */
  blanked: string;
  lines: LineIndex;
  jinja: JinjaTag[];
  blocks: JinjaBlock[];
  /** The shebang renderer when not YAML-based (`py`, `pyobjects`...): nothing else is read then. */
  renderer?: string;
  states: StateDeclaration[];
  includes: IncludeEntry[];
  extends: ExtendEntry[];
  requisites: Requisite[];
  saltUrls: SaltUrl[];
  jinjaImports: JinjaImport[];
  topEntries: TopEntry[];
  problems: SlsProblem[];
  /** What each top-level block read to, for the next parse of this file (see parseSls). */
  chunks?: ChunkCache;
}

/** What one top-level block of YAML holds: spans are absolute for the `base` it was read at. */
interface ChunkResult {
  base: number;
  states: StateDeclaration[];
  includes: IncludeEntry[];
  extends: ExtendEntry[];
  requisites: Requisite[];
  saltUrls: SaltUrl[];
  topEntries: TopEntry[];
  problems: SlsProblem[];
}
type ChunkCache = Map<string, ChunkResult>;

/** A model with the source, its Jinja blanked, and nothing read yet. */
function emptyModel(source: string): ParsedSls {
  const { text, tags, blocks } = blankJinja(source);
  return { source, blanked: text, lines: new LineIndex(source), jinja: tags, blocks, states: [], includes: [], extends: [], requisites: [], saltUrls: [], jinjaImports: [], topEntries: [], problems: [] };
}

const emptyChunk = (base: number): ChunkResult => ({ base, states: [], includes: [], extends: [], requisites: [], saltUrls: [], topEntries: [], problems: [] });

const moved = (span: TextSpan, delta: number): TextSpan => ({ start: span.start + delta, end: span.end + delta });
const movedFunctions = (functions: StateFunction[], delta: number): StateFunction[] =>
  functions.map((f) => {
    const span = moved(f.span, delta);
    // The dotted form shares one span object for both: keep it shared.
    const funSpan = f.funSpan === f.span ? span : f.funSpan && moved(f.funSpan, delta);
    return { ...f, span, funSpan, args: f.args.map((a) => ({ ...a, span: moved(a.span, delta) })) };
  });

/** A cached block read at another offset, moved to `base` (a copy: the cached one stays as it was). */
function moveChunk(chunk: ChunkResult, base: number): ChunkResult {
  const delta = base - chunk.base;
  if (delta === 0) return chunk;
  return {
    base,
    states: chunk.states.map((st) => ({ ...st, span: moved(st.span, delta), extent: moved(st.extent, delta), functions: movedFunctions(st.functions, delta) })),
    includes: chunk.includes.map((i) => ({ ...i, span: moved(i.span, delta) })),
    extends: chunk.extends.map((e) => ({ ...e, span: moved(e.span, delta), functions: movedFunctions(e.functions, delta) })),
    requisites: chunk.requisites.map((r) => ({ ...r, span: moved(r.span, delta) })),
    saltUrls: chunk.saltUrls.map((u) => ({ ...u, span: moved(u.span, delta) })),
    topEntries: chunk.topEntries.map((t) => ({ ...t, span: moved(t.span, delta) })),
    problems: chunk.problems.map((p) => ({ ...p, span: moved(p.span, delta) })),
  };
}

/**
 * Top-level blocks of the blanked text: a block starts at a line that begins in column 0 with YAML (not
 * blank, a comment, a list item or flow punctuation). Each is read on its own, so an edit re-reads one block.
 */
function chunkStarts(blanked: string): number[] {
  const starts = [0];
  for (let i = blanked.indexOf('\n'); i >= 0 && i + 1 < blanked.length; i = blanked.indexOf('\n', i + 1)) {
    const c = blanked[i + 1];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '#' || c === ']' || c === '}' || c === ',') continue;
    if (c === '-' && (blanked[i + 2] === ' ' || blanked[i + 2] === '\n' || blanked[i + 2] === '\r' || blanked[i + 2] === undefined)) continue;
    starts.push(i + 1);
  }
  return starts;
}

/** Offset <-> (line, character), 0-based. */
export class LineIndex {
  readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  get lineCount() {
    return this.starts.length;
  }
  position(offset: number): { line: number; character: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo] };
  }
  offset(line: number, character: number): number {
    if (line < 0) return 0;
    if (line >= this.starts.length) return this.text.length;
    const lineEnd = line + 1 < this.starts.length ? this.starts[line + 1] - 1 : this.text.length;
    return Math.min(this.starts[line] + Math.max(0, character), lineEnd);
  }
  lineText(line: number): string {
    if (line < 0 || line >= this.starts.length) return '';
    const end = line + 1 < this.starts.length ? this.starts[line + 1] - 1 : this.text.length;
    return this.text.slice(this.starts[line], end).replace(/\r$/, '');
  }
}

const YAML_RENDERERS = new Set(['jinja', 'yaml', 'yamlex', 'mako', 'wempy', 'genshi', 'cheetah', 'gpg', 'nacl', 'stateconf', 'json', 'json5', 'hjson', 'text', 'aws_kms']);

class Reader {
  readonly model: ParsedSls;
  /** Where the block being read starts in the file, and what it holds so far. */
  private base = 0;
  private out: ChunkResult = emptyChunk(0);
  constructor(source: string, isTop: boolean, previous?: ChunkCache) {
    this.model = emptyModel(source);
    const shebang = /^#!\s*(\S+)/.exec(source);
    if (shebang) {
      const renderers = shebang[1].split('|').map((r) => r.trim());
      const foreign = renderers.find((r) => !YAML_RENDERERS.has(r));
      if (foreign) {
        this.model.renderer = foreign;
        return;
      }
    }
    this.readJinja();
    this.readChunks(isTop, previous);
  }

  private readChunks(isTop: boolean, previous: ChunkCache | undefined) {
    const { blanked, source, blocks } = this.model;
    const cache: ChunkCache = new Map();
    // A first read takes the file whole (fastest for the many small files of a tree); re-reads of a file
    // being edited go block by block and keep the blocks for the next edit.
    const starts = previous ? chunkStarts(blanked) : [0];
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i];
      const end = i + 1 < starts.length ? starts[i + 1] : blanked.length;
      const text = blanked.slice(start, end);
      if (text.trim() === '') continue;
      const key = previous ? `${text}\u0000${source.slice(start, end)}` : '';
      let chunk = previous?.get(key);
      if (chunk) chunk = moveChunk(chunk, start);
      else {
        this.base = start;
        this.out = emptyChunk(start);
        this.readYaml(text, isTop);
        chunk = this.out;
      }
      if (previous) cache.set(key, chunk);
      const m = this.model;
      for (const state of chunk.states) {
        state.inJinjaBlock = blocks.some((b) => b.start <= state.span.start && state.span.start < b.end && b.keyword !== 'raw');
        m.states.push(state);
      }
      m.includes.push(...chunk.includes);
      m.extends.push(...chunk.extends);
      m.requisites.push(...chunk.requisites);
      m.saltUrls.push(...chunk.saltUrls);
      m.topEntries.push(...chunk.topEntries);
      m.problems.push(...chunk.problems);
    }
    this.model.chunks = previous ? cache : new Map();
  }

  private readJinja() {
    const { source, jinja, problems, jinjaImports } = this.model;
    for (const tag of jinja) {
      if (!tag.unterminated) continue;
      const closer = tag.kind === 'expression' ? '}}' : tag.kind === 'statement' ? '%}' : '#}';
      problems.push({ message: `Jinja tag not closed: expected \`${closer}\``, span: { start: tag.start, end: tag.end }, severity: 'error', code: 'jinja-unclosed' });
    }
    for (const { path, start, end } of jinjaImportPaths(source, jinja)) jinjaImports.push({ path, span: { start, end } });
  }

  private readYaml(blanked: string, isTop: boolean) {
    const { problems } = this.out;
    let doc;
    try {
      doc = parseDocument(blanked, { uniqueKeys: false, version: '1.1', prettyErrors: false, strict: false });
    } catch (error) {
      problems.push({ message: `YAML could not be read: ${(error as Error).message}`, span: { start: this.base, end: this.base }, severity: 'error', code: 'yaml' });
      return;
    }
    for (const error of doc.errors) {
      const start = error.pos[0] + this.base;
      const end = error.pos[1] + this.base;
      const lineOf = this.model.lines.position(start).line;
      const lineSpan = { start: this.model.lines.starts[lineOf], end: this.model.lines.offset(lineOf, Number.MAX_SAFE_INTEGER) };
      // Jinja decides what YAML Salt finally reads: where it is near, a structure error may not be one.
      const onJinjaLine = overlapsJinja(this.model.jinja, lineSpan.start, lineSpan.end);
      const inJinjaBlock = this.model.blocks.some((b) => b.keyword !== 'raw' && b.start <= start && start < b.end);
      const message = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      const why = onJinjaLine ? 'this line holds Jinja' : inJinjaBlock ? 'inside a Jinja block' : '';
      problems.push({
        message: why ? `${message} (${why}: the rendered YAML may differ)` : message,
        span: { start, end: Math.max(end, start + 1) },
        severity: why ? 'warning' : 'error',
        code: 'yaml',
      });
    }
    const root = doc.contents;
    if (!root) return;
    this.collectSaltUrls(root);
    if (!isMap(root)) return;
    if (isTop) return this.readTop(root);
    for (const pair of root.items) {
      const key = this.keyOf(pair);
      if (!key) continue;
      if (key.text === 'include') this.readInclude(pair.value as Node | null);
      else if (key.text === 'extend') this.readExtend(pair.value as Node | null);
      else if (key.text === 'exclude') continue;
      else this.readState(pair, key);
    }
  }

  /** A scalar's text and span, Jinja included: `web_site_{{ site }}` rather than the blanked `web_site_`. */
  private scalarOf(node: unknown): { text: string; span: TextSpan; templated: boolean } | undefined {
    if (!isScalar(node) || !node.range) return undefined;
    const start = node.range[0] + this.base;
    const valueEnd = node.range[1] + this.base;
    const { source, blanked, jinja } = this.model;
    // Jinja blanked to spaces around a plain scalar is left out by the YAML parser: take it back.
    let end = valueEnd;
    for (let j = valueEnd; j < blanked.length && (blanked[j] === ' ' || blanked[j] === '\t'); j++) if (blanked[j] !== source[j]) end = j + 1;
    let realStart = start;
    for (let j = start - 1; j >= 0 && (blanked[j] === ' ' || blanked[j] === '\t'); j--) if (blanked[j] !== source[j]) realStart = j;
    const templated = overlapsJinja(jinja, realStart, end);
    if (node.type === 'PLAIN' || templated) {
      let text = source.slice(realStart, end);
      if (!templated) text = node.value == null ? '' : String(node.value);
      else if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') text = text.slice(1, -1);
      return { text, span: { start: realStart, end }, templated };
    }
    return { text: node.value == null ? '' : String(node.value), span: { start, end: valueEnd }, templated: false };
  }

  private keyOf(pair: Pair): { text: string; span: TextSpan; templated: boolean } | undefined {
    const key = this.scalarOf(pair.key);
    return key && key.text !== '' ? key : undefined;
  }

  private readInclude(node: Node | null) {
    if (!isSeq(node)) return;
    for (const item of node.items) {
      if (isScalar(item)) {
        const s = this.scalarOf(item);
        if (s && s.text) this.out.includes.push({ module: s.text, span: s.span, templated: s.templated });
      } else if (isMap(item)) {
        // `- saltenv: module` or `- module: {defaults: ...}`
        for (const pair of item.items) {
          const key = this.keyOf(pair);
          const value = this.scalarOf(pair.value);
          const entry = value && value.text && !isMap(pair.value) ? value : key;
          if (entry) this.out.includes.push({ module: entry.text, span: entry.span, templated: entry.templated });
        }
      }
    }
  }

  private readExtend(node: Node | null) {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const key = this.keyOf(pair);
      if (!key) continue;
      const functions = this.readBody(pair.value as Node | null, key.text);
      this.out.extends.push({ id: key.text, span: key.span, templated: key.templated, functions });
    }
  }

  private readState(pair: Pair, key: { text: string; span: TextSpan; templated: boolean }) {
    if (key.text.startsWith('__')) return;
    const { source, jinja } = this.model;
    const valueRange = (pair.value as Node | null)?.range;
    const extent = { start: key.span.start, end: valueRange ? valueRange[2] + this.base : key.span.end };
    const names: string[] = [];
    const functions = this.readBody(pair.value as Node | null, key.text, names);
    const state: StateDeclaration = {
      id: key.text,
      span: key.span,
      extent,
      templated: key.templated,
      inJinjaBlock: false, // set for the whole file in readChunks
      functions,
      names,
    };
    if (key.templated) state.pattern = templatePattern(source, key.span.start, key.span.end, jinja);
    this.out.states.push(state);
  }

  /** A state body: `{pkg.installed: [args]}`, `{pkg: [installed, args]}` or the short `pkg.installed`. */
  private readBody(node: Node | null, owner: string, names: string[] = []): StateFunction[] {
    const functions: StateFunction[] = [];
    if (isScalar(node)) {
      const s = this.scalarOf(node);
      if (s && s.text.includes('.')) {
        const [module, ...rest] = s.text.split('.');
        functions.push({ module, fun: rest.join('.'), span: s.span, funSpan: s.span, args: [] });
      }
      return functions;
    }
    if (!isMap(node)) return functions;
    for (const pair of node.items) {
      const key = this.keyOf(pair);
      if (!key || key.text.startsWith('__')) continue;
      const dot = key.text.indexOf('.');
      const fn: StateFunction = dot > 0 ? { module: key.text.slice(0, dot), fun: key.text.slice(dot + 1), span: key.span, funSpan: key.span, args: [] } : { module: key.text, span: key.span, args: [] };
      const value = pair.value as Node | null;
      if (isSeq(value)) this.readArgs(value, fn, owner, names);
      else if (isScalar(value) && dot < 0) {
        // `pkg: installed` is not valid Salt, but the intent is plain: read the function.
        const s = this.scalarOf(value);
        if (s && s.text) {
          fn.fun = s.text;
          fn.funSpan = s.span;
        }
      }
      functions.push(fn);
    }
    return functions;
  }

  private readArgs(seq: YAMLSeq, fn: StateFunction, owner: string, names: string[]) {
    for (const item of seq.items) {
      if (isScalar(item)) {
        const s = this.scalarOf(item);
        if (s && s.text && fn.fun === undefined) {
          fn.fun = s.text;
          fn.funSpan = s.span;
        }
        continue;
      }
      if (!isMap(item)) continue;
      for (const pair of (item as YAMLMap).items) {
        const key = this.keyOf(pair);
        if (!key) continue;
        fn.args.push({ name: key.text, span: key.span });
        if (key.text === 'name') {
          const value = this.scalarOf(pair.value);
          if (value && !value.templated && value.text) names.push(value.text);
        } else if (key.text === 'names' && isSeq(pair.value)) {
          // Each of `names` is a state of its own that requisites may name.
          for (const item of pair.value.items) {
            const value = isMap(item) ? (item.items[0] ? this.keyOf(item.items[0]) : undefined) : this.scalarOf(item);
            if (value && !value.templated && value.text) names.push(value.text);
          }
        } else if (isRequisiteKeyword(key.text)) this.readRequisites(key.text, pair.value as Node | null, owner);
      }
    }
  }

  private readRequisites(keyword: string, node: Node | null, owner: string) {
    const push = (module: string | undefined, target: unknown) => {
      const s = this.scalarOf(target);
      if (!s || !s.text) return;
      this.out.requisites.push({ keyword, module, target: s.text, span: s.span, templated: s.templated, owner });
    };
    const readEntry = (entry: unknown) => {
      if (isScalar(entry)) push(undefined, entry);
      else if (isMap(entry)) {
        for (const pair of entry.items) {
          const key = this.keyOf(pair);
          if (!key) continue;
          if (isSeq(pair.value)) for (const target of pair.value.items) push(key.text, target);
          else push(key.text, pair.value);
        }
      }
    };
    if (isSeq(node)) node.items.forEach(readEntry);
    else readEntry(node);
  }

  private readTop(root: YAMLMap) {
    for (const envPair of root.items) {
      const env = this.keyOf(envPair);
      if (!env || !isMap(envPair.value)) continue;
      for (const targetPair of envPair.value.items) {
        const target = this.keyOf(targetPair);
        if (!target || !isSeq(targetPair.value)) continue;
        for (const item of targetPair.value.items) {
          const s = this.scalarOf(item);
          if (s && s.text) this.out.topEntries.push({ saltenv: env.text, target: target.text, module: s.text, span: s.span, templated: s.templated });
        }
      }
    }
  }

  private collectSaltUrls(node: unknown) {
    const visit = (n: unknown) => {
      if (isScalar(n)) {
        if (typeof n.value === 'string' && n.value.startsWith('salt://')) {
          const s = this.scalarOf(n);
          if (!s) return;
          const url = s.text;
          const path = url.slice('salt://'.length).split('?')[0];
          this.out.saltUrls.push({ url, path, span: s.span, templated: s.templated });
        }
      } else if (isMap(n) || isSeq(n)) for (const item of n.items) visit(item);
      else if (isPair(n)) visit(n.value);
    };
    visit(node);
  }
}

/**
 * Reads one SLS file. `isTop` reads top.sls entries instead of states. `previous` (the last model of the
 * same file) lets unchanged top-level blocks be reused, so an edit costs the block it touched.
 */
export function parseSls(source: string, options: { isTop?: boolean; previous?: ParsedSls } = {}): ParsedSls {
  try {
    return new Reader(source, options.isTop ?? false, options.previous?.chunks).model;
  } catch (error) {
    // The reader is meant never to throw; should it, the file still gets a model and a problem.
    const model = emptyModel(source);
    model.problems.push({ message: `internal error reading this file: ${(error as Error).message}`, span: { start: 0, end: 0 }, severity: 'error', code: 'internal' });
    return model;
  }
}
