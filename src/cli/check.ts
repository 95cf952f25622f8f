/**
 * `salt-containers check`: the language server's diagnostics (src/server/diagnostics.ts: Jinja syntax as
 * Jinja reports it, YAML, includes, requisites, state functions...) over files or whole trees, for a
 * terminal, a pre-commit hook or CI. No engine and no container: the source alone. Errors and warnings
 * are reported; only errors fail (exit 1). With --container, Salt's own render and compile of each state
 * module checked too (saltFindings), nothing applied.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { diagnostics } from '../server/diagnostics';
import { pathToUri, SlsService } from '../server/service';
import { enclosingSaltFolder, findRoots, type SaltRoots } from '../sls/roots';
import { CatalogueUnavailable, getCatalogue, loadAnyCachedCatalogue, type CatalogueOptions } from '../sls/catalogue';
import { locateSaltRun, oneLine, withoutKnown } from '../sls/saltFindings';
import { locateRunError } from '../sls/locate';
import { isPillarDataFile, isUnder, moduleForFile } from '../sls/modules';
import { StateTree } from '../sls/tree';
import { parseRenderError, type CallRun, type RunControl } from '../engine';
import { relativeTo, type Style } from './format';

/** One finding in --json: 1-based line and column, as the human format prints them. */
export interface CheckFinding {
  file: string;
  line: number;
  column: number;
  severity: 'error' | 'warning';
  message: string;
  source: string;
  code?: string;
}

const TEMPLATE = /\.(sls|jinja|j2)$/;
const SKIPPED_FOLDERS = new Set(['.git', 'node_modules', '.venv', '.tox', '.kitchen']);

/** The templates below a folder (or the file itself), sorted; none that `excluded` names, nor below one. */
function templatesOf(path: string, excluded: (path: string) => boolean): string[] {
  if (excluded(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)) out.push(...templatesOf(child, excluded));
    else if (entry.isFile() && TEMPLATE.test(entry.name) && !excluded(child)) out.push(child);
  }
  return out.sort();
}

const CLI_CATALOGUE_HINT =
  'Give --container NAME or --image IMAGE to check with the engine\'s Salt (it also renders the states there), or set SALT_CONTAINERS_PYTHON to a Python that has Salt.';

export interface CheckOptions {
  /** Files and folders to check; none: the state tree and the pillar tree. */
  paths: string[];
  /** --states: the state tree (as for apply). */
  states?: string;
  /** --pillar: the pillar tree, or one pillar file (a formula's pillar.example), as for apply. */
  pillar?: string;
  cwd: string;
  /** --exclude: files and folders left out, named and found alike (cli/exclude.ts excludedUnder). */
  excluded?: (file: string) => boolean;
  /** Told when no state catalogue can be had (state functions are then not checked). */
  note?: (text: string) => void;
  /** With --container or --image: where Salt is made when this machine has none, so the catalogue comes from the engine's Salt. */
  catalogue?: Pick<CatalogueOptions, 'engine' | 'saltOn'>;
}

/** The diagnostics of every template the paths name, errors and warnings, in file and line order. */
export async function check(options: CheckOptions): Promise<{ files: number; findings: CheckFinding[]; checked: string[]; roots: SaltRoots }> {
  // The trees are the workspace's: --states says, else the Salt folder that holds the first path (or
  // the current folder), else the current folder as findRoots reads it.
  const folder = options.states ? options.cwd : (enclosingSaltFolder(resolve(options.cwd, options.paths[0] ?? '.')) ?? options.cwd);
  const explicit = { stateRoot: options.states, pillarRoot: options.pillar && resolve(options.cwd, options.pillar) };
  const roots = findRoots(folder, explicit);
  const service = new SlsService([folder], explicit);
  // As the language server: the newest cached catalogue, else the host Salt's or, with an engine, the
  // engine's (made once, then cached).
  let catalogue = loadAnyCachedCatalogue();
  if (!catalogue) {
    catalogue = await getCatalogue(options.catalogue).catch((error: Error) => {
      // The terminal's advice, not VS Code's settings and commands.
      const why = error instanceof CatalogueUnavailable ? `${error.reason}. ${CLI_CATALOGUE_HINT}` : error.message;
      options.note?.(`no state catalogue, so state functions are not checked: ${why}`);
      return undefined;
    });
  }
  service.setCatalogue(catalogue);
  const targets = options.paths.length ? options.paths.map((p) => resolve(options.cwd, p)) : [roots.stateRoot, ...(roots.pillarRoot ? [roots.pillarRoot] : [])];
  for (const target of targets) {
    if (!existsSync(target)) throw new Error(`${relativeTo(options.cwd, target)}: no such file or folder`);
    // A file named that Salt does not render as a template would be counted as checked, with nothing checked.
    if (!TEMPLATE.test(target) && target !== roots.pillarRoot && !statSync(target).isDirectory()) {
      const named = relativeTo(options.cwd, target);
      throw Object.assign(new Error(`${named}: not an SLS or Jinja file (.sls, .jinja, .j2)`), { hint: `A pillar file is checked as the pillar: --pillar ${named}` });
    }
  }
  const files = [...new Set(targets.flatMap((target) => templatesOf(target, options.excluded ?? (() => false))))];
  const findings: CheckFinding[] = [];
  for (const file of files) {
    const uri = pathToUri(file);
    const text = readFileSync(file, 'utf8');
    service.update(uri, text);
    const found = diagnostics(service, uri, text).sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
    for (const d of found) {
      if (d.severity !== DiagnosticSeverity.Error && d.severity !== DiagnosticSeverity.Warning) continue;
      findings.push({
        file: relativeTo(options.cwd, file),
        line: d.range.start.line + 1,
        column: d.range.start.character + 1,
        severity: d.severity === DiagnosticSeverity.Error ? 'error' : 'warning',
        message: d.message,
        source: d.source ?? 'sls',
        ...(d.code !== undefined ? { code: String(d.code) } : {}),
      });
    }
  }
  return { files: files.length, findings, checked: files, roots };
}

