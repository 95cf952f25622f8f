// The SLS language server reports a key given twice in one mapping as Salt's YAML loader refuses it
// ("found conflicting ID 'x'", salt/utils/yamlloader.py), at every level and in flow mappings, comparing
// keys as loaded (`on` and `true` are one, `1` and `"1"` two), in state and pillar files; the repeat is
// reported once, at its line, with the first occurrence as related information. Not a repeat: a key that
// overrides one a `<<` merge brings, keys in two branches of a Jinja `if`, keys Jinja makes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { LspClient } from './lsp';

const text = (lines: string[]) => lines.join('\n') + '\n';

describe('SLS language server: keys given twice', () => {
  let client: LspClient;
  let work: string;
  let salt: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'duplicate-keys-test-'));
    salt = join(work, 'salt');
    mkdirSync(salt);
    mkdirSync(join(work, 'pillar'));
    writeFileSync(join(salt, 'top.sls'), text(['base:', "  '*':", '    - a']));
    client = await LspClient.start({ folder: work, env: { SALT_CONTAINERS_CACHE: join(work, 'cache') }, initializationOptions: { catalogue: false } });
  });
  after(async () => {
    await client.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** The repeated-key diagnostics of a file: `line:character code message`, and the related line. */
  const repeatsOf = async (file: string, lines: string[]) => {
    const uri = client.open(file, text(lines));
    const found = (await client.diagnosticsOf(uri)).filter((d) => d.code === 'duplicate-key' || d.code === 'duplicate-id');
    return found.map((d: Diagnostic) => {
      assert.equal(d.source, 'sls');
      assert.equal(d.relatedInformation?.length, 1, 'the first occurrence is related');
      assert.equal(d.relatedInformation![0].location.uri, uri);
      return { at: `${d.range.start.line}:${d.range.start.character}`, code: d.code, severity: d.severity, message: d.message, first: d.relatedInformation![0].location.range.start.line };
    });
  };

  it('reports a repeat in a nested mapping at the repeat, the first related, in Salt\'s words', async () => {
    const found = await repeatsOf(join(salt, 'nested.sls'), ['web:', '  file.managed:', '    - name: /etc/web', '    - source: salt://a', '    - context:', '        port: 80', '        port: 81']);
    assert.deepEqual(found.map((f) => [f.at, f.code, f.severity, f.first]), [['6:8', 'duplicate-key', 1, 5]]);
    assert.match(found[0].message, /^found conflicting ID 'port': this key is given twice in one mapping/);
  });

  it('reports a state ID declared twice once, as Salt names it, and every further repeat', async () => {
    const found = await repeatsOf(join(salt, 'ids.sls'), ['web:', '  test.nop: []', 'db:', '  test.nop: []', 'web:', '  test.nop: []', 'web:', '  test.nop: []']);
    assert.deepEqual(found.map((f) => [f.at, f.code, f.first]), [['4:0', 'duplicate-id', 0], ['6:0', 'duplicate-id', 0]]);
    assert.match(found[0].message, /^found conflicting ID 'web': this ID is declared twice in this file/);
  });

  it('reports a repeat in a flow mapping', async () => {
    const found = await repeatsOf(join(salt, 'flow.sls'), ['web:', '  cmd.run:', '    - env: {LANG: C, PATH: /bin, LANG: C.UTF-8}']);
    assert.deepEqual(found.map((f) => [f.at, f.code, f.first]), [['2:33', 'duplicate-key', 2]]);
  });

  it('compares keys as loaded: on and true are one key, 1 and "1" are two', async () => {
    const found = await repeatsOf(join(salt, 'loaded.sls'), ['web:', '  test.nop:', '    - flags:', '        on: a', '        true: b', '    - ids:', '        1: a', "        '1': b"]);
    assert.deepEqual(found.map((f) => [f.at, f.first]), [['4:8', 3]]);
    assert.match(found[0].message, /^found conflicting ID 'True' \('on' and 'true' are one key once loaded\)/);
  });

  it('accepts a key that overrides one a merge brings', async () => {
    const found = await repeatsOf(join(salt, 'merge.sls'), ['web:', '  test.nop:', '    - defaults: &defaults {port: 80, user: www}', '    - site:', '        <<: *defaults', '        port: 8080']);
    assert.deepEqual(found, []);
  });

  it('does not compare keys in two branches of a Jinja if, or keys Jinja makes; warns for a repeat inside one block', async () => {
    const found = await repeatsOf(join(salt, 'jinja.sls'), [
      "{% set port = 80 %}",
      'web:',
      '  test.nop:',
      '    - conf:',
      "{% if grains['os'] == 'Debian' %}",
      '        user: www-data',
      '{% else %}',
      '        user: www',
      '{% endif %}',
      '        {{ port }}: a',
      '        80: b',
      '        {{ grains.id }}: c',
      '        {{ grains.id }}: d',
      "{% if grains['os'] == 'Debian' %}",
      'debian:',
      '  test.nop:',
      '    - a: 1',
      '    - conf: {x: 1, x: 2}',
      '{% endif %}',
    ]);
    assert.deepEqual(found.map((f) => [f.at, f.severity, f.first]), [['17:19', 2, 17]]);
    assert.match(found[0].message, /\(where Jinja renders this block\)$/);
  });

  it('reports repeats in a pillar file', async () => {
    const found = await repeatsOf(join(work, 'pillar', 'users.sls'), ['users:', '  bob:', '    uid: 1001', '    shell: /bin/sh', '    uid: 1002', 'users:', '  alice: {}']);
    assert.deepEqual(found.map((f) => [f.at, f.code, f.first]), [['4:4', 'duplicate-key', 2], ['5:0', 'duplicate-key', 0]]);
  });
});
