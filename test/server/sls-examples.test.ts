// The SLS language server on the example workspace (examples/: salt/ and pillar/).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocumentSymbol, Location, SymbolInformation } from 'vscode-languageserver-protocol';
import { LspClient, examplesWorkspace, uriOf, pos } from './lsp';

const salt = join(examplesWorkspace, 'salt');

describe('SLS language server on the example workspace', () => {
  let client: LspClient;
  let cache: string;

  before(async () => {
    cache = mkdtempSync(join(tmpdir(), 'sls-examples-test-'));
    client = await LspClient.start({ folder: examplesWorkspace, env: { SALT_CONTAINERS_CACHE: cache }, initializationOptions: { catalogue: false } });
  });
  after(async () => {
    await client.stop();
    rmSync(cache, { recursive: true, force: true });
  });

  it('outlines web/init.sls, the Jinja loop ID included', async () => {
    const uri = client.open(join(salt, 'web', 'init.sls'));
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(
      symbols.map((s) => [s.name, s.detail]),
      [
        ['include', 'common'],
        ['web_conf_dir', 'file.directory'],
        ['web_config', 'file.managed'],
        ['web_site_{{ site }}', 'file.managed'],
        ['web_reload', 'cmd.run'],
        ['web_greeting', 'module.run'],
      ],
    );
  });

  it('indexes the state tree (not the pillar tree) for workspace symbols', async () => {
    const all = await client.request<SymbolInformation[]>('workspace/symbol', { query: '' });
    const names = all.map((s) => s.name);
    // Other suites may add fixture states to examples/salt while they run: check ours are all there.
    for (const id of ['app_root', 'app_user_marker', 'motd', 'web_conf_dir', 'web_config', 'web_greeting', 'web_reload', 'web_site_{{ site }}']) assert.ok(names.includes(id), `${id} in ${names.join(', ')}`);
    // pillar/web.sls has top-level keys `app` and `web`: the pillar tree is not states.
    assert.ok(!names.includes('app') && !names.includes('web'), names.join(', '));
  });

  it('goes from a requisite to the state in an included file, and from a relative include to its file', async () => {
    const web = client.open(join(salt, 'web', 'init.sls'));
    const toAppRoot = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: web }, position: pos(27, 16) });
    assert.deepEqual(toAppRoot, [{ uri: uriOf(join(salt, 'common', 'init.sls')), range: { start: pos(4, 0), end: pos(4, 8) } }]);
    const common = client.open(join(salt, 'common', 'init.sls'));
    const toMotd = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: common }, position: pos(2, 5) });
    assert.deepEqual(toMotd.map((l) => l.uri), [uriOf(join(salt, 'common', 'motd.sls'))]);
    const template = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: web }, position: pos(12, 20) });
    assert.deepEqual(template.map((l) => l.uri), [uriOf(join(salt, 'web', 'files', 'site.conf.jinja'))]);
  });

  it('goes from a Jinja name to where it is bound: the imported map.jinja, or the loop', async () => {
    const web = client.open(join(salt, 'web', 'init.sls'));
    const fromMap = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: web }, position: pos(6, 20) });
    assert.deepEqual(fromMap, [{ uri: uriOf(join(salt, 'web', 'map.jinja')), range: { start: pos(1, 7), end: pos(1, 10) } }], '{{ web.conf_dir }}');
    const loopVariable = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: web }, position: pos(21, 13) });
    assert.deepEqual(loopVariable, [{ uri: web, range: { start: pos(20, 7), end: pos(20, 11) } }], 'web_site_{{ site }}');
    const builtin = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: web }, position: pos(15, 20) });
    assert.deepEqual(builtin, [], "pillar is Salt's, not the file's");
  });

  it('goes from names and imports in a .jinja template', async () => {
    const template = client.open(join(salt, 'web', 'files', 'extra.jinja'), '{% from "web/map.jinja" import web as w %}\n{{ w.docroot }}\n', 'jinja');
    const toFile = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: template }, position: pos(0, 12) });
    assert.deepEqual(toFile.map((l) => l.uri), [uriOf(join(salt, 'web', 'map.jinja'))]);
    const toName = await client.request<Location[]>('textDocument/definition', { textDocument: { uri: template }, position: pos(1, 3) });
    assert.deepEqual(toName, [{ uri: uriOf(join(salt, 'web', 'map.jinja')), range: { start: pos(1, 7), end: pos(1, 10) } }]);
    client.close(template);
  });

  it('finds no problems in the example states', async () => {
    for (const rel of ['top.sls', 'web/init.sls', 'common/init.sls', 'common/motd.sls']) {
      assert.deepEqual(await client.diagnosticsOf(client.open(join(salt, ...rel.split('/')))), [], rel);
    }
  });
});
