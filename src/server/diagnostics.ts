/**
 * Diagnostics as sure as the source makes them: Jinja's own syntax error where Jinja would raise one (in
 * every .sls, .jinja and .j2 file, pillar files too), an error or a warning where the text outside Jinja
 * decides it (a YAML error, an include of a missing module, an unknown function, a requisite no run of the
 * file can satisfy), information at most where Jinja or another formula may decide otherwise. Requisites
 * are judged over the file's run contexts (tree.ts runContext).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, Range } from 'vscode-languageserver';
import { StateLookup, templateFile, type TreeFile } from '../sls/tree';
import { LineIndex, parseSls, type ParsedSls, type TextSpan } from '../sls/parse';
import { jinjaSyntaxErrors } from '../sls/jinjaSyntax';
import { functionsOfModule } from '../sls/catalogue';
import { isTemplate, rangeOf, uriToPath, type SlsService } from './service';

export const DIAGNOSTIC_SOURCE = 'sls';
export const JINJA_DIAGNOSTIC_SOURCE = 'jinja';

/** What a quick fix needs to know about its diagnostic (actions.ts). */
export interface DiagnosticData {
  fix?: { kind: 'include'; module: string } | { kind: 'replace'; with: string[] };
}

/**
 * The diagnostics of a document: `text` is its text where the caller has it (an editor's buffer: a pillar
 * file's is known only so), else the service's.
 */
