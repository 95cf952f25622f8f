/**
 * The SLS source model of one file: Jinja rendered as far as the source decides it (see render.ts), the
 * rendered YAML parsed and mapped back to source positions, and read as Salt reads it: state IDs and their functions (`pkg.installed: [...]` and `pkg: [installed, ...]`),
 * include, extend, requisites, `salt://` references, Jinja imports and top.sls entries. Never throws:
 * whatever cannot be read becomes a problem.
 */
import { parseDocument, isMap, isSeq, isScalar, isPair, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { blankJinja, escapeRegExp, matchBlocks, overlapsJinja, scanJinja, type JinjaBlock, type JinjaTag } from './jinja';
import { lastAtOrBefore, renderJinja, SourceMap, type JinjaChain, type RenderContext } from './render';
import { loadedKey } from './yamlKeys';

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
  /** Jinja makes the module or function name (`service.{{ fn }}`): not to be judged. */
  templated: boolean;
  /** Written in a branch of an `if` on the Salt version: meant for other Salt versions too. */
  versionGuarded?: boolean;
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
  /** `name` values Jinja makes: the names they may take. */
  namePatterns: RegExp[];
}

/** Arguments many state functions take, which are no state module's name: written under an ID, they are misplaced. */
const STATE_ARGUMENTS: ReadonlySet<string> = new Set(['name', 'names', 'source', 'contents', 'mode', 'makedirs', 'template', 'require', 'watch', 'onchanges', 'onfail', 'unless', 'onlyif', 'creates', 'cwd', 'pkgs', 'enable']);

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
  /** As written (`.motd`, `common`), or its value when Jinja gives one the source decides. */
  module: string;
  span: TextSpan;
  templated: boolean;
  /** For a templated entry (or a whole list Jinja makes: `include: {{ includes|yaml }}`): the modules it may name. */
  pattern?: RegExp;
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

/**
 * A key given again in one mapping, which Salt's YAML loader refuses ("found conflicting ID 'x'"): keys are
 * compared as loaded (`on` and `true` are one), a key Jinja makes is never compared, and keys in different
 * Jinja blocks (two branches of an `if`) are not repeats.
 */
export interface DuplicateKey {
  /** The key as Salt's message names it (`True` for `on:`). */
  name: string;
  /** The repeat, and the first occurrence. */
  span: TextSpan;
  first: TextSpan;
  /** The repeat and the first as written, when they differ (`on` and `true`). */
  written?: [string, string];
  /** A key of the file's top-level mapping (a state ID in a state file). */
  topLevel: boolean;
  /** Both are inside the same Jinja block: a repeat wherever Jinja renders it. */
  inJinjaBlock: boolean;
}

export interface SlsProblem {
  message: string;
  span: TextSpan;
  severity: 'error' | 'warning' | 'information';
  code: string;
}

export interface ParsedSls {
  source: string;
  /** The source with Jinja blanked (same length): the lines as typed, for where the cursor is. */
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
  duplicateKeys: DuplicateKey[];
  /** The file's `if` chains (and `for` ... `else`): conditions and branch spans. */
  chains: JinjaChain[];
  /** What each top-level block read to, for the next parse of this file (see parseSls). */
  chunks?: ChunkCache;
}

/** What one top-level block of rendered YAML holds: spans are source spans for the source offset `base` it was read at. */
interface ChunkResult {
  base: number;
  states: StateDeclaration[];
  includes: IncludeEntry[];
  extends: ExtendEntry[];
  requisites: Requisite[];
  saltUrls: SaltUrl[];
  topEntries: TopEntry[];
  problems: SlsProblem[];
  /** The block's top-level keys (compared over the whole file), and repeats inside its nested mappings. */
  topKeys: KeyOccurrence[];
  nestedRepeats: { key: KeyOccurrence; first: KeyOccurrence }[];
}
type ChunkCache = Map<string, ChunkResult>;

/** A key no Jinja wrote, as loaded (see yamlKeys.ts). */
interface KeyOccurrence {
  identity: string;
  name: string;
  written: string;
  span: TextSpan;
}

