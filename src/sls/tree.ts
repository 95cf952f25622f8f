/**
 * A state tree in memory: every .sls file under a state root read with parseSls, kept up to date file by
 * file (open editors overlay the disk), with the questions the language features ask: which file is a
 * module, what a file includes (transitively), where a state ID is declared, who refers to it.
 */
import { readdirSync, readFileSync, existsSync, type Dirent } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { candidateFiles, moduleForFile, resolveInclude } from './modules';
import { parseSls, type ParsedSls, type StateDeclaration, type Requisite, type ExtendEntry, type IncludeEntry } from './parse';

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
  private byId?: Map<string, StateHit[]>;
  private templatedStates?: StateHit[];
  private scanned = false;

  constructor(stateRoot: string) {
    this.root = resolve(stateRoot);
  }

  contains(file: string): boolean {
    const rel = relative(this.root, file);
    return !!rel && !rel.startsWith('..') && !rel.startsWith(sep);
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
        if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.sls') && !this.files.has(path)) this.load(path);
      }
    };
    walk(this.root);
  }

  private load(file: string): TreeFile | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    return this.set(file, text);
  }

  private set(file: string, text: string): TreeFile {
    const isTop = basename(file) === 'top.sls' && dirname(file) === this.root;
    const previous = this.files.get(file)?.parsed;
    const entry: TreeFile = {
      file,
      module: isTop ? undefined : moduleForFile(this.root, file),
      isInit: basename(file) === 'init.sls',
      isTop,
      parsed: parseSls(text, { isTop, previous }),
    };
    this.files.set(file, entry);
    this.byId = undefined;
    this.templatedStates = undefined;
    return entry;
  }

  /** New text for a file (an editor's buffer, or the disk after a change). */
  update(file: string, text: string): TreeFile {
    const known = this.files.get(file);
    if (known && known.parsed.source === text) return known;
    return this.set(file, text);
  }

  /** Re-reads a file from disk (or forgets it when it is gone). */
  reload(file: string): void {
    if (existsSync(file)) this.load(file);
    else this.remove(file);
  }

  remove(file: string): void {
    if (this.files.delete(file)) {
      this.byId = undefined;
      this.templatedStates = undefined;
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

  /** The files `file` includes, transitively, itself first. */
  closure(file: string): TreeFile[] {
    const start = this.get(file);
    if (!start) return [];
    const seen = new Set<string>([start.file]);
    const out: TreeFile[] = [start];
    for (let i = 0; i < out.length; i++) {
      for (const include of out[i].parsed.includes) {
        if (include.templated) continue;
        const target = this.includeTarget(out[i], include);
        if (!target || seen.has(target)) continue;
        seen.add(target);
        const next = this.get(target);
        if (next) out.push(next);
      }
    }
    return out;
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
    const made = (this.templatedStates ?? []).filter((h) => h.state.pattern?.test(id));
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

/** Requisite targets among a set of files, indexed once for many look-ups (a file's diagnostics). */
export class StateLookup {
  private readonly byId = new Map<string, StateHit[]>();
  private readonly byName = new Map<string, StateHit[]>();
  private readonly templated: StateHit[] = [];

  constructor(files: readonly TreeFile[]) {
    const add = (map: Map<string, StateHit[]>, key: string, hit: StateHit) => {
      const list = map.get(key);
      if (list) list.push(hit);
      else map.set(key, [hit]);
    };
    for (const file of files) {
      for (const state of file.parsed.states) {
        const hit = { file, state };
        if (state.templated) this.templated.push(hit);
        else add(this.byId, state.id, hit);
        for (const name of state.names) add(this.byName, name, hit);
      }
    }
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Exact IDs win; else states whose `name` is the target, or whose Jinja-made ID may be it. */
  find(target: string, module?: string): StateHit[] {
    const fits = (h: StateHit) => !module || h.state.functions.length === 0 || h.state.functions.some((f) => f.module === module);
    const exact = (this.byId.get(target) ?? []).filter(fits);
    if (exact.length) return exact;
    const named = (this.byName.get(target) ?? []).filter(fits);
    const made = this.templated.filter((h) => fits(h) && h.state.pattern?.test(target));
    return [...new Set([...named, ...made])];
  }
}
