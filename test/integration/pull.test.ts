// Pulling images from a real registry without the internet: the distribution registry the set-up runs on
// 127.0.0.1 (and registries of a test's own: one that wants credentials, one with a storage of its own
// behind a slow link), pulled by the real Docker engine and by Podman's API. Every image a test pulls
// is under a name of its own and removed after; the base test images stay.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildContainerPrefix, DockerEngine, EngineError, EnginePool, SaltRunner, SaltSource, type PullProgress } from '../../src/engine';
import { freePort } from '../support/codeServer';
import { FIXTURES, PY3_IMAGE, uniqueName } from '../support/containers';
import { engineUnderTest, testEngines } from '../support/engines';
import { startPodmanService } from '../support/podman';
import { pushedImage, pushedLargeImage, slowLink, startRegistry, testRegistry, type OwnRegistry, type PushedImage } from '../support/registry';

const engine = new DockerEngine({ dockerHost: 'unix:///var/run/docker.sock' });
const registry = testRegistry();
const engines = testEngines();
/** user sc, password sc-test-password (bcrypt, cost 4: the registry checks it on every request). */
const HTPASSWD = 'sc:$2b$04$g/pZOwrCel9NSq/naaUyWu6EYAbpmHbbiUCV1zrwPFy1rzzG4cacC\n';