/** Salt's words for an SLS the tree lacks (an include, a top.sls entry). */
const MISSING_SLS = /^(?:Specified SLS (\S+) in saltenv \S+ is not available|No matching sls found for '([^']+)')/;

/** Top files of states: top.sls, a kitchen suite's state_top.sls (pillar_top.sls is pillar data). */
const TOP_FILE = /^(state[_-])?top\.sls$/;

/**
 * The files Salt's render starts from: those no other of `files` includes, in their order, and one file
 * of each include cycle, so that every file is reached. The rest are met through the includes Salt takes
 * for the container; `dispatched` are those only a templated include among its own sub-modules reaches
 * (a formula's OS dispatch: `pkgrepo.redhat` from `- .{{ grains.os_family|lower }}`), met only where
 * they apply.
 */
export function entryFiles(files: readonly string[], tree: Pick<StateTree, 'includersOf'>): { entries: string[]; dispatched: Set<string> } {
  const all = new Set(files);
  const includes = new Map<string, string[]>(files.map((f) => [f, []]));
  const dispatched = new Set<string>();
  const entries = files.filter((file) => {
    const { naming, dispatching } = tree.includersOf(file);
    const inSet = (by: string) => by !== file && all.has(by);
    const includers = [...naming.filter(inSet), ...dispatching.filter(inSet)];
    if (dispatching.some(inSet)) dispatched.add(file);
    for (const by of includers) includes.get(by)!.push(file);
    return includers.length === 0;
  });
  const reached = new Set<string>();
  const reach = (start: string) => {
    for (const queue = [start]; queue.length; ) {
      const file = queue.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      queue.push(...includes.get(file)!);
    }
  };
  entries.forEach(reach);
  for (const file of files) {
    if (reached.has(file)) continue;
    entries.push(file);
    reach(file);
  }
  return { entries, dispatched };
}

/** What saltFindings needs of the runner (the CLI's SaltRunner). */
interface ShowSlsRunner {
  call(container: string, fn: string, args: string[], kwargs: Record<string, string>, tree: SaltRoots, options: RunControl & { saltenv?: string }): Promise<CallRun>;
}

/**
 * Salt's own render and compile of the state modules among the files checked, in the container:
 * `state.show_sls MOD` of each entry module (entryFiles: the others are rendered through the includes
 * Salt takes for this container; Jinja with its grains and pillar, YAML, the high data; nothing
 * applied), one module at a time as `apply MOD` would meet it. Its errors become findings with source
 * 'salt', at the file and line sls/saltFindings.ts locateSaltRun finds; one at a line where the source
 * check already has an error is that error again, and is left out, as is one in a file --exclude
 * names. An engine or Salt that cannot run throws.
 */
