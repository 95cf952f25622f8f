/**
 * The SLS language features over the state trees (src/sls) and the state catalogue: symbols, definition,
 * references, completion, hover, diagnostics and quick fixes, in LSP types. No I/O to the client here:
 * main.ts wires it to the connection, tests can call it directly.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeAction,
  CodeActionKind,
  CompletionItem,
  CompletionItemKind,
  Diagnostic,
  DiagnosticSeverity,
  DocumentHighlight,
  DocumentHighlightKind,
  DocumentSymbol,
  Hover,
  InsertTextFormat,
  Location,
  MarkupKind,
  Position,
  Range,
  SymbolInformation,
  SymbolKind,
  TextEdit,
  WorkspaceEdit,
} from 'vscode-languageserver';
import { findRoots } from '../sls/roots';
import { StateTree, StateLookup, type TreeFile, type StateHit } from '../sls/tree';
import { ALL_REQUISITE_FORMS, isRequisiteKeyword, LineIndex, type ParsedSls, type TextSpan, type StateFunction } from '../sls/parse';
import { functionsOfModule, type StateCatalogue } from '../sls/catalogue';
import { escapeRegExp, jinjaIdentifierAt, jinjaImportPaths, jinjaNames, scanJinja, type JinjaTag } from '../sls/jinja';
import { cursorContext } from './context';

export const DIAGNOSTIC_SOURCE = 'sls';

/** Arguments every state accepts (Salt's global state arguments). */
const GLOBAL_ARGS = ['name', 'names', 'order', 'onlyif', 'unless', 'creates', 'check_cmd', 'failhard', 'reload_modules', 'reload_grains', 'reload_pillar', 'runas', 'runas_password', 'fire_event', 'retry', 'parallel', 'saltenv', 'listen', 'mod_aggregate'];

export const uriToPath = (uri: string): string | undefined => {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
};
export const pathToUri = (file: string): string => pathToFileURL(file).href;

interface DiagnosticData {
  fix?: { kind: 'include'; module: string } | { kind: 'replace'; with: string[] };
}

export class SlsService {
  private readonly trees: StateTree[] = [];
  /** The workspace folders' pillar trees: their .sls files are pillar data, not states. */
  private readonly pillarRoots: string[] = [];
  /** Open Jinja templates (`.jinja`, `.j2`): only their Jinja is read. */
  private readonly templates = new Map<string, string>();
  catalogue?: StateCatalogue;
  private catalogueModules?: Set<string>;

  constructor(
    folders: readonly string[],
    private readonly explicitRoots: { stateRoot?: string } = {},
  ) {
    for (const folder of folders) this.addFolder(folder);
  }

  /** A workspace folder's state tree (found as everywhere else: findRoots). */
  addFolder(folder: string) {
    const { stateRoot, pillarRoot } = findRoots(folder, this.explicitRoots);
    if (!this.trees.some((t) => t.root === resolve(stateRoot))) this.trees.push(new StateTree(stateRoot));
    if (pillarRoot && !this.pillarRoots.includes(pillarRoot)) this.pillarRoots.push(pillarRoot);
  }

  removeFolder(folder: string) {
    const base = resolve(folder);
    for (let i = this.trees.length - 1; i >= 0; i--) if (isUnder(base, this.trees[i].root)) this.trees.splice(i, 1);
    for (let i = this.pillarRoots.length - 1; i >= 0; i--) if (isUnder(base, this.pillarRoots[i])) this.pillarRoots.splice(i, 1);
  }

  setCatalogue(catalogue: StateCatalogue | undefined) {
    this.catalogue = catalogue;
    this.catalogueModules = catalogue ? new Set(Object.keys(catalogue.functions).map((f) => f.split('.')[0])) : undefined;
  }

