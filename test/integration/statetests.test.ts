/**
 * State tests on the real engine with real Salt, on images built here: the fixture formula (written in
 * the saltstack-formulas style) copied to a folder of its own per test, so the containers a run makes
 * are known by their matrix label and proven gone after it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DockerEngine, PINNED_SALT_VERSION, SaltSource } from '../../src/engine';
import { CELL_LABELS, loadMatrix, runMatrix, SaltVersions, selectCells, singleEngine, type CellResult, type CellFilter, type MatrixRun } from '../../src/testing';
import { DEBIAN_IMAGE, REPO_ROOT, leftovers, removeContainer } from '../support/containers';
import { pushedImage } from '../support/registry';
import { CLI, runCli } from '../support/cli';

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const engine = new DockerEngine();
const FORMULA = join(REPO_ROOT, 'test', 'fixtures', 'testing', 'formula');
/** The second Salt the set-up installs (scripts/setup-env.sh). */
const SECOND_SALT = '3007.16';
const configured = new SaltSource();
const folders: string[] = [];

/** The fixture formula in a folder of its own. */
function formulaCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sc-statetests-'));
  cpSync(FORMULA, dir, { recursive: true });
  folders.push(dir);
  return dir;
}

/** Containers any run of this matrix file left on the engine. */
async function containersOf(matrixFile: string): Promise<string[]> {
  return (await engine.listContainers()).filter((c) => c.labels[CELL_LABELS.matrix] === matrixFile).map((c) => c.name);
}

async function run(file: string, filter: CellFilter, options: { keep?: boolean; workers?: number } = {}): Promise<MatrixRun> {
  const matrix = loadMatrix(file);
  const cells = selectCells(matrix, filter, (await configured.info()).saltVersion);
  return runMatrix(matrix, { cells, provider: singleEngine(engine), salt: new SaltVersions({ configured }), workers: options.workers ?? 2, keep: options.keep });
}

const cellOf = (result: MatrixRun, suite: string) => result.cells.find((c) => c.suite === suite)!;
const phaseOf = (cell: CellResult, phase: string) => cell.phases.find((p) => p.phase === phase)!;

const cli = runCli;

