/** Verdicts of the phases and cells, the run's exit code, JUnit XML and the CLI's --json and report: pure parts of state tests. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseCommandLine } from '../../src/cli/args';
import { plain } from '../../src/cli/format';
import { formatTestRun, testJson } from '../../src/cli/testFormat';
import type { StateResult } from '../../src/engine/results/model';
import { allCells, cellPassed, judgeIdempotence, judgeVerify, junitXml, loadMatrix, retcodeOfCells, skippedPhase, xmlEscape, type CellResult, type MatrixRun, type PhaseResult } from '../../src/testing';
import { REPO_ROOT } from '../support/containers';

const FORMULA = join(REPO_ROOT, 'test', 'fixtures', 'testing', 'formula');

function state(id: string, sls: string, result: boolean | null, changes: Record<string, unknown> = {}, comment = 'ok'): StateResult {
  return { id, sls, function: 'file.managed', name: `/etc/${id}`, result, comment, changes, durationMs: 12.5, runNum: 0, tag: `file_|-${id}_|-/etc/${id}_|-managed` };
}

const phase = (name: PhaseResult['phase'], states: StateResult[], passed: boolean | null = !states.some((s) => s.result === false)): PhaseResult => ({ phase: name, passed, durationMs: 1500, states, errors: [] });

/** A run of the fixture formula's matrix: default passes, banner fails idempotence, evening fails verify after a failed converge. */
function sampleRun(): MatrixRun {
  const matrix = loadMatrix(join(FORMULA, 'salt-containers.yml'));
  const cells = allCells(matrix, '3008.4');
  const of = (key: string) => cells.find((c) => c.key === key)!;
  const result = (key: string, phases: PhaseResult[], extra: Partial<CellResult> = {}): CellResult => {
    const cell = of(key);
    return { cell, key, suite: cell.suite.name, image: cell.image.image, salt: '3008.4', engine: 'default', passed: cellPassed(phases, extra.errors ?? []), phases, errors: [], durationMs: 4200, ...extra };
  };
  const config = state('greeter-config-file-file-managed', 'greeter.config.file', true);
  const banner = state('greeter-banner-cmd-run', 'greeter.banner', true, { pid: 42, retcode: 0 }, 'Command "echo" run');
  const verify = state('greeter-verify-config-exact', 'test.salt.verify', null, { diff: '-greeting = Good evening\n+greeting = Hello' }, 'The file is set to be changed');
  return {
    matrix,
    durationMs: 9000,
    cancelled: false,
    retcode: 2,
    cells: [
      result('default.salt-containers-test:py3@3008.4', [phase('converge', [config]), phase('idempotence', [config]), phase('verify', [state('greeter-verify-config-exact', 'test.salt.verify', true)])]),
      result('banner.salt-containers-test:py3@3008.4', [phase('converge', [config, banner]), phase('idempotence', judgeIdempotence([config, banner])), phase('verify', [])], { kept: 'sct-banner-x' }),
      result('evening.salt-containers-test:py3@3008.4', [
        { phase: 'converge', passed: false, durationMs: 900, states: [], errors: [{ kind: 'render', message: "Rendering SLS 'base:greeter.config.file' failed: Jinja variable is undefined; line 6", sls: 'greeter.config.file', line: 6 }] },
        skippedPhase('idempotence', 'converge failed'),
        phase('verify', judgeVerify([verify])),
      ]),
    ],
  };
}