  /** The tree a file belongs to; a file outside every known root gets a tree rooted at its top.sls folder (or its own folder). */
  treeFor(file: string): StateTree {
    const known = this.trees.filter((t) => t.contains(file)).sort((a, b) => b.root.length - a.root.length)[0];
    if (known) return known;
    let dir = dirname(file);
    let root = dir;
    for (let i = 0; i < 8; i++) {
      if (existsSync(join(dir, 'top.sls'))) {
        root = dir;
        break;
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    const tree = new StateTree(root);
    this.trees.push(tree);
    return tree;
  }

  allTrees(): readonly StateTree[] {
    return this.trees;
  }

  /** Scans every tree (for workspace symbols and references). */
  indexAll(): number {
    let n = 0;
    for (const tree of this.trees) n += tree.all().length;
    return n;
  }

  update(uri: string, text: string): TreeFile | undefined {
    const file = uriToPath(uri);
    if (!file) return undefined;
    if (isTemplate(file)) {
      this.templates.set(file, text);
      return undefined;
    }
    if (!file.endsWith('.sls') || this.isPillar(file)) return undefined;
    return this.treeFor(file).update(file, text);
  }

  /** An editor closed a template: its text is the disk's again. */
  forgetTemplate(uri: string) {
    const file = uriToPath(uri);
    if (file) this.templates.delete(file);
  }

  reload(uri: string) {
    const file = uriToPath(uri);
    if (!file) return;
    for (const tree of this.trees) if (tree.contains(file)) tree.reload(file);
  }

  /** A file of a pillar tree (and of no state tree inside it). */
  private isPillar(file: string): boolean {
    return this.pillarRoots.some((root) => isUnder(root, file) && !this.trees.some((t) => t.root.length > root.length && t.contains(file)));
  }

  private fileOf(uri: string): { tree: StateTree; entry: TreeFile } | undefined {
    const file = uriToPath(uri);
    if (!file || !file.endsWith('.sls') || this.isPillar(file)) return undefined;
    const tree = this.treeFor(file);
    const entry = tree.get(file);
    return entry ? { tree, entry } : undefined;
  }

  // ---------------------------------------------------------------- positions

  private range(parsed: ParsedSls, span: TextSpan): Range {
    return Range.create(parsed.lines.position(span.start), parsed.lines.position(span.end));
  }

  private location(entry: TreeFile, span: TextSpan): Location {
    return Location.create(pathToUri(entry.file), this.range(entry.parsed, span));
  }

  private fileLocation(file: string): Location {
    return Location.create(pathToUri(file), Range.create(0, 0, 0, 0));
  }

  // ---------------------------------------------------------------- symbols

  documentSymbols(uri: string): DocumentSymbol[] {
    const found = this.fileOf(uri);
    if (!found) return [];
    const { parsed } = found.entry;
    const symbols: DocumentSymbol[] = [];
    if (parsed.includes.length) {
      const first = parsed.includes[0].span;
      const last = parsed.includes[parsed.includes.length - 1].span;
      symbols.push(
        DocumentSymbol.create(
          'include',
          parsed.includes.map((i) => i.module).join(', '),
          SymbolKind.Namespace,
          this.range(parsed, { start: first.start, end: last.end }),
          this.range(parsed, first),
          parsed.includes.map((i) => DocumentSymbol.create(i.module, undefined, SymbolKind.Module, this.range(parsed, i.span), this.range(parsed, i.span))),
        ),
      );
    }
    for (const state of parsed.states) {
      const children = state.functions.map((f) => {
        const name = f.fun ? `${f.module}.${f.fun}` : f.module;
        return DocumentSymbol.create(name, undefined, SymbolKind.Function, this.range(parsed, f.span), this.range(parsed, f.span));
      });
      const range = this.range(parsed, state.extent);
      const selection = this.range(parsed, state.span);
      symbols.push(DocumentSymbol.create(state.id, this.functionNames(state.functions), SymbolKind.Class, range, selection, children));
    }
    for (const extend of parsed.extends) {
      const r = this.range(parsed, extend.span);
      symbols.push(DocumentSymbol.create(`extend ${extend.id}`, this.functionNames(extend.functions), SymbolKind.Interface, r, r));
    }
    for (const top of parsed.topEntries) {
      const r = this.range(parsed, top.span);
      symbols.push(DocumentSymbol.create(top.module, `${top.saltenv}: ${top.target}`, SymbolKind.Module, r, r));
    }
    return symbols;
  }

  private functionNames(functions: StateFunction[]): string {
    return functions.map((f) => (f.fun ? `${f.module}.${f.fun}` : f.module)).join(', ');
  }

  workspaceSymbols(query: string, limit = 500): SymbolInformation[] {
    const needle = query.toLowerCase();
    const matches = (id: string) => {
      if (!needle) return true;
      const hay = id.toLowerCase();
      let at = 0;
      for (const c of needle) {
        at = hay.indexOf(c, at);
        if (at < 0) return false;
        at++;
      }
      return true;
    };
    const out: SymbolInformation[] = [];
    for (const tree of this.trees) {
      for (const entry of tree.all()) {
        for (const state of entry.parsed.states) {
          if (!matches(state.id)) continue;
          out.push(SymbolInformation.create(state.id, SymbolKind.Class, this.range(entry.parsed, state.span), pathToUri(entry.file), entry.module ?? relative(tree.root, entry.file)));
          if (out.length >= limit) return out;
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- definition and references

  private within = (span: TextSpan, offset: number) => span.start <= offset && offset <= span.end;

  definition(uri: string, position: Position): Location[] {
    const path = uriToPath(uri);
    if (path && isTemplate(path)) return this.templateDefinition(path, position);
    const found = this.fileOf(uri);
    if (!found) return [];
    const { tree, entry } = found;
    const { parsed } = entry;
    const offset = parsed.lines.offset(position.line, position.character);
    for (const include of parsed.includes) {
      if (!this.within(include.span, offset)) continue;
      const target = tree.includeTarget(entry, include);
      return target ? [this.fileLocation(target)] : [];
    }
    for (const top of parsed.topEntries) {
      if (!this.within(top.span, offset)) continue;
      const target = tree.fileForModule(top.module);
      return target ? [this.fileLocation(target)] : [];
    }
    for (const url of parsed.saltUrls) {
      if (!this.within(url.span, offset)) continue;
      const target = join(tree.root, ...url.path.split('/'));
      return existsSync(target) ? [this.fileLocation(target)] : [];
    }
    for (const imp of parsed.jinjaImports) {
      if (!this.within(imp.span, offset)) continue;
      const target = this.jinjaImportFile(tree, entry.file, imp.path);
      return target ? [this.fileLocation(target)] : [];
    }
    const jinjaName = jinjaIdentifierAt(parsed.source, parsed.jinja, offset);
    if (jinjaName) return this.jinjaDefinition(tree, entry.file, parsed.source, parsed.jinja, jinjaName, offset);
    for (const requisite of parsed.requisites) {
      if (!this.within(requisite.span, offset)) continue;
      if (requisite.module === 'sls') {
        const target = tree.fileForModule(tree.resolveIncludeName(entry, requisite.target));
        return target ? [this.fileLocation(target)] : [];
      }
      return this.targetHits(tree, entry, requisite.target, requisite.module).map((h) => this.location(h.file, h.state.span));
    }
    for (const extend of parsed.extends) {
      if (!this.within(extend.span, offset)) continue;
      return this.targetHits(tree, entry, extend.id).map((h) => this.location(h.file, h.state.span));
    }
    for (const state of parsed.states) {
      if (this.within(state.span, offset)) return [this.location(entry, state.span)];
    }
    return [];
  }

  /** Where a Jinja name is bound: in this file (the binding before the cursor), or in the template it is imported from. */
  private jinjaDefinition(tree: StateTree, file: string, source: string, tags: readonly JinjaTag[], name: string, offset: number): Location[] {
    const bindings = jinjaNames(source, tags).filter((n) => n.name === name);
    const before = bindings.filter((n) => n.start <= offset);
    const binding = before[before.length - 1] ?? bindings[0];
    if (!binding) return [];
    const lines = new LineIndex(source);
    const here = Location.create(pathToUri(file), Range.create(lines.position(binding.start), lines.position(binding.end)));
    if (!binding.from) return [here];
    const target = this.jinjaImportFile(tree, file, binding.from.path);
    if (!target) return [here];
    if (!binding.from.original) return [this.fileLocation(target)];
    let text: string;
    try {
      text = this.templates.get(target) ?? readFileSync(target, 'utf8');
    } catch {
      return [here];
    }
    const there = jinjaNames(text, scanJinja(text)).find((n) => n.name === binding.from?.original && n.kind !== 'import');
    if (!there) return [this.fileLocation(target)];
    const targetLines = new LineIndex(text);
    return [Location.create(pathToUri(target), Range.create(targetLines.position(there.start), targetLines.position(there.end)))];
  }

  /** Definition in a `.jinja` template: its imports' files and its Jinja names. */
  private templateDefinition(file: string, position: Position): Location[] {
    let text: string;
    try {
      text = this.templates.get(file) ?? readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    const tree = this.treeFor(file);
    const tags = scanJinja(text);
    const offset = new LineIndex(text).offset(position.line, position.character);
    const imp = jinjaImportPaths(text, tags).find((i) => i.start <= offset && offset <= i.end);
    if (imp) {
      const target = this.jinjaImportFile(tree, file, imp.path);
      return target ? [this.fileLocation(target)] : [];
    }
    const name = jinjaIdentifierAt(text, tags, offset);
    return name ? this.jinjaDefinition(tree, file, text, tags, name, offset) : [];
  }

  /** A requisite or extend target among the included files first, then anywhere in the tree. */
  private targetHits(tree: StateTree, entry: TreeFile, target: string, module?: string): StateHit[] {
    const near = tree.findTarget(tree.closure(entry.file), target, module);
    return near.length ? near : tree.findTarget(tree.all(), target, module);
  }

  private jinjaImportFile(tree: StateTree, from: string, path: string): string | undefined {
    const candidates = path.startsWith('./') || path.startsWith('../') ? [resolve(dirname(from), path)] : [join(tree.root, path), resolve(dirname(from), path)];
    return candidates.find((c) => existsSync(c) && statSync(c).isFile());
  }

  /** The state ID under the cursor: a declaration, a requisite target or an extend entry. */
  private idAt(entry: TreeFile, offset: number): string | undefined {
    const { parsed } = entry;
    for (const state of parsed.states) if (!state.templated && this.within(state.span, offset)) return state.id;
    for (const r of parsed.requisites) if (r.module !== 'sls' && this.within(r.span, offset)) return r.target;
    for (const e of parsed.extends) if (this.within(e.span, offset)) return e.id;
    return undefined;
  }

  /** The ID under the cursor wherever this file names it: its declaration (write) and requisites, extend entries (read). */
  highlights(uri: string, position: Position): DocumentHighlight[] {
    const found = this.fileOf(uri);
    if (!found) return [];
    const { parsed } = found.entry;
    const id = this.idAt(found.entry, parsed.lines.offset(position.line, position.character));
    if (!id) return [];
    const out: DocumentHighlight[] = [];
    for (const state of parsed.states) if (!state.templated && state.id === id) out.push(DocumentHighlight.create(this.range(parsed, state.span), DocumentHighlightKind.Write));
    for (const r of parsed.requisites) if (r.module !== 'sls' && r.target === id) out.push(DocumentHighlight.create(this.range(parsed, r.span), DocumentHighlightKind.Read));
    for (const e of parsed.extends) if (e.id === id) out.push(DocumentHighlight.create(this.range(parsed, e.span), DocumentHighlightKind.Read));
    return out;
  }

  /** The ID under the cursor can be renamed when it is a plain (not Jinja-made) ID. */
  prepareRename(uri: string, position: Position): Range | null {
    const found = this.fileOf(uri);
    if (!found) return null;
    const { parsed } = found.entry;
    const offset = parsed.lines.offset(position.line, position.character);
    const spans = [
      ...parsed.states.filter((st) => !st.templated).map((st) => st.span),
      ...parsed.requisites.filter((r) => r.module !== 'sls' && !r.templated).map((r) => r.span),
      ...parsed.extends.filter((e) => !e.templated).map((e) => e.span),
    ];
    const span = spans.find((sp) => this.within(sp, offset));
    return span ? this.range(parsed, span) : null;
  }

  /** Renames a state ID everywhere the tree names it: declarations, requisites, extend entries. */
  rename(uri: string, position: Position, newName: string): WorkspaceEdit | null {
    const found = this.fileOf(uri);
    if (!found || !this.prepareRename(uri, position)) return null;
    const { tree, entry } = found;
    const id = this.idAt(entry, entry.parsed.lines.offset(position.line, position.character));
    if (!id || !newName.trim()) return null;
    const changes: Record<string, TextEdit[]> = {};
    const edit = (file: TreeFile, span: TextSpan) => (changes[pathToUri(file.file)] ??= []).push(TextEdit.replace(this.range(file.parsed, span), newName));
    for (const hit of tree.declarations(id)) if (!hit.state.templated) edit(hit.file, hit.state.span);
    for (const ref of tree.references(id)) {
      const span = ref.requisite?.span ?? ref.extend?.span;
      if (span) edit(ref.file, span);
    }
    return { changes };
  }

  references(uri: string, position: Position, includeDeclaration: boolean): Location[] {
    const found = this.fileOf(uri);
    if (!found) return [];
    const { tree, entry } = found;
    const id = this.idAt(entry, entry.parsed.lines.offset(position.line, position.character));
    if (!id) return [];
    const out: Location[] = [];
    if (includeDeclaration) for (const hit of tree.declarations(id)) out.push(this.location(hit.file, hit.state.span));
    for (const ref of tree.references(id)) {
      const span = ref.requisite?.span ?? ref.extend?.span;
      if (span) out.push(this.location(ref.file, span));
    }
    return out;
  }

  // ---------------------------------------------------------------- completion

  completion(uri: string, position: Position): CompletionItem[] {
    const found = this.fileOf(uri);
    if (!found) return [];
    const { tree, entry } = found;
    const { parsed } = entry;
    const offset = parsed.lines.offset(position.line, position.character);
    // A position past the end of its line (clients may send one) is read as the line's end.
    position = parsed.lines.position(offset);
    const context = cursorContext(parsed, offset);
    const replace = (start: number) => Range.create(parsed.lines.position(start), position);

    // Nothing to offer inside a comment.
    if (/(^|\s)#/.test(parsed.blanked.slice(parsed.lines.starts[position.line], offset))) return [];
    const salt = /salt:\/\/([^\s'"]*)$/.exec(context.prefix);
    if (salt) return this.saltPathItems(tree, salt[1], position);

    const keys = context.ancestors.map((a) => a.key);
    const range = replace(context.wordStart);
    if (entry.isTop) return keys.length >= 2 && context.listItem ? this.moduleItems(tree, range) : [];
    if (keys.length === 0) {
      if (!/^[\w-]*$/.test(context.typed)) return [];
      return ['include', 'extend', 'exclude'].map((k) => ({ label: k, kind: CompletionItemKind.Keyword, insertText: `${k}:\n  - `, textEdit: TextEdit.replace(range, `${k}:\n  - `) }));
    }
    if (keys[0] === 'include') return context.listItem ? this.moduleItems(tree, range) : [];
    const body = keys[0] === 'extend' ? keys.slice(2) : keys.slice(1);
    if (keys[0] === 'extend' && keys.length === 1) return this.stateIdItems(tree, entry, range, false);
    // Inside a state (or an extend entry): [function, argument, ...]
    if (body.length === 0) return this.functionItems(range, context.listItem);
    const [fnKey, argKey] = body;
    if (body.length === 1 && context.listItem) {
      if (context.inlineKey) {
        return [];
      }
      return this.argumentItems(fnKey, range, entry, offset);
    }
    if (body.length === 2 && isRequisiteKeyword(argKey) && context.listItem) {
      if (context.inlineKey === 'sls') return this.moduleItems(tree, range);
      if (context.inlineKey) return this.stateIdItems(tree, entry, range, false, context.inlineKey);
      return [...this.stateIdItems(tree, entry, range, true), { label: 'sls', kind: CompletionItemKind.Keyword, detail: 'require a whole SLS module', textEdit: TextEdit.replace(range, 'sls: ') }];
    }
    return [];
  }

  private moduleItems(tree: StateTree, range: Range): CompletionItem[] {
    return tree.modules().map((m) => ({ label: m, kind: CompletionItemKind.Module, detail: relative(tree.root, tree.fileForModule(m) ?? m), textEdit: TextEdit.replace(range, m) }));
  }

  /** `file.managed` and friends; choosing one writes the function with its required arguments to fill in. */
  private functionItems(range: Range, listItem: boolean): CompletionItem[] {
    if (!this.catalogue || listItem) return [];
    const items: CompletionItem[] = [];
    for (const [name, fn] of Object.entries(this.catalogue.functions)) {
      const required = fn.args.filter((a) => a.default === undefined);
      // Snippet lines are indented relative to the line (the editor adds the line's own indentation).
      const snippet = [`${name}:`, ...required.map((a, i) => `  - ${a.name}: \${${i + 1}}`)].join('\n');
      items.push({
        label: name,
        kind: CompletionItemKind.Function,
        detail: signature(name, fn.args.map((a) => a.name)),
        textEdit: TextEdit.replace(range, snippet),
        insertTextFormat: InsertTextFormat.Snippet,
        data: { fn: name },
      });
    }
    return items;
  }

  private argumentItems(fnKey: string, range: Range, entry: TreeFile, offset: number): CompletionItem[] {
    const items: CompletionItem[] = [];
    const seen = new Set<string>();
    const add = (label: string, kind: CompletionItemKind, detail?: string, sortText?: string) => {
      if (seen.has(label)) return;
      seen.add(label);
      items.push({ label, kind, detail, sortText, textEdit: TextEdit.replace(range, `${label}: `) });
    };
    let fnName = fnKey.includes('.') ? fnKey : undefined;
    if (!fnName) {
      // `pkg:` list form: the function is an item of the list (or still to be chosen).
      const state = entry.parsed.states.find((s) => s.extent.start <= offset && offset <= s.extent.end);
      const chosen = state?.functions.find((f) => f.module === fnKey)?.fun;
      if (chosen) fnName = `${fnKey}.${chosen}`;
      else if (this.catalogue) {
        for (const fun of functionsOfModule(this.catalogue, fnKey)) {
          items.push({ label: fun, kind: CompletionItemKind.Function, detail: `${fnKey}.${fun}`, textEdit: TextEdit.replace(range, fun), sortText: `0${fun}` });
        }
      }
    }
    const fn = fnName ? this.catalogue?.functions[fnName] : undefined;
    for (const arg of fn?.args ?? []) add(arg.name, CompletionItemKind.Property, arg.default === undefined ? 'required' : `default ${arg.default}`, `1${arg.name}`);
    for (const keyword of ALL_REQUISITE_FORMS) add(keyword, CompletionItemKind.Keyword, 'requisite', `2${keyword}`);
    for (const arg of GLOBAL_ARGS) add(arg, CompletionItemKind.Property, 'global state argument', `3${arg}`);
    return items;
  }

  /** State IDs in reach of the file, as `module: id` (one per state module of the state) or bare IDs. */
  private stateIdItems(tree: StateTree, entry: TreeFile, range: Range, withModule: boolean, module?: string): CompletionItem[] {
    const items: CompletionItem[] = [];
    const seen = new Set<string>();
    for (const file of tree.closure(entry.file)) {
      for (const state of file.parsed.states) {
        if (state.templated) continue;
        const modules = [...new Set(state.functions.map((f) => f.module))];
        if (module && modules.length && !modules.includes(module)) continue;
        const labels = withModule && modules.length ? modules.map((m) => `${m}: ${state.id}`) : [state.id];
        for (const label of labels) {
          if (seen.has(label)) continue;
          seen.add(label);
          items.push({
            label,
            kind: CompletionItemKind.Reference,
            detail: `${this.functionNames(state.functions)} (${file.module ?? relative(tree.root, file.file)})`,
            filterText: withModule ? `${state.id} ${label}` : state.id,
            textEdit: TextEdit.replace(range, label),
          });
        }
      }
    }
    return items;
  }

  private saltPathItems(tree: StateTree, typed: string, position: Position): CompletionItem[] {
    const slash = typed.lastIndexOf('/');
    const dirPart = slash >= 0 ? typed.slice(0, slash) : '';
    const dir = join(tree.root, ...dirPart.split('/').filter(Boolean));
    if (!resolve(dir).startsWith(tree.root)) return [];
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    const partial = typed.slice(slash + 1);
    const range = Range.create(Position.create(position.line, position.character - partial.length), position);
    const items: CompletionItem[] = [];
    for (const name of names.sort()) {
      if (name.startsWith('.')) continue;
      let isDir = false;
      try {
        isDir = statSync(join(dir, name)).isDirectory();
      } catch {
        continue;
      }
      items.push({
        label: isDir ? `${name}/` : name,
        kind: isDir ? CompletionItemKind.Folder : CompletionItemKind.File,
        textEdit: TextEdit.replace(range, isDir ? `${name}/` : name),
        command: isDir ? { title: 'more', command: 'editor.action.triggerSuggest' } : undefined,
      });
    }
    return items;
  }

  resolveCompletion(item: CompletionItem): CompletionItem {
    const fnName = (item.data as { fn?: string } | undefined)?.fn;
    const fn = fnName ? this.catalogue?.functions[fnName] : undefined;
    if (fnName && fn) item.documentation = { kind: MarkupKind.Markdown, value: functionMarkdown(fnName, fn.args, fn.doc) };
    return item;
  }

  // ---------------------------------------------------------------- hover

  hover(uri: string, position: Position): Hover | null {
    const found = this.fileOf(uri);
    if (!found) return null;
    const { tree, entry } = found;
    const { parsed } = entry;
    const offset = parsed.lines.offset(position.line, position.character);
    const all = [...parsed.states.flatMap((s) => s.functions.map((f) => ({ f, owner: s.id }))), ...parsed.extends.flatMap((e) => e.functions.map((f) => ({ f, owner: e.id })))];
    for (const { f } of all) {
      const onFunction = this.within(f.span, offset) || (f.funSpan && this.within(f.funSpan, offset));
      if (onFunction && f.fun) {
        const name = `${f.module}.${f.fun}`;
        const fn = this.catalogue?.functions[name];
        const value = fn ? functionMarkdown(name, fn.args, fn.doc) : this.catalogue ? `\`${name}\`: not a state function of Salt ${this.catalogue.saltVersion}` : `\`${name}\`\n\n_No state catalogue: docs and arguments need a Python with Salt (see "Salt Containers: Refresh State Catalogue")._`;
        return { contents: { kind: MarkupKind.Markdown, value }, range: this.range(parsed, this.within(f.span, offset) ? f.span : (f.funSpan ?? f.span)) };
      }
      for (const arg of f.args) {
        if (!this.within(arg.span, offset) || !f.fun) continue;
        const fn = this.catalogue?.functions[`${f.module}.${f.fun}`];
        const known = fn?.args.find((a) => a.name === arg.name);
        let value: string;
        if (isRequisiteKeyword(arg.name)) value = `**${arg.name}**: requisite`;
        else if (known) {
          value = `**${arg.name}** of \`${f.module}.${f.fun}\`${known.default === undefined ? ' (required)' : ` = \`${known.default}\``}`;
          const about = fn && argumentDoc(fn.doc, arg.name);
          if (about) value += `\n\n${about.slice(0, 3000)}`;
        }
        else if (GLOBAL_ARGS.includes(arg.name)) value = `**${arg.name}**: global state argument`;
        else continue;
        return { contents: { kind: MarkupKind.Markdown, value }, range: this.range(parsed, arg.span) };
      }
    }
    for (const requisite of parsed.requisites) {
      if (!this.within(requisite.span, offset) || requisite.module === 'sls') continue;
      const hits = this.targetHits(tree, entry, requisite.target, requisite.module);
      const value = hits.length
        ? hits.map((h) => `\`${h.state.id}\`: ${this.functionNames(h.state.functions)} in \`${h.file.module ?? relative(tree.root, h.file.file)}\``).join('\n\n')
        : `\`${requisite.target}\`: not found`;
      return { contents: { kind: MarkupKind.Markdown, value }, range: this.range(parsed, requisite.span) };
    }
    for (const include of parsed.includes) {
      if (!this.within(include.span, offset)) continue;
      const target = tree.includeTarget(entry, include);
      const value = target ? `\`${tree.resolveIncludeName(entry, include.module)}\`: ${relative(tree.root, target)}` : `\`${include.module}\`: not found`;
      return { contents: { kind: MarkupKind.Markdown, value }, range: this.range(parsed, include.span) };
    }
    for (const state of parsed.states) {
      if (!this.within(state.span, offset)) continue;
      const lines = [`**${state.id}**: ${this.functionNames(state.functions) || 'no state function'}`];
      if (state.templated) lines.push('The ID is made by Jinja: one state per value it takes.');
      else {
        const refs = tree.references(state.id).length;
        lines.push(`${refs} reference${refs === 1 ? '' : 's'} in the state tree`);
      }
      return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n\n') }, range: this.range(parsed, state.span) };
    }
    return null;
  }

  // ---------------------------------------------------------------- diagnostics

  diagnostics(uri: string): Diagnostic[] {
    const found = this.fileOf(uri);
    if (!found) return [];
    const { tree, entry } = found;
    const { parsed } = entry;
    const out: Diagnostic[] = [];
    const add = (span: TextSpan, message: string, severity: DiagnosticSeverity, code: string, data?: DiagnosticData) => {
      const d = Diagnostic.create(this.range(parsed, span), message, severity, code, DIAGNOSTIC_SOURCE);
      if (data) d.data = data;
      out.push(d);
    };
    const severities = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, information: DiagnosticSeverity.Information };
    for (const p of parsed.problems) add(p.span, p.message, severities[p.severity], p.code);
    if (parsed.renderer) return out;

    for (const include of parsed.includes) {
      if (include.templated) continue;
      if (!tree.includeTarget(entry, include)) {
        const name = tree.resolveIncludeName(entry, include.module);
        if (tree.isForeignModule(name)) {
          add(include.span, `Included SLS '${name}' is not in this formula: another formula provides it where they run together`, DiagnosticSeverity.Information, 'foreign-include');
          continue;
        }
        const near = closest(name, tree.modules());
        add(
          include.span,
          `Included SLS '${name}' not found (looked for ${name.replace(/\./g, '/')}.sls and ${name.replace(/\./g, '/')}/init.sls)`,
          DiagnosticSeverity.Error,
          'unresolved-include',
          near.length ? { fix: { kind: 'replace', with: near } } : undefined,
        );
      }
    }
    for (const top of parsed.topEntries) {
      if (!top.templated && !tree.fileForModule(top.module)) add(top.span, `SLS '${top.module}' not found in the state tree`, DiagnosticSeverity.Error, 'unresolved-include');
    }

    const closure = tree.closure(entry.file);
    // Requisites and extend entries are judged as Salt runs them: any run that applies this file.
    const runContext = tree.runContext(entry.file);
    const inReach = new StateLookup(runContext);
    // A run that includes a module this tree lacks (another formula's) may hold any state.
    const foreign = (f: TreeFile, module: string) => !tree.fileForModule(tree.resolveIncludeName(f, module)) && tree.isForeignModule(tree.resolveIncludeName(f, module));
    const runIncludesForeign = runContext.some(
      (f) => f.parsed.includes.some((i) => !i.templated && foreign(f, i.module)) || f.parsed.requisites.some((r) => r.module === 'sls' && !r.templated && foreign(f, r.target)),
    );
    for (const requisite of parsed.requisites) {
      if (requisite.templated || /[*?[]/.test(requisite.target)) continue;
      if (requisite.module === 'sls') {
        const name = tree.resolveIncludeName(entry, requisite.target);
        if (tree.fileForModule(name)) continue;
        if (tree.isForeignModule(name)) add(requisite.span, `SLS '${name}' is not in this formula: another formula provides it where they run together`, DiagnosticSeverity.Information, 'foreign-requisite');
        else add(requisite.span, `SLS '${requisite.target}' not found`, DiagnosticSeverity.Warning, 'unresolved-requisite');
        continue;
      }
      if (inReach.find(requisite.target, requisite.module).length) continue;
      const kind = requisite.module ? `${requisite.module} state` : 'state';
      if (inReach.mayBeNamed(requisite.target, requisite.module).length) {
        add(requisite.span, `${requisite.keyword}: no ${kind} with the ID '${requisite.target}'; a state whose name Jinja makes may be it`, DiagnosticSeverity.Information, 'unresolved-requisite');
        continue;
      }
      if (runIncludesForeign) {
        add(requisite.span, `${requisite.keyword}: '${requisite.target}' is not in this formula; the other formulas its runs include may declare it`, DiagnosticSeverity.Information, 'foreign-requisite');
        continue;
      }
      const elsewhere = tree.findTarget(tree.all(), requisite.target, requisite.module).filter((h) => h.file.module);
      if (elsewhere.length) {
        const module = elsewhere[0].file.module as string;
        add(requisite.span, `${requisite.keyword}: ${kind} '${requisite.target}' is declared in '${module}', which no run of this file applies (nothing that applies this file includes it)`, DiagnosticSeverity.Warning, 'unresolved-requisite', { fix: { kind: 'include', module } });
      } else {
        add(requisite.span, `${requisite.keyword}: no ${kind} '${requisite.target}' in any run of this file (this file, what includes it and what they include)`, DiagnosticSeverity.Warning, 'unresolved-requisite');
      }
    }
    for (const extend of parsed.extends) {
      if (extend.templated) continue;
      if (!inReach.find(extend.id).some((h) => h.state.id === extend.id || h.state.templated))
        add(extend.span, `extend: no state '${extend.id}' in any run of this file`, DiagnosticSeverity.Error, 'unresolved-extend');
    }

    // Duplicate IDs: in this file outside Jinja blocks (Salt refuses them), and across included files.
    const seen = new Map<string, number>();
    const included = new StateLookup(closure.slice(1));
    for (const state of parsed.states) {
      if (state.templated) continue;
      const other = included.has(state.id) ? included.find(state.id)[0].file : undefined;
      if (other) {
        add(state.span, `ID '${state.id}' is also declared in '${other.module ?? relative(tree.root, other.file)}' (included): Salt reports conflicting IDs`, DiagnosticSeverity.Error, 'duplicate-id');
      }
      if (state.inJinjaBlock) continue;
      const count = (seen.get(state.id) ?? 0) + 1;
      seen.set(state.id, count);
      if (count === 2) add(state.span, `ID '${state.id}' is declared twice in this file`, DiagnosticSeverity.Error, 'duplicate-id');
    }

    for (const url of parsed.saltUrls) {
      if (url.templated || !url.path) continue;
      if (!existsSync(join(tree.root, ...url.path.split('/')))) add(url.span, `${url.url}: no such file in the state tree`, DiagnosticSeverity.Warning, 'unresolved-salt-url');
    }
    for (const imp of parsed.jinjaImports) {
      if (!this.jinjaImportFile(tree, entry.file, imp.path)) add(imp.span, `Jinja import '${imp.path}': no such file in the state tree`, DiagnosticSeverity.Warning, 'unresolved-import');
    }

    if (this.catalogue && this.catalogueModules) {
      const custom = customStateModules(tree.root);
      const shipped = new Set(this.catalogue.shippedModules ?? []);
      for (const state of [...parsed.states, ...parsed.extends]) {
        for (const f of state.functions) {
          // A name Jinja makes is not known until rendered; one in a branch for other Salt versions is not for this one.
          if (f.templated || f.versionGuarded || custom.has(f.module)) continue;
          // Shipped with Salt but not loadable on the host (a missing library): the container may load it.
          if (!this.catalogueModules.has(f.module) && shipped.has(f.module)) continue;
          if (!f.fun) {
            if (!('extent' in state)) continue; // extend entries may leave the function out
            add(f.span, `No function given for state module '${f.module}' (e.g. ${f.module}.${functionsOfModule(this.catalogue, f.module)[0] ?? 'fun'})`, DiagnosticSeverity.Error, 'missing-function');
            continue;
          }
          const name = `${f.module}.${f.fun}`;
          if (this.catalogue.functions[name]) continue;
          const span = f.funSpan ?? f.span;
          const suggestions = closest(name, Object.keys(this.catalogue.functions));
          const replacement = f.funSpan && f.funSpan !== f.span ? suggestions.map((s) => s.slice(f.module.length + 1)).filter((s) => !s.includes('.')) : suggestions;
          const fix = replacement.length ? { fix: { kind: 'replace' as const, with: replacement } } : undefined;
          // A function a known module lacks is certain; a module Salt lacks may come from a Salt extension or another tree's _states/.
          if (this.catalogueModules.has(f.module)) add(span, `Unknown state function '${name}' (Salt ${this.catalogue.saltVersion})`, DiagnosticSeverity.Warning, 'unknown-function', fix);
          else add(span, `State module '${f.module}' is not in Salt ${this.catalogue.saltVersion}: it needs a Salt extension or a custom module in _states/`, DiagnosticSeverity.Information, 'unknown-module', fix);
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- quick fixes

  codeActions(uri: string, diagnostics: Diagnostic[]): CodeAction[] {
    const found = this.fileOf(uri);
    if (!found) return [];
    const { parsed } = found.entry;
    const actions: CodeAction[] = [];
    for (const diagnostic of diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
      const fix = (diagnostic.data as DiagnosticData | undefined)?.fix;
      if (!fix) continue;
      if (fix.kind === 'replace') {
        for (const replacement of fix.with.slice(0, 3)) {
          const action = CodeAction.create(`Change to '${replacement}'`, { changes: { [uri]: [TextEdit.replace(diagnostic.range, replacement)] } }, CodeActionKind.QuickFix);
          action.diagnostics = [diagnostic];
          action.isPreferred = fix.with.length === 1;
          actions.push(action);
        }
      } else if (fix.kind === 'include') {
        const action = CodeAction.create(`Include '${fix.module}'`, { changes: { [uri]: [this.includeEdit(parsed, fix.module)] } }, CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.isPreferred = true;
        actions.push(action);
      }
    }
    return actions;
  }

  /** Adds `module` to the include list, making the list when there is none. */
  private includeEdit(parsed: ParsedSls, module: string): TextEdit {
    const last = parsed.includes[parsed.includes.length - 1];
    if (last) {
      const { line } = parsed.lines.position(last.span.start);
      const text = parsed.lines.lineText(line);
      const indent = /^\s*/.exec(text)?.[0] ?? '';
      return TextEdit.insert(Position.create(line + 1, 0), `${indent}- ${module}\n`);
    }
    // After a shebang and leading Jinja imports / comments.
    let line = 0;
    while (line < parsed.lines.lineCount) {
      const text = parsed.lines.lineText(line).trim();
      if (text.startsWith('#!') || text.startsWith('{%') || text.startsWith('{#')) line++;
      else break;
    }
    return TextEdit.insert(Position.create(line, 0), `include:\n  - ${module}\n\n`);
  }
}

/** Custom state modules shipped in the tree (`_states/foo.py` is the `foo` module). */
const customCache = new Map<string, { at: number; modules: Set<string> }>();
function customStateModules(root: string): Set<string> {
  const hit = customCache.get(root);
  if (hit && Date.now() - hit.at < 5000) return hit.modules;
  const modules = new Set<string>();
  try {
    for (const name of readdirSync(join(root, '_states'))) if (name.endsWith('.py')) modules.add(name.slice(0, -3));
  } catch {
    // no custom states
  }
  customCache.set(root, { at: Date.now(), modules });
  return modules;
}

function signature(name: string, args: string[]): string {
  return `${name}(${args.join(', ')})`;
}

/** Close names by edit distance (for "did you mean"). */
function closest(name: string, candidates: string[]): string[] {
  const scored = candidates.map((c) => ({ c, d: editDistance(name, c) })).filter((x) => x.d <= Math.max(2, Math.floor(name.length / 4)));
  return scored.sort((a, b) => a.d - b.d).slice(0, 3).map((x) => x.c);
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 4) return 99;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** Markdown for a state function: its doc's summary, the signature with defaults (wrapped), then the rest of the doc. */
export function functionMarkdown(name: string, args: { name: string; default?: string }[], doc: string): string {
  const params = args.map((a) => (a.default === undefined ? a.name : `${a.name}=${a.default}`));
  const lines: string[] = [];
  let line = `${name}(`;
  for (const [i, param] of params.entries()) {
    const piece = param + (i < params.length - 1 ? ', ' : '');
    if (line.length + piece.length > 80 && line.trim() !== `${name}(`) {
      lines.push(line.trimEnd());
      line = '    ';
    }
    line += piece;
  }
  lines.push(`${line})`);
  const paragraphs = rstToMarkdown(doc).split(/\n\s*\n/);
  // The summary is the first real paragraph, not a "Changed in version" note.
  let first = paragraphs.findIndex((p) => p.trim() && !/^(Changed|New|Deprecated) in version/i.test(p.trim()) && !p.startsWith('```'));
  if (first < 0) first = 0;
  const summary = paragraphs[first] ?? '';
  const rest = paragraphs.filter((_, i) => i !== first).join('\n\n');
  return [summary, `\`\`\`python\n${lines.join('\n')}\n\`\`\``, rest.slice(0, 6000)].filter((p) => p.trim() !== '').join('\n\n');
}

/** A docstring with its common indentation removed (the first line is often not indented). */
function dedentDoc(doc: string): string[] {
  const lines = doc.replace(/\t/g, '    ').split('\n');
  const indents = lines
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => l.length - l.trimStart().length);
  const common = indents.length ? Math.min(...indents) : 0;
  return lines.map((l, i) => (i === 0 ? l.trim() : l.slice(Math.min(common, l.length - l.trimStart().length))));
}

/**
 * Salt's reStructuredText docstrings made readable as Markdown: `.. code-block::` to fences, ``x`` to `x`,
 * argument entries (`name` then an indented description) to a bold name and a plain paragraph.
 */
function rstToMarkdown(doc: string): string {
  const lines = dedentDoc(doc);
  const out: string[] = [];
  /** Inside a code block: the indentation its lines are cut at. */
  let fence: number | undefined;
  /** Indentation of the prose around (a deeper block after a blank line is an example). */
  let prose = 0;
  let previousBlank = true;
  const indentOf = (l: string) => l.length - l.trimStart().length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const blank = line.trim() === '';
    const indent = indentOf(line);
    if (fence !== undefined && !blank && indent < fence) {
      while (out.length && out[out.length - 1] === '') out.pop();
      out.push('```', '');
      fence = undefined;
    }
    if (fence !== undefined) {
      out.push(line.slice(Math.min(line.length, fence)));
      previousBlank = blank;
      continue;
    }
    const code = /^(\s*)\.\. code-block::\s*(\w*)/.exec(line);
    if (code) {
      out.push(`\`\`\`${code[2] || 'text'}`);
      // Its lines start after the blank line that follows.
      const first = lines.slice(i + 1).find((l) => l.trim() !== '');
      fence = first ? indentOf(first) : code[1].length + 4;
      i++;
      continue;
    }
    if (!blank && previousBlank && indent >= prose + 4) {
      const block = lines.slice(i, lines.findIndex((l, j) => j > i && l.trim() !== '' && indentOf(l) < indent) >>> 0);
      out.push(block.some((l) => /:\s*$/.test(l) || /^\s*- /.test(l)) ? '```yaml' : '```text');
      fence = indent;
      out.push(line.slice(indent));
      previousBlank = false;
      continue;
    }
    previousBlank = blank;
    if (blank) {
      out.push('');
      continue;
    }
    prose = indent;
    const next = lines[i + 1] ?? '';
    if (/^[A-Za-z_][\w]*$/.test(line.trim()) && next.trim() && indentOf(next) > indent) {
      out.push(`**${line.trim()}**`, '');
      prose = indentOf(next);
      continue;
    }
    // Indented prose would be a code block in Markdown.
    out.push(line.trimStart().replace(/``([^`]+)``/g, '`$1`'));
  }
  if (fence !== undefined) out.push('```');
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/** The description of one argument in a state function's docstring (`name` then indented lines). */
export function argumentDoc(doc: string, name: string): string | undefined {
  const lines = dedentDoc(doc);
  // `name` alone on a line, or Sphinx's `:param str name: text`.
  const param = new RegExp(`^\\s*:param\\s+(?:[\\w.\\[\\], ]+\\s+)?${escapeRegExp(name)}:\\s*(.*)$`);
  const at = lines.findIndex((l) => l.trim() === name || param.test(l));
  if (at < 0) return undefined;
  const own = lines[at].length - lines[at].trimStart().length;
  const body: string[] = [];
  const inline = param.exec(lines[at])?.[1];
  if (inline) body.push(`${' '.repeat(own + 4)}${inline}`);
  for (const line of lines.slice(at + 1)) {
    if (line.trim() && line.length - line.trimStart().length <= own) break;
    body.push(line);
  }
  // A blank first line: the description's own first line is indented like the rest (see dedentDoc).
  const text = rstToMarkdown(['', ...body].join('\n'));
  return text || undefined;
}

export const isUnder = (root: string, file: string) => file === root || file.startsWith(root + sep);
const isTemplate = (file: string) => file.endsWith('.jinja') || file.endsWith('.j2');
