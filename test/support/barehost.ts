/** A machine with node and an engine and nothing else, for the CLI: its environment, and what the engine holds of ours. */
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine } from '../../src/engine';
import { DEBIAN_IMAGE, REPO_ROOT } from './containers';

export const CLI = join(REPO_ROOT, 'dist', 'cli.js');
/** The helpers' Python image here: python3 with venv and headers, no compiler (as python:3.11-slim). */
export const HELPER_IMAGE = 'salt-containers-test:helper';

/**
 * PATH holding only `node`, HOME = `home` (so an empty cache), the helpers' images and network named
 * (the engine here reaches PyPI and Debian only with the host's network), and the engine and pip
 * settings this machine has (a CA bundle here), which helpers are given.
 */
export function bareEnv(home: string, helpers: Record<string, string> = {}): NodeJS.ProcessEnv {
  const bin = join(home, 'bin');
  mkdirSync(bin, { recursive: true });
  try {
    symlinkSync(process.execPath, join(bin, 'node'));
  } catch {
    // made by an earlier call
  }
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'PIP_CERT', 'PIP_INDEX_URL', 'PIP_DEFAULT_TIMEOUT', 'LANG']) if (process.env[name]) env[name] = process.env[name];
  return {
    ...env,
    PATH: bin,
    HOME: home,
    SALT_CONTAINERS_PYTHON_IMAGE: HELPER_IMAGE,
    SALT_CONTAINERS_DEBIAN_IMAGE: DEBIAN_IMAGE,
    SALT_CONTAINERS_HELPER_NETWORK: 'host',
    ...helpers,
  };
}

/** Runs the CLI in that environment. */
export function bareCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** What the engine holds of ours besides the test images: cache images and helper containers. */
export async function engineState(engine: DockerEngine): Promise<{ cache: string[]; helpers: string[] }> {
  const images = await engine.listImages();
  const containers = await engine.listContainers();
  return {
    cache: images.flatMap((i) => i.tags).filter((t) => t.startsWith('salt-containers-cache:')).sort(),
    helpers: containers.filter((c) => c.labels['salt-containers.helper']).map((c) => c.name),
  };
}
