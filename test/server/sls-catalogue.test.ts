// The SLS language server with a real state catalogue, made from the host Salt (the test venv) in the test.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeAction, CompletionItem, Hover } from 'vscode-languageserver-protocol';
import { LspClient, startWithCatalogue, fixtureTree, pos } from './lsp';

const salt = join(fixtureTree, 'salt');

describe('SLS language server with the state catalogue', () => {
  let client: LspClient;
  let cache: string;

  before(async () => {
    ({ client, cache } = await startWithCatalogue({ folder: fixtureTree }, 'sls-catalogue-test-'));
  });
  after(async () => {
    await client.stop();
    rmSync(cache, { recursive: true, force: true });
  });

  it('caches the catalogue per Salt version and says nothing to the user', () => {
    const files = readdirSync(join(cache, 'catalogue'));
    assert.equal(files.length, 1);
    assert.match(files[0], /^\d+(\.\d+)*\.json$/);
    assert.deepEqual(client.shownMessages, []);
  });

  it('hovers a state function with its arguments and doc', async () => {
    const uri = client.open(join(salt, 'app', 'init.sls'));
    const hover = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: pos(6, 8) });
    const text = (hover.contents as { value: string }).value;
    assert.match(text, /^Manage a given file/, 'the summary first');
    assert.match(text, /\n```python\nfile\.managed\(name, source=None, source_hash='', /);
    assert.match(text, /template=None/);
    assert.deepEqual(hover.range, { start: pos(6, 2), end: pos(6, 14) });
    // The list form: `pkg:` then `- installed`.
    const listForm = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: pos(25, 8) });
    assert.match((listForm.contents as { value: string }).value, /```python\npkg\.installed\(/);
    const arg = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: pos(9, 8) });
    assert.match((arg.contents as { value: string }).value, /^\*\*template\*\* of `file.managed` = `None`\n\nIf this setting is applied, the named templating engine will be used/);
  });

  it('completes state functions (with docs on resolve) and their arguments', async () => {
    const text = ['thing:', '  file.', '', 'other:', '  file.managed:', '    - ', '', 'listed:', '  pkg:', '    - ', ''].join('\n');
    const uri = client.open(join(salt, 'scratch-catalogue.sls'), text);
    const functions = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: pos(1, 7) });
    const managed = functions.find((i) => i.label === 'file.managed');
    assert.ok(managed, 'file.managed offered');
    assert.ok(functions.find((i) => i.label === 'pkg.installed'));
    assert.deepEqual((managed.textEdit as { range: unknown }).range, { start: pos(1, 2), end: pos(1, 7) });
    // Chosen, it writes the function and its required argument as a snippet to fill in.
    assert.equal((managed.textEdit as { newText: string }).newText, 'file.managed:\n  - name: ${1}');
    assert.equal(managed.insertTextFormat, 2);
    assert.match(managed.detail ?? '', /^file\.managed\(name, source, /);
    const resolved = await client.request<CompletionItem>('completionItem/resolve', managed);
    assert.match((resolved.documentation as { value: string }).value, /Manage a given file/);

    const args = (await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: pos(5, 6) })).map((i) => i.label);
    for (const a of ['source', 'template', 'makedirs', 'contents', 'require', 'watch_in']) assert.ok(args.includes(a), `${a} in ${args.join(', ')}`);
    const funs = (await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: pos(9, 6) })).map((i) => i.label);
    for (const f of ['installed', 'removed', 'latest']) assert.ok(funs.includes(f), `${f} in ${funs.join(', ')}`);
    client.close(uri);
  });

  it('flags unknown state functions and offers the close one', async () => {
    const uri = client.open(join(salt, 'app', 'init.sls'));
    const typo = await client.until('the typo diagnostic', () => {
      const found = client.diagnostics.get(uri)?.filter((d) => d.code === 'unknown-function');
      return found?.length ? found : undefined;
    });
    assert.equal(typo.length, 1);
    assert.equal(typo[0].source, 'sls');
    assert.deepEqual(typo[0].range, { start: pos(38, 2), end: pos(38, 13) });
    assert.match(typo[0].message, /Unknown state function 'file.manged'/);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: typo[0].range, context: { diagnostics: typo } });
    assert.equal(actions[0].title, "Change to 'file.managed'");
    assert.deepEqual(actions[0].edit?.changes?.[uri], [{ range: typo[0].range, newText: 'file.managed' }]);
  });

  it('flags modules Salt does not ship, not the ones only the host cannot load', async () => {
    // cron ships with Salt but does not load on a host without crontab; the container may have it.
    const uri = client.open(join(salt, 'app', 'modules.sls'));
    const diagnostics = await client.until('diagnostics', () => client.diagnostics.get(uri));
    // A module Salt lacks may come from a Salt extension: information, not a warning.
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.range.start.line, d.severity]),
      [['unknown-module', 6, 3]],
    );
    assert.match(diagnostics[0].message, /State module 'nosuchmodule' is not in Salt/);
  });

  it('serves the cached catalogue when no Python with Salt is at hand, without troubling the user', async () => {
    const offline = await LspClient.start({ folder: fixtureTree, env: { SALT_CONTAINERS_CACHE: cache, SALT_CONTAINERS_PYTHON: join(cache, 'no-such-python') } });
    try {
      await offline.until('the failed look for Salt', () => offline.logs.find((l) => /no-such-python/.test(l)));
      const uri = offline.open(join(salt, 'app', 'init.sls'));
      const hover = await offline.request<Hover>('textDocument/hover', { textDocument: { uri }, position: pos(6, 8) });
      assert.match((hover.contents as { value: string }).value, /^Manage a given file/);
      assert.deepEqual(offline.shownMessages, []);
    } finally {
      await offline.stop();
    }
  });

  it('makes the catalogue again on request', async () => {
    const result = await client.request<{ saltVersion: string; functions: number }>('saltContainers/refreshStateCatalogue', {});
    assert.match(result.saltVersion, /^\d+/);
    assert.ok(result.functions > 100, `${result.functions} functions`);
  });
});