describe('state tests', () => {
  after(() => {
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  it('a passing suite and a failing idempotence: what changed again is shown, verify still runs, nothing is left', async () => {
    const dir = formulaCopy();
    const result = await run(join(dir, 'salt-containers.yml'), { suites: ['default', 'banner'], images: ['salt-containers-test:py3'] });
    assert.equal(result.retcode, 2);
    const good = cellOf(result, 'default');
    assert.deepEqual([good.key, good.passed, good.engine, good.salt], [`default.salt-containers-test:py3@${PINNED_SALT_VERSION}`, true, 'default', PINNED_SALT_VERSION]);
    assert.deepEqual(good.phases.map((p) => [p.phase, p.passed]), [['converge', true], ['idempotence', true], ['verify', true]]);
    assert.deepEqual(phaseOf(good, 'converge').states.map((s) => [s.id, s.result, Object.keys(s.changes).length > 0]), [
      ['greeter-mapdata-dump', true, true],
      ['greeter-mapdata-saltversion', true, false],
      ['greeter-config-file-directory', true, true],
      ['greeter-config-file-file-managed', true, true],
    ]);
    assert.ok(phaseOf(good, 'idempotence').states.every((s) => s.result === true && Object.keys(s.changes).length === 0));

    const bad = cellOf(result, 'banner');
    assert.equal(bad.passed, false);
    assert.deepEqual(bad.phases.map((p) => [p.phase, p.passed]), [['converge', true], ['idempotence', false], ['verify', true]]);
    const again = phaseOf(bad, 'idempotence').states;
    assert.deepEqual(again.map((s) => [s.id, s.result]), [['greeter-config-file-directory', true], ['greeter-config-file-file-managed', true], ['greeter-banner-cmd-run', false]]);
    const banner = again[2];
    assert.match(banner.comment, /^not idempotent: changed again on the second run\. Command "echo 'Hello from the test pillar' >> \/etc\/greeter\/banner" run/);
    assert.deepEqual(Object.keys(banner.changes).sort(), ['pid', 'retcode', 'stderr', 'stdout']);
    assert.deepEqual(await containersOf(join(dir, 'salt-containers.yml')), []);
  });

  it('verify fails when something would change, with the pending diff; a converge that does not render skips idempotence and still verifies', async () => {
    const dir = formulaCopy();
    const result = await run(join(dir, 'salt-containers.yml'), { suites: ['evening', 'broken'], images: ['salt-containers-test:py3'] });
    assert.equal(result.retcode, 2);
    const evening = cellOf(result, 'evening');
    assert.deepEqual(evening.phases.map((p) => [p.phase, p.passed]), [['converge', true], ['idempotence', true], ['verify', false]]);
    const [pending] = phaseOf(evening, 'verify').states;
    assert.deepEqual([pending.id, pending.result, pending.sls], ['greeter-verify-config-exact', false, 'test.salt.verify']);
    assert.match(String(pending.changes.diff), /-greeting = Good evening\n\+greeting = Hello from the test pillar/);

    const broken = cellOf(result, 'broken');
    assert.deepEqual(broken.phases.map((p) => [p.phase, p.passed, p.skipped]), [['converge', false, undefined], ['idempotence', null, 'converge failed'], ['verify', false, undefined]]);
    const [error] = phaseOf(broken, 'converge').errors;
    assert.deepEqual([error.kind, error.sls], ['render', 'greeter.broken']);
    assert.match(error.message, /'dict object' has no attribute 'confg'/);
    // verify ran against the unconverged container and found the config missing.
    assert.deepEqual(phaseOf(broken, 'verify').states.map((s) => [s.id, s.result]), [['greeter-verify-config-exact', false]]);
    assert.deepEqual(await containersOf(join(dir, 'salt-containers.yml')), []);
  });

  it('init: systemd runs systemd as PID 1, so service.running starts a real unit; verify proves it runs', async () => {
    const dir = formulaCopy();
    const result = await run(join(dir, 'salt-containers.yml'), { suites: ['service'] });
    const cell = cellOf(result, 'service');
    assert.deepEqual(cell.errors, []);
    assert.deepEqual(cell.phases.map((p) => [p.phase, p.passed]), [['converge', true], ['idempotence', true], ['verify', true]]);
    const service = phaseOf(cell, 'converge').states.find((s) => s.function === 'service.running')!;
    assert.deepEqual([service.result, service.changes], [true, { greeter: true }]);
    assert.deepEqual(phaseOf(cell, 'verify').states.map((s) => [s.id, s.result, s.comment]), [
      ['greeter-verify-config-exact', true, 'The file /etc/greeter/greeter.conf is in the correct state'],
      ['greeter-verify-service-running', true, 'The service greeter is already running'],
    ]);
    assert.deepEqual(await containersOf(join(dir, 'salt-containers.yml')), []);
  });

  it('init: systemd on an image without it says so (not that the engine refused the container), and leaves no container', async () => {
    const dir = formulaCopy();
    const file = join(dir, 'no-systemd.yml');
    writeFileSync(file, `images: [{image: '${DEBIAN_IMAGE}', init: systemd}]\nsuites: [{name: default, states: [greeter], pillar: {greeter: test/salt/pillar/default.sls}}]\n`);
    const [cell] = (await run(file, {})).cells;
    assert.deepEqual(
      cell.errors.map((e) => [e.kind, e.message, e.hint]),
      [['salt', `image ${DEBIAN_IMAGE} has no systemd (tried /lib/systemd/systemd, /usr/lib/systemd/systemd, /sbin/init)`, 'Install systemd in the image, or drop init: systemd.']],
    );
    assert.deepEqual(await containersOf(file), []);
  });

  it('two Salt versions: each cell runs its own Salt (the container reports it)', async () => {
    const dir = formulaCopy();
    const result = await run(join(dir, 'salt-containers.yml'), { suites: ['default'], images: ['salt-containers-test:py3'], salt: [PINNED_SALT_VERSION, SECOND_SALT] });
    assert.deepEqual(result.cells.map((c) => [c.key, c.salt, c.passed]), [
      [`default.salt-containers-test:py3@${PINNED_SALT_VERSION}`, PINNED_SALT_VERSION, true],
      [`default.salt-containers-test:py3@${SECOND_SALT}`, SECOND_SALT, true],
    ]);
    for (const cell of result.cells) {
      const version = phaseOf(cell, 'converge').states.find((s) => s.id === 'greeter-mapdata-saltversion')!;
      assert.equal(version.comment, `Salt ${cell.salt}`);
    }
  });

  it('--keep keeps only the failed cell\'s container, names it, and nothing of Salt is left in it', async () => {
    const dir = formulaCopy();
    const file = join(dir, 'salt-containers.yml');
    const result = await run(file, { suites: ['default', 'banner'], images: ['salt-containers-test:py3'] }, { keep: true });
    const kept = cellOf(result, 'banner').kept!;
    assert.match(kept, /^sct-banner-salt-containers-test-py3-3008\.4-[0-9a-f]{6}$/);
    assert.equal(cellOf(result, 'default').kept, undefined);
    try {
      assert.deepEqual(await containersOf(file), [kept]);
      assert.deepEqual(await leftovers(engine, kept), []);
    } finally {
      await removeContainer(engine, kept);
    }
  });

  it("a cell that asks for a privileged container gets the engine's answer at once: its refusal as the cell's error (exit 1), or a run", async () => {
    const dir = formulaCopy();
    const file = join(dir, 'privileged.yml');
    writeFileSync(file, 'images: [{image: salt-containers-test:py3, privileged: true}]\nsuites: [{name: default, states: [greeter], pillar: {greeter: test/salt/pillar/default.sls}}]\n');
    const started = Date.now();
    const result = await run(file, {});
    const [cell] = result.cells;
    assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
    if (cell.errors.length) {
      // This machine's engine refuses (runc: "unable to apply caps").
      assert.equal(cell.errors[0].kind, 'container-refused');
      assert.match(cell.errors[0].message, /^the engine refused the cell's container: .*unable to apply caps/);
      assert.match(cell.errors[0].hint ?? '', /drop privileged: true/);
      assert.equal(result.retcode, 1);
    } else assert.deepEqual([cell.passed, result.retcode], [true, 0]);
    assert.deepEqual(await containersOf(file), []);
  });

  it('the CLI runs a formula that has only a kitchen.yml as it is: JSON and JUnit by the contract, the unmapped reported, exit 0', async () => {
    const dir = formulaCopy();
    rmSync(join(dir, 'salt-containers.yml'));
    const result = await cli(['test', '--json', '--junit', 'junit.xml'], dir);
    assert.equal(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as {
      retcode: number;
      matrix: { format: string; notes: { message: string }[] };
      cells: { suite: string; image: string; salt: string; engine: string; passed: boolean; phases: { phase: string; passed: boolean; states: { id: string; sls: string; name: string; result: boolean }[] }[] }[];
    };
    assert.equal(doc.retcode, 0);
    assert.equal(doc.matrix.format, 'kitchen');
    assert.deepEqual(doc.cells.map((c) => [c.suite, c.image, c.salt, c.engine, c.passed, c.phases.map((p) => `${p.phase}:${p.passed}`).join(' ')]), [
      ['default', 'salt-containers-test:py3', PINNED_SALT_VERSION, 'default', true, 'converge:true idempotence:true inspec:null'],
      ['service', 'salt-containers-test:systemd', PINNED_SALT_VERSION, 'default', true, 'converge:true idempotence:true inspec:null'],
    ]);
    // The InSpec verifier is not run, and every cell says so (never a silent pass).
    for (const cell of doc.cells as unknown as { phases: { phase: string; skipped: string | null }[] }[]) {
      assert.match(cell.phases.find((p) => p.phase === 'inspec')!.skipped ?? '', /^verify: InSpec not run \(test\/integration\/(default|service)\)/);
    }
    assert.ok(doc.matrix.notes.some((n) => /dependencies \(systemd\) are not fetched/.test(n.message)));
    // The default suite's path dependency is in its state tree, with the custom module next to it.
    const prep = doc.cells[0].phases[0].states[0];
    assert.deepEqual([prep.id, prep.sls, prep.name, prep.result], ['greeter-prep-marker-file-managed', 'greeter_prep', '/tmp/greeter-prep', true]);
    assert.ok(!doc.matrix.notes.some((n) => /greeter_prep/.test(n.message)), 'a path dependency is mapped, not noted');
    assert.ok(doc.matrix.notes.some((n) => /verifier inspec .* is not run: each cell says so/.test(n.message)));
    // kitchen.yml's privileged: true is asked for; an engine that refuses it (runc here: "unable to apply
    // caps") runs each cell unprivileged and says so on the cell, one that allows it says nothing.
    for (const cell of doc.cells as unknown as { notes: string[] }[]) {
      if (cell.notes.length) assert.match(cell.notes[0], /^privileged: true was refused by this engine \(.*\): the container runs unprivileged/);
    }
    assert.doesNotMatch(result.stderr, /privileged: true is not passed on/);
    if ((doc.cells as unknown as { notes: string[] }[])[0].notes.length) assert.match(result.stderr, /default\.debian-12@3008\.4: note: privileged: true was refused by this engine/);
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    assert.match(junit, /<testcase classname="service\.debian-12-systemd@3008\.4" name="converge" time="\d+\.\d{3}"\/>/);
    assert.match(junit, /<testcase classname="service\.debian-12-systemd@3008\.4" name="inspec" time="0\.000"><skipped message="verify: InSpec not run \(test\/integration\/service\)/);
    assert.deepEqual(await containersOf(join(dir, 'kitchen.yml')), []);
  });

  it("a kitchen.yml platform whose image is only in a registry: the CLI pulls it (progress on stderr, --json as before) and the cell passes", async () => {
    // As template-formula names saltimages/salt-master-py3:debian-12: an image the engine is to pull.
    const image = await pushedImage();
    const dir = formulaCopy();
    rmSync(join(dir, 'salt-containers.yml'));
    const kitchen = join(dir, 'kitchen.yml');
    writeFileSync(kitchen, readFileSync(kitchen, 'utf8').replace('image: salt-containers-test:py3', `image: ${image.ref}`));
    try {
      await assert.rejects(engine.inspectImage(image.ref), /not found/);
      const result = await cli(['test', '--json', '--image', 'debian-12'], dir);
      assert.equal(result.code, 0, result.stderr);
      const doc = JSON.parse(result.stdout) as { retcode: number; cells: { image: string; passed: boolean; errors: unknown[] }[] };
      assert.deepEqual(doc.cells.map((c) => [c.image, c.passed, c.errors]), [[image.ref, true, []]]);
      assert.match(result.stderr, new RegExp(`^… pulling ${literal(image.ref)} from 127\\.0\\.0\\.1:\\d+ \\(engine default\\)$`, 'm'));
      assert.match(result.stderr, new RegExp(`^… pulled ${literal(image.ref)} in \\d+\\.\\d s \\(.*\\) \\(engine default\\)$`, 'm'));
      assert.ok((await engine.inspectImage(image.ref)).Id, 'the pulled image stays, as after docker run');
      assert.deepEqual(await containersOf(kitchen), []);
    } finally {
      await image.remove([engine]);
    }
  });

  it('Ctrl-C (a real SIGINT to the CLI) stops every running cell, removes their containers, exits 1', async () => {
    const dir = formulaCopy();
    const file = join(dir, 'salt-containers.yml');
    const child = spawn(process.execPath, [CLI, 'test', '--suite', 'slow', '--suite', 'default', '--image', 'salt-containers-test:py3', '--workers', '2', '--json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const slowRunning = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (/slow\.salt-containers-test:py3@[\d.]+: converge…/.test(stderr)) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await slowRunning;
    // Both cells have containers by now (the slow one is in salt-call's sleep).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok((await containersOf(file)).length >= 1, 'the cells made containers');
    const sent = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 1, stderr);
    assert.ok(Date.now() - sent < 20_000, `cancel took ${Date.now() - sent} ms`);
    assert.match(stderr, /cancelling: stopping every cell and removing its container/);
    const doc = JSON.parse(stdout) as { retcode: number; cells: { suite: string; passed: boolean | null; phases: { phase: string; passed: boolean | null }[] }[] };
    assert.equal(doc.retcode, 1);
    const slow = doc.cells.find((c) => c.suite === 'slow')!;
    assert.equal(slow.passed, null);
    assert.deepEqual(await containersOf(file), []);
    assert.ok(!existsSync(join(dir, 'junit.xml')));
  });
});
