// The SLS language server must survive any input: garbage, binary, huge lines, half-typed Jinja.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocumentSymbol } from 'vscode-languageserver-protocol';
import { LspClient, fixtureTree, pos } from './lsp';

/** A deterministic pseudo-random generator (the same garbage every run). */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ['{{', '}}', '{%', '%}', '{#', '#}', '{%-', '-%}', ':', ' ', '  ', '\n', '\n  ', '- ', '"', "'", '[', ']', '{', '}', '&a', '*a', '!!', '|', '>', '#', 'salt://', 'require', 'include', 'extend', 'pkg.installed', '\t', '\u0000', '\ud800', '\u00e9', '.'];

describe('SLS language server robustness', () => {
  let client: LspClient;
  let cache: string;

  before(async () => {
    cache = mkdtempSync(join(tmpdir(), 'sls-garbage-test-'));
    client = await LspClient.start({ folder: fixtureTree, env: { SALT_CONTAINERS_CACHE: cache }, initializationOptions: { catalogue: false } });
  });
  after(async () => {
    await client.stop();
    rmSync(cache, { recursive: true, force: true });
  });

  it('answers every request on 200 garbage documents and never dies', async () => {
    const next = random(42);
    const requests = ['textDocument/documentSymbol', 'textDocument/hover', 'textDocument/definition', 'textDocument/completion', 'textDocument/references'];
    for (let n = 0; n < 200; n++) {
      let text = '';
      const length = Math.floor(next() * 200);
      for (let i = 0; i < length; i++) text += PIECES[Math.floor(next() * PIECES.length)];
      const uri = client.open(join(fixtureTree, 'salt', `garbage-${n}.sls`), text);
      const lines = text.split('\n');
      const line = Math.floor(next() * (lines.length + 2));
      const position = pos(line, Math.floor(next() * ((lines[line]?.length ?? 0) + 3)));
      for (const method of requests) {
        await client.request(method, { textDocument: { uri }, position, context: { includeDeclaration: true } });
      }
      client.change(uri, { start: pos(0, 0), end: pos(line, 0) }, PIECES[n % PIECES.length]);
      client.close(uri);
    }
    assert.equal(client.exited, false);
    assert.doesNotMatch(client.logs.join('\n'), /failed:/, 'no handler threw');
    // Still serving real files.
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: client.open(join(fixtureTree, 'salt', 'common.sls')) } });
    assert.deepEqual(symbols.map((s) => s.name), ['base_dir']);
  });

  it('reads a 20,000-character line and deeply nested flow YAML', async () => {
    const long = `big:\n  cmd.run:\n    - name: ${'x'.repeat(20000)}\n`;
    const nested = `deep: ${'['.repeat(2000)}${']'.repeat(2000)}\n`;
    for (const text of [long, nested, '{{'.repeat(5000), '{% raw %}'.repeat(1000)]) {
      const uri = client.open(join(fixtureTree, 'salt', 'huge.sls'), text);
      const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
      assert.ok(Array.isArray(symbols));
      await client.diagnosticsOf(uri);
      client.close(uri);
    }
    assert.equal(client.exited, false);
  });
});
