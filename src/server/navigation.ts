/**
 * Where things are: definition (includes, top.sls entries, salt:// paths, Jinja imports and names, requisite
 * and extend targets), references, highlights and rename of state IDs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DocumentHighlight, DocumentHighlightKind, Location, Position, Range, TextEdit, WorkspaceEdit } from 'vscode-languageserver';
import { templateFile, type StateTree, type TreeFile } from '../sls/tree';
import { LineIndex, type TextSpan } from '../sls/parse';
import { jinjaIdentifierAt, jinjaNames, scanJinja, type JinjaTag } from '../sls/jinja';
import { renderJinja } from '../sls/render';
import { fileLocation, isTemplate, locationOf, pathToUri, rangeOf, targetHits, uriToPath, within, type SlsService } from './service';

export function definition(service: SlsService, uri: string, position: Position): Location[] {
  const path = uriToPath(uri);
  if (path && isTemplate(path)) return templateDefinition(service, path, position);
  const found = service.file(uri);
  if (!found) return [];
  const { tree, entry } = found;
  const { parsed } = entry;
  const offset = parsed.lines.offset(position.line, position.character);
  for (const include of parsed.includes) {
    if (!within(include.span, offset)) continue;
    const target = tree.includeTarget(entry, include);
    return target ? [fileLocation(target)] : [];
  }
  for (const top of parsed.topEntries) {
    if (!within(top.span, offset)) continue;
    const target = tree.fileForModule(top.module);
    return target ? [fileLocation(target)] : [];
  }
  for (const url of parsed.saltUrls) {
    if (!within(url.span, offset)) continue;
    const target = join(tree.root, ...url.path.split('/'));
    return existsSync(target) ? [fileLocation(target)] : [];
  }
  for (const imp of parsed.jinjaImports) {
    if (!within(imp.span, offset)) continue;
    const target = templateFile(tree.root, entry.file, imp.path);
    return target ? [fileLocation(target)] : [];
  }
  const jinjaName = jinjaIdentifierAt(parsed.source, parsed.jinja, offset);
  if (jinjaName) return jinjaDefinition(service, tree, entry.file, parsed.source, parsed.jinja, jinjaName, offset);
  for (const requisite of parsed.requisites) {
    if (!within(requisite.span, offset)) continue;
    if (requisite.module === 'sls') {
      const target = tree.fileForModule(tree.resolveIncludeName(entry, requisite.target));
      return target ? [fileLocation(target)] : [];
    }
    return targetHits(tree, entry, requisite.target, requisite.module).map((h) => locationOf(h.file, h.state.span));
  }
  for (const extend of parsed.extends) {
    if (!within(extend.span, offset)) continue;
    return targetHits(tree, entry, extend.id).map((h) => locationOf(h.file, h.state.span));
  }
  for (const state of parsed.states) {
    if (within(state.span, offset)) return [locationOf(entry, state.span)];
  }
  return [];
}

/** Where a Jinja name is bound: in this file (the binding before the cursor), or in the template it is imported from. */
function jinjaDefinition(service: SlsService, tree: StateTree, file: string, source: string, tags: readonly JinjaTag[], name: string, offset: number): Location[] {
  const bindings = jinjaNames(source, tags).filter((n) => n.name === name);
  const before = bindings.filter((n) => n.start <= offset);
  const binding = before[before.length - 1] ?? bindings[0];
  if (!binding) return [];
  const lines = new LineIndex(source);
  const here = Location.create(pathToUri(file), Range.create(lines.position(binding.start), lines.position(binding.end)));
  if (!binding.from) return [here];
  const target = templateFile(tree.root, file, binding.from.path);
  if (!target) return [here];
  if (!binding.from.original) return [fileLocation(target)];
  const text = service.templateText(target);
  if (text === undefined) return [here];
  const there = jinjaNames(text, scanJinja(text)).find((n) => n.name === binding.from?.original && n.kind !== 'import');
  if (!there) return [fileLocation(target)];
  const targetLines = new LineIndex(text);
  return [Location.create(pathToUri(target), Range.create(targetLines.position(there.start), targetLines.position(there.end)))];
}

/** Definition in a `.jinja` template: its imports' files and its Jinja names. */
function templateDefinition(service: SlsService, file: string, position: Position): Location[] {
  const text = service.templateText(file);
  if (text === undefined) return [];
  const tree = service.treeFor(file);
  const tags = scanJinja(text);
  const offset = new LineIndex(text).offset(position.line, position.character);
  const imp = renderJinja(text, tags).imports.find((i) => i.start <= offset && offset <= i.end);
  if (imp) {
    const target = templateFile(tree.root, file, imp.path);
    return target ? [fileLocation(target)] : [];
  }
  const name = jinjaIdentifierAt(text, tags, offset);
  return name ? jinjaDefinition(service, tree, file, text, tags, name, offset) : [];
}

