/**
 * What the SLS language features work over: the workspace's state trees (src/sls), its pillar trees (not
 * states), open templates and the state catalogue, with the few queries every feature shares (positions,
 * requisite targets). One module per feature uses it, in LSP types: symbols.ts, navigation.ts,
 * completion.ts, hover.ts, diagnostics.ts, actions.ts (as rust-analyzer's ide crate keeps one module per
 * feature). No I/O to the client here: main.ts wires the features to the connection.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve, win32, type PlatformPath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Location, Range } from 'vscode-languageserver';
import { canonicalPath, hostPath, isUnder } from '../sls/modules';
import { findRoots } from '../sls/roots';
import { StateTree, type TreeFile, type StateHit } from '../sls/tree';
import type { ParsedSls, TextSpan, StateFunction } from '../sls/parse';
import type { StateCatalogue } from '../sls/catalogue';

/**
 * A file URI's path, spelled as canonicalPath spells it. `path`: whose paths (default the host's), so
 * Windows' URIs (`file:///c%3A/Users/x/salt/web/init.sls`, `file:///C:/...`) are tested anywhere.
 */
export const uriToPath = (uri: string, path: PlatformPath = hostPath): string | undefined => {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return canonicalPath(fileURLToPath(uri, { windows: path === win32 }), path);
  } catch {
    return undefined;
  }
};
/** A path's file URI as VS Code spells it (on Windows `file:///c%3A/...`), so a client comparing URIs as text finds its own. */
export const pathToUri = (file: string, path: PlatformPath = hostPath): string =>
  pathToFileURL(file, { windows: path === win32 }).href.replace(/^file:\/\/\/([A-Za-z]):/, (_, drive: string) => `file:///${drive.toLowerCase()}%3A`);
export const isTemplate = (file: string) => file.endsWith('.jinja') || file.endsWith('.j2');

export class SlsService {
  private readonly trees: StateTree[] = [];
  /** The workspace folders' pillar trees: their .sls files are pillar data, not states. */
  private readonly pillarRoots: string[] = [];
  catalogue?: StateCatalogue;
  /** The state modules of the catalogue (`file`, `pkg`...). */
  catalogueModules?: Set<string>;

  constructor(
    folders: readonly string[],
    private readonly explicitRoots: { stateRoot?: string; pillarRoot?: string } = {},
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

  /** An editor's text for a file: an SLS file's model, or a template's text (the SLS files that import it are read again). */
  update(uri: string, text: string): TreeFile | undefined {
    const file = uriToPath(uri);
    if (!file) return undefined;
    if (isTemplate(file)) {
      this.treeFor(file).setTemplate(file, text);
      return undefined;
    }
    if (!file.endsWith('.sls') || this.isPillar(file)) return undefined;
    return this.treeFor(file).update(file, text);
  }

  /** An editor closed a template: its text is the disk's again. */
  forgetTemplate(uri: string) {
    const file = uriToPath(uri);
    if (file && isTemplate(file)) this.treeFor(file).setTemplate(file, undefined);
  }

  reload(uri: string) {
    const file = uriToPath(uri);
    if (!file) return;
    for (const tree of this.trees) if (tree.contains(file)) tree.reload(file);
  }

  /** A template's text as the editor has it, else as the disk has it. */
  templateText(file: string): string | undefined {
    return this.treeFor(file).templateText(file);
  }

  /** A file of a pillar tree (and of no state tree inside it). */
  private isPillar(file: string): boolean {
    return this.pillarRoots.some((root) => isUnder(root, file) && !this.trees.some((t) => t.root.length > root.length && t.contains(file)));
  }

  /** Pillar data Salt renders as an SLS: a pillar tree's .sls file, or a pillar file given as the whole pillar (a formula's pillar.example). */
  isPillarData(uri: string): boolean {
    const file = uriToPath(uri);
    return !!file && this.isPillar(file) && (file.endsWith('.sls') || this.pillarRoots.includes(file));
  }

  /** The SLS file a URI names, with its tree; undefined for anything that is not a state file. */
  file(uri: string): { tree: StateTree; entry: TreeFile } | undefined {
    const file = uriToPath(uri);
    if (!file || !file.endsWith('.sls') || this.isPillar(file)) return undefined;
    const tree = this.treeFor(file);
    const entry = tree.get(file);
    return entry ? { tree, entry } : undefined;
  }
}

// ---------------------------------------------------------------- what every feature asks

export const rangeOf = (parsed: ParsedSls, span: TextSpan): Range => Range.create(parsed.lines.position(span.start), parsed.lines.position(span.end));
export const locationOf = (entry: TreeFile, span: TextSpan): Location => Location.create(pathToUri(entry.file), rangeOf(entry.parsed, span));
export const fileLocation = (file: string): Location => Location.create(pathToUri(file), Range.create(0, 0, 0, 0));
export const within = (span: TextSpan, offset: number) => span.start <= offset && offset <= span.end;
export const functionNames = (functions: StateFunction[]): string => functions.map((f) => (f.fun ? `${f.module}.${f.fun}` : f.module)).join(', ');

/** A requisite or extend target where a run of the file has it first, then anywhere in the tree. */
export function targetHits(tree: StateTree, entry: TreeFile, target: string, module?: string): StateHit[] {
  const near = tree.findTarget(tree.runContext(entry.file), target, module);
  return near.length ? near : tree.findTarget(tree.all(), target, module);
}
