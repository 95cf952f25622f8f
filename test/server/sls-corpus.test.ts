// The SLS language server on the corpus (test/fixtures/sls/corpus): formulas in the style of the public ones,
// with the state catalogue of the host Salt. No false alarm where Jinja decides, real problems still caught.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Diagnostic, DocumentSymbol, Location } from 'vscode-languageserver-protocol';
import { LspClient, startWithCatalogue, corpus, corpusFolders, corpusStateFiles, pos } from './lsp';

const at = (...parts: string[]) => join(corpus, ...parts);
const text = (lines: string[]) => lines.join('\n') + '\n';

describe('SLS language server on the formula corpus', () => {
  let client: LspClient;
  let cache: string;

  before(async () => {
    const [first, ...rest] = corpusFolders;
    ({ client, cache } = await startWithCatalogue({ folder: first, moreFolders: rest }, 'sls-corpus-test-'));
  });
  after(async () => {
    await client.stop();
    rmSync(cache, { recursive: true, force: true });
  });

  const diagnosticsOf = async (file: string, source?: string) => {
    const uri = client.open(file, source);
    // The catalogue came before the file: its diagnostics are final once published.
    return client.diagnosticsOf(uri);
  };
  const outline = async (file: string) => {
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: client.open(file) } });
    return symbols.filter((s) => s.kind === 5).map((s) => `${s.selectionRange.start.line}: ${s.name}`);
  };

  it('reports no error or warning on any of its state files', async () => {
    const files = corpusStateFiles();
    assert.ok(files.length >= 40, `${files.length} state files`);
    const found: string[] = [];
    for (const file of files) {
      for (const d of await diagnosticsOf(file)) found.push(`${relative(corpus, file)}:${d.range.start.line} [${d.severity}] ${d.code}: ${d.message}`);
    }
    // What is left is information, and only where the source cannot decide: the vim formula is not here.
    assert.deepEqual(found, [
      "accounts-formula/accounts/dotfiles.sls:4 [3] foreign-include: Included SLS 'vim' is not in this formula: another formula provides it where they run together",
      "accounts-formula/accounts/dotfiles.sls:15 [3] foreign-requisite: require: 'vim' is not in this formula; the other formulas its runs include may declare it",
    ]);
  });

  it('outlines the states macros make, at their call, with the literal arguments of the call', async () => {
    assert.deepEqual(await outline(at('database-formula', 'database', 'manage.sls')), ['7: database-reload-modules', '13: postgres_user-{{ name }}', '20: postgres_database-{{ name }}', '27: postgres_schema-{{ name }}']);
    // A macro that makes the key, one that makes the arguments; the if/else around them gives two states.
    assert.deepEqual(await outline(at('accounts-formula', 'accounts', 'keys.sls')), ["9: {{ key_id(user, key) }}", "15: {{ user }}-key-{{ key['key'][-8:] }}"]);
    // A call block: the macro makes the state, its body the contents.
    assert.deepEqual(await outline(at('accounts-formula', 'accounts', 'sudo.sls')), ['6: accounts-sudoers-dir', '13: accounts-sudo-{{ name }}']);
    assert.deepEqual(await outline(at('salt-formula', 'salt', 'formulas.sls')), ['6: salt-formulas-dir', '16: salt-formula-{{ env }}-{{ name }}'], '{% import ... as lib %}, lib.macro()');
  });

  it('outlines states through whitespace control, loops, conditionals and IDs made of set names', async () => {
    assert.deepEqual(await outline(at('accounts-formula', 'accounts', 'users.sls')), ['9: {{ name }}_user']);
    assert.deepEqual(await outline(at('webserver-formula', 'webserver', 'config', 'modules.sls')), ['9: webserver-config-module-{{ module }}', '16: webserver-config-module-{{ module }}-reload']);
    assert.deepEqual(await outline(at('webserver-formula', 'webserver', 'package', 'repo.sls')), ['8: webserver-package-repo-pkgrepo-managed', '16: webserver-package-repo-pkgrepo-managed'], 'both branches are written');
    assert.deepEqual(await outline(at('webserver-formula', 'webserver', 'logrotate.sls')), ['11: webserver-logrotate-config', '26: webserver-logrotate-options'], 'a filter block makes arguments, not states');
  });

  it('follows requisites to where a run of the file has their target: kitchen.yml state_top, top.sls, dynamic includes', async () => {
    const definition = async (file: string, line: number, character: number) =>
      (await client.request<Location[]>('textDocument/definition', { textDocument: { uri: client.open(file) }, position: pos(line, character) })).map((l) => `${relative(corpus, l.uri.slice('file://'.length))}:${l.range.start.line}`);
    // snippets.sls includes nothing: the formula's suite applies it with the formula.
    assert.deepEqual(await definition(at('webserver-formula', 'webserver', 'config', 'snippets.sls'), 11, 16), ['webserver-formula/webserver/config/file.sls:12']);
    // web.sls and base.motd are applied together by top.sls.
    assert.deepEqual(await definition(at('site', 'salt', 'web.sls'), 6, 16), ['site/salt/base/motd.sls:2']);
    // The formula for Salt: its imports and includes are below the repository, not below salt/.
    assert.deepEqual(await definition(at('salt-formula', 'salt', 'minion.sls'), 0, 14), ['salt-formula/salt/map.jinja:0']);
  });

  it('catches real problems amid Jinja, each at its line', async () => {
    const seeded = text([
      '{%- set tplroot = tpldir.split("/")[0] %}',
      '{%- from tplroot ~ "/map.jinja" import mapdata as webserver with context %}',
      'include:',
      '  - webserver.no_such_module',
      '',
      '{%- for site in webserver.sites %}',
      'seeded-site-{{ site }}:',
      '  file.manged:',
      '    - name: /srv/{{ site }}',
      '{%- endfor %}',
      '',
      'seeded-requisite:',
      '  cmd.run:',
      '    - name: echo {{ webserver.config }}',
      '    - require:',
      '      - file: no-such-state-anywhere',
      '',
      'seeded-yaml:',
      '  cmd.run:',
      '    - name: echo: plain: x',
    ]);
    const found = (await diagnosticsOf(at('webserver-formula', 'webserver', 'seeded.sls'), seeded)).map((d: Diagnostic) => [d.range.start.line, d.code, d.severity]);
    assert.deepEqual(
      found.sort((a, b) => Number(a[0]) - Number(b[0])),
      [
        [3, 'unresolved-include', 1],
        [7, 'unknown-function', 2],
        [15, 'unresolved-requisite', 2],
        [19, 'yaml', 1],
      ],
      JSON.stringify(found),
    );
  });

  it('warns of a requisite whose target no run of the file applies', async () => {
    const lonely = text(['lonely-banner:', '  file.append:', '    - name: /etc/motd', '    - text: hello', '    - require:', '      - file: base-motd']);
    const found = await diagnosticsOf(at('site', 'salt', 'lonely.sls'), lonely);
    assert.deepEqual(found.map((d) => [d.range.start.line, d.code, d.severity]), [[5, 'unresolved-requisite', 2]]);
    assert.match(found[0].message, /declared in 'base\.motd', which no run of this file applies/);
  });

  it('reads an ID a set name decides as its value, and leaves renaming it to its Jinja', async () => {
    const source = text(["{%- set prefix = 'webserver-extra' %}", '{{ prefix }}-svc:', '  test.nop: []', 'other:', '  test.nop:', '    - require:', '      - test: webserver-extra-svc']);
    const uri = client.open(at('webserver-formula', 'webserver', 'extra.sls'), source);
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(symbols.map((s) => `${s.selectionRange.start.line}: ${s.name}`), ['1: webserver-extra-svc', '3: other']);
    assert.deepEqual(await client.diagnosticsOf(uri), []);
    const toDeclaration = await client.request<Location[]>('textDocument/definition', { textDocument: { uri }, position: pos(6, 16) });
    assert.deepEqual(toDeclaration.map((l) => l.range.start.line), [1]);
    assert.equal(await client.request('textDocument/prepareRename', { textDocument: { uri }, position: pos(1, 4) }), null);
    assert.ok(await client.request('textDocument/prepareRename', { textDocument: { uri }, position: pos(6, 16) }));
    client.close(uri);
  });

  it('reads pillar files as pillar, not states', async () => {
    for (const file of [at('webserver-formula', 'test', 'salt', 'pillar', 'webserver.sls'), at('site', 'pillar', 'common.sls')]) {
      const uri = client.open(file);
      assert.deepEqual(await client.request('textDocument/documentSymbol', { textDocument: { uri } }), [], file);
      assert.deepEqual(await client.diagnosticsOf(uri), [], file);
    }
  });

  it('does not judge a function name Jinja makes or one in a branch for other Salt versions', async () => {
    const hover = async (file: string, line: number, character: number) => JSON.stringify(await client.request('textDocument/hover', { textDocument: { uri: client.open(file) }, position: pos(line, character) }));
    assert.match(await hover(at('webserver-formula', 'webserver', 'git.sls'), 21, 6), /git\.config.*this branch of the file is for other Salt versions/, 'the old-Salt branch is read');
    assert.match(await hover(at('webserver-formula', 'webserver', 'service', 'running.sls'), 12, 6), /the name is made by Jinja/);
    assert.deepEqual(await diagnosticsOf(at('webserver-formula', 'webserver', 'service', 'running.sls')), []);
  });
});
