// Results -> problems on lines, and the results panel's model, over the example state tree and a
// temporary tree for the edge cases (Jinja-made IDs, render errors, highstate without a match).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stateResult, stateRun } from '../support/results';
import { filesOfRun, problemsOf, runKey, stateMessage } from '../../src/extension/results/problems';
import { buildResultsModel, changeEntries, outcomeOf } from '../../src/extension/results/model';
import { applyTarget } from '../../src/extension/targets';

let root: string;

const state = stateResult;
const run = stateRun;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'sc-problems-'));
  mkdirSync(join(root, 'web'));
  mkdirSync(join(root, 'common'));
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(root, 'top.sls'), "base:\n  '*':\n    - web\n");
  writeFileSync(
    join(root, 'web', 'init.sls'),
    ['include:', '  - common', '', 'web_conf:', '  file.managed:', '    - name: /etc/web.conf', '', '{% for s in ["a", "b"] %}', 'site_{{ s }}:', '  file.directory:', '    - name: /srv/{{ s }}', '{% endfor %}', ''].join('\n'),
  );
  writeFileSync(join(root, 'common', 'init.sls'), ['app_root:', '  file.directory:', '    - name: /srv/app', ''].join('\n'));
  writeFileSync(join(root, 'common', 'extra.sls'), ['x: y', ''].join('\n'));
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('problems from a run', () => {
  it('a failed state is an error at its ID line in the file that defines it (included module, init.sls)', () => {
    const problems = problemsOf(
      run({ states: [state({ id: 'web_conf', result: true }), state({ id: 'app_root', sls: 'common', result: false, comment: 'Permission denied' })], retcode: 2 }),
      root,
    );
    assert.equal(problems.length, 1);
    assert.deepEqual({ ...problems[0] }, { file: join(root, 'common', 'init.sls'), line: 0, column: 0, exact: true, severity: 'error', message: 'Permission denied', code: 'app_root' });
  });

  it("a state that raised: the exception's line first, the traceback after it", () => {
    const traceback = ['Traceback (most recent call last):', '  File "/dev/shm/salt-containers.x/pyall/salt/state.py", line 2485, in call', "KeyError: 'ssh.set_auth_key': 'ssh' __virtual__ returned False: The module requires the ssh binary."].join('\n');
    const [problem] = problemsOf(run({ states: [state({ id: 'app_root', sls: 'common', result: false, comment: `An exception occurred in this state: ${traceback}\n` })], retcode: 2 }), root);
    assert.equal(problem.message, `An exception occurred in this state: KeyError: 'ssh.set_auth_key': 'ssh' __virtual__ returned False: The module requires the ssh binary.\n${traceback}\n`);
    assert.equal(stateMessage('Permission denied'), 'Permission denied', 'other comments as Salt gives them');
  });

  it('a state ID made by a Jinja loop never lands in a wrong file', () => {
    const [problem] = problemsOf(run({ states: [state({ id: 'site_a', sls: 'web', result: false, comment: 'boom' })] }), root);
    assert.equal(problem.file, join(root, 'web', 'init.sls'));
    assert.ok(problem.line === 8 || (problem.line === 0 && !problem.exact), `line ${problem.line} exact ${problem.exact}`);
  });

  it('pending changes in test mode are information; unchanged or passing states are nothing', () => {
    const problems = problemsOf(
      run({
        test: true,
        states: [state({ id: 'web_conf', result: null, comment: 'The file /etc/web.conf is set to be changed', changes: { newfile: '/etc/web.conf' } }), state({ id: 'app_root', sls: 'common', result: true })],
      }),
      root,
    );
    assert.deepEqual(
      problems.map((p) => [p.severity, p.line, p.message]),
      [['information', 3, 'The file /etc/web.conf is set to be changed']],
    );
  });

  it('a render error sits at the line Salt names, with the hint', () => {
    const [problem] = problemsOf(run({ errors: [{ kind: 'render', message: "Rendering SLS 'base:web' failed: mapping values are not allowed", sls: 'web', line: 5, column: 12, hint: 'Fix the YAML.' }], retcode: 1 }), root);
    assert.equal(problem.file, join(root, 'web', 'init.sls'));
    assert.equal(problem.line, 4);
    assert.equal(problem.column, 11);
    assert.match(problem.message, /mapping values[\s\S]*Fix the YAML/);
  });

  it('a missing module sits on the include that asks for it, and that file is one the run speaks for', () => {
    const missing = run({ mods: ['web'], errors: [{ kind: 'render', message: 'Specified SLS nowhere in saltenv base is not available', sls: 'nowhere' }], retcode: 1 });
    writeFileSync(join(root, 'common', 'asks.sls'), 'include:\n  - nowhere\n');
    try {
      const withInclude = run({ ...missing, mods: ['common.asks'] });
      const [problem] = problemsOf(withInclude, root);
      assert.deepEqual([problem.file, problem.line, problem.column], [join(root, 'common', 'asks.sls'), 1, 4]);
      assert.ok(filesOfRun(withInclude, root).includes(join(root, 'common', 'asks.sls')));
      assert.deepEqual(problemsOf(missing, root), []); // web does not include it: nowhere to point
    } finally {
      rmSync(join(root, 'common', 'asks.sls'));
    }
  });

  it('errors that name no SLS and states without __sls__ give no problem (the panel shows them)', () => {
    assert.deepEqual(problemsOf(run({ errors: [{ kind: 'engine-unreachable', message: 'down' }], retcode: 1 }), root), []);
    assert.deepEqual(problemsOf(run({ states: [state({ sls: '', id: '', result: false })] }), root), []);
  });

  it('a highstate that matched nothing points at top.sls', () => {
    const [problem] = problemsOf(run({ mods: [], highstate: true, states: [state({ sls: '', id: '', function: 'no.None', result: false, comment: 'No Top file or master_tops data matches found.' })] }), root);
    assert.equal(problem.file, join(root, 'top.sls'));
  });

  it('the files a run speaks for: applied modules, the modules states came from, named in errors', () => {
    const files = filesOfRun(run({ states: [state({ sls: 'common' })], errors: [{ kind: 'render', message: 'x', sls: 'common.extra' }] }), root).sort();
    assert.deepEqual(files, [join(root, 'common', 'extra.sls'), join(root, 'common', 'init.sls'), join(root, 'web', 'init.sls')]);
    assert.equal(runKey(run({ mods: ['b', 'a'] }), root), runKey(run({ mods: ['a', 'b'] }), root));
    assert.notEqual(runKey(run({ mods: [], highstate: true }), root), runKey(run({ mods: ['web'] }), root));
  });
});

