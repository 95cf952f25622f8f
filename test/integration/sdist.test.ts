/**
 * A Salt release whose sdist carries no dependency metadata (3007.8: Salt issues 67973 and 69244):
 * installed into the cache with its dependencies from the lock file in its sdist, for the venv's
 * Python, then one apply with it in a real container. About two minutes the first time.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DockerEngine, installedSalt, installSalt, SaltRunner, SaltSource } from '../../src/engine';
import { defaultCacheDir } from '../../src/engine/salt/source';
import { PY3_IMAGE, REPO_ROOT, removeContainer, startContainer } from '../support/containers';

const engine = new DockerEngine();
const TREE = { stateRoot: join(REPO_ROOT, 'test', 'fixtures', 'support', 'salt') };

describe('a release whose sdist brings no dependencies', () => {
  it('3007.8 installs with the pins of its lock file and applies a state', async () => {
    const cacheDir = defaultCacheDir();
    const lines: string[] = [];
    const installed = installedSalt(cacheDir, '3007.8') ?? (await installSalt({ version: '3007.8', cacheDir, onProgress: (line) => lines.push(line) }));
    assert.equal(installed.version, '3007.8');
    const marker = JSON.parse(readFileSync(join(cacheDir, 'salt', '3007.8', 'salt-containers.json'), 'utf8')) as { requirements?: string };
    assert.match(marker.requirements ?? '', /^requirements\/static\/pkg\/py3\.\d+\/linux\.(txt|lock)$/);
    if (lines.length) assert.ok(lines.some((l) => /came without its dependencies .*installing them from the lock file in its sdist/.test(l)), lines.join('\n'));

    const runner = new SaltRunner(engine, new SaltSource({ python: installed.python, cacheDir }));
    const container = await startContainer(engine, PY3_IMAGE, 'salt-versions-sdist');
    try {
      const run = await runner.apply(container, ['support'], TREE);
      assert.deepEqual(run.errors, []);
      assert.equal(run.retcode, 0);
      assert.equal(run.saltVersion, '3007.8');
      assert.deepEqual(run.states.map((s) => [s.id, s.result]), [['support-directory', true], ['support-file', true]]);
    } finally {
      await removeContainer(engine, container);
    }
  });
});