/** The state ID under the cursor: a declaration, a requisite target or an extend entry. */
function idAt(entry: TreeFile, offset: number): string | undefined {
  const { parsed } = entry;
  for (const state of parsed.states) if (!state.templated && within(state.span, offset)) return state.id;
  for (const r of parsed.requisites) if (r.module !== 'sls' && within(r.span, offset)) return r.target;
  for (const e of parsed.extends) if (within(e.span, offset)) return e.id;
  return undefined;
}

/** The ID under the cursor wherever this file names it: its declaration (write) and requisites, extend entries (read). */
export function highlights(service: SlsService, uri: string, position: Position): DocumentHighlight[] {
  const found = service.file(uri);
  if (!found) return [];
  const { parsed } = found.entry;
  const id = idAt(found.entry, parsed.lines.offset(position.line, position.character));
  if (!id) return [];
  const out: DocumentHighlight[] = [];
  for (const state of parsed.states) if (!state.templated && state.id === id) out.push(DocumentHighlight.create(rangeOf(parsed, state.span), DocumentHighlightKind.Write));
  for (const r of parsed.requisites) if (r.module !== 'sls' && r.target === id) out.push(DocumentHighlight.create(rangeOf(parsed, r.span), DocumentHighlightKind.Read));
  for (const e of parsed.extends) if (e.id === id) out.push(DocumentHighlight.create(rangeOf(parsed, e.span), DocumentHighlightKind.Read));
  return out;
}

/** The ID under the cursor can be renamed when it is a plain (not Jinja-made) ID. */
export function prepareRename(service: SlsService, uri: string, position: Position): Range | null {
  const found = service.file(uri);
  if (!found) return null;
  const { parsed } = found.entry;
  const offset = parsed.lines.offset(position.line, position.character);
  const spans = [
    ...parsed.states.filter((st) => !st.templated).map((st) => st.span),
    ...parsed.requisites.filter((r) => r.module !== 'sls' && !r.templated).map((r) => r.span),
    ...parsed.extends.filter((e) => !e.templated).map((e) => e.span),
  ];
  const span = spans.find((sp) => within(sp, offset));
  return span && !writtenByJinja(parsed.source, span) ? rangeOf(parsed, span) : null;
}

/** An ID Jinja writes (`{{ tplroot }}-service`, its value known or not) is renamed in its Jinja, not as text. */
const writtenByJinja = (source: string, span: TextSpan) => /\{[{%]/.test(source.slice(span.start, span.end));

/** Renames a state ID everywhere the tree names it: declarations, requisites, extend entries. */
export function rename(service: SlsService, uri: string, position: Position, newName: string): WorkspaceEdit | null {
  const found = service.file(uri);
  if (!found || !prepareRename(service, uri, position)) return null;
  const { tree, entry } = found;
  const id = idAt(entry, entry.parsed.lines.offset(position.line, position.character));
  if (!id || !newName.trim()) return null;
  const changes: Record<string, TextEdit[]> = {};
  const edit = (file: TreeFile, span: TextSpan) => {
    if (writtenByJinja(file.parsed.source, span)) return;
    (changes[pathToUri(file.file)] ??= []).push(TextEdit.replace(rangeOf(file.parsed, span), newName));
  };
  for (const hit of tree.declarations(id)) if (!hit.state.templated) edit(hit.file, hit.state.span);
  for (const ref of tree.references(id)) {
    const span = ref.requisite?.span ?? ref.extend?.span;
    if (span) edit(ref.file, span);
  }
  return { changes };
}

export function references(service: SlsService, uri: string, position: Position, includeDeclaration: boolean): Location[] {
  const found = service.file(uri);
  if (!found) return [];
  const { tree, entry } = found;
  const id = idAt(entry, entry.parsed.lines.offset(position.line, position.character));
  if (!id) return [];
  const out: Location[] = [];
  if (includeDeclaration) for (const hit of tree.declarations(id)) out.push(locationOf(hit.file, hit.state.span));
  for (const ref of tree.references(id)) {
    const span = ref.requisite?.span ?? ref.extend?.span;
    if (span) out.push(locationOf(ref.file, span));
  }
  return out;
}
