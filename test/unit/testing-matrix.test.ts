/** salt-containers.yml: the model it gives, the problems it reports (with lines), and its JSON Schema. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findRoots } from '../../src/sls/roots';
import { allCells, loadMatrix, MATRIX_KEYS, MatrixError, parseMatrix, selectCells, type FilterError, type Matrix } from '../../src/testing';
import { REPO_ROOT } from '../support/containers';

const FILE = '/work/formula/salt-containers.yml';
const parse = (text: string): Matrix => parseMatrix(text, FILE, findRoots);
const problems = (text: string): string[] => {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof MatrixError, String(error));
    return error.problems.map((p) => `${p.line ?? '?'}: ${p.message}`);
  }
  assert.fail('expected problems');
};

describe('salt-containers.yml', () => {
  it('reads the documented example into images, Salt versions, engines and suites', () => {
    const matrix = parse(`images: [debian:12, ubuntu:24.04]
salt: ["3008.4", "3007.8"]
engines: [default]
suites:
  - name: default
    states: [users._mapdata, users]
    pillar: {users: test/salt/pillar/default.sls}
    verify: [users.verify]
    idempotence: true
`);
    assert.deepEqual(matrix.images.map((i) => [i.image, i.name, i.line]), [['debian:12', 'debian:12', 1], ['ubuntu:24.04', 'ubuntu:24.04', 1]]);
    assert.deepEqual(matrix.salt, ['3008.4', '3007.8']);
    assert.deepEqual(matrix.engines, ['default']);
    assert.equal(matrix.stateRoot, '/work/formula');
    const [suite] = matrix.suites;
    assert.deepEqual([suite.name, suite.states, suite.highstate, suite.verify, suite.idempotence, suite.line], ['default', ['users._mapdata', 'users'], false, ['users.verify'], true, 5]);
    // pillar module -> file: that file as users.sls, and a top.sls giving it to every minion.
    assert.equal(suite.pillar?.kind, 'assembled');
    if (suite.pillar?.kind !== 'assembled') return;
    assert.deepEqual(suite.pillar.files[0], { path: 'users.sls', source: '/work/formula/test/salt/pillar/default.sls' });
    assert.deepEqual(JSON.parse(suite.pillar.files[1].content!), { base: { '*': ['users'] } });
    assert.deepEqual(
      allCells(matrix).map((c) => c.key),
      ['default.debian:12@3008.4', 'default.debian:12@3007.8', 'default.ubuntu:24.04@3008.4', 'default.ubuntu:24.04@3007.8'],
    );
  });

  it('defaults: idempotence on, no verify, the configured Salt, the default engine, the pillar tree', () => {
    const matrix = parse('images: [img]\nsuites: [{name: s, highstate: true}]\n');
    assert.deepEqual([matrix.salt, matrix.engines, matrix.saltenv], [[], ['default'], 'base']);
    const [suite] = matrix.suites;
    assert.deepEqual([suite.highstate, suite.states, suite.idempotence, suite.verify, suite.pillar], [true, [], true, [], undefined]);
    assert.deepEqual(allCells(matrix, '3008.4').map((c) => [c.key, c.salt, c.phases]), [['s.img@3008.4', undefined, ['converge', 'idempotence']]]);
  });

  it('image entries carry init: systemd, privileged, network; suites init and includes/excludes', () => {
    const matrix = parse(`images:
  - img:a
  - {image: img:sd, name: sd, init: systemd, privileged: true, network: host}
suites:
  - {name: all, states: [x]}
  - {name: services, states: [x], init: systemd, includes: [sd], idempotence: false, verify: x.verify}
`);
    assert.deepEqual(matrix.images[1], { image: 'img:sd', name: 'sd', init: { kind: 'systemd' }, privileged: true, network: 'host', line: 3 });
    assert.deepEqual(
      allCells(matrix).map((c) => [c.key, c.init?.kind, c.phases.join(',')]),
      [
        ['all.img:a@default', undefined, 'converge,idempotence'],
        ['all.sd@default', 'systemd', 'converge,idempotence'],
        ['services.sd@default', 'systemd', 'converge,verify'],
      ],
    );
  });

  it('reports every problem with its line: unknown keys, unquoted versions, missing parts, unknown images', () => {
    assert.deepEqual(
      problems(`images: [img]
salt: [3007.10]
suites:
  - name: a
    states: [web]
    idempotency: false
  - name: b
  - name: c
    states: [web]
    highstate: true
  - name: d
    states: [web]
    excludes: [nosuch]
colour: blue
`),
      [
        '14: colour: unknown key (known: images, salt, engines, suites, state_root, pillar_root, saltenv)',
        '6: suites[0].idempotency: unknown key (known: name, states, highstate, pillar, verify, idempotence, init, includes, excludes)',
        '7: suites[1]: needs `states:` (SLS modules to apply) or `highstate: true`',
        '10: suites[2].highstate: give `states:` or `highstate: true`, not both',
        '2: salt[0]: expected a Salt version (3008.4), got the number 3007.1: write it in quotes (unquoted, 3007.10 is the number 3007.1)',
        '13: suites[3].excludes: no image named nosuch',
      ],
    );
    assert.deepEqual(problems('suites: []\n'), ['1: images: needs a list of images, e.g. `images: [debian:12]`', '1: suites: needs a list of suites, e.g. `suites: [{name: default, states: [web]}]`']);
    assert.deepEqual(problems('images: [a, a]\nsuites: [{name: s, states: [x]}, {name: s, states: [y]}]\n'), ['1: images[1]: image a is named twice', '2: suites[1]: suite s is named twice']);
    assert.match(problems('images: [a\n')[0], /^\d: not valid YAML: /);
  });

  it('filters: by suite, image and Salt; a name the matrix lacks is an error; --salt picks a version when the matrix names none', () => {
    const matrix = parse('images: [a, b]\nsalt: ["3008.4", "3007.14"]\nsuites: [{name: s, states: [x]}, {name: t, states: [y]}]\n');
    assert.deepEqual(selectCells(matrix, { suites: ['t'], images: ['b'], salt: ['3007.14'] }).map((c) => c.key), ['t.b@3007.14']);
    assert.throws(() => selectCells(matrix, { suites: ['nosuch'] }), /no suite nosuch in \/work\/formula\/salt-containers.yml \(it has: s, t\)/);
    assert.throws(() => selectCells(matrix, { salt: ['3006.9'] }), /no Salt version 3006.9/);
    // A kitchen.yml's 70 platforms: their names, a few of them, and how to test on an image it does not name.
    const platforms = Array.from({ length: 12 }, (_, i) => `{image: 'saltimages/salt-master-py3:debian-${i}', name: debian-${i}-master}`);
    const kitchenLike = parse(`images: [${platforms.join(', ')}]\nsuites: [{name: s, states: [x]}]\n`);
    assert.deepEqual(selectCells(kitchenLike, { images: ['saltimages/salt-master-py3:debian-3'] }).map((c) => c.key), ['s.debian-3-master@default']);
    assert.throws(
      () => selectCells(kitchenLike, { images: ['debian:12'] }),
      (e: FilterError) =>
        /^no image debian:12 in \S+ \(it has: debian-0-master, debian-1-master, [^)]*, debian-7-master and 4 more\)$/.test(e.message) && /NAME=IMAGE/.test(e.hint ?? ''),
    );
    // NAME=IMAGE: that platform's cells, on an image one has; the cell keeps the platform's name.
    const swapped = selectCells(kitchenLike, { images: ['debian-3-master=salt-containers-test:debian'] });
    assert.deepEqual(swapped.map((c) => [c.key, c.image.name, c.image.image]), [['s.debian-3-master@default', 'debian-3-master', 'salt-containers-test:debian']]);
    assert.throws(() => selectCells(kitchenLike, { images: ['debian-3-master='] }), /names no image after =/);
    assert.throws(() => selectCells(kitchenLike, { images: ['nosuch=debian:12'] }), /no image nosuch/);
    const unversioned = parse('images: [a]\nsuites: [{name: s, states: [x]}]\n');
    assert.deepEqual(selectCells(unversioned, { salt: ['3007.14'] }).map((c) => [c.key, c.salt]), [['s.a@3007.14', '3007.14']]);
  });

  it('the JSON Schema knows exactly the keys the parser knows', () => {
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'salt-containers.schema.json'), 'utf8'));
    assert.deepEqual(Object.keys(schema.properties).sort(), [...MATRIX_KEYS.top].sort());
    assert.deepEqual(Object.keys(schema.properties.images.items.oneOf[1].properties).sort(), [...MATRIX_KEYS.image].sort());
    assert.deepEqual(Object.keys(schema.properties.suites.items.properties).sort(), [...MATRIX_KEYS.suite].sort());
    assert.deepEqual(Object.keys(schema.properties.suites.items.properties.verify.oneOf[2].properties).sort(), [...MATRIX_KEYS.verify].sort());
    const contributed = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).contributes.yamlValidation;
    assert.deepEqual(contributed, [{ fileMatch: 'salt-containers.yml', url: './schemas/salt-containers.schema.json' }]);
  });

  it('the fixture formula and the example workspace have matrices that read', () => {
    const fixture = loadMatrix(join(REPO_ROOT, 'test', 'fixtures', 'testing', 'formula', 'salt-containers.yml'));
    assert.deepEqual(fixture.suites.map((s) => s.name), ['default', 'banner', 'evening', 'service', 'broken', 'slow']);
    assert.deepEqual(allCells(fixture).map((c) => c.key).filter((k) => k.startsWith('service')), ['service.salt-containers-test:systemd@default']);
    const examples = loadMatrix(join(REPO_ROOT, 'examples', 'salt-containers.yml'));
    assert.deepEqual([examples.stateRoot, examples.pillarRoot], [join(REPO_ROOT, 'examples', 'salt'), join(REPO_ROOT, 'examples', 'pillar')]);
    assert.deepEqual(allCells(examples).map((c) => c.key), ['common.salt-containers-test:py3@default', 'web.salt-containers-test:py3@default']);
  });
});
