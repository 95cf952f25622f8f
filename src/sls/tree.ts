/**
 * A state tree in memory: every .sls file under a state root read with parseSls, kept up to date file by
 * file (open editors overlay the disk), with the questions the language features ask: which file is a
 * module, what a file includes (transitively), where a state ID is declared, who refers to it.
 */
import { readdirSync, readFileSync, existsSync, statSync, type Dirent } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { canonicalPath, candidateFiles, isPillarDataFile, moduleForFile, partsBelow, PILLAR_DIRS, resolveInclude } from './modules';
import { parseSls, type ParsedSls, type StateDeclaration, type Requisite, type ExtendEntry, type IncludeEntry } from './parse';
import { templateRegex } from './jinja';
import type { RenderContext } from './render';
import { parse as parseYaml } from 'yaml';
import { formulaName } from './roots';

/** Where a Jinja import may name a file: below the state root, or beside the importing file. */
const templateCandidates = (root: string, fromFile: string, path: string): string[] =>
  path.startsWith('./') || path.startsWith('../') ? [resolve(dirname(fromFile), path)] : [join(root, path), resolve(dirname(fromFile), path)];

/** The file a Jinja import names (`{% from "web/map.jinja" ... %}`): below the state root, or beside the importing file. */
export function templateFile(root: string, fromFile: string, path: string): string | undefined {
  return templateCandidates(root, fromFile, path).find((c) => {
    try {
      return statSync(c).isFile();
    } catch {
      return false;
    }
  });
}

