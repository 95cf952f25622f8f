/**
 * Salt's verdict located in the source (src/sls/saltFindings.ts) from the messages Salt gives (copied
 * from Salt 3007 runs; 3006's run-time requisite comment): the import line for a template's error, the
 * source line of a YAML error after Jinja, the requisite's line (Jinja-made too), a state function Salt
 * lacks, unsaved buffers standing for their files, and Salt's findings left out where the static checks
 * said the same at the same line.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRenderError } from '../../src/engine/results/parse';
import { locateSaltRun, sourceLineOf, withoutKnown } from '../../src/sls/saltFindings';

const INIT = [
  '{% from "web/map.jinja" import web with context %}', // 0
  'web_config:', // 1
  '  file.managed:', // 2
  '    - name: /etc/web.conf', // 3
  'svc:', // 4
  '  cmd.run:', // 5
  '    - name: echo {{ web.port }}', // 6
  '    - require:', // 7
  "      - file: {{ 'nothing' ~ '_here' }}", // 8
  '',
].join('\n');

describe('sourceLineOf: a rendered line back to its source line', () => {
  it('the same line when it reads the same, else the nearest line that makes it', () => {
    const source = ['{% for i in range(3) %}', 'file_{{ i }}:', '  test.nop: []', '{% endfor %}', 'broken:', '  test.nop: [', ''].join('\n');
    assert.equal(sourceLineOf(source, 6, '  test.nop: ['), 5);
    assert.equal(sourceLineOf(source, 12, '  test.nop: ['), 5, 'the loop made the rendered line 12 of the source line 6');
    assert.equal(sourceLineOf(source, 8, 'file_2:'), 1, 'Jinja expressions stand for anything');
    assert.equal(sourceLineOf(source, 3, ''), 2, 'no text: the line Salt names');
  });
});

describe('locateSaltRun: Salt’s errors at their source lines', () => {
  let root = '';
  let init = '';
  let map = '';
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sc-salt-findings-'));
    mkdirSync(join(root, 'web'));
    init = join(root, 'web', 'init.sls');
    map = join(root, 'web', 'map.jinja');
    writeFileSync(init, INIT);
    writeFileSync(map, "{% set web = {'port': 80} %}\n{% set bad = web.nothere.deeper %}\n");
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const errors = (...messages: string[]) => ({ errors: messages.map(parseRenderError), states: [] });

  it("an error raised in an imported map.jinja: at the import line, the map's line related", () => {
    const message = "Rendering SLS 'base:web' failed: Jinja variable 'dict object' has no attribute 'nothere'\n/tmp/salt-containers.ba2c2c4af2ab0cbb/files/base/web/map.jinja(2):\n---\n{% set bad = web.nothere.deeper %}    <======================\n---";
    const [found] = locateSaltRun(root, errors(message), ['web']);
    assert.deepEqual([found.file, found.line, found.code], [init, 0, 'template']);
    assert.deepEqual([found.related?.file, found.related?.line], [map, 1]);
    assert.equal(found.message, "Rendering SLS 'base:web' failed: Jinja variable 'dict object' has no attribute 'nothere' salt://web/map.jinja(2):");
  });

  it('a requisite to nothing: at the requisite line, also when Jinja makes its target', () => {
    const message = 'Referenced state does not exist for requisite [require: (file: nothing_here)] in state [echo {{ web.port }}] in SLS [web]';
    const compiled = message.replace('echo {{ web.port }}', 'echo 80');
    assert.deepEqual(
      locateSaltRun(root, errors(compiled), ['web']).map((f) => [f.line, f.code]),
      [[8, 'requisite']],
    );
    // Salt 3006 says so when the state runs.
    const state = { id: 'svc', sls: 'web', function: 'cmd.run', result: false, comment: 'The following requisites were not found:\n                   require:\n                       file: nothing_here\n' };
    assert.deepEqual(
      locateSaltRun(root, { errors: [], states: [state] }, ['web']).map((f) => [f.line, f.code]),
      [[8, 'requisite']],
    );
  });

  it('a state function Salt lacks: at its state; unsaved buffers stand for their files', () => {
    const buffer = INIT.replace('svc:', '# moved\nsvc:');
    const state = { id: 'svc', sls: 'web', function: 'cmd.nope', result: false, comment: "State 'cmd.nope' was not found in SLS 'web'\nReason: 'cmd.nope' is not available.\n" };
    assert.deepEqual(
      locateSaltRun(root, { errors: [], states: [state] }, ['web']).map((f) => [f.line, f.code]),
      [[4, 'state-function']],
    );
    assert.deepEqual(
      locateSaltRun(root, { errors: [], states: [state] }, ['web'], new Map([[init, buffer]])).map((f) => [f.line, f.code]),
      [[5, 'state-function']],
      'located in the buffer, not the file',
    );
    const mocked = { ...state, result: true, comment: 'Not called, mocked' };
    assert.deepEqual(locateSaltRun(root, { errors: [], states: [mocked] }, ['web']), []);
  });

  it('a YAML error after Jinja at the source line; errors that are not Salt’s verdict left out', () => {
    const message = "Rendering SLS 'base:web' failed: while parsing a block mapping\n  in \"<unicode string>\", line 2, column 1:\n    web_config:\n    ^\nexpected <block end>, but found '<block sequence start>'\n  in \"<unicode string>\", line 8, column 5:\n        - require:\n        ^";
    assert.deepEqual(
      locateSaltRun(root, { errors: [parseRenderError(message), { kind: 'container-not-running', message: 'stopped' }], states: [] }, ['web']).map((f) => [f.line, f.code]),
      [[7, 'yaml']],
    );
  });

  it("a key given twice, one copy inside a Jinja block: at the repeat's source line, not the rendered one's", () => {
    // grafana-formula's package/clean.sls: Jinja's `{%- if %}` takes lines out, so Salt's rendered line 5 is source line 7.
    const file = join(root, 'dup.sls');
    writeFileSync(file, ['{%- set x = True %}', '', 'include:', '  - b', '', '    {%- if x %}', 'include:', '  - c', '    {%- endif %}', ''].join('\n'));
    const message =
      "Rendering SLS 'base:dup' failed: while constructing a mapping\n  in \"<unicode string>\", line 3, column 1:\n    include:\n    ^\nfound conflicting ID 'include'\n  in \"<unicode string>\", line 5, column 1:\n    include:\n    ^";
    assert.deepEqual(
      locateSaltRun(root, { errors: [parseRenderError(message)], states: [] }, ['dup']).map((f) => [f.file, f.line, f.code]),
      [[file, 6, 'yaml']],
    );
  });

  it('a module Salt cannot find that no include in the source names: at the top of the module rendered, never dropped', () => {
    const message = 'Specified SLS epel in saltenv base is not available on the salt master or through a configured fileserver';
    assert.deepEqual(
      locateSaltRun(root, { errors: [parseRenderError(message)], states: [] }, ['web']).map((f) => [f.file, f.line, f.exact]),
      [[init, 0, false]],
    );
  });

  it('withoutKnown: one fact, said once', () => {
    const found = [
      { file: init, line: 8 },
      { file: init, line: 6 },
    ];
    assert.deepEqual(withoutKnown(found, [{ file: init, line: 8 }]), [{ file: init, line: 6 }]);
    assert.deepEqual(withoutKnown(found, [{ file: map, line: 6 }]), found);
  });
});
