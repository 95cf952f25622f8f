/**
 * kitchen.yml read as a test matrix, on Kitchen files written in the styles saltstack-formulas use
 * (template-formula: systemd as run_command, pillars_from_directories as a provisioner default;
 * users-formula: pillars top.sls + pillars_from_files per suite). What cannot be mapped is a note.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { findRoots } from '../../src/sls/roots';
import { allCells, deepMerge, MatrixError, parseKitchen, type Matrix } from '../../src/testing';
import { REPO_ROOT } from '../support/containers';

// In the fixture formula's folder: a formula folder (greeter/) is looked for next to the file.
const DIR = join(REPO_ROOT, 'test', 'fixtures', 'testing', 'formula');
const FILE = join(DIR, 'kitchen.yml');
const kitchen = (text: string): Matrix => parseKitchen(text, FILE, findRoots);
const notes = (matrix: Matrix) => matrix.notes.map((n) => `${n.line ?? '?'} ${n.key}: ${n.message}`);

const TEMPLATE_STYLE = `---
driver:
  name: docker
  use_sudo: false
  privileged: true
  run_command: /usr/lib/systemd/systemd

provisioner:
  name: salt_solo
  log_level: debug
  salt_install: none
  require_chef: false
  formula: TEMPLATE
  salt_copy_filter:
    - .kitchen
    - .git
  pillars_from_directories:
    - test/salt/pillar

transport:
  max_wait_until_ready: 60

platforms:
  - name: debian-12-master
    driver:
      image: saltimages/salt-master-py3:debian-12
      run_command: /lib/systemd/systemd
  - name: centos-stream9-master
    driver:
      image: saltimages/salt-master-py3:centos-stream9

suites:
  - name: default
    provisioner:
      state_top:
        base:
          '*':
            - TEMPLATE._mapdata
            - TEMPLATE
    verifier:
      inspec_tests:
        - path: test/integration/default
`;

describe('kitchen.yml as a matrix', () => {
  it('maps platforms to images with systemd as init, and a suite with the provisioner defaults', () => {
    const matrix = kitchen(TEMPLATE_STYLE.replace('formula: TEMPLATE', 'formula: greeter'));
    assert.equal(matrix.format, 'kitchen');
    assert.deepEqual(
      matrix.images.map((i) => [i.name, i.image, i.init?.command?.join(' ')]),
      [
        ['debian-12-master', 'saltimages/salt-master-py3:debian-12', '/lib/systemd/systemd'],
        ['centos-stream9-master', 'saltimages/salt-master-py3:centos-stream9', '/usr/lib/systemd/systemd'],
      ],
    );
    const [suite] = matrix.suites;
    assert.deepEqual([suite.name, suite.states, suite.highstate, suite.idempotence], ['default', ['TEMPLATE._mapdata', 'TEMPLATE'], false, true]);
    assert.deepEqual(suite.pillar, { kind: 'assembled', directories: [{ source: `${DIR}/test/salt/pillar`, dest: '' }], files: [] });
    assert.equal(matrix.stateRoot, DIR);
    assert.deepEqual(matrix.salt, []);
    assert.deepEqual(allCells(matrix, '3008.4').map((c) => c.key), ['default.debian-12-master@3008.4', 'default.centos-stream9-master@3008.4']);
  });

  it('reports what it does not map, each once, at its line', () => {
    const matrix = kitchen(TEMPLATE_STYLE.replace('formula: TEMPLATE', 'formula: greeter'));
    // privileged: true is passed on (a cell whose engine refuses it notes that itself).
    assert.ok(matrix.images.every((i) => i.privileged && i.privilegedFallback));
    assert.deepEqual(notes(matrix), [
      "11 provisioner.salt_install: salt_install: none is not done: each run brings Salt Containers' own Salt (a Salt in the image is not used)",
      '20 transport: transport is not mapped: runs go through the Docker engine, not SSH',
      '40 suites[0].verifier: suite default: verifier inspec (test/integration/default) is not run: each cell says so (verify: InSpec not run); move its controls to saltcheck or testinfra tests',
    ]);
  });

  it('a formula folder that is not there is a problem, not a note', () => {
    assert.throws(() => kitchen(TEMPLATE_STYLE), (error: unknown) => error instanceof MatrixError && /13: provisioner\.formula: formula TEMPLATE: no folder TEMPLATE\/ next to the Kitchen file/.test(error.message));
  });

  it('assembles pillars (top.sls and inline files) and pillars_from_files per suite, users-formula style', () => {
    const matrix = kitchen(`driver: {name: docker}
provisioner:
  name: salt_solo
  salt_version: 3007.14
platforms:
  - name: debian-12
  - name: custom
    driver: {image: my/img:1, network_mode: host}
suites:
  - name: default
    provisioner:
      state_top: {base: {'*': [users._mapdata, users]}}
      pillars:
        top.sls:
          base:
            '*':
              - users
        extra.sls: {extra: {enabled: true}}
      pillars_from_files:
        users.sls: test/salt/pillar/default.sls
    excludes: [custom]
  - name: vimrc
    provisioner:
      dependencies:
        - name: vim
          repo: git
          source: https://github.com/saltstack-formulas/vim-formula.git
      state_top_from_file: true
      pillars_from_directories:
        - {source: test/salt/pillar, dest: srv/pillar/nested}
`);
    assert.deepEqual(matrix.salt, ['3007.14']);
    assert.deepEqual(matrix.images.map((i) => [i.name, i.image, i.network]), [['debian-12', 'debian:12', undefined], ['custom', 'my/img:1', 'host']]);
    const [users, vimrc] = matrix.suites;
    assert.deepEqual(users.pillar, {
      kind: 'assembled',
      directories: [],
      files: [
        { path: 'top.sls', content: `${JSON.stringify({ base: { '*': ['users'] } }, null, 2)}\n` },
        { path: 'extra.sls', content: `${JSON.stringify({ extra: { enabled: true } }, null, 2)}\n` },
        { path: 'users.sls', source: `${DIR}/test/salt/pillar/default.sls` },
      ],
    });
    assert.deepEqual(users.excludes, ['custom']);
    assert.deepEqual([vimrc.highstate, vimrc.states], [true, []]);
    assert.deepEqual(vimrc.pillar, { kind: 'assembled', directories: [{ source: `${DIR}/test/salt/pillar`, dest: 'nested' }], files: [] });
    assert.deepEqual(allCells(matrix).map((c) => c.key), ['default.debian-12@3007.14', 'vimrc.debian-12@3007.14', 'vimrc.custom@3007.14']);
    assert.deepEqual(notes(matrix), [
      '6 platforms[0]: platform debian-12 has no driver.image: debian:12, as kitchen-docker names it',
      '24 suites[1].provisioner.dependencies: dependencies (vim) are not fetched: put them in the state tree',
    ]);
  });

  it("places a suite's path dependencies in its state tree as Kitchen does (nginx-formula's test_dep), and notes those it would fetch", () => {
    const matrix = kitchen(`platforms: [{name: p, driver: {image: i}}]
provisioner:
  dependencies:
    - {name: greeter_prep, path: test/salt/states}
suites:
  - name: default
    provisioner:
      state_top: {base: {'*': [greeter_prep, greeter]}}
  - name: other
    provisioner:
      dependencies:
        - {name: greeter_prep, path: ./test/salt/states}
        - {name: missing_prep, path: test/salt/states}
        - {name: vim, repo: git, source: https://github.com/saltstack-formulas/vim-formula.git}
      state_top: {base: {'*': [greeter]}}
`);
    const [plain, other] = matrix.suites;
    const prep = { name: 'greeter_prep', root: join(DIR, 'test', 'salt', 'states') };
    assert.deepEqual(plain.formulas, [prep]);
    assert.deepEqual(other.formulas, [prep]);
    assert.deepEqual(notes(matrix), [
      '11 suites[1].provisioner.dependencies: dependencies (vim) are not fetched: put them in the state tree',
      '13 suites[1].provisioner.dependencies[1]: dependency missing_prep: no folder test/salt/states/missing_prep next to the Kitchen file: left out',
    ]);
  });

  it('pillars_from_files without a top.sls gets one (kitchen would give the modules to nobody), and says so', () => {
    const matrix = kitchen(`platforms: [{name: p, driver: {image: i}}]
suites:
  - name: s
    provisioner:
      state_top: {base: {'*': [a]}, prod: {'web*': [b]}}
      pillars_from_files: {a.sls: pillar.example}
`);
    const [suite] = matrix.suites;
    assert.deepEqual(suite.states, ['a']);
    assert.ok(suite.pillar?.kind === 'assembled' && suite.pillar.files.some((f) => f.path === 'top.sls' && JSON.parse(f.content!).base['*'][0] === 'a'));
    assert.deepEqual(notes(matrix), [
      '4 suites[0].provisioner.pillars: no pillar top.sls: one giving a to every minion is used',
      "5 suites[0].provisioner.state_top.prod.web*: state_top target prod: 'web*' is not mapped: only base: '*' is applied (b)",
    ]);
  });

  it('suite settings win over the provisioner defaults (maps merge, lists are replaced)', () => {
    assert.deepEqual(deepMerge({ a: { x: 1, y: [1, 2] }, b: 1 }, { a: { y: [3] }, c: 2 }), { a: { x: 1, y: [3] }, b: 1, c: 2 });
    const matrix = kitchen(`platforms: [{name: p, driver: {image: i, run_command: /usr/sbin/sshd -D}}]
provisioner: {state_top: {base: {'*': [common]}}, grains: {roles: [web]}}
suites:
  - {name: a}
  - {name: b, provisioner: {state_top: {base: {'*': [own]}}}, lifecycle_hooks: 1}
`);
    assert.deepEqual(matrix.suites.map((s) => s.states), [['common'], ['own']]);
    assert.equal(matrix.images[0].init, undefined);
    assert.deepEqual(notes(matrix), [
      '1 platforms[0].driver.run_command: run_command /usr/sbin/sshd -D is not run: cells keep their container up themselves (only systemd or /sbin/init is started, as init: systemd)',
      '2 provisioner.grains: provisioner setting grains is not mapped',
      '5 suites[1].lifecycle_hooks: suite setting lifecycle_hooks is not mapped',
    ]);
  });

  it('ERB is noted; without platforms or suites there is no matrix', () => {
    const matrix = kitchen(`platforms: [{name: p, driver: {image: "<%= ENV['IMAGE'] %>"}}]\nsuites: [{name: s, provisioner: {state_top_from_file: true}}]\n`);
    assert.match(notes(matrix)[0], /ERB \(`<% %>`\) is not evaluated/);
    assert.throws(() => kitchen('driver: {name: docker}\n'), /platforms: needs a list of platforms with driver.image[\s\S]*suites: needs a list of suites/);
  });
});
