// The edit loop's pure parts: what the end of each state's line says after a run (results/inlineModel.ts),
// what changed between two runs of the same module (results/model.ts compareModels), and which state IDs
// get CodeLens (edit/stateLenses.ts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StateResult, StateRun } from '../../src/engine';
import { stateResult, stateRun } from '../support/results';
import { inlineResultsOf } from '../../src/extension/results/inlineModel';
import { buildResultsModel, compareKey, compareModels } from '../../src/extension/results/model';
import { stateLenses } from '../../src/extension/edit/stateLenses';

let root: string;

const state = (over: Partial<StateResult>) => stateResult({ durationMs: 12, ...over });
const run = (over: Partial<StateRun>) => stateRun({ durationMs: 900, ...over });

before(() => {
  root = mkdtempSync(join(tmpdir(), 'sc-editloop-'));
  mkdirSync(join(root, 'web'));
  writeFileSync(
    join(root, 'web', 'init.sls'),
    ['include:', '  - .extra', '', 'web_conf:', '  file.managed:', '    - name: /etc/web.conf', '', '{% for s in ["a", "b"] %}', 'site_{{ s }}:', '  file.directory:', '    - name: /srv/{{ s }}', '{% endfor %}', ''].join('\n'),
  );
  writeFileSync(join(root, 'web', 'extra.sls'), ['extra_pkg:', '  pkg.installed:', '    - name: curl', ''].join('\n'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('inline results', () => {
  it('put each outcome and duration on its state line, in every file of the run', () => {
    const results = inlineResultsOf(
      run({
        states: [
          state({ id: 'extra_pkg', sls: 'web.extra', function: 'pkg.installed', result: false, comment: 'No such package', durationMs: 1500 }),
          state({ id: 'web_conf', changes: { diff: '--- \n+++ \n@@ -1 +1 @@\n-a\n+b\n' }, comment: 'File /etc/web.conf updated' }),
        ],
      }),
      root,
    );
    assert.deepEqual(
      results.get(join(root, 'web', 'init.sls'))!.map((r) => [r.line, r.outcome, r.label]),
      [[3, 'changed', '● changed (1) · 12 ms']],
    );
    const [extra] = results.get(join(root, 'web', 'extra.sls'))!;
    assert.deepEqual([extra.line, extra.outcome, extra.label], [0, 'failed', '✗ failed · 1.50 s']);
    assert.match(extra.hover, /```\nNo such package\n```/, 'the comment is fenced: data, not markdown');
    const [conf] = results.get(join(root, 'web', 'init.sls'))!;
    assert.match(conf.hover, /```diff\n--- \n\+\+\+ \n@@ -1 \+1 @@\n-a\n\+b\n```/, 'a diff shows as a diff');
  });

  it('sum up the states a Jinja loop makes on one line, the worst outcome first; pending in test mode', () => {
    const results = inlineResultsOf(
      run({
        test: true,
        states: [
          state({ id: 'site_a', function: 'file.directory', result: null, changes: { '/srv/a': 'New Dir' }, durationMs: 2 }),
          state({ id: 'site_b', function: 'file.directory', result: true, durationMs: 3 }),
          state({ id: 'web_conf', result: true }),
        ],
      }),
      root,
    ).get(join(root, 'web', 'init.sls'))!;
    assert.deepEqual(
      results.map((r) => [r.line, r.outcome, r.label, r.ids]),
      [
        [3, 'succeeded', '✓ unchanged · 12 ms', ['web_conf']],
        [8, 'pending', '◐ 2 states: 1 pending, 1 unchanged · 5 ms', ['site_a', 'site_b']],
      ],
    );
  });

  it('leave out states whose file is not known (no __sls__)', () => {
    assert.equal(inlineResultsOf(run({ highstate: true, mods: [], states: [state({ id: 'states', sls: '', function: 'no.None', result: false })] }), root).size, 0);
  });
});

describe('results history', () => {
  it('compares two runs of the same module: other outcomes, other changes, new and gone states', () => {
    const first = buildResultsModel(
      run({ states: [state({ id: 'a', changes: { diff: 'x' } }), state({ id: 'b', result: false }), state({ id: 'c' }), state({ id: 'gone' })] }),
      root,
    );
    const second = buildResultsModel(run({ states: [state({ id: 'a' }), state({ id: 'b', result: true }), state({ id: 'c' }), state({ id: 'new' })] }), root);
    assert.equal(first.key, second.key);
    const comparison = compareModels(first, second);
    assert.deepEqual(
      comparison.rows.map((r) => [r.id, r.before, r.after, r.what]),
      [
        ['a', 'changed', 'succeeded', 'changed → succeeded'],
        ['b', 'failed', 'succeeded', 'failed → succeeded'],
        ['new', undefined, 'succeeded', 'new'],
        ['gone', 'succeeded', undefined, 'gone'],
      ],
    );
    assert.equal(comparison.same, 1);
  });

  it('keys runs by their modules (any order), highstate, or one state', () => {
    assert.equal(compareKey({ mods: ['b', 'a'], highstate: false }), compareKey({ mods: ['a', 'b'], highstate: false }));
    assert.equal(compareKey({ mods: [], highstate: true }), 'highstate');
    assert.equal(compareKey({ mods: ['web'], highstate: false, stateId: 'web_conf' }), 'web#web_conf');
    assert.notEqual(compareKey({ mods: ['web'], highstate: false, stateId: 'web_conf' }), compareKey({ mods: ['web'], highstate: false }));
  });
});

describe('CodeLens targets', () => {
  // A formula in the template-formula's idiom: tplroot from tpldir, IDs built from it, a macro of the tree.
  const text = [
    '{#- Get the `tplroot` from `tpldir` #}',
    "{%- set tplroot = tpldir.split('/')[0] %}",
    "{%- set sls_config_file = tplroot ~ '.config.file' %}",
    "{%- from tplroot ~ '/map.jinja' import mapdata as TEMPLATE with context %}",
    "{%- from tplroot ~ '/macros.jinja' import state_id %}",
    '',
    'include:',
    '  - {{ sls_config_file }}',
    '',
    '{{ tplroot }}-service-running-service-running:', // 9
    '  service.running:',
    '    - name: {{ TEMPLATE.service.name }}',
    '',
    '{% for site in TEMPLATE.sites %}',
    '{{ tplroot }}-site-{{ site }}:', // 14: only a render knows these
    '  file.directory:',
    '    - name: /srv/{{ site }}',
    '{% endfor %}',
    '',
    "{{ state_id('marker') }}:", // 19
    '  test.nop: []',
    '',
  ].join('\n');
  const macros = (suffix: string) => `{%- macro state_id(part) -%}\n{{ tpldir.split('/')[0] }}-{{ part }}${suffix}\n{%- endmacro -%}\n`;
  let formula: string;
  before(() => {
    formula = mkdtempSync(join(tmpdir(), 'sc-lenses-'));
    mkdirSync(join(formula, 'template', 'service'), { recursive: true });
    writeFileSync(join(formula, 'template', 'macros.jinja'), macros(''));
  });
  after(() => rmSync(formula, { recursive: true, force: true }));
  const fromDisk = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };

  it('go to the IDs that tpldir, {% set %} and the tree’s macros decide, with the file’s render context', () => {
    const file = join(formula, 'template', 'service', 'running.sls');
    assert.deepEqual(stateLenses(formula, file, text, fromDisk), [
      { id: 'template-service-running-service-running', line: 9 },
      { id: 'template-marker', line: 19 },
    ]);
    // The same text in another formula's folder: its own name.
    mkdirSync(join(formula, 'nginx'));
    writeFileSync(join(formula, 'nginx', 'macros.jinja'), macros(''));
    assert.deepEqual(
      stateLenses(formula, join(formula, 'nginx', 'running.sls'), text, fromDisk).map((l) => l.id),
      ['nginx-service-running-service-running', 'nginx-marker'],
    );
  });

  it('read templates as the editor has them (unsaved edits too)', () => {
    const file = join(formula, 'template', 'service', 'running.sls');
    const edited = (path: string) => (path === join(formula, 'template', 'macros.jinja') ? macros('-edited') : fromDisk(path));
    assert.deepEqual(
      stateLenses(formula, file, text, edited).map((l) => l.id),
      ['template-service-running-service-running', 'template-marker-edited'],
    );
  });

  it('leave out IDs only a render decides; plain IDs as written', () => {
    const file = join(formula, 'template', 'service', 'running.sls');
    assert.ok(!stateLenses(formula, file, text, fromDisk).some((l) => l.line === 14));
    assert.deepEqual(stateLenses(formula, file, 'plain_id:\n  test.nop: []\n', fromDisk), [{ id: 'plain_id', line: 0 }]);
  });
});