/** A model with the source, its Jinja blanked, and nothing read yet. */
function emptyModel(source: string): ParsedSls {
  const tags = scanJinja(source);
  const model: Omit<ParsedSls, 'blanked'> = { source, lines: new LineIndex(source), jinja: tags, blocks: matchBlocks(tags), states: [], includes: [], extends: [], requisites: [], saltUrls: [], jinjaImports: [], topEntries: [], problems: [], duplicateKeys: [], chains: [] };
  // The blanked lines serve completion in the file being edited: made when first asked for.
  let blanked: string | undefined;
  return Object.defineProperty(model, 'blanked', { get: () => (blanked ??= blankJinja(source).text), enumerable: true }) as ParsedSls;
}

const emptyChunk = (base: number): ChunkResult => ({ base, states: [], includes: [], extends: [], requisites: [], saltUrls: [], topEntries: [], problems: [], topKeys: [], nestedRepeats: [] });

const moved = (span: TextSpan, delta: number): TextSpan => ({ start: span.start + delta, end: span.end + delta });
const movedFunctions = (functions: StateFunction[], delta: number): StateFunction[] =>
  functions.map((f) => {
    const span = moved(f.span, delta);
    // The dotted form shares one span object for both: keep it shared.
    const funSpan = f.funSpan === f.span ? span : f.funSpan && moved(f.funSpan, delta);
    return { ...f, span, funSpan, args: f.args.map((a) => ({ ...a, span: moved(a.span, delta) })) };
  });

const movedKey = (key: KeyOccurrence, delta: number): KeyOccurrence => ({ ...key, span: moved(key.span, delta) });

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
    topKeys: chunk.topKeys.map((k) => movedKey(k, delta)),
    nestedRepeats: chunk.nestedRepeats.map((r) => ({ key: movedKey(r.key, delta), first: movedKey(r.first, delta) })),
  };
}

/**
 * Top-level blocks of rendered text: a block starts at a line that begins in column 0 with YAML (not
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
    const line = lastAtOrBefore(this.starts, offset);
    return { line, character: offset - this.starts[line] };
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

/** A condition that asks which Salt runs the file: its branches are for other Salt versions too. */
const SALT_VERSION_CHECK = /salt_?version/i;

interface ScalarText {
  /** The value when Jinja leaves it known, else the text as written (`web_site_{{ site }}`). */
  text: string;
  span: TextSpan;
  templated: boolean;
  /** The regexp of the values a templated text may take. */
  pattern?: RegExp;
}

class Reader {
  readonly model: ParsedSls;
  /** The rendered text of the pass being read, its map to the source, and the block being read. */
  private map!: SourceMap;
  private base = 0;
  private out: ChunkResult = emptyChunk(0);

  constructor(source: string, isTop: boolean, previous: ChunkCache | undefined, context: RenderContext) {
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
    const cache: ChunkCache = new Map();
    const seen = new Set<string>();
    let passes = 1;
    for (let pass = 0; pass < passes; pass++) {
      const rendered = renderJinja(source, this.model.jinja, context, pass);
      passes = rendered.passes;
      if (pass === 0) {
        this.model.chains = rendered.chains;
        for (const { path, start, end } of rendered.imports) this.model.jinjaImports.push({ path, span: { start, end } });
      }
      this.map = new SourceMap(rendered, source);
      this.readChunks(rendered.text, isTop, pass, previous, cache, seen);
    }
    this.markVersionGuards();
    this.model.chunks = previous ? cache : new Map();
  }

