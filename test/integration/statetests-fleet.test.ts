/**
 * State tests for CI fleets on the real engine with real Salt: shards of a 12-cell matrix run by the
 * CLI as separate jobs would, their reports merged and compared with one unsharded run.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DockerEngine } from '../../src/engine';
import { CELL_LABELS } from '../../src/testing';
import { allChanges, REPO_ROOT, removeContainer } from '../support/containers';
import { runCli } from '../support/cli';

const engine = new DockerEngine();
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'testing');
const folders: string[] = [];

function fixtureCopy(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sc-fleet-${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  folders.push(dir);
  return dir;
}

const cli = runCli;

/** A JUnit file's cases as comparable lines (time left out: it differs run to run). */
function junitCases(xml: string): string[] {
  return [...xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)]
    .map((m) => `${m[1].replace(/ time="[^"]*"/, '')} ${(m[3] ?? '').replace(/time="[^"]*"/g, '').replace(/ [0-9.]+ s\b/g, '')}`.trim())
    .sort();
}

async function containersOf(matrixFile: string): Promise<string[]> {
  return (await engine.listContainers()).filter((c) => c.labels[CELL_LABELS.matrix] === matrixFile).map((c) => c.name);
}

describe('state tests for CI fleets', () => {
  after(() => {
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  it('shards 1/3, 2/3, 3/3 of 12 cells: every cell once, the same split twice, merged reports equal the unsharded run', async () => {
    const dir = fixtureCopy('fleet');
    const lists = async () =>
      Promise.all([1, 2, 3].map(async (k) => {
        const listed = await cli(['test', '--shard', `${k}/3`, '--list', '--json'], dir);
        assert.equal(listed.code, 0, listed.stderr);
        return (JSON.parse(listed.stdout) as { cells: { key: string }[] }).cells.map((c) => c.key);
      }));
    const parts = await lists();
    const whole = await cli(['test', '--list'], dir);
    const all = whole.stdout.trim().split('\n');
    assert.equal(all.length, 12);
    assert.deepEqual(parts.map((p) => p.length), [4, 4, 4]);
    assert.deepEqual(parts.flat().sort(), [...all].sort(), 'the union is the whole matrix, no cell twice');
    assert.deepEqual(await lists(), parts, 'the same split on a second listing');

    const unsharded = await cli(['test', '--json', '--junit', 'all.xml', '--workers', '2'], dir);
    assert.equal(unsharded.code, 2, unsharded.stderr);
    for (const k of [1, 2, 3]) {
      const shard = await cli(['test', '--shard', `${k}/3`, '--json', '--junit', `shard-${k}.xml`, '--workers', '2'], dir);
      assert.ok(shard.code === 0 || shard.code === 2, shard.stderr);
      const doc = JSON.parse(shard.stdout) as { cells: { key: string }[] };
      // A listing touches no Salt: it names the configured Salt's cells @default.
      assert.deepEqual(doc.cells.map((c) => c.key.replace(/@[^@]+$/, '@default')).sort(), [...parts[k - 1]].sort(), `shard ${k}/3 ran its listed cells`);
      writeFileSync(join(dir, `shard-${k}.json`), shard.stdout);
    }
    const merged = await cli(['report', 'merge', 'shard-1.json', 'shard-2.json', 'shard-3.json', 'shard-1.xml', 'shard-2.xml', 'shard-3.xml', '--junit', 'merged.xml', '--json'], dir);
    assert.equal(merged.code, 2, merged.stderr);
    const mergedDoc = JSON.parse(merged.stdout) as { retcode: number; cells: { key: string; passed: boolean }[] };
    const unshardedDoc = JSON.parse(unsharded.stdout) as { cells: { key: string; passed: boolean }[] };
    assert.deepEqual(mergedDoc.cells.map((c) => [c.key, c.passed]).sort(), unshardedDoc.cells.map((c) => [c.key, c.passed]).sort());
    const expected = junitCases(readFileSync(join(dir, 'all.xml'), 'utf8'));
    assert.ok(expected.some((c) => /name="converge: broken-fails" file="salt\/broken.sls" line="5"/.test(c)), expected.join('\n'));
    assert.deepEqual(junitCases(readFileSync(join(dir, 'merged.xml'), 'utf8')), expected);
    assert.deepEqual(await containersOf(join(dir, 'salt-containers.yml')), []);
  });

  it('saltcheck and testinfra in the cell: each failure at its file and line in the CLI and JUnit, the passing ones listed, nothing left in the container', async () => {
    const dir = fixtureCopy('checks');
    const result = await cli(['test', '--keep', '--junit', 'junit.xml'], dir);
    assert.equal(result.code, 2, result.stderr);
    const kept = /kept for inspection: (\S+)/.exec(result.stdout)?.[1];
    assert.ok(kept, result.stdout);
    try {
      // The CLI: failed checks at their lines, the passing ones listed.
      assert.match(result.stdout, /✗ motd: motd-says-goodbye {2}at salt\/motd\/saltcheck-tests\/init\.tst:15\n/);
      assert.match(result.stdout, /✓ motd: motd-file-exists\n/);
      assert.match(result.stdout, /✓ motd: motd-says-hello\n/);
      assert.match(result.stdout, /✗ tests\.test_motd::test_motd_is_empty\[local\] {2}at test\/testinfra\/test_motd\.py:12\n/);
      assert.match(result.stdout, /✓ tests\.test_motd::test_motd_says_hello\[local\]\n/);
      // JUnit: a case per check with file and line; failures only for the failing ones.
      const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
      const cases = [...junit.matchAll(/<testcase classname="[^"]*" name="((?:saltcheck|testinfra): [^"]*)" time="[^"]*" file="([^"]*)" line="(\d+)"(\/>|><failure)/g)].map((m) => [m[1], m[2], Number(m[3]), m[4] !== '/>']);
      assert.deepEqual(cases, [
        ['saltcheck: motd: motd-file-exists', 'salt/motd/saltcheck-tests/init.tst', 2, false],
        ['saltcheck: motd: motd-says-hello', 'salt/motd/saltcheck-tests/init.tst', 8, false],
        ['saltcheck: motd: motd-says-goodbye', 'salt/motd/saltcheck-tests/init.tst', 15, true],
        ['testinfra: tests.test_motd::test_motd_says_hello[local]', 'test/testinfra/test_motd.py', 4, false],
        ['testinfra: tests.test_motd::test_motd_is_empty[local]', 'test/testinfra/test_motd.py', 12, true],
      ]);
      // Nothing of pytest, testinfra or Salt in the (failed, kept) cell's container: only what the state made.
      assert.deepEqual((await allChanges(engine, kept)).sort(), ['A /etc/motd-sc', 'C /etc']);
    } finally {
      await removeContainer(engine, kept);
    }
  });
});