describe('state test verdicts', () => {
  it('idempotence fails every state that changed again and keeps its changes; verify fails what would change', () => {
    const [same, changed] = judgeIdempotence([state('a', 'x', true), state('b', 'x', true, { diff: '+1' }, 'Updated')]);
    assert.deepEqual([same.result, changed.result, changed.changes], [true, false, { diff: '+1' }]);
    assert.equal(changed.comment, 'not idempotent: changed again on the second run. Updated');
    const [ok, pending] = judgeVerify([state('a', 'x', true), state('b', 'x', null, { diff: '+1' })]);
    assert.deepEqual([ok.result, pending.result, pending.changes], [true, false, { diff: '+1' }]);
    assert.match(pending.comment, /^would change: verify expects nothing to change/);
  });

  it('a cell passes only when what ran passed; cancel makes it null; exit codes 0, 2, 1', () => {
    assert.equal(cellPassed([phase('converge', [state('a', 'x', true)]), skippedPhase('verify', 'x')], []), true);
    assert.equal(cellPassed([phase('converge', [state('a', 'x', false)]), skippedPhase('idempotence', 'converge failed')], []), false);
    assert.equal(cellPassed([skippedPhase('converge', 'the cell could not start')], [{ kind: 'image-not-found', message: 'no image' }]), false);
    assert.equal(cellPassed([{ ...phase('converge', []), errors: [{ kind: 'cancelled', message: 'c' }], passed: null }], []), null);
    const run = sampleRun();
    assert.equal(retcodeOfCells(run.cells.slice(0, 1)), 0);
    assert.equal(retcodeOfCells(run.cells), 2);
    assert.equal(retcodeOfCells([...run.cells, { ...run.cells[0], passed: false, errors: [{ kind: 'engine-unreachable', message: 'down' }] }]), 1);
  });
});

describe('JUnit XML', () => {
  const xml = junitXml(sampleRun());
  const cases = [...xml.matchAll(/<testcase ([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => ({ attrs: Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], a[2]])), body: m[2] ?? '' }));

  it('has a testsuite per suite and a testcase per cell and phase, classname SUITE.IMAGE@SALT, time in seconds', () => {
    assert.deepEqual([...xml.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]), ['default', 'banner', 'evening']);
    const phases = cases.filter((c) => !c.attrs.name.includes(':'));
    assert.deepEqual(
      phases.map((c) => `${c.attrs.classname} ${c.attrs.name}`),
      [
        'default.salt-containers-test:py3@3008.4 converge',
        'default.salt-containers-test:py3@3008.4 idempotence',
        'default.salt-containers-test:py3@3008.4 verify',
        'banner.salt-containers-test:py3@3008.4 converge',
        'banner.salt-containers-test:py3@3008.4 idempotence',
        'banner.salt-containers-test:py3@3008.4 verify',
        'evening.salt-containers-test:py3@3008.4 converge',
        'evening.salt-containers-test:py3@3008.4 idempotence',
        'evening.salt-containers-test:py3@3008.4 verify',
      ],
    );
    assert.equal(phases[0].attrs.time, '1.500');
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="salt-containers test" tests="11" failures="5" errors="0" skipped="1" time="9.000">/);
  });

  it('a failed state is its own testcase at its line, relative to the matrix folder, with comment and changes', () => {
    const banner = cases.find((c) => c.attrs.name === 'idempotence: greeter-banner-cmd-run')!;
    assert.deepEqual([banner.attrs.classname, banner.attrs.file, banner.attrs.line], ['banner.salt-containers-test:py3@3008.4', 'greeter/banner.sls', '12']);
    assert.match(banner.body, /<failure message="not idempotent: changed again on the second run. Command &quot;echo&quot; run" type="file.managed">/);
    assert.match(banner.body, /changes:\npid: 42\nretcode: 0/);
    const verify = cases.find((c) => c.attrs.name === 'verify: greeter-verify-config-exact')!;
    assert.deepEqual([verify.attrs.file, verify.attrs.line], ['test/salt/verify/init.sls', '5']);
    // A render error sits on the phase's testcase, at the line Salt named; the phase after it is skipped.
    const converge = cases.find((c) => c.attrs.classname.startsWith('evening') && c.attrs.name === 'converge')!;
    assert.deepEqual([converge.attrs.file, converge.attrs.line], ['greeter/config/file.sls', '6']);
    assert.match(converge.body, /<failure message="Rendering SLS/);
    assert.match(cases.find((c) => c.attrs.classname.startsWith('evening') && c.attrs.name === 'idempotence')!.body, /<skipped message="converge failed"\/>/);
  });

  it('escapes what XML cannot hold', () => {
    assert.equal(xmlEscape('a<b & "c"\u001b[31m'), 'a&lt;b &amp; &quot;c&quot;[31m');
  });
});

