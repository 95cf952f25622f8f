// Cells spread over several real engines (the API a state-test matrix calls): the local dockerd,
// Podman's Docker API and the TLS dockerd (by a context), plus names that do not answer. A cell goes
// to the engine with the fewest running cells that has its image or can be given it; an image only
// one engine has is copied to another by save/load through the APIs, once however many cells wait
// for it; an image none has is pulled (test/integration/pull.test.ts); an engine that goes away is left
// out and its cells go elsewhere.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DockerEngine, EngineError, EnginePool, pickEngine, type Placement } from '../../src/engine';
import { NOPYTHON_IMAGE, PY3_IMAGE, uniqueName } from '../support/containers';
import { testEngines, tlsContext } from '../support/engines';
import { startPodmanService, type PodmanService } from '../support/podman';
import { testRegistry } from '../support/registry';

const engines = testEngines();
const local = new DockerEngine({ dockerHost: 'unix:///var/run/docker.sock' });

describe('engine pool', () => {
  const context = tlsContext('sc-pool-tls');
  const options = { env: { DOCKER_CONFIG: context.configDir, HOME: process.env.HOME ?? '/root' }, selection: { host: 'unix:///var/run/docker.sock' } };
  const names = ['default', engines.podman.host, 'sc-pool-tls', 'unix:///nonexistent/sc-pool.sock', 'sc-pool-no-such-context'];
  let pool: EnginePool;
  const images: { engine: DockerEngine; tag: string }[] = [];
  after(async () => {
    context.remove();
    for (const { engine, tag } of images) await engine.removeImage(tag, { force: true }).catch(() => undefined);
  });

  /** A fresh tag of the busybox image on the local engine only (removed after from every engine of `on`). */
  async function localOnlyImage(on: readonly { engine: DockerEngine }[]): Promise<string> {
    const tag = `${uniqueName('sc-pool-image')}:1`;
    const [repo, version] = tag.split(':');
    await local.docker.getImage(NOPYTHON_IMAGE).tag({ repo, tag: version });
    for (const member of [{ engine: local }, ...on]) images.push({ engine: member.engine, tag });
    return tag;
  }

  before(async () => {
    pool = await EnginePool.open(names, options);
  });

  it('opens with the engines that answer, and says why the others do not', () => {
    assert.deepEqual(
      pool.engines.map((e) => [e.name, e.product.name]),
      [
        ['default', 'docker'],
        [engines.podman.host, 'podman'],
        ['sc-pool-tls', 'docker'],
      ],
    );
    assert.deepEqual(
      pool.unreachable.map((u) => [u.name, u.error.kind]),
      [
        ['sc-pool-no-such-context', 'engine-config'],
        ['unix:///nonexistent/sc-pool.sock', 'engine-unreachable'],
      ],
    );
    assert.match(pool.unreachable.find((u) => u.error.kind === 'engine-unreachable')!.error.message, /not reachable \(ENOENT\)/);
  });

  it('puts each cell on the engine with the fewest running cells', async () => {
    const first = await Promise.all([pool.place(PY3_IMAGE), pool.place(PY3_IMAGE), pool.place(PY3_IMAGE)]);
    assert.deepEqual(first.map((p) => p.name).sort(), ['default', engines.podman.host, 'sc-pool-tls'].sort(), 'three cells at once go to three engines');
    assert.ok(first.every((p) => p.transfer === undefined), 'every engine had the test image');
    const podman = first.find((p) => p.name === engines.podman.host)!;
    podman.release();
    podman.release(); // twice is once
    const next = await pool.place(PY3_IMAGE);
    assert.equal(next.name, engines.podman.host, 'the engine whose cell ended has the fewest running');
    // The placement's engine is the engine: a container made through it is on Podman.
    assert.equal((await next.engine.identify()).name, 'podman');
    for (const p of [...first, next]) p.release();
    assert.deepEqual(pool.engines.map((e) => e.running), [0, 0, 0]);
  });

  it('gives an engine the image it lacks by save and load, once however many cells wait for it', async () => {
    const tag = await localOnlyImage(pool.engines);
    const busy = await pool.place(PY3_IMAGE); // the local engine is busier than the others
    assert.equal(busy.name, 'default');
    const cells = await Promise.all([pool.place(tag), pool.place(tag), pool.place(tag), pool.place(tag)]);
    // Running then: default 1 (busy); the first two cells go to the idle engines (the image copied to each),
    // the third to default (all at 1: it has the image), the fourth to the first idle one again (it waits for that copy).
    const count = (name: string) => cells.filter((c) => c.name === name).length;
    assert.deepEqual([count('default'), count(engines.podman.host), count('sc-pool-tls')], [1, 2, 1], cells.map((c) => c.name).join(', '));
    for (const member of pool.engines.filter((e) => e.name !== 'default')) {
      assert.deepEqual(member.transfers.filter((t) => t.image === tag).map((t) => t.from), ['default'], `${member.name}: copied once, from the local engine`);
      assert.equal((await member.engine.inspectImage(tag)).Id, (await local.inspectImage(tag)).Id, `${member.name} has the same image`);
    }
    assert.deepEqual(cells.filter((c) => c.transfer).map((c) => c.transfer!.from), ['default', 'default', 'default'], 'each cell that waited for a copy says so');
    const later = await pool.place(tag);
    assert.equal(later.transfer, undefined, 'a later cell finds the image there');
    later.release();
    for (const c of [busy, ...cells]) c.release();
  });

  it('serves as the matrix runner\'s engine provider: a lease per cell, by the cell\'s image', async () => {
    const provider = pool.provider((cell: { image: { image: string } }) => cell.image.image);
    const leases = await Promise.all([1, 2, 3].map(() => provider.acquire({ image: { image: PY3_IMAGE } })));
    assert.deepEqual(leases.map((l) => l.name).sort(), ['default', engines.podman.host, 'sc-pool-tls'].sort());
    for (const lease of leases) lease.release();
  });

  it('names an image no engine has and no registry can give', async () => {
    // An image ID cannot be pulled; a name is pulled, and the registry's answer is the cell's (pull.test.ts).
    const id = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(pool.place(id), (error: EngineError) => error.kind === 'image-not-found' && /is on none of the engines \(default, .*sc-pool-tls\)/.test(error.message));
    const missing = `${testRegistry().address}/sc/py3:no-such-tag`;
    await assert.rejects(pool.place(missing), (error: EngineError) => error.kind === 'image-not-found' && error.message === `image ${missing} not found in ${testRegistry().address}`);
    assert.deepEqual(pool.engines.map((e) => e.running), [0, 0, 0]);
  });

  describe('an engine that goes away', () => {
    let service: PodmanService;
    let own: EnginePool;
    before(async () => {
      service = await startPodmanService(readFileSync(engines.podman.conf, 'utf8'));
      own = await EnginePool.open([service.host, 'default'], options);
    });
    after(() => service.stop());

    it('is left out, and its cells go to the others', async () => {
      assert.deepEqual(own.engines.map((e) => e.name), [service.host, 'default']);
      const held: Placement[] = [await own.place(PY3_IMAGE)];
      assert.equal(held[0].name, service.host);
      await service.stop();
      // The stopped engine has fewer running cells now that its cell ended, but it does not answer.
      held[0].release();
      const tag = await localOnlyImage([]);
      const placed = await own.place(tag);
      assert.equal(placed.name, 'default');
      assert.deepEqual(own.engines.map((e) => e.name), ['default']);
      assert.deepEqual(own.unreachable.map((u) => [u.name, u.error.kind]), [[service.host, 'engine-unreachable']]);
      placed.release();
      own.markUnreachable('default', new EngineError('engine-unreachable', 'gone for the test'));
      await assert.rejects(own.place(PY3_IMAGE), /no engine to run on \(.*gone for the test/);
    });
  });

  it('picks by running cells, then by having the image, then by order', () => {
    const a = { name: 'a', running: 1 };
    const b = { name: 'b', running: 0 };
    const c = { name: 'c', running: 0 };
    assert.equal(pickEngine([{ member: a, hasImage: true }, { member: b, hasImage: false }]), b);
    assert.equal(pickEngine([{ member: b, hasImage: false }, { member: c, hasImage: true }]), c);
    assert.equal(pickEngine([{ member: b, hasImage: true }, { member: c, hasImage: true }]), b);
    assert.equal(pickEngine([]), undefined);
  });
});
