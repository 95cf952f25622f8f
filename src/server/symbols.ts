/** The outline of a file (its include list, states with their functions, extend entries, top.sls entries) and workspace symbols. */
import { DocumentSymbol, SymbolInformation, SymbolKind } from 'vscode-languageserver';
import { relative } from 'node:path';
import { functionNames, pathToUri, rangeOf, type SlsService } from './service';

export function documentSymbols(service: SlsService, uri: string): DocumentSymbol[] {
  const found = service.file(uri);
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
        rangeOf(parsed, { start: first.start, end: last.end }),
        rangeOf(parsed, first),
        parsed.includes.map((i) => DocumentSymbol.create(i.module, undefined, SymbolKind.Module, rangeOf(parsed, i.span), rangeOf(parsed, i.span))),
      ),
    );
  }
  for (const state of parsed.states) {
    const children = state.functions.map((f) => {
      const name = f.fun ? `${f.module}.${f.fun}` : f.module;
      return DocumentSymbol.create(name, undefined, SymbolKind.Function, rangeOf(parsed, f.span), rangeOf(parsed, f.span));
    });
    const range = rangeOf(parsed, state.extent);
    const selection = rangeOf(parsed, state.span);
    symbols.push(DocumentSymbol.create(state.id, functionNames(state.functions), SymbolKind.Class, range, selection, children));
  }
  for (const extend of parsed.extends) {
    const r = rangeOf(parsed, extend.span);
    symbols.push(DocumentSymbol.create(`extend ${extend.id}`, functionNames(extend.functions), SymbolKind.Interface, r, r));
  }
  for (const top of parsed.topEntries) {
    const r = rangeOf(parsed, top.span);
    symbols.push(DocumentSymbol.create(top.module, `${top.saltenv}: ${top.target}`, SymbolKind.Module, r, r));
  }
  return symbols;
}

export function workspaceSymbols(service: SlsService, query: string, limit = 500): SymbolInformation[] {
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
  for (const tree of service.allTrees()) {
    for (const entry of tree.all()) {
      for (const state of entry.parsed.states) {
        if (!matches(state.id)) continue;
        out.push(SymbolInformation.create(state.id, SymbolKind.Class, rangeOf(entry.parsed, state.span), pathToUri(entry.file), entry.module ?? relative(tree.root, entry.file)));
        if (out.length >= limit) return out;
      }
    }
  }
  return out;
}
