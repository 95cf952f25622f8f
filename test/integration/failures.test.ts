/** What goes wrong around a run: no Python, cancel, the container going away, the engine down. Nothing may be left behind. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerEngine, SaltRunner, SaltSource } from '../../src/engine';
import { EXAMPLES, FIXTURES, NOPYTHON_IMAGE, allChanges, applyCancelledWhileInjecting, leftovers, processesMatching, removeContainer, shmEntries, startContainer, zombies } from '../support/containers';

const engine = new DockerEngine();
const runner = new SaltRunner(engine, new SaltSource());

describe('failures around a run', () => {
  it("says an image without Python cannot run Salt when asked for the container's own, and leaves nothing behind", async () => {
    const container = await startContainer(engine, NOPYTHON_IMAGE);
    try {
      const run = await runner.apply(container, ['web'], EXAMPLES, { python: 'container' });
      assert.equal(run.retcode, 1);
      assert.equal(run.errors[0].kind, 'no-python');
      assert.equal(run.errors[0].message, `image ${NOPYTHON_IMAGE} has no Python 3`);
      assert.deepEqual(await allChanges(engine, container), []);
    } finally {
      await removeContainer(engine, container);
    }
  });

  it('says so when the container has nowhere to put Salt', async () => {
    // Read-only root filesystem and a /dev/shm too small to take Salt: /tmp is the only place left.
    const container = await startContainer(engine, undefined, 'sc-it', { ReadonlyRootfs: true, ShmSize: 8 * 1024 * 1024 });
    try {
      const run = await runner.apply(container, ['web'], EXAMPLES);
      assert.equal(run.retcode, 1);
      assert.equal(run.errors[0].kind, 'salt');
      assert.match(run.errors[0].message, /^could not make the run directory \/tmp\/salt-containers\.[0-9a-f]{16}: Read-only file system; \/dev\/shm has 8 MB free, the run needs \d\d MB and leaves 16 MB$/);
      assert.match(run.errors[0].hint ?? '', /about 30 MB .* writable \/dev\/shm or \/tmp/);
      assert.deepEqual(await shmEntries(engine, container), []);
    } finally {
      await removeContainer(engine, container);
    }
  });

  it('cancels mid-run: salt-call and its children are killed and the run directory removed', async () => {
    const container = await startContainer(engine);
    try {
      const controller = new AbortController();
      const stages: string[] = [];
      const started = Date.now();
      const pending = runner.apply(container, ['slow'], FIXTURES, {
        signal: controller.signal,
        onStage: (stage) => {
          stages.push(stage);
          if (stage === 'running') setTimeout(() => controller.abort(), 2500);
        },
      });
      const run = await pending;
      assert.ok(Date.now() - started < 30_000, 'cancel returned promptly');
      assert.equal(run.retcode, 1);
      assert.equal(run.errors.at(-1)?.kind, 'cancelled');
      assert.deepEqual(stages, ['preparing', 'injecting', 'running', 'cleaning']);
      assert.deepEqual(await processesMatching(engine, container, 'sleep 60'), []);
      // Killed and reaped by the run itself: the container's PID 1 (a sleep) would leave them zombies.
      assert.deepEqual(await zombies(engine, container), []);
      assert.deepEqual(await leftovers(engine, container), []);
    } finally {
      await removeContainer(engine, container);
    }
  });

  it('cancelled while Salt is being sent: the entry point is stopped and its directory removed', async () => {
    const container = await startContainer(engine);
    try {
      for (const delayMs of [20, 90]) {
        const run = await applyCancelledWhileInjecting(runner, container, delayMs);
        assert.equal(run.errors.at(-1)?.kind, 'cancelled', `after ${delayMs} ms`);
        assert.deepEqual(await processesMatching(engine, container, 'make_unpacker'), [], `after ${delayMs} ms`);
        assert.deepEqual(await leftovers(engine, container), [], `after ${delayMs} ms`);
      }
    } finally {
      await removeContainer(engine, container);
    }
  });

  it('cancelled before it starts, it injects nothing', async () => {
    const container = await startContainer(engine);
    try {
      const controller = new AbortController();
      controller.abort();
      const run = await runner.apply(container, ['web'], EXAMPLES, { signal: controller.signal });
      assert.equal(run.errors[0].kind, 'cancelled');
      assert.deepEqual(await allChanges(engine, container), []);
    } finally {
      await removeContainer(engine, container);
    }
  });

  it('reports a container removed mid-run, without hanging', async () => {
    const container = await startContainer(engine);
    const run = await runner.apply(container, ['slow'], FIXTURES, {
      onStage: (stage) => {
        if (stage === 'running') setTimeout(() => void removeContainer(engine, container), 2000);
      },
    });
    assert.equal(run.retcode, 1);
    assert.equal(run.errors.at(-1)?.kind, 'container-gone');
    assert.match(run.errors.at(-1)!.message, new RegExp(`container ${container} (was removed|stopped)`));
  });

  it('names a container that does not exist, and one that is not running', async () => {
    const missing = await runner.apply('sc-no-such-container', ['web'], EXAMPLES);
    assert.equal(missing.errors[0].kind, 'container-not-found');
    assert.match(missing.errors[0].message, /sc-no-such-container not found/);

    const container = await startContainer(engine);
    try {
      await engine.stopContainer(container, 0);
      const stopped = await runner.call(container, 'test.ping', [], {});
      assert.equal(stopped.errors[0].kind, 'container-not-running');
      assert.match(stopped.errors[0].hint ?? '', /Start the container/);
    } finally {
      await removeContainer(engine, container);
    }
  });

  it('says the engine is unreachable and how to fix it, quickly', async () => {
    const down = new SaltRunner(new DockerEngine({ dockerHost: 'unix:///nonexistent/docker.sock' }), new SaltSource());
    const started = Date.now();
    const run = await down.apply('anything', ['web'], EXAMPLES);
    assert.ok(Date.now() - started < 15_000);
    assert.equal(run.errors[0].kind, 'engine-unreachable');
    assert.match(run.errors[0].message, /Docker engine at unix:\/\/\/nonexistent\/docker.sock is not reachable/);
    assert.match(run.errors[0].hint ?? '', /^No socket at \/nonexistent\/docker\.sock: start the engine \(dockerd, or `podman system service` for Podman\), or pick another engine/);
  });
});
