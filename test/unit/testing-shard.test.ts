/** CI fleets: the shards of a cell list (stable, disjoint, complete, balanced by timings), --list and report merge. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findRoots } from '../../src/sls/roots';
import { parseCommandLine } from '../../src/cli/args';
import { cellListJson } from '../../src/cli/testFormat';
import { allCells, MergeError, mergeJson, mergeJunit, parseMatrix, parseShard, readTimings, reportKind, shardCells, type Matrix } from '../../src/testing';

const FILE = '/work/formula/salt-containers.yml';
/** 12 cells: 2 suites x 3 images x 2 Salt versions. */
const TWELVE = `images: [debian:12, {image: ubuntu:24.04, name: noble}, rockylinux:9]
salt: ["3008.4", "3007.16"]
suites:
  - {name: web, states: [web]}
  - {name: db, states: [db]}
`;
const matrix = (text = TWELVE): Matrix => parseMatrix(text, FILE, findRoots);
const keysOf = (cells: { key: string }[]) => cells.map((c) => c.key);

describe('shards', () => {
  it('reads K/N and refuses what is not a part', () => {
    assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
    assert.match(String(parseShard('0/3')), /between 1 and N/);
    assert.match(String(parseShard('4/3')), /between 1 and N/);
    assert.match(String(parseShard('1of3')), /K\/N/);
  });

  it('1/3, 2/3 and 3/3 of 12 cells: every cell once, 4 each, the same split every time and whatever the matrix order', () => {
    const cells = allCells(matrix());
    assert.equal(cells.length, 12);
    const parts = [1, 2, 3].map((index) => keysOf(shardCells(cells, { index, count: 3 })));
    assert.deepEqual(parts.map((p) => p.length), [4, 4, 4]);
    const union = parts.flat();
    assert.equal(new Set(union).size, 12, 'no cell twice');
    assert.deepEqual([...union].sort(), keysOf(cells).sort());
    assert.deepEqual([1, 2, 3].map((index) => keysOf(shardCells(allCells(matrix()), { index, count: 3 }))), parts, 'same split on a second run');
    // Another machine reading a matrix with suites, images and versions listed in another order splits the same.
    const reordered = matrix(`images: [rockylinux:9, debian:12, {image: ubuntu:24.04, name: noble}]
salt: ["3007.16", "3008.4"]
suites:
  - {name: db, states: [db]}
  - {name: web, states: [web]}
`);
    assert.deepEqual([1, 2, 3].map((index) => keysOf(shardCells(allCells(reordered), { index, count: 3 }))), parts);
    // Stable order: suite, then image entry, then Salt version.
    assert.deepEqual(parts[0], ['db.debian:12@3007.16', 'db.noble@3008.4', 'web.debian:12@3007.16', 'web.noble@3008.4']);
  });

  it('more shards than cells: the last ones are empty, the rest one cell each', () => {
    const cells = allCells(matrix('images: [a]\nsuites: [{name: s, states: [x]}, {name: t, states: [x]}]\n'));
    assert.deepEqual([1, 2, 3].map((index) => shardCells(cells, { index, count: 3 }).length), [1, 1, 0]);
  });

  it('with the last run\'s durations: the long cells are spread so each shard takes about as long', () => {
    const cells = allCells(matrix());
    // Every rockylinux cell took 60 s, the others 10 s: round robin would put them unevenly.
    const last = { cells: cells.map((c) => ({ suite: c.suite.name, image: c.image.image, imageName: c.image.name, salt: c.salt, durationMs: c.image.name === 'rockylinux:9' ? 60_000 : 10_000 })) };
    const timings = readTimings(JSON.parse(JSON.stringify(last)));
    const parts = [1, 2, 3].map((index) => shardCells(cells, { index, count: 3 }, timings));
    const time = (part: typeof cells) => part.reduce((n, c) => n + (c.image.name === 'rockylinux:9' ? 60 : 10), 0);
    // 320 s in all: 120, 100, 100 is the best split of 60 s and 10 s cells; round robin gives one shard 140.
    assert.deepEqual(parts.map(time).sort(), [100, 100, 120]);
    assert.equal(Math.max(...[1, 2, 3].map((index) => time(shardCells(cells, { index, count: 3 })))), 140);
    assert.equal(new Set(parts.flat().map((c) => c.key)).size, 12);
    assert.deepEqual(parts.map((p) => keysOf(p)), [1, 2, 3].map((index) => keysOf(shardCells(cells, { index, count: 3 }, timings))), 'same split again');
    // A cell the timings lack counts as their median: still every cell once.
    const partial = readTimings({ cells: last.cells.slice(0, 5) });
    assert.equal(new Set([1, 2, 3].flatMap((index) => keysOf(shardCells(cells, { index, count: 3 }, partial)))).size, 12);
  });

  it('the command line: --shard, --timings (only with --shard), --list; report merge needs files', () => {
    const parsed = parseCommandLine(['test', '--shard', '2/3', '--timings', 'last.json', '--list', '--json']);
    assert.equal(parsed.kind, 'command');
    if (parsed.kind !== 'command') return;
    assert.deepEqual([parsed.command.shard, parsed.command.timings, parsed.command.list, parsed.command.json], [{ index: 2, count: 3 }, 'last.json', true, true]);
    assert.deepEqual(parseCommandLine(['test', '--shard', '3/2']), { kind: 'usage-error', message: '--shard 3/2: K must be between 1 and N (N at least 1)' });
    assert.equal(parseCommandLine(['test', '--timings', 'x.json']).kind, 'usage-error');
    assert.equal(parseCommandLine(['report', 'merge']).kind, 'usage-error');
    assert.equal(parseCommandLine(['report', 'join', 'a.json']).kind, 'usage-error');
    const merge = parseCommandLine(['report', 'merge', 'a.json', 'b.xml', '--junit', 'all.xml', '--json']);
    assert.ok(merge.kind === 'command' && merge.command.verb === 'report');
    if (merge.kind === 'command') assert.deepEqual([merge.command.reports, merge.command.junit, merge.command.json], [['a.json', 'b.xml'], 'all.xml', true]);
  });

  it('--list --json: the cells of the shard, for a dynamic CI matrix', () => {
    const m = matrix();
    const doc = cellListJson(m, shardCells(allCells(m), { index: 1, count: 3 }), { index: 1, count: 3 });
    assert.deepEqual(doc.shard, { index: 1, count: 3 });
    assert.deepEqual((doc.cells as object[])[1], { key: 'db.noble@3008.4', suite: 'db', image: 'ubuntu:24.04', imageName: 'noble', salt: '3008.4', phases: ['converge', 'idempotence'] });
  });
});

