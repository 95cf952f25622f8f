/** Building images: base image + SLS -> committed image with the base config and no Salt. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BUILD_LABELS, buildContainerPrefix, DockerEngine, SaltRunner, SaltSource, type PullProgress } from '../../src/engine';
import { BUSYBOX_IMAGE, DEBIAN_IMAGE, FIXTURES, MUSL_IMAGE, PY3_IMAGE, runImage as runOn, topLayerPaths, uniqueName } from '../support/containers';
import { pushedImage, testRegistry } from '../support/registry';

const engine = new DockerEngine();
const runner = new SaltRunner(engine, new SaltSource());
const runImage = (image: string, cmd?: string[]) => runOn(engine, image, cmd);

describe('build', () => {
  let base: string;
  const made: string[] = [];
  before(async () => {
    // A base image with a config of its own, all of which the built image must keep.
    base = `${uniqueName('sc-it-base')}:1`;
    const id = await engine.createContainer(PY3_IMAGE, { keepAlive: ['true'] });
    await engine.commit(id, base, {
      Cmd: ['cat', 'built-marker'],
      Entrypoint: [],
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello'],
      WorkingDir: '/srv',
      User: '',
      ExposedPorts: { '8080/tcp': {} },
      Labels: { 'org.example.base': 'yes' },
    });
    await engine.removeContainer(id, { force: true });
    made.push(base);
  });
  after(async () => {
    for (const image of made) await engine.removeImage(image, { force: true }).catch(() => undefined);
  });

  it('commits the states, keeps the base config, leaves no Salt and no container', async () => {
    const tag = `${uniqueName('sc-it-built')}:1`;
    made.push(tag);
    const stages: string[] = [];
    const run = await runner.build(['built'], FIXTURES, { baseImage: base, tag, onStage: (s) => stages.push(s) });
    assert.equal(run.retcode, 0, JSON.stringify(run.errors));
    assert.equal(run.image?.tag, tag);
    assert.equal(run.image?.failed, false);
    assert.ok(stages.includes('committing'));
    const image = await engine.inspectImage(tag);
    const baseConfig = (await engine.inspectImage(base)).Config;
    assert.deepEqual(image.Config.Cmd, baseConfig.Cmd);
    assert.deepEqual(image.Config.Entrypoint ?? [], baseConfig.Entrypoint ?? []);
    assert.deepEqual(baseConfig.Entrypoint ?? [], []);
    assert.deepEqual(image.Config.Env, baseConfig.Env);
    assert.equal(image.Config.WorkingDir, '/srv');
    assert.deepEqual(Object.keys(image.Config.ExposedPorts ?? {}), ['8080/tcp']);
    assert.equal(image.Config.Tty, false);
    assert.equal(image.Config.OpenStdin, false);
    assert.equal(image.Config.Labels?.['org.example.base'], 'yes');
    assert.equal(image.Config.Labels?.[BUILD_LABELS.sls], 'built');
    assert.equal(image.Config.Labels?.[BUILD_LABELS.saltVersion], run.saltVersion);
    // It runs with the base CMD and has the state's effect.
    assert.equal(await runImage(tag), 'built by built on Debian\n');
    // No Salt in it: nothing under /tmp, no /etc/salt, no /var/cache/salt, `import salt` fails.
    const check = await runImage(tag, ['python3', '-c', 'import os,glob; print(glob.glob("/tmp/*"), os.path.exists("/etc/salt"), os.path.exists("/var/cache/salt"))\ntry:\n import salt\n print("salt importable")\nexcept ImportError:\n print("no salt")']);
    assert.equal(check, '[] False False\nno salt\n');
    // The keep-alive container is gone, and the image has no label of it (a commit keeps the container's).
    const leftovers = (await engine.listContainers()).filter((c) => c.name.startsWith(buildContainerPrefix(tag)));
    assert.deepEqual(leftovers, []);
    assert.deepEqual(Object.keys(image.Config.Labels ?? {}).sort(), ['org.example.base', ...Object.values(BUILD_LABELS)].sort());
    assert.match(run.container?.name ?? '', new RegExp(`^${buildContainerPrefix(tag).replace(/\./g, '\\.')}[0-9a-f]{6}$`), 'the run, and its minion id, are named after the build');
  });

  it('does not commit a failed run unless asked, then commits it as TAG-failed and says so', async () => {
    const tag = `${uniqueName('sc-it-failing')}:2`;
    const run = await runner.build(['failing'], FIXTURES, { baseImage: base, tag });
    assert.equal(run.retcode, 2);
    assert.equal(run.image, undefined);
    await assert.rejects(engine.inspectImage(tag), /not found/);

    const kept = await runner.build(['failing'], FIXTURES, { baseImage: base, tag, commitOnFailure: true });
    made.push(`${tag}-failed`);
    assert.equal(kept.retcode, 2);
    assert.deepEqual(kept.image && { tag: kept.image.tag, failed: kept.image.failed }, { tag: `${tag}-failed`, failed: true });
    assert.match(kept.errors.at(-1)!.message, /committed for inspection as .*:2-failed/);
    await engine.inspectImage(`${tag}-failed`);
    await assert.rejects(engine.inspectImage(tag), /not found/);
  });

  for (const from of [DEBIAN_IMAGE, BUSYBOX_IMAGE, MUSL_IMAGE]) {
    it(`builds from ${from} (no Python) the same way: the image holds the states' effect and no Python, Salt or runtime`, async () => {
      const tag = `${uniqueName('sc-it-nopython')}:1`;
      made.push(tag);
      const run = await runner.build(['built'], FIXTURES, { baseImage: from, tag });
      assert.equal(run.retcode, 0, JSON.stringify(run.errors));
      assert.equal(run.python?.kind, 'bundled');
      // The states' file, and /tmp's own entry (its mtime: the run came and went there), nothing in it.
      assert.deepEqual(await topLayerPaths(engine, tag), ['srv/', 'srv/built-marker', 'tmp/']);
      const image = await engine.inspectImage(tag);
      const baseConfig = (await engine.inspectImage(from)).Config;
      assert.deepEqual(image.Config.Cmd, baseConfig.Cmd);
      assert.deepEqual(image.Config.Env, baseConfig.Env);
      assert.equal(await runImage(tag, ['cat', '/srv/built-marker']), `built by built on${{ [DEBIAN_IMAGE]: ' Debian', [MUSL_IMAGE]: ' musl userland' }[from] ?? ''}\n`);
    });
  }

  it('pulls a base image the engine lacks, builds on it, and the base stays (as docker build leaves it)', async () => {
    const pushed = await pushedImage();
    const tag = `${uniqueName('sc-it-pulled')}:1`;
    made.push(tag);
    try {
      await assert.rejects(engine.inspectImage(pushed.ref), /not found/);
      const stages: string[] = [];
      const pulls: PullProgress[] = [];
      const run = await runner.build(['built'], FIXTURES, { baseImage: pushed.ref, tag, onStage: (s) => stages.push(s), onPull: (p) => pulls.push(p) });
      assert.equal(run.retcode, 0, JSON.stringify(run.errors));
      assert.deepEqual(stages.slice(0, 2), ['preparing', 'pulling']);
      assert.deepEqual([pulls[0].phase, pulls.at(-1)!.phase], ['starting', 'done']);
      assert.equal((await engine.inspectImage(tag)).Config.Labels?.[BUILD_LABELS.baseImage], pushed.ref);
      assert.equal(await runImage(tag, ['cat', '/srv/built-marker']), 'built by built on Debian\n');
      assert.equal((await engine.inspectImage(pushed.ref)).Id, (await engine.inspectImage(PY3_IMAGE)).Id, 'the pulled base is there');
    } finally {
      await pushed.remove([engine]);
    }
  });

  it('names a base image that does not exist (not locally, not in its registry)', async () => {
    const missing = `${testRegistry().address}/sc/py3:no-such-tag`;
    const run = await runner.build(['built'], FIXTURES, { baseImage: missing, tag: 'sc-never:1' });
    assert.equal(run.errors[0].kind, 'image-not-found');
    assert.equal(run.errors[0].message, `image ${missing} not found in ${testRegistry().address}`);
    assert.equal(run.image, undefined);
  });
});
