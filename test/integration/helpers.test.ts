/**
 * Helper containers that cannot do their work: a helper image the engine cannot get, a helper that
 * cannot reach the package index, and Ctrl-C while a helper installs Salt. Each says what failed and
 * which setting names another image or network; a cancel leaves no container and no half-made cache,
 * on the engine or in the host cache.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerEngine } from '../../src/engine';
import { imageKey } from '../../src/engine/helper/cache';
import { REPO_ROOT, removeContainer, startContainer } from '../support/containers';
import { bareCli, bareEnv, CLI, engineState, HELPER_IMAGE } from '../support/barehost';
import { testRegistry } from '../support/registry';

const engine = new DockerEngine();
const examples = join(REPO_ROOT, 'examples');

/** The helper image under another name: another cache key, so the helper really runs (no cached Salt to copy). */
async function helperImageNamed(repo: string): Promise<string> {
  await engine.docker.getImage(HELPER_IMAGE).tag({ repo, tag: '1' });
  return `${repo}:1`;
}

describe('helpers that cannot do their work', () => {
  let container: string;
  const homes: string[] = [];
  const images: string[] = [];
  const home = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-helper-home-'));
    homes.push(dir);
    return dir;
  };
  before(async () => {
    container = await startContainer(engine, undefined, 'sc-helpers');
  });
  after(async () => {
    await removeContainer(engine, container);
    for (const image of images) await engine.removeImage(image, { force: true }).catch(() => undefined);
    for (const dir of homes) rmSync(dir, { recursive: true, force: true });
  });

  it('an image the engine cannot pull: what failed, and the setting that names a local one', async () => {
    const missing = `${testRegistry().address}/sc/no-such-python:1`;
    const result = await bareCli(['apply', 'common', '--container', container], examples, bareEnv(home(), { SALT_CONTAINERS_PYTHON_IMAGE: missing }));
    assert.equal(result.code, 1);
    assert.match(result.stdout, new RegExp(`error: no Python with Salt on this machine, and the engine could not make Salt: the engine could not get the helper image ${missing.replace(/[.:/]/g, '\\$&')}: image .* not found`));
    assert.match(result.stdout, /hint: Name an image the engine has or can pull with the saltContainers\.helpers\.pythonImage setting or SALT_CONTAINERS_PYTHON_IMAGE/);
    assert.deepEqual((await engineState(engine)).helpers, []);
  });

  it('a helper without a network: what failed, and the setting that gives it one', async () => {
    const image = await helperImageNamed('sc-helper-offline');
    images.push(image);
    const result = await bareCli(['apply', 'common', '--container', container], examples, bareEnv(home(), { SALT_CONTAINERS_PYTHON_IMAGE: image, SALT_CONTAINERS_HELPER_NETWORK: 'none' }));
    assert.equal(result.code, 1);
    assert.match(result.stdout, /error: no Python with Salt on this machine, and the engine could not make Salt: .* failed in the helper container \(sc-helper-offline:1\)/);
    assert.match(result.stdout, /SALT_CONTAINERS_HELPER_NETWORK/);
    const state = await engineState(engine);
    assert.deepEqual(state.helpers, []);
    assert.deepEqual(state.cache.filter((tag) => tag.includes(imageKey(image))), []);
  });

  it('Ctrl-C while a helper installs Salt leaves no container, no cache image and nothing in the host cache', async () => {
    const image = await helperImageNamed('sc-helper-cancel');
    images.push(image);
    const dir = home();
    const child = spawn(process.execPath, [CLI, 'apply', 'common', '--container', container], { cwd: examples, env: bareEnv(dir, { SALT_CONTAINERS_PYTHON_IMAGE: image }) });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const started = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (/installing salt==|installing a C compiler/.test(stderr)) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await Promise.race([started, exited]);
    assert.ok((await engineState(engine)).helpers.length > 0, `a helper was at work: ${stderr}`);
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 1, `${stdout}\n${stderr}`);
    assert.match(stdout, /cancelled/);
    const state = await engineState(engine);
    assert.deepEqual(state.helpers, [], 'no helper container is left');
    assert.deepEqual(state.cache.filter((tag) => tag.includes(imageKey(image))), [], 'no cache image');
    const thin = join(dir, '.cache', 'salt-containers', 'thin');
    assert.deepEqual(existsSync(thin) ? readdirSync(thin) : [], [], 'nothing half-made in the host cache');
  });
});
