/**
 * A machine without Salt: the CLI says how to get it, installs it from PyPI when asked (--install-salt)
 * and then runs; a cancelled install leaves nothing in the cache and no process behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerEngine, installedSalt, installSalt, PINNED_SALT_VERSION, SaltInstallError, SaltSource } from '../../src/engine';
import { REPO_ROOT, removeContainer, startContainer } from '../support/containers';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const engine = new DockerEngine();

/**
 * An environment with no Salt anywhere: an empty cache, no SALT_CONTAINERS_PYTHON, no salt-call on PATH;
 * Salt's work kept on this machine (the engine's helpers are the bare-host tests' business).
 */
function saltless(cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SALT_CONTAINERS_CACHE: cache, SALT_CONTAINERS_SALT_ON: 'host', PATH: '/usr/local/bin:/usr/bin:/bin' };
  delete env.SALT_CONTAINERS_PYTHON;
  // The host's python3 (pyenv's shims on this kind of machine) makes the venv.
  const python3 = process.env.PATH?.split(':').find((dir) => existsSync(join(dir, 'python3')));
  if (python3) env.PATH = `${python3}:${env.PATH}`;
  return env;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env, timeout: 300_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function readCmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('no Salt on the host', () => {
  let container: string;
  let cache: string;
  before(async () => {
    container = await startContainer(engine, undefined, 'sc-install');
    cache = mkdtempSync(join(tmpdir(), 'sc-install-cache-'));
  });
  after(async () => {
    await removeContainer(engine, container);
    rmSync(cache, { recursive: true, force: true });
  });

  it('the CLI says what is missing and how to install it, and exits 1', async () => {
    const result = await cli(['call', 'test.ping', '--container', container], saltless(cache));
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /no Python with Salt found on this machine/);
    assert.match(result.stdout + result.stderr, /--install-salt/);
  });

  it('a cancelled install leaves nothing in the cache and stops pip', async () => {
    const abort = new AbortController();
    const lines: string[] = [];
    const saved = process.env.PATH;
    process.env.PATH = saltless(cache).PATH;
    try {
      await assert.rejects(
        installSalt({
          cacheDir: cache,
          signal: abort.signal,
          onProgress: (line) => {
            lines.push(line);
            if (line.startsWith('installing salt==')) setTimeout(() => abort.abort(), 300);
          },
        }),
        (error: unknown) => error instanceof SaltInstallError && error.cancelled,
      );
    } finally {
      process.env.PATH = saved;
    }
    assert.ok(lines.some((l) => l.startsWith('installing salt==')), `pip never started: ${lines.join(' | ')}`);
    assert.deepEqual(readdirSync(join(cache, 'salt')), [], 'the partial venv is removed');
    assert.equal(installedSalt(cache), undefined);
    // pip ran in its own process group under the install: none of it may outlive the cancel.
    const pips = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && alive(Number(pid)) && readCmdline(pid).includes(cache));
    assert.deepEqual(pips, [], 'no process of the install is left');
  });

  it('--install-salt installs the pinned Salt into the cache, then the run goes ahead', async () => {
    const result = await cli(['call', 'test.ping', '--container', container, '--install-salt', '--json'], saltless(cache));
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { return: unknown }).return, true);
    assert.match(result.stderr, new RegExp(`Salt ${PINNED_SALT_VERSION.replace('.', '\\.')} is installed`));
    const installed = installedSalt(cache);
    assert.ok(installed && existsSync(installed.python), 'the venv is in the cache');
    // The engine finds it with nothing configured.
    const info = await new SaltSource({ cacheDir: cache }).info();
    assert.equal(info.saltVersion, PINNED_SALT_VERSION);
    assert.equal(info.python, installed.python);
  });
});