/** A Docker config folder of the test's own, with this config.json (no file: none). */
function dockerConfig(config?: object): { env: NodeJS.ProcessEnv; dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sc-pull-config-'));
  if (config) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return { env: { ...process.env, DOCKER_CONFIG: dir }, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const pullFails = (ref: string, options: Parameters<DockerEngine['pullImage']>[1] = {}, on = engine) =>
  on.pullImage(ref, options).then(
    () => assert.fail(`the pull of ${ref} succeeded`),
    (error: unknown) => {
      assert.ok(error instanceof EngineError, String(error));
      return error;
    },
  );

describe('pulling images', () => {
  it('pulls an image the engine lacks, with its progress and digest, and the engine has it after', async () => {
    const image = await pushedImage();
    try {
      await assert.rejects(engine.inspectImage(image.ref), /not found/);
      const progress: PullProgress[] = [];
      const done = await engine.pullImage(image.ref, { onProgress: (p) => progress.push(p) });
      assert.deepEqual([progress[0].phase, progress.at(-1)!.phase], ['starting', 'done']);
      assert.equal(progress[0].registry, registry.address);
      assert.match(done.digest ?? '', /^sha256:[0-9a-f]{64}$/);
      assert.equal((await engine.inspectImage(image.ref)).Id, (await engine.inspectImage(PY3_IMAGE)).Id, 'the image the registry holds');
      // Pulling it again is quick and changes nothing.
      await engine.pullImage(image.ref);
      assert.deepEqual((await engine.ensureImage(image.ref)).pulled, undefined, 'ensureImage does not pull what is there');
    } finally {
      await image.remove([engine]);
    }
  });

  it('ensureImage pulls only what is missing', async () => {
    const image = await pushedImage();
    try {
      const first = await engine.ensureImage(image.ref);
      assert.equal(first.pulled?.phase, 'done');
      assert.ok(first.info.Id);
      assert.equal((await engine.ensureImage(PY3_IMAGE)).pulled, undefined);
      await assert.rejects(engine.ensureImage('sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'), (error: EngineError) => error.kind === 'image-not-found', 'an image ID is never pulled');
    } finally {
      await image.remove([engine]);
    }
  });

  it('says "not found" for a tag or a repository the registry lacks', async () => {
    const tag = await pullFails(`${registry.address}/sc/py3:no-such-tag`);
    assert.equal(tag.kind, 'image-not-found');
    assert.equal(tag.message, `image ${registry.address}/sc/py3:no-such-tag not found in ${registry.address}`);
    assert.match(tag.hint ?? '', /Check the name and the tag: 127\.0\.0\.1:\d+ has no sc\/py3:no-such-tag\./);
    const repository = await pullFails(`${registry.address}/sc-no-such/repository:1`);
    assert.equal(repository.kind, 'image-not-found');
  });

  it('says "cannot reach" a registry that is not there, with why and what to do', async () => {
    const port = await freePort(); // nothing listens there
    const refused = await pullFails(`127.0.0.1:${port}/sc/py3:1`);
    assert.equal(refused.kind, 'registry-unreachable');
    assert.equal(refused.message, `cannot reach 127.0.0.1:${port} from the engine at unix:///var/run/docker.sock (connect: connection refused)`);
    assert.match(refused.hint ?? '', /^Nothing listens at 127\.0\.0\.1:\d+: start the registry/);
    // .invalid never resolves (RFC 6761), with or without a network.
    const unknown = await pullFails('sc-no-such-registry.invalid/sc/py3:1');
    assert.equal(unknown.kind, 'registry-unreachable');
    assert.match(unknown.message, /^cannot reach sc-no-such-registry\.invalid from the engine at unix:\/\/\/var\/run\/docker\.sock: its name does not resolve \(lookup sc-no-such-registry\.invalid.*no such host\)$/);
    assert.match(unknown.hint ?? '', /needs a route to sc-no-such-registry\.invalid.*docker load/);
  });

  it('the TLS dockerd pulls from 127.0.0.0/8 over plain HTTP too (Docker\'s default insecure-registries)', async () => {
    const tls = engineUnderTest('tls');
    const image = await pushedImage();
    try {
      assert.equal((await tls.pullImage(image.ref)).phase, 'done');
      assert.equal((await tls.inspectImage(image.ref)).Id, (await engine.inspectImage(PY3_IMAGE)).Id);
    } finally {
      await image.remove([tls]);
    }
  });

  describe('a registry that wants credentials', () => {
    let own: OwnRegistry;
    before(async () => {
      own = await startRegistry({ htpasswd: HTPASSWD }); // the set-up's storage, read-only: it has sc/py3:1
    });
    after(() => own.stop());
    const ref = () => `${own.address}/sc/py3:1`;
    const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

    it('refuses a pull without them, and says to log in', async () => {
      const config = dockerConfig();
      try {
        const error = await pullFails(ref(), { env: config.env });
        assert.equal(error.kind, 'registry-unauthorized');
        assert.match(error.message, new RegExp(`^${own.address} refused to give ${ref()}: it needs credentials \\(.*(no basic auth credentials|unauthorized)`));
        assert.match(error.hint ?? '', new RegExp(`^Log in with docker login ${own.address}:`));
      } finally {
        config.remove();
      }
    });

    it("sends the Docker config's auths for the registry, and says when they are refused", async () => {
      const good = dockerConfig({ auths: { [own.address]: { auth: basic('sc', 'sc-test-password') } } });
      const bad = dockerConfig({ auths: { [`http://${own.address}`]: { auth: basic('sc', 'wrong') } } });
      try {
        await pullFails(ref(), { env: bad.env }).then((error) => {
          assert.equal(error.kind, 'registry-unauthorized');
          assert.match(error.message, /the credentials sent were refused/);
          assert.equal(error.hint, `The credentials for ${own.address} from ${join(bad.dir, 'config.json')} were refused: log in again (docker login ${own.address}).`);
        });
        const done = await engine.pullImage(ref(), { env: good.env });
        assert.equal(done.phase, 'done');
        assert.equal((await engine.inspectImage(ref())).Id, (await engine.inspectImage(PY3_IMAGE)).Id);
      } finally {
        good.remove();
        bad.remove();
        await engine.removeImage(ref(), { force: true }).catch(() => undefined);
      }
    });

    it('asks the credential helper the config names, as the docker CLI does', async () => {
      const config = dockerConfig({ auths: { [own.address]: {} }, credsStore: 'sctest' });
      // A helper speaks the docker-credential protocol: `get`, the server on stdin, JSON on stdout.
      const helper = join(config.dir, 'docker-credential-sctest');
      writeFileSync(
        helper,
        ['#!/bin/sh', `read -r server; echo "$server" >> "${config.dir}/asked"`, `[ "$server" = "${own.address}" ] || { echo 'credentials not found in native keychain'; exit 1; }`, `echo '{"ServerURL":"${own.address}","Username":"sc","Secret":"sc-test-password"}'`, ''].join('\n'),
      );
      chmodSync(helper, 0o755);
      try {
        await engine.pullImage(ref(), { env: { ...config.env, PATH: `${config.dir}:${process.env.PATH}` } });
        assert.equal(readFileSync(join(config.dir, 'asked'), 'utf8'), `${own.address}\n`);
        await engine.removeImage(ref(), { force: true });
        // A helper that is not installed is named in the hint of the refusal.
        const error = await pullFails(ref(), { env: config.env });
        assert.equal(error.kind, 'registry-unauthorized');
        assert.match(error.hint ?? '', /^No credentials could be had: docker-credential-sctest, the credential helper the Docker config names, is not on PATH\./);
      } finally {
        config.remove();
        await engine.removeImage(ref(), { force: true }).catch(() => undefined);
      }
    });
  });

  describe('a large image over a slow link', () => {
    // A registry with a storage of its own (it goes with the test), 24 MB of random bytes in the top
    // layer, behind a link that passes 2 MB/s: the pull lasts long enough to watch and to cancel.
    let own: OwnRegistry;
    let image: PushedImage;
    let link: Awaited<ReturnType<typeof slowLink>>;
    let slowRef: string;
    before(async () => {
      own = await startRegistry({ storage: 'own' });
      image = await pushedLargeImage(engine, own.address, 24);
      link = await slowLink(own.address, 2_000_000);
      slowRef = image.ref.replace(own.address, link.address);
    });
    after(async () => {
      await engine.removeImage(slowRef, { force: true }).catch(() => undefined);
      await image.remove([engine]);
      await link.close();
      await own.stop();
    });

    it('reports layers and bytes as they come', async () => {
      const progress: PullProgress[] = [];
      try {
        const done = await engine.pullImage(image.ref, { onProgress: (p) => progress.push(p) });
        assert.equal(done.layers, 2, 'the test image\'s layer (already there) and the new one');
        assert.equal(done.layersDone, 2);
        assert.ok(done.bytesTotal > 24 * 1024 * 1024, `${done.bytesTotal} bytes`);
        assert.equal(done.bytesDone, done.bytesTotal);
        assert.ok(progress.some((p) => p.phase === 'pulling' && p.bytesDone < p.bytesTotal), 'progress while the layer downloads');
      } finally {
        await engine.removeImage(image.ref, { force: true }).catch(() => undefined);
      }
    });

    it('cancels: the engine stops downloading and has nothing of it after', async () => {
      const controller = new AbortController();
      let downloading: PullProgress | undefined;
      const started = Date.now();
      const error = await pullFails(slowRef, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytesDone > 0 && !downloading) {
            downloading = p;
            controller.abort();
          }
        },
      });
      assert.equal(error.kind, 'cancelled');
      assert.equal(error.message, `the pull of ${slowRef} was cancelled`);
      assert.ok(downloading && downloading.bytesDone < downloading.bytesTotal, 'cancelled half-way');
      assert.ok(Date.now() - started < 8000, 'long before the 12 s the download takes');
      // The engine closed its download: nothing more passes the link.
      const passed = link.bytes();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(link.bytes() - passed < 500_000, `${link.bytes() - passed} bytes passed after the cancel`);
      await assert.rejects(engine.inspectImage(slowRef), /not found/);
    });

    it("cancels on Podman's API as well: it stops downloading and keeps nothing", async () => {
      const conf = join(mkdtempSync(join(tmpdir(), 'sc-pull-podman-')), 'registries.conf');
      writeFileSync(conf, `[[registry]]\nlocation = "${link.address}"\ninsecure = true\n`);
      const service = await startPodmanService(readFileSync(engines.podman.conf, 'utf8'), engines, { CONTAINERS_REGISTRIES_CONF: conf });
      try {
        const controller = new AbortController();
        const before = link.bytes();
        // Podman's compatible API tells layers, not bytes: cancel once bytes flow.
        const flowing = setInterval(() => link.bytes() - before > 200_000 && controller.abort(), 50);
        const error = await pullFails(slowRef, { signal: controller.signal }, service.engine).finally(() => clearInterval(flowing));
        assert.equal(error.kind, 'cancelled');
        const passed = link.bytes();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.ok(link.bytes() - passed < 500_000, `${link.bytes() - passed} bytes passed after the cancel`);
        await assert.rejects(service.engine.inspectImage(slowRef), /not found|no such image|image not known/i);
      } finally {
        await service.engine.removeImage(slowRef, { force: true }).catch(() => undefined);
        await service.stop();
        rmSync(join(conf, '..'), { recursive: true, force: true });
      }
    });

    it('a build cancelled while its base image is pulled: cancelled, nothing built, no container, no base', async () => {
      const runner = new SaltRunner(engine, new SaltSource());
      const controller = new AbortController();
      const tag = `${uniqueName('sc-it-never')}:1`;
      const stages: string[] = [];
      const run = await runner.build(['built'], FIXTURES, {
        baseImage: slowRef,
        tag,
        signal: controller.signal,
        onStage: (stage) => stages.push(stage),
        onPull: (p) => p.bytesDone > 0 && controller.abort(),
      });
      assert.deepEqual(run.errors.map((e) => [e.kind, e.message]), [['cancelled', `the pull of ${slowRef} was cancelled`]]);
      assert.deepEqual([run.retcode, run.image, stages], [1, undefined, ['preparing', 'pulling']]);
      await assert.rejects(engine.inspectImage(tag), /not found/);
      await assert.rejects(engine.inspectImage(slowRef), /not found/);
      assert.deepEqual((await engine.listContainers()).filter((c) => c.name.startsWith(buildContainerPrefix(tag))), []);
    });
  });

  describe("on Podman's API", () => {
    it('pulls with progress when its registries.conf allows plain HTTP, and says not found as Docker does', async () => {
      const service = await startPodmanService(readFileSync(engines.podman.conf, 'utf8'), engines, { CONTAINERS_REGISTRIES_CONF: registry.registriesConf });
      const image = await pushedImage();
      try {
        const progress: PullProgress[] = [];
        const done = await service.engine.pullImage(image.ref, { onProgress: (p) => progress.push(p) });
        assert.equal(done.phase, 'done');
        assert.ok(done.layers >= 1 && done.layersDone === done.layers, JSON.stringify(done));
        assert.ok((await service.engine.inspectImage(image.ref)).Id);
        const missing = await pullFails(`${registry.address}/sc/py3:no-such-tag`, {}, service.engine);
        assert.equal(missing.kind, 'image-not-found');
        assert.equal(missing.message, `image ${registry.address}/sc/py3:no-such-tag not found in ${registry.address}`);
      } finally {
        await image.remove([service.engine]);
        await service.stop();
      }
    });

    it('without it, says the registry speaks plain HTTP and how to allow it', async () => {
      const podman = new DockerEngine({ dockerHost: engines.podman.host });
      const error = await pullFails(registry.image, {}, podman);
      assert.equal(error.kind, 'registry-tls');
      assert.equal(error.message, `${registry.address} speaks plain HTTP and the engine at ${engines.podman.host} wants TLS`);
      assert.match(error.hint ?? '', /registries\.conf \[\[registry\]\] location = "127\.0\.0\.1:\d+" with insecure = true/);
    });
  });

  describe('in the engine pool', () => {
    it('an image no engine has is pulled once, by the engine of the first cell, and copied from there to the others', async () => {
      const image = await pushedImage();
      const pool = await EnginePool.open(['default', engines.podman.host], { selection: { host: 'unix:///var/run/docker.sock' } });
      const podman = pool.engines[1].engine;
      try {
        // Two cells at once: the first pulls (the shared Podman has no registries.conf: it could not pull), the second waits and gets a copy.
        const cells = await Promise.all([pool.place(image.ref), pool.place(image.ref)]);
        assert.deepEqual(cells.map((c) => c.name), ['default', engines.podman.host]);
        assert.deepEqual(cells.map((c) => c.transfer && { from: c.transfer.from, pulled: c.transfer.pulled ?? false }), [{ from: registry.address, pulled: true }, { from: 'default', pulled: false }]);
        assert.equal((await podman.inspectImage(image.ref)).Id, (await engine.inspectImage(image.ref)).Id);
        for (const cell of cells) cell.release();
      } finally {
        await image.remove([engine, podman]);
      }
    });

    it('a pull that fails is the error of every cell of that image, said once', async () => {
      const pulls: string[] = [];
      const pool = await EnginePool.open(['default'], { selection: { host: 'unix:///var/run/docker.sock' }, onPull: (p) => pulls.push(p.phase) });
      const ref = `${registry.address}/sc/py3:no-such-tag`;
      for (const attempt of [1, 2]) {
        await assert.rejects(pool.place(ref), (error: EngineError) => error.kind === 'image-not-found' && /not found in 127\.0\.0\.1/.test(error.message), `cell ${attempt}`);
      }
      assert.deepEqual(pulls, ['starting'], 'one pull for both cells');
      assert.deepEqual(pool.engines.map((e) => e.running), [0]);
    });
  });
});
