// The SLS language server over LSP, without a state catalogue: everything that does not need Salt.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompletionItem, CompletionList, DocumentHighlight, DocumentSymbol, Location, SymbolInformation, CodeAction, Hover } from 'vscode-languageserver-protocol';
import { LspClient, fixtureTree, uriOf, pos } from './lsp';

const salt = join(fixtureTree, 'salt');
const file = (rel: string) => join(salt, rel);
const items = (r: CompletionItem[] | CompletionList | null) => (Array.isArray(r) ? r : (r?.items ?? []));
const labels = (r: CompletionItem[] | CompletionList | null) => items(r).map((i) => i.label);

describe('SLS language server (no catalogue)', () => {
  let client: LspClient;
  let cache: string;

  before(async () => {
    cache = mkdtempSync(join(tmpdir(), 'sls-server-test-'));
    // No Python with Salt: the catalogue is unavailable, and the server must say so once.
    client = await LspClient.start({ folder: fixtureTree, env: { SALT_CONTAINERS_CACHE: cache, SALT_CONTAINERS_PYTHON: join(cache, 'no-such-python') } });
  });
  after(async () => {
    await client.stop();
    rmSync(cache, { recursive: true, force: true });
  });

  it('lists state IDs with their functions as document symbols, Jinja-made IDs included', async () => {
    const uri = client.open(file('app/init.sls'));
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    const byName = new Map(symbols.map((s) => [s.name, s]));
    assert.deepEqual(
      symbols.map((s) => s.name),
      ['include', 'app_config', 'app_site_{{ site }}', 'app_tools', 'app_lonely_user', 'app_typo', 'extend base_dir'],
    );
    assert.equal(byName.get('app_config')?.detail, 'file.managed');
    assert.equal(byName.get('app_tools')?.detail, 'pkg.installed', 'the `pkg: [installed]` form names its function');
    assert.deepEqual(byName.get('app_site_{{ site }}')?.selectionRange, { start: pos(16, 0), end: pos(16, 19) });
    assert.equal(byName.get('app_config')?.range.start.line, 5);
    assert.ok((byName.get('app_config')?.range.end.line ?? 0) >= 13, 'the state range covers its body');
  });

  it('finds states across the whole state tree as workspace symbols', async () => {
    const all = await client.request<SymbolInformation[]>('workspace/symbol', { query: '' });
    const names = all.map((s) => s.name);
    for (const id of ['base_dir', 'postgres', 'postgres_service', 'lonely_state', 'app_config']) assert.ok(names.includes(id), `${id} in ${names.join(', ')}`);
    const pg = await client.request<SymbolInformation[]>('workspace/symbol', { query: 'pgserv' });
    assert.deepEqual(
      pg.map((s) => [s.name, s.location.uri, s.containerName]),
      [['postgres_service', uriOf(file('app/db.sls')), 'app.db']],
    );
  });

  it('goes from include entries (relative too), top.sls entries, salt:// and Jinja imports to files', async () => {
    const uri = client.open(file('app/init.sls'));
    const definition = (line: number, character: number, u = uri) => client.request<Location[]>('textDocument/definition', { textDocument: { uri: u }, position: pos(line, character) });
    assert.deepEqual((await definition(2, 5)).map((l) => l.uri), [uriOf(file('app/db.sls'))], '.db from app/init.sls is app.db');
    assert.deepEqual((await definition(3, 6)).map((l) => l.uri), [uriOf(file('common.sls'))]);
    assert.deepEqual((await definition(8, 20)).map((l) => l.uri), [uriOf(file('files/app.conf'))]);
    assert.deepEqual((await definition(0, 12)).map((l) => l.uri), [uriOf(file('app/map.jinja'))]);
    const top = client.open(file('top.sls'));
    assert.deepEqual((await definition(3, 7, top)).map((l) => l.uri), [uriOf(file('app/init.sls'))]);
    assert.deepEqual((await definition(5, 7, top)).map((l) => l.uri), [uriOf(file('app/db.sls'))]);
  });

  it('goes from requisites to the state they name, across included files, and from extend to its target', async () => {
    const uri = client.open(file('app/init.sls'));
    const definition = (line: number, character: number) => client.request<Location[]>('textDocument/definition', { textDocument: { uri }, position: pos(line, character) });
    assert.deepEqual(await definition(11, 17), [{ uri: uriOf(file('app/db.sls')), range: { start: pos(0, 0), end: pos(0, 8) } }], '- pkg: postgres');
    assert.deepEqual(await definition(12, 17), [{ uri: uriOf(file('common.sls')), range: { start: pos(0, 0), end: pos(0, 8) } }], '- file: base_dir');
    assert.deepEqual((await definition(13, 16)).map((l) => l.uri), [uriOf(file('app/db.sls'))], '- sls: app.db');
    assert.deepEqual(await definition(20, 17), [{ uri, range: { start: pos(5, 0), end: pos(5, 10) } }], 'requisite inside a Jinja loop');
    assert.deepEqual(await definition(28, 17), [{ uri, range: { start: pos(5, 0), end: pos(5, 10) } }], 'require_in');
    assert.deepEqual(await definition(42, 4), [{ uri: uriOf(file('common.sls')), range: { start: pos(0, 0), end: pos(0, 8) } }], 'extend target');
  });

  it('finds the references of a state ID in every file', async () => {
    const uri = client.open(file('common.sls'));
    const refs = await client.request<Location[]>('textDocument/references', { textDocument: { uri }, position: pos(0, 3), context: { includeDeclaration: true } });
    const where = refs.map((l) => `${l.uri.slice(uriOf(salt).length + 1)}:${l.range.start.line}`).sort();
    // dup.sls declares base_dir again (and is flagged for it): it is a declaration too.
    assert.deepEqual(where, ['app/init.sls:12', 'app/init.sls:42', 'common.sls:0', 'dup.sls:4']);
    const withoutDeclaration = await client.request<Location[]>('textDocument/references', { textDocument: { uri }, position: pos(0, 3), context: { includeDeclaration: false } });
    assert.equal(withoutDeclaration.length, 2);
  });

  it('highlights an ID where the file declares and names it', async () => {
    const uri = client.open(file('app/init.sls'));
    const highlights = await client.request<DocumentHighlight[]>('textDocument/documentHighlight', { textDocument: { uri }, position: pos(5, 3) });
    assert.deepEqual(
      highlights.map((h) => [h.range.start.line, h.kind]),
      [
        [5, 3],
        [20, 2],
        [28, 2],
      ],
      'app_config: declared (write), required from the loop and by require_in (read)',
    );
  });

  it('renames a state ID everywhere the tree names it, and refuses a Jinja-made one', async () => {
    const uri = client.open(file('common.sls'));
    const range = await client.request<{ start: unknown } | null>('textDocument/prepareRename', { textDocument: { uri }, position: pos(0, 3) });
    assert.deepEqual(range, { start: pos(0, 0), end: pos(0, 8) });
    const edit = await client.request<{ changes: Record<string, { range: { start: { line: number } }; newText: string }[]> }>('textDocument/rename', { textDocument: { uri }, position: pos(0, 3), newName: 'base_root' });
    const where = Object.entries(edit.changes)
      .flatMap(([u, edits]) => edits.map((e) => `${u.slice(uriOf(salt).length + 1)}:${e.range.start.line}:${e.newText}`))
      .sort();
    assert.deepEqual(where, ['app/init.sls:12:base_root', 'app/init.sls:42:base_root', 'common.sls:0:base_root', 'dup.sls:4:base_root']);
    const app = client.open(file('app/init.sls'));
    assert.equal(await client.request('textDocument/prepareRename', { textDocument: { uri: app }, position: pos(16, 3) }), null, 'app_site_{{ site }}');
  });

  it('completes include targets, requisite keywords, state IDs in requisites and salt:// paths', async () => {
    const text = [
      'include:',
      '  - ',
      '',
      'thing:',
      '  file.managed:',
      '    - source: salt://files/',
      '    - ',
      '    - require:',
      '      - ',
      '      - file: ',
      '      - sls: ',
      '# a comment with words ',
      '',
    ].join('\n');
    const uri = client.open(file('app/scratch.sls'), text);
    const complete = (line: number, character: number) => client.request<CompletionItem[] | CompletionList>('textDocument/completion', { textDocument: { uri }, position: pos(line, character) });
    const includes = labels(await complete(1, 4));
    for (const m of ['app', 'app.db', 'common', 'other.lonely']) assert.ok(includes.includes(m), `${m} in ${includes.join(', ')}`);
    assert.ok(!includes.includes('top'), 'top.sls is not a module');
    assert.deepEqual(labels(await complete(5, 28)), ['app.conf']);
    const paths = labels(await complete(5, 21));
    assert.ok(paths.includes('app/') && paths.includes('files/') && paths.includes('top.sls'), paths.join(', '));
    const args = labels(await complete(6, 6));
    for (const k of ['require', 'watch', 'onchanges', 'onfail', 'prereq', 'listen', 'use', 'require_in', 'watch_in', 'name']) assert.ok(args.includes(k), `${k} in ${args.join(', ')}`);
    const targets = labels(await complete(8, 8));
    assert.ok(targets.includes('file: thing') && targets.includes('sls'), targets.join(', '));
    // The file is not included by anything yet, so only its own states are in reach.
    const ids = labels(await complete(9, 14));
    assert.deepEqual(ids, ['thing']);
    const sls = labels(await complete(10, 13));
    assert.ok(sls.includes('app.db'), sls.join(', '));
    assert.deepEqual(labels(await complete(11, 23)), [], 'nothing in a comment');
    client.close(uri);
  });

  it('offers IDs from included files for requisites', async () => {
    const uri = client.open(file('app/init.sls'));
    const list = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: pos(12, 14) });
    const ids = labels(list);
    assert.ok(ids.includes('base_dir') && ids.includes('app_config'), ids.join(', '));
    assert.ok(!ids.includes('postgres'), 'a pkg state is not offered after `file:`');
  });

  it('reports structure errors, unresolved includes and requisites, duplicate IDs, with source sls', async () => {
    const broken = await client.diagnosticsOf(client.open(file('broken.sls')));
    assert.ok(broken.length >= 1);
    assert.ok(broken.every((d) => d.source === 'sls' && d.code === 'yaml'));
    assert.equal(broken[0].range.start.line, 3);

    const app = await client.diagnosticsOf(client.open(file('app/init.sls')));
    assert.deepEqual(
      app.map((d) => [d.code, d.range.start.line, d.source, d.severity]),
      [
        ['unresolved-requisite', 34, 'sls', 2],
        // app_config's `name` is made by Jinja: it may be 'nowhere_at_all', the source cannot say.
        ['unresolved-requisite', 35, 'sls', 3],
      ],
      'no catalogue: no function checks; everything else resolves',
    );
    assert.match(app[0].message, /declared in 'other.lonely', which no run of this file applies/);

    const dup = await client.diagnosticsOf(client.open(file('dup.sls')));
    assert.deepEqual(
      dup.map((d) => [d.code, d.range.start.line]),
      [
        ['unresolved-include', 2],
        ['duplicate-id', 4],
      ],
      'IDs in the two branches of a Jinja if are not duplicates',
    );
    const top = await client.diagnosticsOf(client.open(file('top.sls')));
    assert.deepEqual(top.map((d) => [d.code, d.range.start.line]), [['unresolved-include', 6]]);
  });

  it('offers to include the module that declares a requisite target', async () => {
    const uri = client.open(file('app/init.sls'));
    const diagnostics = await client.diagnosticsOf(uri);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: diagnostics[0].range, context: { diagnostics } });
    assert.equal(actions.length, 1);
    assert.equal(actions[0].title, "Include 'other.lonely'");
    assert.deepEqual(actions[0].edit?.changes?.[uri], [{ range: { start: pos(4, 0), end: pos(4, 0) }, newText: '  - other.lonely\n' }]);
  });

  it('offers the close module name for an include that is not found', async () => {
    const uri = client.open(file('app/typo.sls'), 'include:\n  - comon\n');
    const diagnostics = await client.diagnosticsOf(uri);
    assert.deepEqual(diagnostics.map((d) => d.code), ['unresolved-include']);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: diagnostics[0].range, context: { diagnostics } });
    assert.deepEqual(
      actions.map((a) => [a.title, a.edit?.changes?.[uri]?.[0].newText]),
      [["Change to 'common'", 'common']],
    );
    client.close(uri);
  });

  it('hovers a state ID with its functions and reference count', async () => {
    const uri = client.open(file('common.sls'));
    const hover = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: pos(0, 2) });
    assert.equal((hover.contents as { value: string }).value, '**base_dir**: file.directory\n\n2 references in the state tree');
  });

  it('follows incremental edits', async () => {
    const uri = client.open(file('app/db.sls'));
    assert.deepEqual(await client.diagnosticsOf(uri), []);
    // Rename `postgres` to `postgresql_pkg`: the watch requisite now points nowhere.
    client.change(uri, { start: pos(0, 8), end: pos(0, 8) }, 'ql_pkg');
    const after = await client.diagnosticsOf(uri);
    assert.deepEqual(after.map((d) => [d.code, d.range.start.line]), [['unresolved-requisite', 8]]);
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.equal(symbols[0].name, 'postgresql_pkg');
    client.change(uri, { start: pos(0, 8), end: pos(0, 14) }, '');
    assert.deepEqual(await client.diagnosticsOf(uri), []);
    client.close(uri);
  });

  it('says once, plainly, how to get the state catalogue; hover still works without it', async () => {
    await client.until('the catalogue message', () => client.shownMessages.length > 0);
    assert.equal(client.shownMessages.length, 1);
    assert.match(client.shownMessages[0], /saltContainers\.saltPython/);
    assert.match(client.shownMessages[0], /Refresh State Catalogue/);
    const uri = client.open(file('common.sls'));
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: pos(1, 6) });
    assert.match(JSON.stringify(hover?.contents), /file\.directory/);
    assert.match(JSON.stringify(hover?.contents), /No state catalogue/);
  });
});
