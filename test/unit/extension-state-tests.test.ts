/** What the Testing view shows for state tests (the pure part of src/extension/stateTests/: report.ts): messages at the state's line, idempotence as a diff. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { StateResult } from '../../src/engine/results/model';
import { itemIds } from '../../src/extension/stateTests/ids';
import { cellErrorMessages, NO_CHANGES, phaseMessages } from '../../src/extension/stateTests/report';
import { allCells, judgeIdempotence, judgeVerify, loadMatrix } from '../../src/testing';
import { REPO_ROOT } from '../support/containers';

const FORMULA = join(REPO_ROOT, 'test', 'fixtures', 'testing', 'formula');
const matrix = loadMatrix(join(FORMULA, 'salt-containers.yml'));
const cell = allCells(matrix).find((c) => c.suite.name === 'banner')!;
const state = (id: string, sls: string, result: boolean | null, changes: Record<string, unknown>): StateResult => ({ id, sls, function: 'cmd.run', name: 'echo', result, comment: 'Command "echo" run', changes, durationMs: 1, runNum: 0, tag: id });

describe('state tests in the Testing view', () => {
  it('an idempotence failure is a diff of no changes against the changes, at the state line', () => {
    const states = judgeIdempotence([state('greeter-banner-cmd-run', 'greeter.banner', true, { pid: 7, retcode: 0 })]);
    const [message] = phaseMessages({ phase: 'idempotence', passed: false, durationMs: 1, states, errors: [] }, cell, matrix);
    assert.equal(message.message, 'greeter-banner-cmd-run (cmd.run echo): not idempotent: changed again on the second run. Command "echo" run');
    assert.deepEqual(message.location, { file: join(FORMULA, 'greeter', 'banner.sls'), line: 11, column: 0 });
    assert.deepEqual([message.expected, message.actual], [NO_CHANGES, 'pid: 7\nretcode: 0\n']);
  });

  it('verify: what would change is in the message; errors sit where Salt says; cell errors have no line', () => {
    const states = judgeVerify([state('greeter-verify-config-exact', 'test.salt.verify', null, { diff: '-a\n+b\n' })]);
    const [pending] = phaseMessages({ phase: 'verify', passed: false, durationMs: 1, states, errors: [] }, cell, matrix);
    assert.match(pending.message, /would change: verify expects nothing to change\. Command "echo" run\n\n-a\n\+b\n$/);
    assert.equal(pending.expected, undefined);
    assert.equal(pending.location?.line, 4);
    const [render] = phaseMessages({ phase: 'converge', passed: false, durationMs: 1, states: [], errors: [{ kind: 'render', message: 'Jinja', sls: 'greeter.broken', line: 11 }] }, cell, matrix);
    assert.deepEqual(render.location, { file: join(FORMULA, 'greeter', 'broken.sls'), line: 10, column: 0 });
    assert.deepEqual(cellErrorMessages([{ kind: 'image-not-found', message: 'image x not found', hint: 'Build it.' }], cell, matrix), [{ message: 'image x not found\nBuild it.' }]);
  });

  it('item ids nest: file, suite, cell, phase', () => {
    const file = 'file:///w/salt-containers.yml';
    const cellId = itemIds.cell(file, cell);
    assert.equal(itemIds.suite(file, 'banner'), 'file:///w/salt-containers.yml::banner');
    assert.equal(cellId, 'file:///w/salt-containers.yml::banner.salt-containers-test:py3@default');
    assert.equal(itemIds.phase(cellId, 'idempotence'), `${cellId}::idempotence`);
  });
});
