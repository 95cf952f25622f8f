/** Checks after converge: verify's map, kitchen's verifiers, saltcheck's return and pytest's JUnit read as checks at their lines. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findRoots } from '../../src/sls/roots';
import { allCells, loadMatrix, parseKitchen, parseMatrix, saltcheckChecks, testinfraChecks } from '../../src/testing';
import { REPO_ROOT } from '../support/containers';

const CHECKS = join(REPO_ROOT, 'test', 'fixtures', 'testing', 'checks');

describe('checks after converge', () => {
  it('found without a word: saltcheck for states with .tst tests, testinfra in test/testinfra/; phases in order', () => {
    const matrix = loadMatrix(join(CHECKS, 'salt-containers.yml'));
    assert.deepEqual(matrix.suites[0].checks, { saltcheck: { names: ['motd'], highstate: false }, testinfra: join(CHECKS, 'test', 'testinfra') });
    assert.deepEqual(allCells(matrix)[0].phases, ['converge', 'saltcheck', 'testinfra']);
  });

  it('verify as a map: states, saltcheck names or off, a testinfra path or off', () => {
    const m = parseMatrix('images: [i]\nsuites:\n  - {name: s, states: [a], verify: {states: [a.verify], saltcheck: [a.tests], testinfra: t/infra}}\n  - {name: u, states: [a], verify: {saltcheck: false, testinfra: false}}\n', '/f/salt-containers.yml', findRoots);
    assert.deepEqual([m.suites[0].verify, m.suites[0].verifyWith], [['a.verify'], { saltcheck: ['a.tests'], testinfra: '/f/t/infra' }]);
    assert.deepEqual(m.suites[1].verifyWith, { saltcheck: false, testinfra: false });
    assert.throws(() => parseMatrix('images: [i]\nsuites: [{name: s, states: [a], verify: {inspec: x}}]\n', '/f/salt-containers.yml', findRoots), /unknown key/);
  });

  it("kitchen's verifiers: shell runs its command (remote_exec: in the container), InSpec is a phase that says it was not run", () => {
    const m = parseKitchen(`driver: {name: docker}
platforms: [{name: debian-12, driver: {image: debian:12}}]
verifier: {name: inspec}
suites:
  - name: a
    provisioner: {state_top: {base: {'*': [web]}}}
  - name: b
    provisioner: {state_top: {base: {'*': [web]}}}
    verifier: {name: shell, command: test -f /etc/web.conf, remote_exec: true}
`, '/f/kitchen.yml', findRoots);
    assert.deepEqual(m.suites[0].checks, { inspec: { paths: ['test/integration/a'], file: '/f/kitchen.yml', line: 3 } });
    assert.deepEqual(m.suites[1].checks, { shell: { command: 'test -f /etc/web.conf', remote: true, file: '/f/kitchen.yml', line: 9 } });
    assert.deepEqual(allCells(m).map((c) => c.phases), [['converge', 'idempotence', 'inspec'], ['converge', 'idempotence', 'shell']]);
  });

  it("saltcheck's return: statuses decide (not the exit code), each test at its ID's line in its .tst file", () => {
    const stateRoot = join(CHECKS, 'salt');
    const { checks, errors } = saltcheckChecks(
      [{ motd: { 'motd-file-exists': { status: 'Pass', duration: 0.01 }, 'motd-says-goodbye': { status: 'Fail: False not True', duration: 0.02 } } }, { 'TEST RESULTS': { Passed: 1, Failed: 1, 'Missing Tests': 0 } }],
      stateRoot,
    );
    assert.deepEqual(errors, []);
    const tst = join(stateRoot, 'motd', 'saltcheck-tests', 'init.tst');
    assert.deepEqual(checks, [
      { name: 'motd: motd-file-exists', passed: true, file: tst, line: 2, durationMs: 10 },
      { name: 'motd: motd-says-goodbye', passed: false, message: 'Fail: False not True', file: tst, line: 15, durationMs: 20 },
    ]);
  });

  it("pytest's JUnit: passed and failed tests at the host's file, a failure at its assertion's line", () => {
    const xml = `<testsuites><testsuite name="pytest"><testcase classname="tests.test_motd" name="test_ok[local]" file="tests/test_motd.py" line="3" time="0.010" /><testcase classname="tests.test_motd" name="test_bad[local]" file="tests/test_motd.py" line="9" time="0.020"><failure message="assert 16 == 0">host = &lt;Host&gt;

tests/test_motd.py:12: AssertionError</failure></testcase></testsuite></testsuites>`;
    assert.deepEqual(testinfraChecks(xml, 'tests', '/f/test/testinfra'), [
      { name: 'tests.test_motd::test_ok[local]', passed: true, file: '/f/test/testinfra/test_motd.py', line: 4, durationMs: 10 },
      { name: 'tests.test_motd::test_bad[local]', passed: false, message: 'assert 16 == 0\nhost = <Host>\n\ntests/test_motd.py:12: AssertionError', file: '/f/test/testinfra/test_motd.py', line: 12, durationMs: 20 },
    ]);
  });
});