export async function saltFindings(
  runner: ShowSlsRunner,
  container: string,
  checked: string[],
  tree: SaltRoots,
  source: CheckFinding[],
  options: { cwd: string; saltenv?: string; control: RunControl; excluded?: (file: string) => boolean },
): Promise<CheckFinding[]> {
  const stateTree = new StateTree(tree.stateRoot);
  const stateFiles = checked.filter(
    (file) =>
      file.endsWith('.sls') &&
      isUnder(tree.stateRoot, file) &&
      !(tree.pillarRoot && isUnder(tree.pillarRoot, file)) &&
      !isPillarDataFile(tree.stateRoot, file) &&
      // Top files (top.sls, a kitchen suite's state_top.sls) are not state modules.
      !TOP_FILE.test(basename(file)),
  );
  const { entries, dispatched } = entryFiles(stateFiles, stateTree);
  const moduleOf = (file: string) => moduleForFile(tree.stateRoot, file);
  const findings: CheckFinding[] = [];
  const known = source.filter((f) => f.severity === 'error').map((f) => ({ file: resolve(options.cwd, f.file), line: f.line - 1 }));
  let pillarFailed = false;
  /** Renders one module: its findings added; the modules its render met (none known when it failed). */
  const render = async (module: string): Promise<string[]> => {
    const run = await runner.call(container, 'state.show_sls', [module], {}, tree, { ...options.control, saltenv: options.saltenv, warm: true });
    // A pillar that does not render stops every module's render: its errors once, at the pillar's lines.
    const pillar = run.errors.filter((e) => e.pillar);
    if (pillar.length) {
      pillarFailed = true;
      const located = pillar.map((error) => {
        const at = locateRunError(tree, error, { mods: [module], highstate: false });
        return { error, file: at?.file ?? tree.pillarRoot ?? tree.stateRoot, line: at?.exact ? at.line : 0, exact: !!at?.exact, column: at?.column ?? 0 };
      });
      // A repeated key the source check found in a pillar file is that error again.
      for (const { error, file, line, exact, column } of withoutKnown(located, known)) {
        findings.push({
          file: relativeTo(options.cwd, file),
          line: line + 1,
          column: exact ? (error.column ?? column + 1) : 1,
          severity: 'error',
          message: oneLine(error.message),
          source: 'salt',
          code: 'pillar',
        });
      }
      return [module];
    }
    // show_sls returns the high data, or the list of what stopped it rendering or compiling.
    if (!Array.isArray(run.return)) {
      const failed = run.errors.find((e) => e.kind !== 'salt') ?? (run.return === undefined ? run.errors[0] : undefined);
      if (failed) throw Object.assign(new Error(`state.show_sls ${module} in ${container}: ${failed.message}`), { hint: failed.hint });
      const high = (run.return ?? {}) as Record<string, { __sls__?: unknown }>;
      return [module, ...Object.values(high).map((state) => String(state?.__sls__ ?? ''))];
    }
    const errors = run.return.map((m) => parseRenderError(String(m)));
    // A terminal has no related information: an error raised in an imported template is at the template's line.
    const located = locateSaltRun(tree, { errors, states: [] }, [module]).map((f) => (f.related ? { ...f, file: f.related.file, line: f.related.line, exact: true } : f));
    for (const found of withoutKnown(located, known)) {
      const error = errors.find((e) => oneLine(e.message) === found.message);
      known.push(found);
      // --exclude: nothing reported in the files it names, Salt's findings met through an include too
      // (a pillar that does not render is still reported: it stops every render).
      if (options.excluded?.(found.file)) continue;
      // A formula's include of another formula's module (as the language server says): Salt cannot
      // render it alone, and the formula is not at fault; a warning, so CI of the formula passes.
      const said = error && MISSING_SLS.exec(error.message);
      const missing = said ? (said[1] ?? said[2]) : undefined;
      const foreign = !!missing && !stateTree.fileForModule(missing) && stateTree.isForeignModule(missing);
      findings.push({
        file: relativeTo(options.cwd, found.file),
        line: found.exact ? found.line + 1 : 1,
        column: found.exact ? (error?.column ?? found.column + 1) : 1,
        severity: foreign ? 'warning' : 'error',
        message: foreign ? `${found.message} (${missing} is not in this formula: another formula provides it where they run together)` : found.message,
        source: 'salt',
        code: error?.kind ?? 'render',
      });
    }
    return [module];
  };
  const met = new Set<string>();
  for (const file of entries) {
    const module = moduleOf(file);
    if (module && !met.has(module)) for (const m of await render(module)) met.add(m);
    if (pillarFailed) return findings;
  }
  // An include the container's run did not take (a pillar switch, a failed render): the module alone,
  // as `apply MOD` would meet it; not the other systems' modules of an OS dispatch.
  for (const file of stateFiles) {
    const module = moduleOf(file);
    if (module && !met.has(module) && !dispatched.has(file)) for (const m of await render(module)) met.add(m);
    if (pillarFailed) return findings;
  }
  return findings;
}

/** `path:line:col: error: message [source]`, as compilers print them, then a count. */
export function formatFindings(findings: CheckFinding[], files: number, style: Style): string {
  const checked = `${files} file${files === 1 ? '' : 's'}`;
  const lines = findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.severity === 'error' ? style.red('error') : style.yellow('warning')}: ${f.message} [${f.source}]`);
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  lines.push(errors || warnings ? `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'} in ${checked}` : style.green(`no problems in ${checked}`));
  return lines.join('\n');
}
