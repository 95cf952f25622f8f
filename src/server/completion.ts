/**
 * Completion where the cursor is in SLS terms (context.ts): include and top.sls modules, state functions with
 * their required arguments, arguments and requisite keywords, state IDs in reach for requisites, salt:// paths.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CompletionItem, CompletionItemKind, InsertTextFormat, MarkupKind, Position, Range, TextEdit } from 'vscode-languageserver';
import type { StateTree, TreeFile } from '../sls/tree';
import { ALL_REQUISITE_FORMS, isRequisiteKeyword } from '../sls/parse';
import { functionsOfModule } from '../sls/catalogue';
import { cursorContext } from './context';
import { functionMarkdown, GLOBAL_ARGS, signature } from './docs';
import { functionNames, type SlsService } from './service';

export function completion(service: SlsService, uri: string, position: Position): CompletionItem[] {
  const found = service.file(uri);
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
  if (salt) return saltPathItems(tree, salt[1], position);

  const keys = context.ancestors.map((a) => a.key);
  const range = replace(context.wordStart);
  if (entry.isTop) return keys.length >= 2 && context.listItem ? moduleItems(tree, range) : [];
  if (keys.length === 0) {
    if (!/^[\w-]*$/.test(context.typed)) return [];
    return ['include', 'extend', 'exclude'].map((k) => ({ label: k, kind: CompletionItemKind.Keyword, insertText: `${k}:\n  - `, textEdit: TextEdit.replace(range, `${k}:\n  - `) }));
  }
  if (keys[0] === 'include') return context.listItem ? moduleItems(tree, range) : [];
  const body = keys[0] === 'extend' ? keys.slice(2) : keys.slice(1);
  if (keys[0] === 'extend' && keys.length === 1) return stateIdItems(tree, entry, range, false);
  // Inside a state (or an extend entry): [function, argument, ...]
  if (body.length === 0) return functionItems(service, range, context.listItem);
  const [fnKey, argKey] = body;
  if (body.length === 1 && context.listItem) {
    if (context.inlineKey) {
      return [];
    }
    return argumentItems(service, fnKey, range, entry, offset);
  }
  if (body.length === 2 && isRequisiteKeyword(argKey) && context.listItem) {
    if (context.inlineKey === 'sls') return moduleItems(tree, range);
    if (context.inlineKey) return stateIdItems(tree, entry, range, false, context.inlineKey);
    return [...stateIdItems(tree, entry, range, true), { label: 'sls', kind: CompletionItemKind.Keyword, detail: 'require a whole SLS module', textEdit: TextEdit.replace(range, 'sls: ') }];
  }
  return [];
}

function moduleItems(tree: StateTree, range: Range): CompletionItem[] {
  return tree.modules().map((m) => ({ label: m, kind: CompletionItemKind.Module, detail: relative(tree.root, tree.fileForModule(m) ?? m), textEdit: TextEdit.replace(range, m) }));
}

/** `file.managed` and friends; choosing one writes the function with its required arguments to fill in. */
function functionItems(service: SlsService, range: Range, listItem: boolean): CompletionItem[] {
  if (!service.catalogue || listItem) return [];
  const items: CompletionItem[] = [];
  for (const [name, fn] of Object.entries(service.catalogue.functions)) {
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

function argumentItems(service: SlsService, fnKey: string, range: Range, entry: TreeFile, offset: number): CompletionItem[] {
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
    else if (service.catalogue) {
      for (const fun of functionsOfModule(service.catalogue, fnKey)) {
        items.push({ label: fun, kind: CompletionItemKind.Function, detail: `${fnKey}.${fun}`, textEdit: TextEdit.replace(range, fun), sortText: `0${fun}` });
      }
    }
  }
  const fn = fnName ? service.catalogue?.functions[fnName] : undefined;
  for (const arg of fn?.args ?? []) add(arg.name, CompletionItemKind.Property, arg.default === undefined ? 'required' : `default ${arg.default}`, `1${arg.name}`);
  for (const keyword of ALL_REQUISITE_FORMS) add(keyword, CompletionItemKind.Keyword, 'requisite', `2${keyword}`);
  for (const arg of GLOBAL_ARGS) add(arg, CompletionItemKind.Property, 'global state argument', `3${arg}`);
  return items;
}

/** State IDs in reach of the file, as `module: id` (one per state module of the state) or bare IDs. */
function stateIdItems(tree: StateTree, entry: TreeFile, range: Range, withModule: boolean, module?: string): CompletionItem[] {
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
          detail: `${functionNames(state.functions)} (${file.module ?? relative(tree.root, file.file)})`,
          filterText: withModule ? `${state.id} ${label}` : state.id,
          textEdit: TextEdit.replace(range, label),
        });
      }
    }
  }
  return items;
}

function saltPathItems(tree: StateTree, typed: string, position: Position): CompletionItem[] {
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

export function resolveCompletion(service: SlsService, item: CompletionItem): CompletionItem {
  const fnName = (item.data as { fn?: string } | undefined)?.fn;
  const fn = fnName ? service.catalogue?.functions[fnName] : undefined;
  if (fnName && fn) item.documentation = { kind: MarkupKind.Markdown, value: functionMarkdown(fnName, fn.args, fn.doc) };
  return item;
}
