/** The privileged container a cell asks for: passed on to the engine; refused, the cell's error or (kitchen.yml) an unprivileged container and a note. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError, type CreateOptions, type DockerEngine } from '../../src/engine/docker/engine';
import { findRoots } from '../../src/sls/roots';
import { allCells, createCellContainer, parseKitchen, parseMatrix, type CellSpec } from '../../src/testing';

/** An engine that records what it is asked to create and refuses privileged containers when told to (as runc does here: at start). */
function fakeEngine(refusePrivileged: boolean) {
  const created: Omit<CreateOptions, 'keepAlive'>[] = [];
  const removed: string[] = [];
  const engine = {
    createContainer: async (_image: string, options: CreateOptions) => {
      created.push(options);
      return `id-${created.length}`;
    },
    startContainer: async (id: string) => {
      if (refusePrivileged && created[Number(id.slice(3)) - 1].privileged) {
        throw new EngineError('engine', 'failed to create shim task: OCI runtime create failed: unable to apply caps: operation not permitted');
      }
    },
    removeContainer: async (id: string) => {
      removed.push(id);
    },
    translate: (error: unknown) => error,
  };
  return { engine: engine as unknown as DockerEngine, created, removed };
}

const context = (engine: DockerEngine) => ({ engine, runId: 'r', matrixFile: '/f/kitchen.yml' });
const kitchenCell = (): CellSpec =>
  allCells(parseKitchen('driver: {name: docker, privileged: true}\nplatforms: [{name: debian-12, driver: {image: debian:12}}]\nsuites: [{name: default, provisioner: {state_top: {base: {"*": [web]}}}}]\n', '/f/kitchen.yml', findRoots))[0];

describe('privileged cells', () => {
  it("kitchen.yml's privileged: true is asked of the engine (no note when it allows it)", async () => {
    const cell = kitchenCell();
    assert.deepEqual([cell.image.privileged, cell.image.privilegedFallback], [true, true]);
    const { engine, created } = fakeEngine(false);
    const notes: string[] = [];
    assert.equal(await createCellContainer(cell, context(engine), 'c', undefined, notes), 'id-1');
    assert.equal(created.length, 1);
    assert.equal(created[0].privileged, true);
    assert.deepEqual(notes, []);
  });

  it('an engine that refuses it: the same container unprivileged, and the cell notes why', async () => {
    const { engine, created, removed } = fakeEngine(true);
    const notes: string[] = [];
    assert.equal(await createCellContainer(kitchenCell(), context(engine), 'c', { kind: 'systemd' }, notes), 'id-2');
    assert.deepEqual(created.map((o) => o.privileged), [true, undefined]);
    assert.deepEqual(removed, ['id-1']);
    assert.equal(created[1].labels?.['io.salt-containers.test-cell'], 'default.debian-12@default');
    assert.match(notes[0], /^privileged: true was refused by this engine \(.*unable to apply caps.*\): the container runs unprivileged \(systemd as PID 1/);
  });

  it("salt-containers.yml's privileged: true refused is the cell's error: it was asked for on purpose", async () => {
    const cell = allCells(parseMatrix('images: [{image: debian:12, privileged: true}]\nsuites: [{name: s, states: [x]}]\n', '/f/salt-containers.yml', findRoots))[0];
    const { engine, created } = fakeEngine(true);
    await assert.rejects(createCellContainer(cell, context(engine), 'c', undefined), /the engine refused the cell's container: .*unable to apply caps/);
    assert.equal(created.length, 1);
  });
});
