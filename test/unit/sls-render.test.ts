// Jinja rendered as far as the source decides it (src/sls/render.ts): the YAML Salt would read, mapped back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scanJinja } from '../../src/sls/jinja';
import { evaluate, renderJinja, SourceMap, type RenderContext } from '../../src/sls/render';

const text = (lines: string[]) => lines.join('\n') + '\n';
const render = (source: string, context: RenderContext = {}, pass = 0) => renderJinja(source, scanJinja(source), context, pass);
/** The rendered text with its whitespace-only lines dropped: the structure YAML sees. */
const structure = (rendered: string) =>
  rendered
    .split('\n')
    .filter((l) => l.trim() !== '')
    .join('\n');

describe('renderJinja', () => {
  it('applies whitespace control as Jinja does (checked against Jinja 3 itself)', () => {
    const source = text(['a:', '  {%- if true %}', '  b: 1', '  {%- endif %}', 'c:', '  {% for i in [1] -%}', '  - x', '  {% endfor %}', '{%- set y = 1 -%}', '', 'd: 2']);
    // jinja2.Environment().from_string(source).render() gives this (without the final newline).
    assert.equal(render(source).text, 'a:\n  b: 1\nc:\n  - x\n  d: 2\n');
  });

  it('renders one branch of an if per pass, and as many passes as the longest chain has branches', () => {
    const source = text(['{% if a %}', 'x:', '  pkg.installed', '{% elif b %}', 'y:', '  pkg.removed', '{% else %}', 'z: {}', '{% endif %}']);
    const passes = [0, 1, 2].map((pass) => structure(render(source, {}, pass).text));
    assert.deepEqual(passes, ['x:\n  pkg.installed', 'y:\n  pkg.removed', 'z: {}']);
    assert.equal(render(source).passes, 3);
    assert.deepEqual(render(source).chains[0].conditions, ['a', 'b', '']);
  });

  it('makes an expression inside a line a placeholder, and one alone on its line nothing', () => {
    const source = text(['{{ id }}:', '  file.managed:', '    - name: /srv/{{ site }}', '    {{ more_args }}', '    - mode: 644']);
    assert.equal(structure(render(source).text), 'JINJA:\n  file.managed:\n    - name: /srv/JINJA\n    - mode: 644');
  });

  it('substitutes names a top-level set gives a value the source decides, with Salt\'s tpldir', () => {
    const source = text(["{%- set tplroot = tpldir.split('/')[0] %}", "{%- set sls_install = tplroot ~ '.package.install' %}", 'include:', '  - {{ sls_install }}']);
    assert.equal(structure(render(source, { path: 'web/config/file.sls' }).text), 'include:\n  - web.package.install');
    assert.equal(structure(render(source).text), 'include:\n  - JINJA.package.install', 'no path: tpldir is not known, the rest is');
  });

  it('expands macros that emit keys and arguments, with the literal arguments of the call', () => {
    const source = text([
      '{%- macro key_name(user, key) -%}',
      "{%- if 'name' in key %}",
      "{{ key['name'] }}",
      '{%- else %}',
      '{{ user }}-key',
      '{%- endif %}',
      '{%- endmacro -%}',
      '{%- macro auth_args(user) -%}',
      '    - user: {{ user }}',
      '    - enc: ssh-ed25519',
      '{%- endmacro -%}',
      "{{ key_name('alice', key) }}:",
      '  ssh_auth.present:',
      "    {{ auth_args('alice') }}",
      '    - require:',
      '      - user: alice',
    ]);
    assert.equal(structure(render(source).text), 'JINJA:\n  ssh_auth.present:\n    - user: alice\n    - enc: ssh-ed25519\n    - require:\n      - user: alice');
    assert.equal(structure(render(source, {}, 1).text).split('\n')[0], 'alice-key:', 'the other branch of the macro in the second pass');
  });

  it('expands macros imported from the tree, and says where each rendered piece comes from', () => {
    const macros = text(['{%- macro format_state(name, state, kwarg) %}', '{{ state }}-{{ name }}:', '  {{ state }}.present:', '    - name: {{ name }}', '{%- endmacro %}']);
    const source = text(['{%- from "db/macros.jinja" import format_state with context %}', '{%- for name, db in dbs.items() %}', "{{ format_state(name, 'postgres_database', db) }}", '{%- endfor %}']);
    const rendered = render(source, { load: (path) => (path === 'db/macros.jinja' ? macros : undefined) });
    assert.equal(structure(rendered.text), 'postgres_database-JINJA:\n  postgres_database.present:\n    - name: JINJA');
    const map = new SourceMap(rendered, source);
    const key = rendered.text.indexOf('postgres_database-JINJA');
    const described = map.describe(key, key + 'postgres_database-JINJA'.length);
    assert.equal(described.text, 'postgres_database-{{ name }}', "the macro's text with the call's literal argument");
    assert.equal(described.value, undefined, 'not known');
    assert.equal(source.slice(map.start(key), map.end(key + 5)), "{{ format_state(name, 'postgres_database', db) }}", 'it stands at the call');
    assert.deepEqual(rendered.imports.map((i) => [i.path, source.slice(i.start, i.end)]), [['db/macros.jinja', 'db/macros.jinja']]);
  });

  it('expands a call block with its body as caller(), and applies filter blocks and | indent', () => {
    const source = text([
      '{%- macro wrapped(id) -%}',
      '{{ id }}:',
      '  file.managed:',
      '    - contents: |',
      '        {{ caller() | indent(8) }}',
      '{%- endmacro -%}',
      "{% call wrapped('motd') -%}",
      'line one',
      'line two',
      '{%- endcall %}',
      'options:',
      '  file.serialize:',
      '    - dataset:',
      '    {%- filter indent(8) %}',
      '      {%- for k, v in d.items() %}',
      '{{ k }}: {{ v }}',
      '      {%- endfor %}',
      '    {%- endfilter %}',
    ]);
    assert.equal(
      structure(render(source).text),
      ['motd:', '  file.managed:', '    - contents: |', '        line one', '        line two', 'options:', '  file.serialize:', '    - dataset:', '        JINJA: JINJA'].join('\n'),
    );
  });

  it('keeps raw blocks literal and renders an included template with the includer\'s names', () => {
    const source = text(["{% set state = 'fpm' %}", '{% include "php/installed.jinja" %}', 'raw:', '  cmd.run:', '    - name: echo {% raw %}{{ not_jinja }}{% endraw %}']);
    const included = text(['php_install_{{ state }}:', '  pkg.installed: []']);
    const rendered = render(source, { load: (path) => (path === 'php/installed.jinja' ? included : undefined) });
    assert.equal(structure(rendered.text), 'php_install_fpm:\n  pkg.installed: []\nraw:\n  cmd.run:\n    - name: echo {{ not_jinja }}');
  });

  it('shows a name set from known text and unknown parts as that template', () => {
    const source = text(['{%- for server in servers %}', "{%- set state_id = 'server_conf_' ~ loop.index0 %}", '{{ state_id }}:', '  file.managed: []', '{%- endfor %}']);
    const rendered = render(source);
    const map = new SourceMap(rendered, source);
    const at = rendered.text.indexOf('server_conf_');
    assert.equal(map.describe(at, rendered.text.indexOf(':', at)).text, 'server_conf_{{ loop.index0 }}');
  });

  it('never throws and stays bounded on macros that call themselves', () => {
    const source = text(['{% macro m() %}{{ m() }}x:\n  a.b: []\n{% endmacro %}', '{{ m() }}', '{% if %}{% endfor %}{% macro %}{% call nothing() %}']);
    assert.doesNotThrow(() => render(source));
  });
});

describe('evaluate', () => {
  it('decides string expressions from known names, and nothing else', () => {
    const names = new Map([['tpldir', 'web/config']]);
    const lookup = (n: string) => names.get(n);
    assert.equal(evaluate("tpldir.split('/')[0] ~ '.service'", lookup), 'web.service');
    assert.equal(evaluate("'a' + 'b' | upper", lookup), 'aB');
    assert.equal(evaluate("tpldir | replace('/', '.')", lookup), 'web.config');
    assert.equal(evaluate("salt['pillar.get']('x')", lookup), undefined);
    assert.equal(evaluate("{'a': 1}", lookup), undefined);
    assert.equal(evaluate('unknown ~ "x"', lookup), undefined);
  });
});
