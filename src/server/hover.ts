/** Hover: a state function's doc and signature, an argument's description, a requisite's target, an include's file, a state's references. */
import { relative } from 'node:path';
import { Hover, MarkupKind, Position } from 'vscode-languageserver';
import { isRequisiteKeyword, type StateFunction } from '../sls/parse';
import { argumentDoc, functionMarkdown, GLOBAL_ARGS } from './docs';
import { functionNames, rangeOf, targetHits, within, type SlsService } from './service';

export function hover(service: SlsService, uri: string, position: Position): Hover | null {
  const found = service.file(uri);
  if (!found) return null;
  const { tree, entry } = found;
  const { parsed } = entry;
  const offset = parsed.lines.offset(position.line, position.character);
  const all = [...parsed.states.flatMap((s) => s.functions.map((f) => ({ f, owner: s.id }))), ...parsed.extends.flatMap((e) => e.functions.map((f) => ({ f, owner: e.id })))];
  for (const { f } of all) {
    const onFunction = within(f.span, offset) || (f.funSpan && within(f.funSpan, offset));
    if (onFunction && f.fun) {
      const name = `${f.module}.${f.fun}`;
      const fn = service.catalogue?.functions[name];
      const value = fn ? functionMarkdown(name, fn.args, fn.doc) : missingFunction(service, name, f);
      return { contents: { kind: MarkupKind.Markdown, value }, range: rangeOf(parsed, within(f.span, offset) ? f.span : (f.funSpan ?? f.span)) };
    }
    for (const arg of f.args) {
      if (!within(arg.span, offset) || !f.fun) continue;
      const fn = service.catalogue?.functions[`${f.module}.${f.fun}`];
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
      return { contents: { kind: MarkupKind.Markdown, value }, range: rangeOf(parsed, arg.span) };
    }
  }
  for (const requisite of parsed.requisites) {
    if (!within(requisite.span, offset) || requisite.module === 'sls') continue;
    const hits = targetHits(tree, entry, requisite.target, requisite.module);
    const value = hits.length
      ? hits.map((h) => `\`${h.state.id}\`: ${functionNames(h.state.functions)} in \`${h.file.module ?? relative(tree.root, h.file.file)}\``).join('\n\n')
      : `\`${requisite.target}\`: not found`;
    return { contents: { kind: MarkupKind.Markdown, value }, range: rangeOf(parsed, requisite.span) };
  }
  for (const include of parsed.includes) {
    if (!within(include.span, offset)) continue;
    const target = tree.includeTarget(entry, include);
    const value = target ? `\`${tree.resolveIncludeName(entry, include.module)}\`: ${relative(tree.root, target)}` : `\`${include.module}\`: not found`;
    return { contents: { kind: MarkupKind.Markdown, value }, range: rangeOf(parsed, include.span) };
  }
  for (const state of parsed.states) {
    if (!within(state.span, offset)) continue;
    const lines = [`**${state.id}**: ${functionNames(state.functions) || 'no state function'}`];
    if (state.templated) lines.push('The ID is made by Jinja: one state per value it takes.');
    else {
      const refs = tree.references(state.id).length;
      lines.push(`${refs} reference${refs === 1 ? '' : 's'} in the state tree`);
    }
    return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n\n') }, range: rangeOf(parsed, state.span) };
  }
  return null;
}

/** What hover says of a function the catalogue lacks: made by Jinja, meant for other Salt versions, or not Salt's. */
function missingFunction(service: SlsService, name: string, f: StateFunction): string {
  if (f.templated) return `\`${name}\`: the name is made by Jinja; the rendered state says which function it is`;
  if (!service.catalogue) return `\`${name}\`\n\n_No state catalogue: docs and arguments need a Python with Salt (see "Salt Containers: Refresh State Catalogue")._`;
  const version = service.catalogue.saltVersion;
  if (f.versionGuarded) return `\`${name}\`: not a state function of Salt ${version}; this branch of the file is for other Salt versions`;
  return `\`${name}\`: not a state function of Salt ${version}`;
}
