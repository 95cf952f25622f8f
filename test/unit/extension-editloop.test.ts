// The edit loop's pure parts: what the end of each state's line says after a run (inlineModel.ts), and
// what changed between two runs of the same module (resultsView.ts compareModels).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StateResult, StateRun } from '../../src/engine';
import { stateResult, stateRun } from '../support/results';
import { inlineResultsOf } from '../../src/extension/inlineModel';
import { buildResultsModel, compareKey, compareModels } from '../../src/extension/resultsView';

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