/** Where an SLS file is for Jinja (`tpldir`...) and how its imports are read: `read` gives a file's text. */
export function renderContext(root: string, file: string, read: (file: string) => string | undefined): RenderContext {
  return {
    path: partsBelow(root, file)?.join('/'),
    load: (path, from) => {
      const target = templateFile(root, from ? join(root, from) : file, path);
      try {
        return target ? read(target) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

const readText = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

export interface TreeFile {
  file: string;
  /** Dotted module name; undefined for top.sls and files that are not modules. */
  module?: string;
  isInit: boolean;
  isTop: boolean;
  parsed: ParsedSls;
}

export interface StateHit {
  file: TreeFile;
  state: StateDeclaration;
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '__pycache__']);
const MAX_SCAN_ENTRIES = 200_000;

export class StateTree {
  readonly root: string;
  private readonly files = new Map<string, TreeFile>();
  /** Templates open in an editor (their text is not the disk's). */
  private readonly templates = new Map<string, string>();
  private byId?: Map<string, StateHit[]>;
  /** Who includes whom and what top.sls applies together, with the run context of each file asked for. */
  private runs?: {
    /** Files whose include entries name a file; whose templated entries may (Jinja decides). */
    includedBy: Map<string, string[]>;
    mayBeIncludedBy: Map<string, string[]>;
    topGroups: Set<string>[];
    reach: Map<string, string[]>;
  };
  private templatedStates?: StateHit[];
  private scanned = false;

  /** The formula's name when the root is a Salt formula's repository (see roots.ts). */
  readonly formula?: string;

  constructor(stateRoot: string) {
    this.root = canonicalPath(resolve(stateRoot));
    this.formula = formulaName(this.root);
  }

  /**
   * A module this tree cannot have: in a formula's repository, one outside the formula's own folders
   * (`vim` from users-formula): another formula provides it where the formulas run together.
   */
  isForeignModule(module: string): boolean {
    const top = module.split('.')[0];
    return !!this.formula && !existsSync(join(this.root, top)) && !existsSync(join(this.root, `${top}.sls`));
  }

  contains(file: string): boolean {
    return partsBelow(this.root, file) !== undefined;
  }

  /** A file of the tree that holds pillar data, not states (modules.ts isPillarDataFile). */
  isPillarFile(file: string): boolean {
    return isPillarDataFile(this.root, file);
  }

  /** Reads every .sls file under the root (once; later changes come through update/remove). */
  scan(): void {
    if (this.scanned) return;
    this.scanned = true;
    // A workspace without a state tree folder is scanned from its root: bound the walk.
    let budget = MAX_SCAN_ENTRIES;
    const walk = (dir: string) => {
      if (budget <= 0) return;
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      budget -= entries.length;
      for (const entry of entries) {
        if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name) || (entry.isDirectory() && PILLAR_DIRS.has(entry.name))) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.sls') && !this.files.has(path)) this.load(path);
      }
    };
    walk(this.root);
  }

  /** A state file from disk; pillar data (see isPillarFile) is never read as states, however it comes. */
  private load(file: string): TreeFile | undefined {
    if (this.isPillarFile(file)) return undefined;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    return this.set(file, text);
  }

  private set(file: string, text: string): TreeFile {
    // top.sls at the root, or a top file kept elsewhere under its own name (`dev/state_top.sls`).
    const isTop = (basename(file) === 'top.sls' && dirname(file) === this.root) || /[_-]top\.sls$/.test(basename(file));
    const previous = this.files.get(file)?.parsed;
    const entry: TreeFile = {
      file,
      module: isTop ? undefined : moduleForFile(this.root, file),
      isInit: basename(file) === 'init.sls',
      isTop,
      parsed: parseSls(text, { isTop, previous, context: renderContext(this.root, file, (f) => this.templateText(f)) }),
    };
    this.files.set(file, entry);
    this.byId = undefined;
    this.templatedStates = undefined;
    // Run contexts change only when what files include (or top.sls) changes, not on every edit.
    if (!previous || linksOf(previous) !== linksOf(entry.parsed)) this.runs = undefined;
    return entry;
  }

  /** A template's text: the editor's when it is open, else the disk's. */
  templateText(file: string): string | undefined {
    return this.templates.get(file) ?? readText(file);
  }

  /** An editor's text for a template (undefined: the editor closed it, the disk's text counts again). */
  setTemplate(file: string, text: string | undefined) {
    // The same text again (each request syncs the open editors): its importers need no new reading.
    if (this.templates.get(file) === text) return;
    if (text === undefined) this.templates.delete(file);
    else this.templates.set(file, text);
    this.readImporters(file);
  }

  /** The SLS files that import a template read it again: its macros and names may have changed (or it is gone). */
  private readImporters(file: string): void {
    for (const entry of [...this.files.values()]) {
      if (entry.parsed.jinjaImports.some((i) => templateCandidates(this.root, entry.file, i.path).includes(file))) this.set(entry.file, entry.parsed.source);
    }
  }

  /** New text for a file (an editor's buffer, or the disk after a change). */
  update(file: string, text: string): TreeFile | undefined {
    if (this.isPillarFile(file)) return undefined;
    const known = this.files.get(file);
    if (known && known.parsed.source === text) return known;
    return this.set(file, text);
  }

  /**
   * Re-reads a file from disk (or forgets it when it is gone): a state file itself; a template (map.jinja,
   * changed by a checkout, a formatter) through the state files that import it.
   */
  reload(file: string): void {
    if (!file.endsWith('.sls')) this.readImporters(file);
    else if (existsSync(file)) this.load(file);
    else this.remove(file);
  }

  remove(file: string): void {
    if (this.files.delete(file)) {
      this.byId = undefined;
      this.templatedStates = undefined;
      this.runs = undefined;
    }
  }

  get(file: string): TreeFile | undefined {
    return this.files.get(file) ?? (this.contains(file) && file.endsWith('.sls') ? this.load(file) : undefined);
  }

  all(): TreeFile[] {
    this.scan();
    return [...this.files.values()];
  }

  /** The file that defines a module, preferring what is in memory. */
  fileForModule(module: string): string | undefined {
    if (!module || module.split('.').some((p) => p === '')) return undefined;
    for (const candidate of candidateFiles(this.root, module)) {
      if (this.files.has(candidate) || existsSync(candidate)) return candidate;
    }
    return undefined;
  }

  /** The absolute module an include entry of `from` names (`.motd` in common/init.sls is common.motd). */
  resolveIncludeName(from: TreeFile, entry: string): string {
    // A relative include from a file outside any module has nothing to be relative to.
    if (!from.module && entry.startsWith('.')) return entry;
    return resolveInclude(entry, { module: from.module ?? '', isInit: from.isInit });
  }

  includeTarget(from: TreeFile, include: IncludeEntry): string | undefined {
    return this.fileForModule(this.resolveIncludeName(from, include.module));
  }

  /**
   * The files `file` includes, transitively, itself first. `possibly`: with every module an include Jinja
   * makes may name (`- .{{ grains.os_family|lower }}`), as a run may.
   */
  closure(file: string, possibly = false): TreeFile[] {
    const start = this.get(file);
    if (!start) return [];
    const seen = new Set<string>([start.file]);
    const out: TreeFile[] = [start];
    const visit = (next: TreeFile | undefined) => {
      if (!next || seen.has(next.file)) return;
      seen.add(next.file);
      out.push(next);
    };
    for (let i = 0; i < out.length; i++) {
      for (const include of out[i].parsed.includes) {
        if (!include.templated) {
          const target = this.includeTarget(out[i], include);
          if (target && !seen.has(target)) visit(this.get(target));
        } else if (possibly) for (const f of this.mayInclude(out[i], include, this.all())) visit(f);
      }
    }
    return out;
  }

  /** The files an include entry Jinja makes may name: those whose module fits its pattern (relative entries resolved). */
  private mayInclude(from: TreeFile, include: IncludeEntry, files: readonly TreeFile[]): TreeFile[] {
    const pattern = templatedIncludePattern(include, this.resolveIncludeName(from, include.module));
    return pattern ? files.filter((f) => f.module && f !== from && pattern.test(f.module)) : [];
  }

  /**
   * The files whose include entries name `file` (naming), and those whose templated entries may name
   * it from among their own sub-modules (dispatching: a formula's OS dispatch, `- .{{ grains.os_family|lower }}`
   * in pkgrepo/init.sls, may include pkgrepo.redhat). Not a wide templated entry (`- php.{{ module }}`
   * in php/composer.sls): it may name any module, but is not how one is made part of another.
   */
  includersOf(file: string): { naming: string[]; dispatching: string[] } {
    const runs = this.runGraph();
    const module = this.files.get(file)?.module;
    // An entry whose written part keeps it among the includer's sub-modules: not `- {{ dep }}` over a
    // pillar list, which may name any module.
    const dispatches = (includer: string) => {
      const from = this.files.get(includer);
      if (!module || !from?.module) return false;
      const own = `${from.module}.`;
      return (
        module.startsWith(own) &&
        from.parsed.includes.some((include) => include.templated && this.resolveIncludeName(from, include.module).split('{')[0].startsWith(own) && this.mayInclude(from, include, [this.files.get(file)!]).length > 0)
      );
    };
    return { naming: runs.includedBy.get(file) ?? [], dispatching: (runs.mayBeIncludedBy.get(file) ?? []).filter(dispatches) };
  }

  /**
   * Every file a run that applies `file` may apply with it, as Salt runs states: `state.apply` of this file
   * or of any file that includes it (transitively), and each top.sls target that applies it; each such run
   * applies what its files include. A requisite may name any state in there.
   */
  runContext(file: string): TreeFile[] {
    const runs = this.runGraph();
    const known = runs.reach.get(file);
    // Paths are kept, not entries: a file edited since is read as it is now.
    if (known) return known.map((f) => this.get(f)).filter((f): f is TreeFile => !!f);
    const roots = new Set<string>([file]);
    const queue = [file];
    while (queue.length) {
      const included = queue.pop()!;
      for (const includer of [...(runs.includedBy.get(included) ?? []), ...(runs.mayBeIncludedBy.get(included) ?? [])]) {
        if (roots.has(includer)) continue;
        roots.add(includer);
        queue.push(includer);
      }
    }
    const reach = new Map<string, TreeFile>();
    for (const root of roots) for (const f of this.closure(root, true)) reach.set(f.file, f);
    for (const group of runs.topGroups) {
      if (![...roots].some((r) => group.has(r))) continue;
      for (const member of group) {
        const f = reach.has(member) ? undefined : this.files.get(member);
        if (f) reach.set(member, f);
      }
    }
    runs.reach.set(file, [...reach.keys()]);
    return [...reach.values()];
  }

  private runGraph() {
    if (this.runs) return this.runs;
    const includedBy = new Map<string, string[]>();
    const mayBeIncludedBy = new Map<string, string[]>();
    const topGroups: Set<string>[] = [];
    const all = this.all();
    for (const from of all) {
      for (const include of from.parsed.includes) {
        if (include.templated) {
          for (const f of this.mayInclude(from, include, all)) add(mayBeIncludedBy, f.file, from.file);
          continue;
        }
        const target = this.includeTarget(from, include);
        if (target) add(includedBy, target, from.file);
      }
      if (!from.isTop) continue;
      const groups = new Map<string, Set<string>>();
      for (const entry of from.parsed.topEntries) {
        const target = entry.templated ? undefined : this.fileForModule(entry.module);
        if (!target) continue;
        const key = `${entry.saltenv}\u0000${entry.target}`;
        const group = groups.get(key) ?? new Set<string>();
        groups.set(key, group);
        // Everything a top.sls target applies runs together: each applied file and what it includes.
        for (const f of this.closure(target, true)) group.add(f.file);
      }
      topGroups.push(...groups.values());
    }
    // A formula's kitchen.yml says what its test suites apply together (`state_top`), as a top.sls would.
    for (const modules of kitchenStateTops(this.root)) {
      const group = new Set<string>();
      for (const module of modules) {
        const target = this.fileForModule(module);
        if (target) for (const f of this.closure(target, true)) group.add(f.file);
      }
      topGroups.push(group);
    }
    this.runs = { includedBy, mayBeIncludedBy, topGroups, reach: new Map() };
    return this.runs;
  }

  private index(): Map<string, StateHit[]> {
    if (this.byId) return this.byId;
    this.scan();
    const byId = new Map<string, StateHit[]>();
    const templated: StateHit[] = [];
    for (const file of this.files.values()) {
      for (const state of file.parsed.states) {
        if (state.templated) templated.push({ file, state });
        else {
          const list = byId.get(state.id);
          if (list) list.push({ file, state });
          else byId.set(state.id, [{ file, state }]);
        }
      }
    }
    this.byId = byId;
    this.templatedStates = templated;
    return byId;
  }

  /** Declarations of an ID anywhere in the tree (exact IDs first, then Jinja-made IDs that may produce it). */
  declarations(id: string): StateHit[] {
    const exact = this.index().get(id) ?? [];
    const made = mostSpecificFirst((this.templatedStates ?? []).filter((h) => h.state.pattern?.test(id)));
    return [...exact, ...made];
  }

  /** Where a requisite target (an ID, or a state's `name`) is declared among `files`. */
  findTarget(files: readonly TreeFile[], target: string, module?: string): StateHit[] {
    return new StateLookup(files).find(target, module);
  }

  /** Every requisite and extend entry in the tree that names `id`. */
  references(id: string): { file: TreeFile; requisite?: Requisite; extend?: ExtendEntry }[] {
    const out: { file: TreeFile; requisite?: Requisite; extend?: ExtendEntry }[] = [];
    for (const file of this.all()) {
      for (const requisite of file.parsed.requisites) if (requisite.module !== 'sls' && requisite.target === id) out.push({ file, requisite });
      for (const extend of file.parsed.extends) if (extend.id === id) out.push({ file, extend });
    }
    return out;
  }

  /** Module names of every .sls file (top.sls excluded). */
  modules(): string[] {
    return this.all()
      .map((f) => f.module)
      .filter((m): m is string => !!m)
      .sort();
  }
}

/**
 * What each `state_top` of the root's kitchen.yml applies together (test-kitchen's salt_solo
 * provisioner): a suite's targets all go into one top.sls, and a minion that several match runs them
 * in one highstate. Modules of the suite's path dependencies (`{name: states, path: ./test/salt}`:
 * Kitchen copies test/salt/states to the state tree as states/) are named as this tree names them
 * (`states.x` -> `test.salt.states.x`).
 */
function kitchenStateTops(root: string): string[][] {
  type Dict = Record<string, unknown>;
  const isDict = (v: unknown): v is Dict => !!v && typeof v === 'object' && !Array.isArray(v);
  const out: string[][] = [];
  for (const name of ['kitchen.yml', '.kitchen.yml']) {
    const text = readText(join(root, name));
    if (text === undefined) continue;
    let doc: unknown;
    try {
      doc = parseYaml(text, { strict: false, uniqueKeys: false });
    } catch {
      continue;
    }
    const common = isDict(doc) && isDict(doc.provisioner) ? doc.provisioner : {};
    /** The modules of a provisioner's state_top, all targets together. */
    const modulesOf = (provisioner: Dict, top: Dict): string[] => {
      // Kitchen replaces lists: the suite's own dependencies, else the provisioner's.
      const dependencies = Array.isArray(provisioner.dependencies) ? provisioner.dependencies : Array.isArray(common.dependencies) ? common.dependencies : [];
      const named = (module: string) => {
        for (const d of dependencies) {
          if (!isDict(d) || typeof d.name !== 'string' || typeof d.path !== 'string' || isAbsolute(d.path)) continue;
          if (module !== d.name && !module.startsWith(`${d.name}.`)) continue;
          const prefix = normalize(d.path).split(sep).filter((p) => p && p !== '.');
          if (prefix[0] !== '..') return [...prefix, module].join('.');
        }
        return module;
      };
      const modules: string[] = [];
      for (const targets of Object.values(top)) {
        if (!isDict(targets)) continue;
        for (const list of Object.values(targets)) if (Array.isArray(list)) modules.push(...list.filter((m): m is string => typeof m === 'string').map(named));
      }
      return modules;
    };
    const walk = (node: unknown, depth: number) => {
      if (!node || typeof node !== 'object' || depth > 12) return;
      if (isDict(node) && isDict(node.state_top)) out.push(modulesOf(node, node.state_top));
      for (const [key, value] of Object.entries(node)) if (key !== 'state_top') walk(value, depth + 1);
    };
    walk(doc, 0);
  }
  return out;
}

/** The modules an include entry Jinja makes may name (`resolved`: the entry with a relative start resolved); none known: undefined. */
export function templatedIncludePattern(include: IncludeEntry, resolved: string): RegExp | undefined {
  return include.module.startsWith('{') || !include.pattern ? include.pattern : templateRegex(resolved);
}

/** IDs Jinja makes that fit one ID, the one with the most literal text first (`x-{{ m }}-reload` before `x-{{ m }}`). */
export function mostSpecificFirst<T extends { state: StateDeclaration }>(hits: T[]): T[] {
  const literal = (h: T) => h.state.id.replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g, '').length;
  return hits.sort((a, b) => literal(b) - literal(a));
}