export function diagnostics(service: SlsService, uri: string, text?: string): Diagnostic[] {
  const found = service.file(uri);
  const pillar = !found && service.isPillarData(uri);
  const jinja = jinjaDiagnostics(uri, text ?? found?.entry.parsed.source ?? templateText(service, uri), found?.entry.parsed.lines, pillar);
  if (!found) {
    // A pillar file: data, not states; its keys are loaded as a state file's are.
    const source = text ?? templateText(service, uri);
    if (pillar && source !== undefined) jinja.push(...duplicateKeyDiagnostics(uri, parseSls(source), false));
    return jinja;
  }
  const { tree, entry } = found;
  const { parsed } = entry;
  const out: Diagnostic[] = jinja;
  const add = (span: TextSpan, message: string, severity: DiagnosticSeverity, code: string, data?: DiagnosticData) => {
    const d = Diagnostic.create(rangeOf(parsed, span), message, severity, code, DIAGNOSTIC_SOURCE);
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

  // IDs also declared in an included file; IDs given twice in this file are repeated keys (below).
  const included = new StateLookup(closure.slice(1));
  for (const state of parsed.states) {
    if (state.templated) continue;
    const other = included.has(state.id) ? included.find(state.id)[0].file : undefined;
    if (other) {
      add(state.span, `ID '${state.id}' is also declared in '${other.module ?? relative(tree.root, other.file)}' (included): Salt reports conflicting IDs`, DiagnosticSeverity.Error, 'duplicate-id');
    }
  }
  out.push(...duplicateKeyDiagnostics(uri, parsed, true));

  for (const url of parsed.saltUrls) {
    if (url.templated || !url.path) continue;
    if (!existsSync(join(tree.root, ...url.path.split('/')))) add(url.span, `${url.url}: no such file in the state tree`, DiagnosticSeverity.Warning, 'unresolved-salt-url');
  }
  for (const imp of parsed.jinjaImports) {
    if (!templateFile(tree.root, entry.file, imp.path)) add(imp.span, `Jinja import '${imp.path}': no such file in the state tree`, DiagnosticSeverity.Warning, 'unresolved-import');
  }

  if (service.catalogue && service.catalogueModules) {
    const custom = customStateModules(tree.root);
    const shipped = new Set(service.catalogue.shippedModules ?? []);
    for (const state of [...parsed.states, ...parsed.extends]) {
      for (const f of state.functions) {
        // A name Jinja makes is not known until rendered; one in a branch for other Salt versions is not for this one.
        if (f.templated || f.versionGuarded || custom.has(f.module)) continue;
        // Shipped with Salt but not loadable on the host (a missing library): the container may load it.
        if (!service.catalogueModules.has(f.module) && shipped.has(f.module)) continue;
        if (!f.fun) {
          if (!('extent' in state)) continue; // extend entries may leave the function out
          add(f.span, `No function given for state module '${f.module}' (e.g. ${f.module}.${functionsOfModule(service.catalogue, f.module)[0] ?? 'fun'})`, DiagnosticSeverity.Error, 'missing-function');
          continue;
        }
        const name = `${f.module}.${f.fun}`;
        if (service.catalogue.functions[name]) continue;
        const span = f.funSpan ?? f.span;
        const suggestions = closest(name, Object.keys(service.catalogue.functions));
        const replacement = f.funSpan && f.funSpan !== f.span ? suggestions.map((s) => s.slice(f.module.length + 1)).filter((s) => !s.includes('.')) : suggestions;
        const fix = replacement.length ? { fix: { kind: 'replace' as const, with: replacement } } : undefined;
        // A function a known module lacks is certain; a module Salt lacks may come from a Salt extension or another tree's _states/.
        if (service.catalogueModules.has(f.module)) add(span, `Unknown state function '${name}' (Salt ${service.catalogue.saltVersion})`, DiagnosticSeverity.Warning, 'unknown-function', fix);
        else add(span, `State module '${f.module}' is not in Salt ${service.catalogue.saltVersion}: it needs a Salt extension or a custom module in _states/`, DiagnosticSeverity.Information, 'unknown-module', fix);
      }
    }
  }
  return out;
}

/**
 * Keys given twice in one mapping, at the repeat with the first as related information, in Salt's words
 * (salt/utils/yamlloader.py: "found conflicting ID 'x'", for every mapping, nested and flow ones too). In
 * a state file a top-level repeat is a state ID declared twice.
 */
function duplicateKeyDiagnostics(uri: string, parsed: ParsedSls, states: boolean): Diagnostic[] {
  return parsed.duplicateKeys.map((repeat) => {
    const stateId = states && repeat.topLevel;
    const why = repeat.written ? ` ('${repeat.written[1]}' and '${repeat.written[0]}' are one key once loaded)` : '';
    const where = stateId ? 'this ID is declared twice in this file' : 'this key is given twice in one mapping';
    const rendered = repeat.inJinjaBlock ? ' (where Jinja renders this block)' : '';
    const d = Diagnostic.create(
      rangeOf(parsed, repeat.span),
      `found conflicting ID '${repeat.name}'${why}: ${where}, which Salt's YAML loader refuses${rendered}`,
      repeat.inJinjaBlock ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
      stateId ? 'duplicate-id' : 'duplicate-key',
      DIAGNOSTIC_SOURCE,
    );
    d.relatedInformation = [DiagnosticRelatedInformation.create(Location.create(uri, rangeOf(parsed, repeat.first)), `'${repeat.written?.[1] ?? repeat.name}' first given here`)];
    return d;
  });
}

function templateText(service: SlsService, uri: string): string | undefined {
  const file = uriToPath(uri);
  return file && isTemplate(file) ? service.templateText(file) : undefined;
}

/** A shebang that names renderers without Jinja (`#!py`, `#!yaml | gpg`): Salt never runs Jinja on the file. */
function rendersJinja(uri: string, text: string, pillarFile: boolean): boolean {
  // Salt reads the shebang of every SLS it renders, pillar.example given as the pillar too; a .jinja is Jinja.
  if (!(uri.endsWith('.sls') || pillarFile) || !text.startsWith('#!')) return true;
  const line = text.slice(2, text.search(/\r?\n|$/)).trim();
  return line.split('|').some((renderer) => renderer.trim() === 'jinja');
}

const jinjaCache = new Map<string, { text: string; diagnostics: Diagnostic[] }>();

/**
 * Jinja's syntax error, as Salt's Jinja raises it (src/sls/jinjaSyntax.ts): at Jinja's line with Jinja's
 * message. A block left open is shown at its opening tag, the end of the template as related information.
 */
export function jinjaDiagnostics(uri: string, text: string | undefined, known?: LineIndex, pillarFile = false): Diagnostic[] {
  if (text === undefined || !(pillarFile || /\.(sls|jinja|j2)$/.test(uri)) || !rendersJinja(uri, text, pillarFile)) return [];
  const cached = jinjaCache.get(uri);
  if (cached?.text === text) return [...cached.diagnostics];
  const lines = known?.text === text ? known : new LineIndex(text);
  const out = jinjaSyntaxErrors(text).map((error) => {
    const start = error.block?.offset ?? error.offset;
    let end = error.block ? text.indexOf('%}', start) + 2 : error.offset + error.length;
    const lineEnd = text.slice(start).search(/\r?\n|\r/);
    if (error.block && (end < 2 || (lineEnd >= 0 && end > start + lineEnd))) end = lineEnd >= 0 ? start + lineEnd : text.length;
    const d = Diagnostic.create(Range.create(lines.position(start), lines.position(end)), error.message, DiagnosticSeverity.Error, 'jinja-syntax', JINJA_DIAGNOSTIC_SOURCE);
    if (error.related) {
      const at = lines.position(error.related.offset);
      const said = error.block && error.block.line !== error.line ? `; Jinja (and Salt's error) name line ${error.line}` : '';
      d.relatedInformation = [DiagnosticRelatedInformation.create(Location.create(uri, Range.create(at, at)), `${error.related.message}${said}`)];
    }
    return d;
  });
  jinjaCache.set(uri, { text, diagnostics: out });
  return [...out];
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
