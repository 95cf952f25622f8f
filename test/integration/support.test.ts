/**
 * The support matrix: each kind of image (Python 3.9, 3.11, 3.13, Debian without Python, busybox, musl,
 * arm64 with Python and without)
 * x each supported Salt line (3006 LTS, 3007, 3008 LTS), through the same machinery as `salt-containers
 * test` (test/fixtures/support: a directory made with makedirs, and a file). Every cell must converge
 * and pass idempotence, with the Python the rule chooses (runtime/choose.ts). Writes
 * test-output/support-matrix.json, from which scripts/support-table.mjs renders the README's table.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DockerEngine, SaltSource } from '../../src/engine';
import { CELL_LABELS, loadMatrix, runMatrix, SaltVersions, selectCells, singleEngine } from '../../src/testing';
import { REPO_ROOT } from '../support/containers';

const engine = new DockerEngine();
const MATRIX = join(REPO_ROOT, 'test', 'fixtures', 'support', 'salt-containers.yml');
/** What each image of the matrix is, for the table (by its name in the matrix). */
const IMAGE_KINDS: Record<string, string> = {
  'py3.9': 'Debian 11, Python 3.9 (as Rocky 9, Ubuntu 20.04)',
  'py3.11': 'Debian 12, Python 3.11',
  'py3.13': 'Debian 13, Python 3.13',
  debian: 'Debian 12 without Python',
  busybox: 'busybox: no libc, no Python',
  musl: 'musl libc (as Alpine), no Python',
  'arm64-py3.11': 'arm64 Debian 12, Python 3.11 (through qemu here)',
  'arm64-debian': 'arm64 Debian 12 without Python (through qemu here)',
};

describe('support matrix', () => {
  it('every image kind x Salt 3006, 3007, 3008: converge and idempotence pass, with the Python the rule chooses', async () => {
    const matrix = loadMatrix(MATRIX);
    const configured = new SaltSource();
    const cells = selectCells(matrix, {}, (await configured.info()).saltVersion);
    assert.equal(cells.length, matrix.images.length * 3);
    const started = Date.now();
    const result = await runMatrix(matrix, { cells, provider: singleEngine(engine), salt: new SaltVersions({ configured }), workers: 2 });
    const rows = result.cells.map((cell) => {
      const phase = (name: string) => cell.phases.find((p) => p.phase === name);
      const python = phase('converge')?.python;
      return {
        image: cell.cell.image.name,
        reference: cell.image,
        kind: IMAGE_KINDS[cell.cell.image.name] ?? cell.image,
        salt: cell.salt,
        passed: cell.passed,
        converge: phase('converge')?.passed ?? null,
        idempotence: phase('idempotence')?.passed ?? null,
        python: python ? { kind: python.kind, version: python.version } : null,
        durationMs: cell.durationMs,
        errors: [...cell.errors, ...cell.phases.flatMap((p) => p.errors)].map((e) => e.message),
      };
    });
    mkdirSync(join(REPO_ROOT, 'test-output'), { recursive: true });
    const file = join(REPO_ROOT, 'test-output', 'support-matrix.json');
    writeFileSync(file, `${JSON.stringify({ generated: new Date().toISOString(), durationMs: Date.now() - started, salt: matrix.salt, images: matrix.images.map((i) => ({ name: i.name, image: i.image, kind: IMAGE_KINDS[i.name] ?? i.image })), cells: rows }, null, 2)}\n`);

    const failed = rows.filter((r) => !r.passed || !r.converge || !r.idempotence);
    assert.deepEqual(failed, [], `cells that did not pass (see ${file})`);
    const pythonOf = (image: string) => rows.filter((r) => r.image === image).map((r) => `${r.salt}:${r.python?.kind}`);
    // Python 3.9 cannot run these Salts' thins (their dependencies need 3.10 or newer): the bundled one.
    assert.deepEqual(pythonOf('py3.9'), ['3006.29:bundled', '3007.16:bundled', '3008.4:bundled']);
    assert.deepEqual(pythonOf('py3.11'), ['3006.29:container', '3007.16:container', '3008.4:container']);
    assert.deepEqual(pythonOf('py3.13'), ['3006.29:container', '3007.16:container', '3008.4:container']);
    for (const image of ['debian', 'busybox', 'musl', 'arm64-debian']) assert.deepEqual(pythonOf(image), ['3006.29:bundled', '3007.16:bundled', '3008.4:bundled']);
    // The thin carries no compiled file (each dependency imports without), so arm64's own Python runs it.
    assert.deepEqual(pythonOf('arm64-py3.11'), ['3006.29:container', '3007.16:container', '3008.4:container']);
    const left = (await engine.listContainers()).filter((c) => c.labels[CELL_LABELS.matrix] === MATRIX);
    assert.deepEqual(left, []);
  });
});