describe('report merge', () => {
  const doc = (retcode: number, cells: object[], engines: object[] = [{ name: 'default', address: null, reachable: true, message: null }]) =>
    JSON.stringify({ retcode, matrix: { file: FILE, format: 'salt-containers', notes: [{ key: 'k', message: 'm', line: 1 }] }, engines, cells });
  const cell = (suite: string, image: string, passed: boolean) => ({ key: `${suite}.${image}@3008.4`, suite, image, imageName: image, salt: '3008.4', passed, durationMs: 5 });

  it('joins the shards\' --json reports: cells in the stable order, the worst exit code, notes and engines once', () => {
    const merged = mergeJson([
      { file: 'a.json', text: doc(0, [cell('web', 'debian:12', true)]) },
      { file: 'b.json', text: doc(2, [cell('db', 'debian:12', false)]) },
    ]);
    assert.equal(merged.retcode, 2);
    assert.deepEqual((merged.cells as { key: string }[]).map((c) => c.key), ['db.debian:12@3008.4', 'web.debian:12@3008.4']);
    assert.equal((merged.matrix as { notes: object[] }).notes.length, 1);
    assert.equal((merged.engines as object[]).length, 1);
    assert.equal(mergeJson([{ file: 'a', text: doc(2, []) }, { file: 'b', text: doc(1, []) }]).retcode, 1);
    assert.throws(() => mergeJson([{ file: 'a.json', text: doc(0, [cell('web', 'x', true)]) }, { file: 'b.json', text: doc(0, [cell('web', 'x', true)]) }]), (e: Error) => e instanceof MergeError && /in a\.json and in b\.json/.test(e.message));
    assert.throws(() => mergeJson([{ file: 'a.json', text: '{"x": 1}' }]), MergeError);
  });

  it('joins JUnit files: suites by name, every case, counts recomputed, multi-line failure bodies kept', () => {
    const one = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="salt-containers test" tests="3" failures="1" errors="0" skipped="0" time="4.000">
  <testsuite name="web" tests="3" failures="1" errors="0" skipped="0" time="4.000">
    <testcase classname="web.a@1" name="converge" time="1.000"/>
    <testcase classname="web.a@1" name="idempotence" time="1.000"><failure message="1 of 1 states changed again: x" type="idempotence">line one
line &lt;two&gt;</failure></testcase>
    <testcase classname="web.a@1" name="idempotence: x" time="0.100" file="web/init.sls" line="3"><failure message="not idempotent" type="file.managed">body</failure></testcase>
  </testsuite>
</testsuites>
`;
    const two = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="salt-containers test" tests="2" failures="0" errors="0" skipped="1" time="2.000">
  <testsuite name="web" tests="1" failures="0" errors="0" skipped="0" time="1.000">
    <testcase classname="web.b@1" name="converge" time="1.000"/>
  </testsuite>
  <testsuite name="db" tests="1" failures="0" errors="0" skipped="1" time="1.000">
    <testcase classname="db.b@1" name="verify" time="0.000"><skipped message="converge failed"/></testcase>
  </testsuite>
</testsuites>
`;
    assert.equal(reportKind(one), 'junit');
    assert.equal(reportKind('{"cells": []}'), 'json');
    const merged = mergeJunit([{ file: 'a.xml', text: one }, { file: 'b.xml', text: two }]);
    assert.match(merged, /<testsuites name="salt-containers test" tests="5" failures="2" errors="0" skipped="1" time="6.000">/);
    assert.match(merged, /<testsuite name="web" tests="4" failures="2" errors="0" skipped="0" time="5.000">/);
    assert.match(merged, /<testsuite name="db" tests="1" failures="0" errors="0" skipped="1" time="1.000">/);
    assert.ok(merged.includes('line one\nline &lt;two&gt;</failure></testcase>'));
    assert.equal(merged.match(/<testcase /g)?.length, 5);
    assert.throws(() => mergeJunit([{ file: 'x.xml', text: '<html/>' }]), MergeError);
  });
});