describe('apply targets', () => {
  it('files and folders to modules or highstate', () => {
    assert.deepEqual(applyTarget(root, join(root, 'web', 'init.sls'), false), { kind: 'sls', module: 'web' });
    assert.deepEqual(applyTarget(root, join(root, 'common', 'extra.sls'), false), { kind: 'sls', module: 'common.extra' });
    assert.deepEqual(applyTarget(root, join(root, 'web'), true), { kind: 'sls', module: 'web' });
    assert.deepEqual(applyTarget(root, root, true), { kind: 'highstate' });
    assert.deepEqual(applyTarget(root, join(root, 'top.sls'), false), { kind: 'highstate' });
    assert.equal(applyTarget(root, join(root, 'empty'), true).kind, 'none');
    const outside = applyTarget(root, join(tmpdir(), 'elsewhere.sls'), false);
    assert.equal(outside.kind, 'none');
    assert.match((outside as { problem: string }).problem, /saltContainers\.stateRoot/);
  });
});

describe('results panel model', () => {
  it('rows in run order with outcome, duration, changes as diffs, and locations', () => {
    const diff = '--- \n+++ \n@@ -1 +1 @@\n-old\n+new\n';
    const model = buildResultsModel(
      run({
        container: { id: 'c1', name: 't2' },
        states: [
          state({ id: 'web_conf', changes: { diff }, durationMs: 12.5, runNum: 0 }),
          state({ id: 'app_root', sls: 'common', result: false, comment: 'nope', runNum: 1 }),
          state({ id: 'site_b', result: true, runNum: 2 }),
        ],
        retcode: 2,
      }),
      root,
      new Date('2026-01-01T12:03:04'),
    );
    assert.equal(model.title, 'web');
    assert.equal(model.subtitle, 'on t2 · 12:03:04');
    assert.deepEqual(model.rows.map((r) => r.outcome), ['changed', 'failed', 'succeeded']);
    assert.deepEqual(model.rows[0].changes, [{ key: 'diff', diff }]);
    assert.equal(model.rows[0].duration, '13 ms');
    assert.deepEqual(model.rows[1].location, { file: join(root, 'common', 'init.sls'), line: 0, exact: true });
    assert.deepEqual({ ...model.summary, stateDurationMs: 0 }, { succeeded: 2, changed: 1, failed: 1, pending: 0, total: 3, stateDurationMs: 0 });
    assert.equal(model.totalTime, '1.20 s');
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(model)), 'the model is plain JSON (saved as webview state)');
  });

  it('outcomes and change entries', () => {
    assert.equal(outcomeOf(state({ result: null })), 'pending');
    assert.deepEqual(changeEntries({ pid: 12, stdout: 'hi' }), [
      { key: 'pid', text: '12' },
      { key: 'stdout', text: 'hi' },
    ]);
    assert.deepEqual(changeEntries({ '/srv/app': { directory: 'new' } }), [{ key: '/srv/app', text: '{\n  "directory": "new"\n}' }]);
  });
});
