// The SLS source model: Jinja blanked with positions kept, YAML read as Salt reads it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { blankJinja, jinjaIdentifierAt, jinjaNames, scanJinja, templateRegex } from '../../src/sls/jinja';
import { parseSls, LineIndex } from '../../src/sls/parse';

const text = (lines: string[]) => lines.join('\n') + '\n';

describe('blankJinja', () => {
  it('keeps length and newlines, blanks every tag and keeps raw content', () => {
    const source = text(['{% set x = {', "  'a': 1} %}", 'key: {{ x.a }}', '{# note #}', 'raw: {% raw %}{{ kept }}{% endraw %}']);
    const { text: blanked, tags } = blankJinja(source);
    assert.equal(blanked.length, source.length);
    assert.deepEqual(
      blanked.split('\n').map((l) => l.length),
      source.split('\n').map((l) => l.length),
    );
    assert.equal(blanked.split('\n')[0].trim(), '');
    assert.equal(blanked.split('\n')[1].trim(), '');
    assert.equal(blanked.split('\n')[2].trimEnd(), 'key:');
    assert.equal(blanked.split('\n')[4].trimEnd(), 'raw:          {{ kept }}');
    assert.deepEqual(
      tags.map((t) => t.keyword ?? t.kind),
      ['set', 'expression', 'comment', 'raw', 'endraw'],
    );
  });

  it('turns an expression that opens a key line into filler so the line stays a key', () => {
    const { text: blanked } = blankJinja('{{ prefix }}_state:\n  cmd.run: []\n');
    assert.equal(blanked.split('\n')[0], '____________' + '_state:');
    assert.equal(blankJinja('  {{ whole_line }}\n').text, '                  \n');
  });

  it('skips quoted braces inside tags and survives unclosed ones', () => {
    const tags = scanJinja("{{ '}}' ~ x }} {% if a %}\n{{ unclosed\nnext: line\n");
    assert.deepEqual(
      tags.map((t) => [t.kind, t.unterminated ?? false]),
      [
        ['expression', false],
        ['statement', false],
        ['expression', true],
      ],
    );
    assert.equal(tags[2].end, "{{ '}}' ~ x }} {% if a %}\n{{ unclosed".length, 'an unclosed tag stops at its line end');
  });

  it('finds the names Jinja statements bind, with their positions', () => {
    const source = text(['{% from "map.jinja" import web with context %}', '{% from "a.jinja" import x as y, z %}', '{% import_yaml "d.yaml" as defaults %}', '{%- set a, b = 1, 2 -%}', '{% for k, v in d.items() %}{% endfor %}', '{% macro m(x) %}{% endmacro %}', '{{ web.conf_dir }}']);
    const tags = scanJinja(source);
    assert.deepEqual(
      jinjaNames(source, tags).map((n) => [n.name, source.slice(n.start, n.end), n.kind, n.from?.path ?? null, n.from?.original ?? null]),
      [
        ['web', 'web', 'import', 'map.jinja', 'web'],
        ['y', 'y', 'import', 'a.jinja', 'x'],
        ['z', 'z', 'import', 'a.jinja', 'z'],
        ['defaults', 'defaults', 'import', 'd.yaml', null],
        ['a', 'a', 'set', null, null],
        ['b', 'b', 'set', null, null],
        ['k', 'k', 'for', null, null],
        ['v', 'v', 'for', null, null],
        ['m', 'm', 'macro', null, null],
      ],
    );
    assert.equal(jinjaIdentifierAt(source, tags, source.indexOf('conf_dir') + 2), 'web', 'the root of a dotted name');
    assert.equal(jinjaIdentifierAt(source, tags, source.indexOf('map.jinja') + 1), undefined, 'not inside a string');
    assert.equal(jinjaIdentifierAt(source, tags, 4), undefined, 'not a keyword');
  });

  it('makes a pattern of the IDs a templated key produces', () => {
    const pattern = templateRegex('web_site_{{ site }}_{{ n }}');
    assert.ok(pattern.test('web_site_blog_1'));
    assert.ok(!pattern.test('web_config'));
  });
});

