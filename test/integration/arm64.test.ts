/**
 * arm64 containers (what an Apple Silicon machine runs), on the real engine with real Salt: here amd64
 * runs them through qemu-user (binfmt_misc, registered by scripts/setup-arm64.sh), about 6-7 s an apply,
 * so each path is proven once: the container's Python, the bundled arm64 runtime, a build, a matrix cell,
 * a warm session's edit. Each asserts that Salt ran as arm64 and that nothing of it is left.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DockerEngine, SaltRunner, SaltSource, WarmSessions, type StateRun } from '../../src/engine';
import { CELL_LABELS, loadMatrix, runMatrix, SaltVersions, selectCells, singleEngine } from '../../src/testing';
import {
  ARM64_DEBIAN_IMAGE,
  ARM64_PY3_IMAGE,
  REPO_ROOT,
  arm64Unavailable,
  leftovers,
  readInContainer,
  removeContainer,
  runImage,
  startContainer,
  topLayerPaths,
  uniqueName,
} from '../support/containers';

const engine = new DockerEngine();
const source = new SaltSource();
const runner = new SaltRunner(engine, source);
const TREE = { stateRoot: join(REPO_ROOT, 'test', 'fixtures', 'engine', 'arm64') };
/** What arch.sls writes on arm64: dpkg's architecture and the CPU's, as Salt's grains saw them. */
const ARM64_SEEN = 'arm64 aarch64\n';

/** The run's states by id: result and whether they changed something. */
const outcome = (run: StateRun) => run.states.map((s) => [s.id, s.result, Object.keys(s.changes).length > 0]);

/** A fresh copy of the arm64 state tree, to edit. */
function treeCopy(): { stateRoot: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sc-arm64-'));
  cpSync(TREE.stateRoot, join(dir, 'salt'), { recursive: true });
  return { dir, stateRoot: join(dir, 'salt') };
}

