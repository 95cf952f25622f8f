// The SLS language server reports Jinja's syntax errors as Jinja does (message, line) in .sls, .jinja and
// .j2 files, state and pillar trees alike; a block left open at its opening tag with the end of the template
// as related information; nothing for a file Salt renders without Jinja, or for a template Jinja parses.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { LspClient, fixtureTree } from './lsp';

const text = (lines: string[]) => lines.join('\n') + '\n';

describe('SLS language server: Jinja syntax errors', () => {
  let client: LspClient;
  let work: string;
  let salt: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'jinja-syntax-test-'));
    cpSync(fixtureTree, work, { recursive: true });
    salt = join(work, 'salt');
    mkdirSync(join(work, 'pillar'));
    client = await LspClient.start({ folder: work, env: { SALT_CONTAINERS_CACHE: join(work, 'cache') }, initializationOptions: { catalogue: false } });
  });
  after(async () => {
    await client.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const jinjaOf = async (file: string, source: string, languageId = 'sls') => {
    const found = await client.diagnosticsOf(client.open(file, source, languageId));
    return found.filter((d) => d.source === 'jinja');
  };
  const brief = (d: Diagnostic) => `${d.range.start.line}:${d.range.start.character} ${d.message}`;

  it('names each of the issue\'s errors at its line with Jinja\'s message', async () => {
    const cases: [string, string[], string][] = [
      [
        'if.sls',
        ['a: b', "{% if grains['os'] == 'Debian' %}", 'c: d'],
        "1:0 Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'.",
      ],
      ['set.sls', ['a: b', '{%- set d = {{ x }} %}'], "1:17 expected token ':', got '}'"],
      ['call.sls', ['a: b', "os: {{ salt['grains.get']('os' }}"], "1:31 unexpected '}', expected ')'"],
      ['sett.sls', ['{% sett y = 2 %}'], "0:3 Encountered unknown tag 'sett'."],
      [
        'for.sls',
        ['{% for x in y %}', 'a{{ x }}: []', '{% endif %}'],
        "2:3 Encountered unknown tag 'endif'. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'.",
      ],
      ['print.sls', ["x: {{ pillar.get('x')", 'y: z'], "1:0 expected token 'end of print statement', got 'y'"],
    ];
    for (const [name, lines, expected] of cases) {
      const found = await jinjaOf(join(salt, name), text(lines));
      assert.deepEqual(found.map(brief), [expected], name);
      assert.equal(found[0].severity, 1, 'an error');
      assert.equal(found[0].code, 'jinja-syntax');
    }
  });

  it('shows a block left open at its tag, the end of the template related, with the line Jinja names', async () => {
    const source = text(['{% for user in users %}', '{{ user }}:', '  user.present: []', '{% if user %}', '  x: 1', '{% endif %}', 'end: here']);
    const [d] = await jinjaOf(join(salt, 'open.sls'), source);
    assert.equal(d.range.start.line, 0);
    assert.equal(d.range.end.character, '{% for user in users %}'.length, 'the whole opening tag');
    assert.match(d.message, /^Unexpected end of template\. .* 'endfor' or 'else'\. The innermost block that needs to be closed is 'for'\.$/);
    assert.equal(d.relatedInformation?.length, 1);
    const related = d.relatedInformation![0];
    assert.equal(related.location.range.start.line, 7, 'the end of the template');
    // Jinja counts from the last token it read: the text after {% endif %} on line 6.
    assert.equal(related.message, "the template ends here; Jinja (and Salt's error) name line 6");
  });

  it('checks .jinja and .j2 templates and pillar files; not a #!py file; nothing for what Jinja parses', async () => {
    // `%}` inside an open brace is an operator and a brace to Jinja's lexer.
    assert.deepEqual((await jinjaOf(join(salt, 'map.jinja'), text(['{% set x = {', "  'a': 1,", '%}']), 'jinja')).map(brief), ["2:0 unexpected '%'"]);
    assert.deepEqual((await jinjaOf(join(salt, 'files', 'app.conf.j2'), text(['port = {{ port }', 'x']), 'jinja')).map(brief), ["0:15 unexpected '}'"]);
    assert.deepEqual((await jinjaOf(join(work, 'pillar', 'data.sls'), text(['{% if x %}', 'a: 1']))).map((d) => d.range.start.line), [0]);
    assert.deepEqual(await jinjaOf(join(salt, 'pyrendered.sls'), text(['#!py', 'def run():', '    return {"{% if": {}}'])), []);
    assert.deepEqual(await jinjaOf(join(salt, 'fine.sls'), text(['{% raw %}{% if %}{% endraw %}', "{%- set m = {'a': [1, (2, 3)]} -%}", '{{ m | json }}: {}', '{# {% if #}'])), []);
  });

  it('follows edits: the error goes when the block is closed', async () => {
    const file = join(salt, 'edit.sls');
    const uri = client.open(file, text(['{% if x %}', 'a: 1']));
    assert.equal((await client.diagnosticsOf(uri)).filter((d) => d.source === 'jinja').length, 1);
    client.change(uri, { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, '{% endif %}\n');
    assert.deepEqual((await client.diagnosticsOf(uri)).filter((d) => d.source === 'jinja'), []);
  });
});