describe('parseSls', () => {
  it('reads states, both function forms, arguments and names', () => {
    const parsed = parseSls(
      text(['vim:', '  pkg.installed:', '    - name: vim-nox', '    - refresh: True', 'nginx:', '  pkg:', '    - installed', '  service:', '    - running', '    - enable: True', 'short: test.nop']),
    );
    assert.deepEqual(
      parsed.states.map((s) => [s.id, s.functions.map((f) => `${f.module}.${f.fun}(${f.args.map((a) => a.name).join(',')})`), s.names]),
      [
        ['vim', ['pkg.installed(name,refresh)'], ['vim-nox']],
        ['nginx', ['pkg.installed()', 'service.running(enable)'], []],
        ['short', ['test.nop()'], []],
      ],
    );
    const nginx = parsed.states[1];
    assert.deepEqual(parsed.lines.position(nginx.functions[0].funSpan!.start), { line: 6, character: 6 });
  });

  it('reads `names` as names requisites may target', () => {
    const parsed = parseSls(text(['pkgs:', '  pkg.installed:', '    - names:', '      - curl', '      - jq:', '        - version: 1.6', '      - {{ extra }}']));
    assert.deepEqual(parsed.states[0].names, ['curl', 'jq']);
  });

  it('reads every requisite form', () => {
    const parsed = parseSls(
      text([
        'a:',
        '  cmd.run:',
        '    - require:',
        '      - file: f1',
        '      - plain_id',
        '      - sls: web.app',
        '    - watch_in:',
        '      - service: svc',
        '    - onchanges_any:',
        '      - pkg: [p1, p2]',
        '    - listen: {cmd: c1}',
      ]),
    );
    assert.deepEqual(
      parsed.requisites.map((r) => [r.keyword, r.module ?? null, r.target, r.owner]),
      [
        ['require', 'file', 'f1', 'a'],
        ['require', null, 'plain_id', 'a'],
        ['require', 'sls', 'web.app', 'a'],
        ['watch_in', 'service', 'svc', 'a'],
        ['onchanges_any', 'pkg', 'p1', 'a'],
        ['onchanges_any', 'pkg', 'p2', 'a'],
        ['listen', 'cmd', 'c1', 'a'],
      ],
    );
    const f1 = parsed.requisites[0];
    assert.equal(parsed.source.slice(f1.span.start, f1.span.end), 'f1');
  });

  it('reads include (relative, env-qualified), extend, exclude and salt:// references', () => {
    const parsed = parseSls(
      text(['include:', '  - .sibling', '  - web.app', '  - prod: db', 'exclude:', '  - id: skipped', 'extend:', '  app_root:', '    file:', '      - mode: 755', 'x:', '  file.managed:', '    - source:', '      - salt://a/b.conf?saltenv=base', '      - "salt://c/{{ grains.os }}.conf"']),
    );
    assert.deepEqual(
      parsed.includes.map((i) => i.module),
      ['.sibling', 'web.app', 'db'],
    );
    assert.deepEqual(
      parsed.extends.map((e) => [e.id, e.functions.map((f) => f.module)]),
      [['app_root', ['file']]],
    );
    assert.deepEqual(
      parsed.states.map((s) => s.id),
      ['x'],
      'exclude and extend are not states',
    );
    assert.deepEqual(
      parsed.saltUrls.map((u) => [u.path, u.templated]),
      [
        ['a/b.conf', false],
        ['c/{{ grains.os }}.conf', true],
      ],
    );
  });

  it('keeps source positions through Jinja and marks IDs Jinja makes', () => {
    const source = text(['{% from "map.jinja" import m %}', '{% for site in m.sites %}', 'site_{{ site }}:', '  file.directory:', '    - name: /srv/{{ site }}', '{% endfor %}', 'after_{{ "loop" }}_x:', '  test.nop: []']);
    const parsed = parseSls(source);
    assert.deepEqual(
      parsed.states.map((s) => [s.id, s.templated, s.inJinjaBlock, parsed.lines.position(s.span.start).line]),
      [
        ['site_{{ site }}', true, true, 2],
        ['after_loop_x', false, false, 6],
      ],
      'an expression the source decides gives its value',
    );
    assert.ok(parsed.states[0].pattern?.test('site_blog'));
    assert.deepEqual(
      parsed.jinjaImports.map((i) => [i.path, source.slice(i.span.start, i.span.end)]),
      [['map.jinja', 'map.jinja']],
    );
    assert.deepEqual(parsed.problems, []);
  });

  it('reports YAML errors at their source position: errors outside Jinja, information at most where Jinja is', () => {
    const parsed = parseSls(text(['ok:', '  test.nop: []', ' bad: [unclosed', 'jinja_line: {{ x }} : y {{ z }}: w']));
    assert.ok(parsed.problems.length >= 1);
    assert.equal(parsed.problems[0].severity, 'error');
    assert.equal(parsed.lines.position(parsed.problems[0].span.start).line, 2);
    const soft = parseSls('a: {{ x }}: {{ y }}\n');
    assert.ok(soft.problems.length > 0 && soft.problems.every((p) => p.severity === 'information' && /Jinja/.test(p.message)), JSON.stringify(soft.problems));
    const structural = parseSls(text(['{% if x %}', 'a:', '  test.nop: []', '{% else %}', '  test.nop', '{% endif %}', 'b: [', '{% for i in l %}', '  {{ i }},', '{% endfor %}', ']']));
    assert.deepEqual(structural.problems, [], 'structure Jinja decides is never a YAML error');
    const guarded = parseSls(text(["{% if grains.os_family == 'Debian' %}", 'plain:', '  cmd.run:', '    - name: "unclosed', '{% endif %}']));
    assert.deepEqual(
      guarded.problems.map((p) => [p.severity, /where Jinja renders this block/.test(p.message)]),
      [['warning', true]],
      'plain text inside a Jinja block: wrong wherever it is rendered',
    );
  });

  it('reports the shapes Salt refuses before it runs anything, only where no Jinja decides them', () => {
    const shapes = (lines: string[]) => {
      const parsed = parseSls(text(lines));
      // 0-based lines.
      return parsed.problems.filter((p) => p.code === 'state-shape').map((p) => `${parsed.lines.position(p.span.start).line} ${p.severity}: ${p.message.split(':')[0]}`);
    };
    assert.deepEqual(
      shapes([
        'web-pkg:',
        '  pkg.installed:',
        '    - name: nginx',
        'web-conf:',
        '  file.managed:',
        '    name: /etc/web.conf',
        '    source: salt://web/web.conf',
        'web-dir:',
        '  file.directory:',
        'web-bare:',
        '  name: /srv/web',
        'web-scalar:',
        '  service.running: nginx',
        'web-short:',
        '  pkg: installed',
        'web-nop:',
        '  test.nop',
      ]),
      [
        "4 error: The arguments of 'file.managed' are a mapping",
        "8 error: 'file.directory",
        "10 error: 'name' is an argument, not a state function",
        "12 error: 'service.running",
        "14 error: 'pkg",
      ],
    );
    // Inside an if: wrong wherever Jinja renders it. Jinja in the state's own text: Jinja may make the list.
    assert.deepEqual(shapes(['{% if grains.os_family == "Debian" %}', 'web-conf:', '  file.managed:', '    name: /etc/web.conf', 'web-pkg:', '  pkg.installed: []', '{% endif %}']), ["2 warning: The arguments of 'file.managed' are a mapping"]);
    assert.deepEqual(shapes(['web-conf:', '  file.managed:', '    {{ args | yaml }}', 'web-dir:', '  file.directory:', '{%- for arg in args %}', '    - {{ arg }}', '{%- endfor %}']), []);
    // No unknown module 'name' besides.
    assert.deepEqual(parseSls(text(['web-bare:', '  name: /srv/web'])).states[0].functions, []);
  });

  it('reads a Jinja-heavy file (loops, if/else branches, templated keys) without false errors', () => {
    const source = readFileSync(join(resolve(__dirname, '..', '..', '..'), 'test', 'fixtures', 'sls', 'jinja-heavy.sls'), 'utf8');
    const parsed = parseSls(source);
    assert.deepEqual(
      parsed.states.map((st) => [st.id, st.templated, st.inJinjaBlock, parsed.lines.position(st.span.start).line, st.functions.map((f) => `${f.module}.${f.fun}`).join(',')]),
      [
        ['{{ name }}_user', true, true, 13, 'file.directory,user.present'],
        ['validate {{ name }} rule', true, true, 30, 'cmd.run'],
        ['{{ users.sudoers_dir }}/{{ name }}', true, true, 37, 'file.managed'],
        ['{{ name }}', true, true, 48, 'user.absent,user.absent'],
      ],
    );
    assert.deepEqual(
      parsed.includes.map((i) => i.module),
      ['users.sudo'],
    );
    assert.ok(parsed.requisites.every((r) => r.templated));
    // The if/else branches give `user.absent` as a mapping, then as a plain scalar: each pass renders one.
    assert.deepEqual(parsed.problems, []);
  });

  it('reads top.sls entries', () => {
    const parsed = parseSls(text(['base:', "  '*':", '    - common', "  'web*':", '    - match: glob', '    - web']), { isTop: true });
    assert.deepEqual(
      parsed.topEntries.map((e) => [e.saltenv, e.target, e.module]),
      [
        ['base', '*', 'common'],
        ['base', 'web*', 'web'],
      ],
    );
    assert.deepEqual(parsed.states, []);
  });

  it('leaves non-YAML renderers alone', () => {
    const parsed = parseSls('#!py\ndef run():\n    return {}\n');
    assert.equal(parsed.renderer, 'py');
    assert.deepEqual(parsed.problems, []);
  });

  it('maps offsets and positions both ways', () => {
    const lines = new LineIndex('ab\ncde\n\nf');
    assert.deepEqual(lines.position(4), { line: 1, character: 1 });
    assert.equal(lines.offset(3, 0), 8);
    assert.equal(lines.offset(1, 99), 6, 'past the line end is the line end');
    assert.equal(lines.lineText(1), 'cde');
  });

  it('re-reads only what an edit touched and gets the same model as a fresh read', () => {
    const source = readFileSync(join(resolve(__dirname, '..', '..', '..'), 'examples', 'salt', 'web', 'init.sls'), 'utf8');
    const summary = (p: ReturnType<typeof parseSls>) =>
      JSON.stringify([p.states.map((st) => [st.id, st.span, st.extent, st.inJinjaBlock, st.functions]), p.requisites, p.includes, p.saltUrls, p.problems]);
    const first = parseSls(source);
    const second = parseSls(source, { previous: first });
    assert.equal(summary(second), summary(first), 'block by block reads like whole');
    // Insert a state before web_config: every later block moves.
    const at = source.indexOf('web_config:');
    const edited = `${source.slice(0, at)}added:\n  test.nop: []\n\n${source.slice(at)}`;
    const incremental = parseSls(edited, { previous: second });
    assert.equal(summary(incremental), summary(parseSls(edited)));
    assert.deepEqual(
      incremental.states.map((st) => st.id),
      ['web_conf_dir', 'added', 'web_config', 'web_site_{{ site }}', 'web_reload', 'web_greeting'],
    );
    assert.equal(incremental.states[3].inJinjaBlock, true);
  });
});