  /**
   * Reads the rendered text: whole when it reads cleanly (fastest for the many small files of a tree), else,
   * and for re-reads of a file being edited, top-level block by block (an error stays in its block, and an
   * edit re-reads the block it touched). Later passes only add what earlier ones did not find.
   */
  private readChunks(text: string, isTop: boolean, pass: number, previous: ChunkCache | undefined, cache: ChunkCache, seen: Set<string>) {
    const whole = !previous ? this.readBlock(text, 0, text.length, isTop) : undefined;
    const chunks: ChunkResult[] = [];
    if (whole && whole.problems.length === 0) chunks.push(whole);
    else {
      const starts = chunkStarts(text);
      for (let i = 0; i < starts.length; i++) {
        const start = starts[i];
        const end = i + 1 < starts.length ? starts[i + 1] : text.length;
        const part = text.slice(start, end);
        if (part.trim() === '') continue;
        const sourceStart = this.map.start(start);
        const key = `${pass}\u0000${part}\u0000${this.model.source.slice(sourceStart, this.map.end(end))}`;
        let chunk = previous?.get(key);
        if (chunk) chunk = moveChunk(chunk, sourceStart);
        else chunk = this.readBlock(part, start, end, isTop);
        cache.set(key, chunk);
        chunks.push(chunk);
      }
    }
    const m = this.model;
    const fresh = <T extends { span: TextSpan }>(kind: string, item: T, name: string) => {
      const key = `${kind}:${item.span.start}:${item.span.end}:${name}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    };
    for (const chunk of chunks) {
      for (const state of chunk.states) {
        const known = pass > 0 ? m.states.find((s) => s.span.start === state.span.start && s.id === state.id) : undefined;
        if (known) {
          for (const fn of state.functions) if (!known.functions.some((f) => f.span.start === fn.span.start && f.fun === fn.fun)) known.functions.push(fn);
          for (const name of state.names) if (!known.names.includes(name)) known.names.push(name);
          known.namePatterns.push(...state.namePatterns);
          continue;
        }
        if (!fresh('state', state, state.id)) continue;
        state.inJinjaBlock ||= m.blocks.some((b) => b.start <= state.span.start && state.span.start < b.end && b.keyword !== 'raw');
        m.states.push(state);
      }
      m.includes.push(...chunk.includes.filter((i) => fresh('include', i, i.module)));
      m.extends.push(...chunk.extends.filter((e) => fresh('extend', e, e.id)));
      m.requisites.push(...chunk.requisites.filter((r) => fresh('requisite', r, `${r.keyword}:${r.module}:${r.target}`)));
      m.saltUrls.push(...chunk.saltUrls.filter((u) => fresh('url', u, u.url)));
      m.topEntries.push(...chunk.topEntries.filter((t) => fresh('top', t, t.module)));
      // What Jinja makes is read in every pass; its problems are those of the first.
      if (pass === 0) m.problems.push(...chunk.problems);
    }
    // Repeated keys in what this pass renders: the top-level mapping runs over every block, a nested one lies in one.
    const repeats = chunks.flatMap((c) => c.nestedRepeats.map((r) => ({ ...r, topLevel: false })));
    const firstTop = new Map<string, KeyOccurrence>();
    for (const key of chunks.flatMap((c) => c.topKeys)) {
      const first = firstTop.get(key.identity);
      if (first) repeats.push({ key, first, topLevel: true });
      else firstTop.set(key.identity, key);
    }
    for (const { key, first, topLevel } of repeats) {
      // Keys in different Jinja blocks (or one in a block, one outside) may never be rendered together.
      const block = this.innermostBlock(key.span.start);
      if (block !== this.innermostBlock(first.span.start) || !fresh('repeat', key, `${key.identity}:${first.span.start}`)) continue;
      const repeat: DuplicateKey = { name: key.name, span: key.span, first: first.span, topLevel, inJinjaBlock: block !== undefined };
      if (key.written !== first.written) repeat.written = [key.written, first.written];
      m.duplicateKeys.push(repeat);
    }
  }

  /** The innermost Jinja block around a source offset (raw blocks are text). */
  private innermostBlock(offset: number): JinjaBlock | undefined {
    let found: JinjaBlock | undefined;
    for (const b of this.model.blocks) if (b.keyword !== 'raw' && b.start <= offset && offset < b.end && (!found || b.start > found.start)) found = b;
    return found;
  }

  /** Functions written in a branch of an `if` that asks for the Salt version: meant for other Salt versions too. */
  private markVersionGuards() {
    const guarded = this.model.chains.filter((c) => c.conditions.some((cond) => SALT_VERSION_CHECK.test(cond))).flatMap((c) => c.branches);
    if (!guarded.length) return;
    for (const state of [...this.model.states, ...this.model.extends]) {
      for (const fn of state.functions) if (guarded.some((b) => b.start <= fn.span.start && fn.span.start < b.end)) fn.versionGuarded = true;
    }
  }

  /** Reads rendered text [start, end) (a block, or the whole text) to a chunk of source-positioned results. */
  private readBlock(text: string, start: number, end: number, isTop: boolean): ChunkResult {
    this.base = start;
    this.out = emptyChunk(this.map.start(start));
    const problems = this.out.problems;
    let doc;
    try {
      doc = parseDocument(text, { uniqueKeys: false, version: '1.1', prettyErrors: false, strict: false });
    } catch (error) {
      problems.push({ message: `YAML could not be read: ${(error as Error).message}`, span: { start: this.map.start(start), end: this.map.start(start) }, severity: 'error', code: 'yaml' });
      return this.out;
    }
    for (const error of doc.errors) this.yamlProblem(error.message, error.pos[0] + start, error.pos[1] + start, start, end);
    // The YAML reader may say the same thing twice about one line.
    const lineOf = (p: SlsProblem) => this.model.lines.position(p.span.start).line;
    this.out.problems = problems.filter((p, i) => problems.findIndex((q) => q.message === p.message && lineOf(q) === lineOf(p)) === i);
    const root = doc.contents;
    if (!root) return this.out;
    this.collectSaltUrls(root);
    this.collectKeys(root);
    if (!isMap(root)) return this.out;
    if (isTop) {
      this.readTop(root);
      return this.out;
    }
    root.items.forEach((pair, i) => {
      const key = this.keyOf(pair);
      if (!key) return;
      if (key.text === 'include') this.readInclude(pair.value as Node | null, key.span);
      else if (key.text === 'extend') this.readExtend(pair.value as Node | null);
      else if (key.text !== 'exclude') {
        // The state's text runs to the next key (a line Jinja leaves empty belongs to it too).
        const next = root.items[i + 1];
        this.readState(pair, key, (next && this.keyOf(next)?.span.start) ?? this.map.end(end));
      }
    });
    return this.out;
  }

  /**
   * A YAML error as sure as the source makes it: an error where the top-level block around it is the file's
   * own text, outside any Jinja block (a warning inside one: it may not be rendered); information where only
   * expressions inside lines (placeholders) touch it; nothing where Jinja decides the structure (statements,
   * whitespace control, macros).
   */
  private yamlProblem(raw: string, at: number, to: number, start: number, end: number) {
    const rendered = this.map.rendered.text;
    const starts = chunkStarts(rendered.slice(start, end)).map((s) => s + start);
    let blockStart = start;
    for (const s of starts) if (s <= at) blockStart = s;
    const next = starts.find((s) => s > at);
    let blockEnd = next ?? end;
    // The block's own text: the whitespace Jinja tags leave around it is not part of it.
    while (blockEnd > blockStart && /\s/.test(rendered[blockEnd - 1])) blockEnd--;
    const sourceStart = this.map.start(blockStart);
    const sourceEnd = this.map.end(blockEnd);
    const { jinja, blocks } = this.model;
    const inBlock = blocks.some((b) => b.keyword !== 'raw' && b.start < sourceEnd && sourceStart < b.end);
    const message = raw.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    const span = { start: this.map.start(at), end: Math.max(this.map.end(Math.max(to, at + 1)), this.map.start(at) + 1) };
    if (this.map.plain(blockStart, blockEnd) && !overlapsJinja(jinja, sourceStart, sourceEnd)) {
      // Plain text inside a Jinja block is wrong wherever Jinja renders the block.
      if (inBlock) this.out.problems.push({ message: `${message} (where Jinja renders this block)`, span, severity: 'warning', code: 'yaml' });
      else this.out.problems.push({ message, span, severity: 'error', code: 'yaml' });
      return;
    }
    const { source } = this.model;
    const trims = (t: JinjaTag) => source[t.start + 2] === '-' || source[t.end - 3] === '-';
    const onlyExpressions = !inBlock && jinja.filter((t) => t.start < sourceEnd && sourceStart < t.end).every((t) => t.kind !== 'statement' && !trims(t));
    if (onlyExpressions && !this.touchesExpansion(blockStart, blockEnd)) {
      this.out.problems.push({ message: `${message} (if Jinja's values keep this line's shape)`, span, severity: 'information', code: 'yaml-jinja' });
    }
  }

  private touchesExpansion(from: number, to: number): boolean {
    return this.map.rendered.pieces.some((p) => p.expanded && p.start >= this.map.start(from) && p.end <= this.map.end(to));
  }

  /** A scalar's text and source span (see ScalarText). */
  private scalarOf(node: unknown): ScalarText | undefined {
    if (!isScalar(node) || !node.range) return undefined;
    const from = node.range[0] + this.base;
    const to = node.range[1] + this.base;
    const span = { start: this.map.start(from), end: this.map.end(to) };
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    const value = node.value == null ? '' : String(node.value);
    // Most scalars: every part known (the file's own text, or values Jinja's source decides).
    if (this.map.known(from, to)) return { text: value, span, templated: false };
    let text = this.map.describe(from, to).text;
    if (quoted && /^['"]/.test(text) && text.length >= 2 && text[0] === text[text.length - 1]) text = text.slice(1, -1);
    const inner = quoted ? [from + 1, to - 1] : [from, to];
    const pattern = this.map
      .parts(inner[0], inner[1])
      .map((p) => (p.unknown ? '.*?' : escapeRegExp(p.text)))
      .join('')
      .replace(/(\.\*\?)+/g, '.*?');
    return { text, span, templated: true, pattern: new RegExp(`^${pattern}$`, 's') };
  }

  private keyOf(pair: Pair): ScalarText | undefined {
    const key = this.scalarOf(pair.key);
    return key && key.text !== '' ? key : undefined;
  }

  private readInclude(node: Node | null, keySpan: TextSpan) {
    const s = isScalar(node) ? this.scalarOf(node) : undefined;
    if (s?.templated) this.out.includes.push({ module: s.text, span: s.span, templated: true, pattern: /^.*$/s });
    else if (node == null || (isScalar(node) && node.value == null)) {
      // `include:` then `{{ includes|yaml }}` alone on the next line: Jinja writes the list.
      const { source, jinja } = this.model;
      const lineEnd = source.indexOf('\n', keySpan.end);
      const next = jinja.find((t) => t.start > keySpan.end && t.kind === 'expression');
      const between = next && lineEnd >= 0 ? source.slice(lineEnd + 1, next.start) : undefined;
      if (next && between !== undefined && /^[ \t]+$/.test(between)) this.out.includes.push({ module: source.slice(next.start, next.end), span: { start: next.start, end: next.end }, templated: true, pattern: /^.*$/s });
    }
    if (!isSeq(node)) return;
    for (const item of node.items) {
      if (isScalar(item)) {
        const s = this.scalarOf(item);
        if (s && s.text) this.out.includes.push({ module: s.text, span: s.span, templated: s.templated, pattern: s.pattern });
      } else if (isMap(item)) {
        // `- saltenv: module` or `- module: {defaults: ...}`
        for (const pair of item.items) {
          const key = this.keyOf(pair);
          const value = this.scalarOf(pair.value);
          const entry = value && value.text && !isMap(pair.value) ? value : key;
          if (entry) this.out.includes.push({ module: entry.text, span: entry.span, templated: entry.templated, pattern: entry.pattern });
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

  private readState(pair: Pair, key: ScalarText, until: number) {
    if (key.text.startsWith('__')) return;
    const valueRange = (pair.value as Node | null)?.range;
    const extent = { start: key.span.start, end: valueRange ? Math.max(key.span.end, this.map.end(valueRange[2] + this.base)) : key.span.end };
    const names: string[] = [];
    const namePatterns: RegExp[] = [];
    const functions = this.readBody(pair.value as Node | null, key.text, names, namePatterns);
    // The shape Salt wants (each function's arguments a list) is decided only by text Jinja does not touch.
    if (!key.templated && !overlapsJinja(this.model.jinja, key.span.start, until)) {
      const inBlock = this.model.blocks.some((b) => b.keyword !== 'raw' && b.start < key.span.start && until <= b.end);
      this.checkShape(pair.value as Node | null, key.text, inBlock);
    }
    const state: StateDeclaration = {
      id: key.text,
      span: key.span,
      extent,
      templated: key.templated,
      // A state a macro made stands where the macro is called: like a Jinja block, it may be there any number of times.
      inJinjaBlock: this.map.rendered.pieces.some((p) => p.expanded && p.start === key.span.start && p.end === key.span.end),
      functions,
      names,
      namePatterns,
    };
    if (key.pattern) state.pattern = key.pattern;
    this.out.states.push(state);
  }

  /**
   * What Salt refuses in a state's body before running anything (salt/state.py verify_high): a function
   * whose arguments are a mapping or a scalar ("is not formed as a list"), a function with a colon and
   * nothing after it ("a short declaration with a trailing colon"), an argument written straight under
   * the ID. Called only for a state no Jinja touches; in a Jinja block it is a warning.
   */
  private checkShape(node: Node | null, id: string, inBlock: boolean) {
    if (!isMap(node)) return;
    const problem = (span: TextSpan, message: string) =>
      this.out.problems.push({ message: inBlock ? `${message} (where Jinja renders this block)` : message, span, severity: inBlock ? 'warning' : 'error', code: 'state-shape' });
    for (const pair of node.items) {
      const key = this.keyOf(pair);
      if (!key || key.text.startsWith('__')) continue;
      const value = pair.value as Node | null;
      if (STATE_ARGUMENTS.has(key.text) && !isSeq(value)) {
        problem(key.span, `'${key.text}' is an argument, not a state function: Salt says state '${id}' is not formed as a list. Put it under the function, as \`- ${key.text}: ...\``);
      } else if (value === null || (isScalar(value) && value.value === null)) {
        if (key.text.includes('.')) problem(key.span, `'${key.text}:' has nothing after its colon: Salt refuses this short declaration. Drop the colon, or give the arguments as a list`);
      } else if (isMap(value)) {
        problem(key.span, `The arguments of '${key.text}' are a mapping: Salt says state '${id}' is not formed as a list. Write each as a list item, \`- name: ...\``);
      } else if (isScalar(value)) {
        const text = String(value.value);
        problem(key.span, key.text.includes('.') ? `'${key.text}: ${text}' is not a list of arguments: Salt says state '${id}' is not formed as a list` : `'${key.text}: ${text}' is not formed as a list: write \`${key.text}.${text}\` or \`${key.text}: [${text}]\``);
      }
    }
  }

  /** A state body: `{pkg.installed: [args]}`, `{pkg: [installed, args]}` or the short `pkg.installed`. */
  private readBody(node: Node | null, owner: string, names: string[] = [], namePatterns: RegExp[] = []): StateFunction[] {
    const functions: StateFunction[] = [];
    if (isScalar(node)) {
      const s = this.scalarOf(node);
      if (s && s.text.includes('.')) {
        const [module, ...rest] = s.text.split('.');
        functions.push({ module, fun: rest.join('.'), span: s.span, funSpan: s.span, args: [], templated: s.templated });
      }
      return functions;
    }
    if (!isMap(node)) return functions;
    for (const pair of node.items) {
      const key = this.keyOf(pair);
      if (!key || key.text.startsWith('__')) continue;
      // `name: /srv/x` straight under the ID is a misplaced argument (checkShape says so), not a module.
      if (STATE_ARGUMENTS.has(key.text) && !isSeq(pair.value)) continue;
      const dot = key.text.indexOf('.');
      const fn: StateFunction =
        dot > 0
          ? { module: key.text.slice(0, dot), fun: key.text.slice(dot + 1), span: key.span, funSpan: key.span, args: [], templated: key.templated }
          : { module: key.text, span: key.span, args: [], templated: key.templated };
      const value = pair.value as Node | null;
      if (isSeq(value)) this.readArgs(value, fn, owner, names, namePatterns);
      else if (isScalar(value) && dot < 0) {
        // `pkg: installed` is not valid Salt, but the intent is plain: read the function.
        const s = this.scalarOf(value);
        if (s && s.text) {
          fn.fun = s.text;
          fn.funSpan = s.span;
          fn.templated ||= s.templated;
        }
      }
      functions.push(fn);
    }
    return functions;
  }

  private readArgs(seq: YAMLSeq, fn: StateFunction, owner: string, names: string[], namePatterns: RegExp[]) {
    for (const item of seq.items) {
      if (isScalar(item)) {
        const s = this.scalarOf(item);
        if (s && s.text && fn.fun === undefined) {
          fn.fun = s.text;
          fn.funSpan = s.span;
          fn.templated ||= s.templated;
        }
        continue;
      }
      if (!isMap(item)) continue;
      for (const pair of (item as YAMLMap).items) {
        const key = this.keyOf(pair);
        if (!key) continue;
        if (!key.templated) fn.args.push({ name: key.text, span: key.span });
        const addName = (value: ScalarText | undefined) => {
          if (value?.templated && value.pattern) namePatterns.push(value.pattern);
          else if (value?.text) names.push(value.text);
        };
        if (key.text === 'name') addName(this.scalarOf(pair.value));
        else if (key.text === 'names' && isSeq(pair.value)) {
          // Each of `names` is a state of its own that requisites may name.
          for (const item of pair.value.items) addName(isMap(item) ? (item.items[0] ? this.keyOf(item.items[0]) : undefined) : this.scalarOf(item));
        } else if (key.text === 'names' && isScalar(pair.value)) {
          // `names: {{ list|yaml }}`: any name.
          const value = this.scalarOf(pair.value);
          if (value?.templated) namePatterns.push(/^.*$/s);
        } else if (isRequisiteKeyword(key.text)) this.readRequisites(key.text, pair.value as Node | null, owner);
      }
    }
  }

  private readRequisites(keyword: string, node: Node | null, owner: string) {
    const push = (module: ScalarText | undefined, target: unknown) => {
      const s = this.scalarOf(target);
      if (!s || !s.text) return;
      this.out.requisites.push({ keyword, module: module?.text, target: s.text, span: s.span, templated: s.templated || !!module?.templated, owner });
    };
    const readEntry = (entry: unknown) => {
      if (isScalar(entry)) push(undefined, entry);
      else if (isMap(entry)) {
        for (const pair of entry.items) {
          const key = this.keyOf(pair);
          if (!key) continue;
          if (isSeq(pair.value)) for (const target of pair.value.items) push(key, target);
          else push(key, pair.value);
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

  /** The keys of every mapping, nested and flow ones too: the top level's for the file, repeats of nested ones. */
  private collectKeys(root: unknown) {
    const visit = (node: unknown, top: boolean) => {
      if (isSeq(node)) for (const item of node.items) visit(item, false);
      if (!isMap(node)) return;
      const firsts = new Map<string, KeyOccurrence>();
      for (const pair of node.items) {
        const key = this.keyOccurrence(pair.key);
        if (key && top) this.out.topKeys.push(key);
        else if (key) {
          const first = firsts.get(key.identity);
          if (first) this.out.nestedRepeats.push({ key, first });
          else firsts.set(key.identity, key);
        }
        visit(pair.value, false);
      }
    };
    visit(root, true);
  }

  /** A key as loaded, when it is the file's own text (a key Jinja makes, wholly or in part, is not compared). */
  private keyOccurrence(node: unknown): KeyOccurrence | undefined {
    if (!isScalar(node) || !node.range) return undefined;
    const from = node.range[0] + this.base;
    const to = node.range[1] + this.base;
    if (from === to || !this.map.plain(from, to)) return undefined;
    const loaded = loadedKey(node);
    if (!loaded) return undefined;
    const span = { start: this.map.start(from), end: this.map.end(to) };
    return { ...loaded, written: this.model.source.slice(span.start, span.end), span };
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
 * same file) lets unchanged top-level blocks be reused, so an edit costs the block it touched. `context`
 * says where the file is in its tree and reads the templates it imports (for macros and `tpldir`).
 */
export function parseSls(source: string, options: { isTop?: boolean; previous?: ParsedSls; context?: RenderContext } = {}): ParsedSls {
  try {
    return new Reader(source, options.isTop ?? false, options.previous?.chunks, options.context ?? {}).model;
  } catch (error) {
    // The reader is meant never to throw; should it, the file still gets a model and a problem.
    const model = emptyModel(source);
    model.problems.push({ message: `internal error reading this file: ${(error as Error).message}`, span: { start: 0, end: 0 }, severity: 'error', code: 'internal' });
    return model;
  }
}