describe('salt-containers test output', () => {
  it('--json follows the contract: cells with suite, image, salt, engine, passed and phases with the apply state shape', () => {
    const doc = testJson(sampleRun()) as { retcode: number; matrix: { format: string }; cells: Record<string, unknown>[] };
    assert.equal(doc.retcode, 2);
    assert.equal(doc.matrix.format, 'salt-containers');
    assert.deepEqual(Object.keys(doc.cells[0]), ['key', 'suite', 'image', 'imageName', 'salt', 'engine', 'passed', 'durationMs', 'container', 'notes', 'errors', 'phases']);
    const banner = doc.cells[1] as { container: string; passed: boolean; phases: { phase: string; passed: boolean; skipped: null; states: Record<string, unknown>[] }[] };
    assert.deepEqual([banner.container, banner.passed], ['sct-banner-x', false]);
    const idempotence = banner.phases[1];
    assert.deepEqual(Object.keys(idempotence), ['phase', 'passed', 'durationMs', 'skipped', 'python', 'states', 'checks', 'errors']);
    assert.deepEqual(Object.keys(idempotence.states[1]), ['id', 'sls', 'function', 'name', 'result', 'comment', 'changes', 'durationMs', 'runNum']);
    assert.deepEqual([idempotence.states[1].result, idempotence.states[1].changes], [false, { pid: 42, retcode: 0 }]);
    const evening = doc.cells[2] as { phases: { passed: boolean | null; skipped: string | null }[] };
    assert.deepEqual(evening.phases.map((p) => [p.passed, p.skipped]), [[false, null], [null, 'converge failed'], [false, null]]);
  });

  it('the report shows failed states at their lines, a table of cells and phases, totals and kept containers', () => {
    const text = formatTestRun(sampleRun(), { cwd: FORMULA, style: plain });
    assert.match(text, /FAILED banner\.salt-containers-test:py3@3008\.4 on default\nidempotence:\n-{10}\n {10}ID: greeter-banner-cmd-run/);
    assert.match(text, /at greeter\/banner\.sls:12/);
    assert.match(text, /error: Rendering SLS 'base:greeter\.config\.file' failed[^\n]*\n  at greeter\/config\/file\.sls:6/);
    assert.match(text, /SUITE +IMAGE +SALT +ENGINE +CONVERGE +IDEMPOTENCE +VERIFY +RESULT +TIME\ndefault +salt-containers-test:py3 +3008\.4 +default +✓ 1\.5 s +✓ 1\.5 s +✓ 1\.5 s +passed +4\.2 s/);
    assert.match(text, /evening +salt-containers-test:py3 +3008\.4 +default +✗ 0\.9 s +- skipped +✗ 1\.5 s +FAILED/);
    assert.match(text, /3 cells: 1 passed, 2 failed in 9\.0 s\nkept for inspection: sct-banner-x/);
  });

  it('reads the test verb: matrix, repeated filters, workers, junit, keep', () => {
    const parsed = parseCommandLine(['test', '--matrix', 'kitchen.yml', '--suite', 'a', '--suite', 'b', '--image', 'debian:12', '--salt', '3007.14', '--workers', '3', '--junit', 'out.xml', '--keep', '--json']);
    assert.ok(parsed.kind === 'command');
    const c = parsed.command;
    assert.deepEqual([c.verb, c.matrix, c.suites, c.images, c.saltVersions, c.workers, c.junit, c.keep, c.json], ['test', 'kitchen.yml', ['a', 'b'], ['debian:12'], ['3007.14'], 3, 'out.xml', true, true]);
    const problem = (argv: string[]) => {
      const p = parseCommandLine(argv);
      return p.kind === 'usage-error' ? p.message : p.kind;
    };
    assert.equal(problem(['test', '--workers', '0']), '--workers needs a whole number of at least 1 (got 0)');
    assert.equal(problem(['test', 'web']), 'test takes no arguments (got web); name the matrix with --matrix FILE');
  });
});