// No skip: a machine that cannot run arm64 fails here with the reason (scripts/setup-arm64.sh sets it up).
describe('arm64 containers', () => {
  const made: string[] = [];
  const folders: string[] = [];
  after(async () => {
    for (const image of made) await engine.removeImage(image, { force: true }).catch(() => undefined);
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  it('the test images are arm64 and run as arm64', async () => {
    assert.equal(arm64Unavailable(), undefined);
    for (const image of [ARM64_PY3_IMAGE, ARM64_DEBIAN_IMAGE]) assert.equal((await engine.inspectImage(image)).Architecture, 'arm64', image);
    assert.equal(await runImage(engine, ARM64_DEBIAN_IMAGE, ['uname', '-m']), 'aarch64\n');
  });

  /** The two Pythons a run can use, each proven once; the thin is precompiled for both (bytecode is the same on every architecture). */
  const APPLIES = [
    { image: ARM64_PY3_IMAGE, python: 'container', title: "the container's Python 3.11", notes: [] as RegExp[], logged: [] as RegExp[] },
    {
      image: ARM64_DEBIAN_IMAGE,
      python: 'bundled',
      title: 'the bundled arm64 runtime where the image has no Python',
      notes: [/^Salt ran with the bundled Python 3\.11\.\d+ \(Debian bookworm, arm64\): the container has no Python 3\.$/],
      logged: [/^bundled Python 3\.11\.\d+ \(arm64, /],
    },
  ];
  for (const { image, python, title, notes, logged } of APPLIES) {
    it(`applies with ${title}, the thin precompiled for it, and leaves nothing`, async () => {
      const container = await startContainer(engine, image, 'sc-arm64');
      try {
        const logs: string[] = [];
        const run = await runner.apply(container, ['arch'], TREE, { log: (line) => logs.push(line) });
        assert.deepEqual(run.errors, []);
        assert.deepEqual(outcome(run), [['arch_seen', true, true], ['arch_greeting', true, true]]);
        assert.deepEqual([run.python?.kind, run.python?.version], [python, '3.11']);
        assert.equal(run.notes?.length ?? 0, notes.length, (run.notes ?? []).join('\n'));
        notes.forEach((note, i) => assert.match(run.notes![i], note));
        for (const line of [/thin \d+ bytes \(precompiled for Python 3\.11\)/, ...logged]) assert.ok(logs.some((l) => line.test(l)), `${line} not in:\n${logs.join('\n')}`);
        assert.equal(await readInContainer(engine, container, '/etc/arch-seen'), ARM64_SEEN);
        assert.deepEqual(await leftovers(engine, container), []);
      } finally {
        await removeContainer(engine, container);
      }
    });
  }

  it('builds an arm64 image from SLS: the states in it, nothing of Salt', async () => {
    const tag = `${uniqueName('sc-arm64-built')}:1`;
    made.push(tag);
    const run = await runner.build(['arch'], TREE, { baseImage: ARM64_PY3_IMAGE, tag });
    assert.equal(run.retcode, 0, JSON.stringify(run.errors));
    assert.equal(run.python?.kind, 'container');
    const image = await engine.inspectImage(tag);
    assert.equal(image.Architecture, 'arm64');
    // What the commit added: the states' files and /tmp's own entry (the run came and went there).
    assert.deepEqual(await topLayerPaths(engine, tag), ['etc/', 'etc/arch-greeting', 'etc/arch-seen', 'tmp/']);
    assert.equal(await runImage(engine, tag, ['cat', '/etc/arch-seen']), ARM64_SEEN);
  });

  it('a matrix cell on an arm64 image: converge, idempotence and verify pass, its container is gone', async () => {
    const dir = treeCopy().dir;
    folders.push(dir);
    const file = join(dir, 'salt-containers.yml');
    writeFileSync(file, `images: [${ARM64_PY3_IMAGE}]\nstate_root: salt\nsuites:\n  - name: arch\n    states: [arch]\n    verify: [arch]\n`);
    const matrix = loadMatrix(file);
    const cells = selectCells(matrix, {}, (await source.info()).saltVersion);
    const result = await runMatrix(matrix, { cells, provider: singleEngine(engine), salt: new SaltVersions({ configured: source }), workers: 1 });
    assert.equal(result.retcode, 0);
    const [cell] = result.cells;
    assert.deepEqual(cell.errors, []);
    assert.deepEqual(cell.phases.map((p) => [p.phase, p.passed]), [['converge', true], ['idempotence', true], ['verify', true]]);
    assert.deepEqual(cell.phases[0].states.map((s) => [s.id, s.result, Object.keys(s.changes).length > 0]), [['arch_seen', true, true], ['arch_greeting', true, true]]);
    assert.deepEqual((await engine.listContainers()).filter((c) => c.labels[CELL_LABELS.matrix] === file), []);
  });

  it('a warm session on arm64 (bundled runtime) runs an edited SLS, and leaves nothing when it ends', async () => {
    const tree = treeCopy();
    folders.push(tree.dir);
    const container = await startContainer(engine, ARM64_DEBIAN_IMAGE, 'sc-arm64');
    const sessions = new WarmSessions(runner.launcher, { idleTimeoutMs: 60_000 });
    runner.warm = sessions;
    try {
      const first = await runner.apply(container, ['arch'], tree, { warm: true });
      assert.deepEqual([first.warm, first.python?.kind], [true, 'bundled']);
      assert.deepEqual(outcome(first), [['arch_seen', true, true], ['arch_greeting', true, true]]);
      assert.equal(await readInContainer(engine, container, '/etc/arch-seen'), ARM64_SEEN);
      const session = await sessions.get(container);
      assert.ok(session, 'the session lives on after the run');

      const sls = join(tree.stateRoot, 'arch.sls');
      writeFileSync(sls, readFileSync(sls, 'utf8').replace('contents: hello', 'contents: hello again'));
      const edited = await runner.apply(container, ['arch'], tree, { warm: true });
      assert.equal(edited.warm, true);
      assert.ok((await sessions.get(container)) === session, 'the same session ran it');
      assert.deepEqual(outcome(edited), [['arch_seen', true, false], ['arch_greeting', true, true]]);
      assert.equal(await readInContainer(engine, container, '/etc/arch-greeting'), 'hello again\n');

      await sessions.dispose();
      assert.deepEqual(await leftovers(engine, container), []);
    } finally {
      runner.warm = undefined;
      await sessions.dispose();
      await removeContainer(engine, container);
    }
  });
});
