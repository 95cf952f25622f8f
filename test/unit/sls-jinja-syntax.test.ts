// The Jinja syntax checker on its own: the examples with the message and line jinja2 gives for
// them (test/server/jinja-differential.test.ts checks every case against jinja2 itself), where the error
// is in the text, and what it says of a block left open.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jinjaSyntaxErrors, pyRepr } from '../../src/sls/jinjaSyntax';

const lines = (...l: string[]) => l.join('\n') + '\n';
const first = (text: string) => {
  const [e] = jinjaSyntaxErrors(text);
  return e && `${e.line}: ${e.message}`;
};

describe('Jinja syntax errors', () => {
  it("gives Jinja's message and line for the issue's examples", () => {
    assert.equal(first(lines('a: b', '{% if x %}', 'c: d')), "2: Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'.");
    assert.equal(first('{%- set d = {{ x }} %}'), "1: expected token ':', got '}'");
    assert.equal(first(lines('x', "{{ salt['grains.get']('os' }}")), "2: unexpected '}', expected ')'");
    assert.equal(first('{% sett y = 2 %}'), "1: Encountered unknown tag 'sett'.");
    assert.equal(first(lines('{% for a in b %}', '{% endif %}')), "2: Encountered unknown tag 'endif'. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'.");
    assert.equal(first(lines("{{ pillar.get('x')", 'foo', 'bar')), "2: expected token 'end of print statement', got 'foo'");
  });

  it("parses Salt's tags and what Jinja's extensions add, and nothing in raw blocks or comments", () => {
    const salt = lines(
      '{% import_yaml "defaults.yaml" as defaults %}{% import_json "x.json" as j %}{% import_text "t.txt" as t %}',
      '{% load_yaml as cfg %}a: {{ x }}{% endload %}{% load_json as j2 %}[]{% endload %}{% load_text as t2 %}x{% endload %}',
      "{% profile as 'map' %}{% do cfg.update({'a': 1}) %}{% endprofile %}",
      '{% for x in y %}{% if x %}{% break %}{% endif %}{% continue %}{% endfor %}',
      '{% with a = 1 %}{{ a }}{% endwith %}{% raw %}{% if %}{{{% endraw %}{# {% if #}',
    );
    assert.deepEqual(jinjaSyntaxErrors(salt), []);
    assert.equal(first('{% load_yaml as x %}a: 1{% endyaml %}'), "1: Encountered unknown tag 'endyaml'. Jinja was looking for the following tags: 'endload'. The innermost block that needs to be closed is 'load_yaml'.");
    assert.equal(first(lines('{% raw %}', '{{ x }}')), '1: Missing end of raw directive');
  });

  it('says where the error is in the text, and for a block left open its tag and the end', () => {
    const text = lines('a: 1', "x: {{ f('a' ]}}");
    const [e] = jinjaSyntaxErrors(text);
    assert.equal(text.slice(e.offset, e.offset + e.length), ']');
    assert.equal(e.column, 13);
    const open = lines('top: 1', '{%- for u in users %}', '{{ u }}: {}', 'end: 1');
    const [b] = jinjaSyntaxErrors(open);
    assert.equal(b.line, 3, 'Jinja counts from the last token it read');
    assert.deepEqual(b.block, { tag: 'for', offset: open.indexOf('{%-'), line: 2 });
    assert.deepEqual(b.related, { offset: open.length, line: 4, message: 'the template ends here' });
  });

  it('reads \\r\\n and \\r line ends as Jinja does, offsets in the text as given', () => {
    const text = 'a: b\r\n{{ x }}\r\n{{ y ? }}\r\n';
    const [e] = jinjaSyntaxErrors(text);
    // Jinja's position is in its own text, where \r\n is one character.
    assert.deepEqual([e.line, e.message, text[e.offset]], [3, "unexpected char '?' at 18", '?']);
    assert.equal(first('{% if x %}\ra\rb'), "1: Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'.");
  });

  it('leaves alone a template whose #jinja2: header changes the delimiters (Salt reads it; the syntax is another)', () => {
    assert.deepEqual(jinjaSyntaxErrors(lines('#!jinja|yaml', '#jinja2: {"block_start_string": "<%", "block_end_string": "%>"}', '<% if x %>{% if', '<% endif %>')), []);
    assert.equal(first(lines('#jinja2: {"trim_blocks": true}', '{% if x %}')), "2: Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'.");
  });

  it("prints names as Python's repr does", () => {
    assert.deepEqual([pyRepr('endif'), pyRepr("'"), pyRepr('\\'), pyRepr('\u200b')], ["'endif'", `"'"`, "'\\\\'", "'\\u200b'"]);
  });
});