function add<T>(map: Map<string, T[]>, key: string, value: T) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** What a file says about how it links to others: its includes and top.sls entries. */
const linksOf = (parsed: ParsedSls) => JSON.stringify([parsed.includes.map((i) => [i.module, i.templated]), parsed.topEntries.map((t) => [t.saltenv, t.target, t.module])]);

/** Requisite targets among a set of files, indexed once for many look-ups (a file's diagnostics). */
export class StateLookup {
  private readonly byId = new Map<string, StateHit[]>();
  private readonly byName = new Map<string, StateHit[]>();
  private readonly templated: StateHit[] = [];
  private readonly namedByJinja: StateHit[] = [];

  constructor(files: readonly TreeFile[]) {
    for (const file of files) {
      for (const state of file.parsed.states) {
        const hit = { file, state };
        if (state.templated) this.templated.push(hit);
        else add(this.byId, state.id, hit);
        if (state.namePatterns.length) this.namedByJinja.push(hit);
        for (const name of state.names) add(this.byName, name, hit);
      }
    }
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** States whose `name` Jinja makes and may be `target`: a requisite may mean one of them, the source cannot say. */
  mayBeNamed(target: string, module?: string): StateHit[] {
    return this.namedByJinja.filter((h) => (!module || h.state.functions.some((f) => f.module === module)) && h.state.namePatterns.some((p) => p.test(target)));
  }

  /** Exact IDs win; else states whose `name` is the target, or whose Jinja-made ID may be it. */
  find(target: string, module?: string): StateHit[] {
    const fits = (h: StateHit) => !module || h.state.functions.length === 0 || h.state.functions.some((f) => f.module === module);
    const exact = (this.byId.get(target) ?? []).filter(fits);
    if (exact.length) return exact;
    const named = (this.byName.get(target) ?? []).filter(fits);
    const made = mostSpecificFirst(this.templated.filter((h) => fits(h) && h.state.pattern?.test(target)));
    return [...new Set([...named, ...made])];
  }
}
