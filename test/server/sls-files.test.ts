// The SLS language server follows the disk: files created, changed and deleted outside the editor.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SymbolInformation } from 'vscode-languageserver-protocol';
import { LspClient, fixtureTree, uriOf } from './lsp';

const FileChangeType = { Created: 1, Changed: 2, Deleted: 3 } as const;

describe('SLS language server and files on disk', () => {
  let client: LspClient;
  let work: string;
  let salt: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'sls-files-test-'));
    cpSync(fixtureTree, work, { recursive: true });
    salt = join(work, 'salt');
    client = await LspClient.start({ folder: work, env: { SALT_CONTAINERS_CACHE: join(work, 'cache') }, initializationOptions: { catalogue: false } });
  });
  after(async () => {
    await client.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('resolves an include once the file appears, and flags it again when it goes', async () => {
    const uri = client.open(join(salt, 'dup.sls'));
    const before = await client.diagnosticsOf(uri);
    assert.ok(before.some((d) => d.code === 'unresolved-include' && /missing\.module/.test(d.message)));

    const created = join(salt, 'missing', 'module.sls');
    mkdirSync(join(salt, 'missing'));
    writeFileSync(created, 'made_on_disk:\n  test.nop: []\n');
    client.diagnostics.delete(uri);
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(created), type: FileChangeType.Created }] });
    const after = await client.diagnosticsOf(uri);
    assert.ok(!after.some((d) => d.code === 'unresolved-include'), JSON.stringify(after));
    const symbols = await client.request<SymbolInformation[]>('workspace/symbol', { query: 'made_on_disk' });
    assert.deepEqual(symbols.map((s) => s.name), ['made_on_disk']);

    rmSync(created);
    client.diagnostics.delete(uri);
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(created), type: FileChangeType.Deleted }] });
    const gone = await client.diagnosticsOf(uri);
    assert.ok(gone.some((d) => d.code === 'unresolved-include'));
    assert.deepEqual(await client.request<SymbolInformation[]>('workspace/symbol', { query: 'made_on_disk' }), []);
  });

  it('sees a change on disk to a file that is not open', async () => {
    const uri = client.open(join(salt, 'app', 'init.sls'));
    const before = await client.diagnosticsOf(uri);
    assert.ok(before.some((d) => /nowhere_at_all/.test(d.message)));
    const common = join(salt, 'common.sls');
    writeFileSync(common, 'base_dir:\n  file.directory:\n    - name: /srv/base\n\nnowhere_at_all:\n  file.absent:\n    - name: /tmp/x\n');
    client.diagnostics.delete(uri);
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(common), type: FileChangeType.Changed }] });
    const after = await client.diagnosticsOf(uri);
    assert.ok(!after.some((d) => /nowhere_at_all/.test(d.message)), JSON.stringify(after));
  });

  it('sees a template change on disk (a checkout, a formatter) in the state files that import it, neither of them open', async () => {
    const macros = join(salt, 'app', 'ids.jinja');
    const macro = (suffix: string) => `{% macro conf(name) %}\n{{ name }}-${suffix}:\n  file.managed:\n    - name: /etc/{{ name }}.conf\n{% endmacro %}\n`;
    writeFileSync(macros, macro('conf'));
    writeFileSync(join(salt, 'app', 'ids.sls'), "{% from 'app/ids.jinja' import conf %}\n\n{{ conf('made') }}\n");
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(join(salt, 'app', 'ids.sls')), type: FileChangeType.Created }] });
    const symbols = async (query: string) => (await client.request<SymbolInformation[]>('workspace/symbol', { query })).map((s) => s.name);
    assert.deepEqual(await symbols('made-'), ['made-conf']);
    writeFileSync(macros, macro('settings'));
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(macros), type: FileChangeType.Changed }] });
    assert.deepEqual(await symbols('made-'), ['made-settings']);
    rmSync(macros);
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(macros), type: FileChangeType.Deleted }] });
    assert.deepEqual(await symbols('made-'), [], 'the macro is gone: the call makes no state the source decides');
  });
});
