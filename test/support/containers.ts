/** Test containers on the real engine: made from the test images, kept alive, always removed. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DockerEngine } from '../../src/engine/docker/engine';

export const PY3_IMAGE = 'salt-containers-test:py3';
export const NOPYTHON_IMAGE = 'salt-containers-test:nopython';
export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const EXAMPLES = { stateRoot: join(REPO_ROOT, 'examples', 'salt'), pillarRoot: join(REPO_ROOT, 'examples', 'pillar') };
export const FIXTURES = { stateRoot: join(REPO_ROOT, 'test', 'fixtures', 'engine', 'salt'), pillarRoot: join(REPO_ROOT, 'test', 'fixtures', 'engine', 'pillar') };

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A running container from image, kept alive with a plain sleep; returns its name. */
export async function startContainer(engine: DockerEngine, image = PY3_IMAGE, prefix = 'sc-it'): Promise<string> {
  const name = uniqueName(prefix);
  const id = await engine.createContainer(image, { name, keepAlive: ['sleep', '3600'] });
  await engine.startContainer(id);
  return name;
}

export async function removeContainer(engine: DockerEngine, name: string): Promise<void> {
  await engine.removeContainer(name, { force: true }).catch(() => undefined);
}

/** `docker diff` as "A /path" lines. */
export function containerDiff(engine: DockerEngine, name: string): Promise<string[]> {
  return engine.diff(name);
}

/** Paths in a diff that belong to Salt or to our injection (nothing may be left of either). */
export function saltLeftovers(diff: string[]): string[] {
  return diff.filter((line) => /salt|minion/i.test(line) || /^A \/tmp\//.test(line));
}

/** Reads a file in the container (cat through exec, argv only). */
export async function readInContainer(engine: DockerEngine, name: string, path: string): Promise<string> {
  const result = await engine.exec(name, ['cat', path]);
  if (result.exitCode !== 0) throw new Error(`cat ${path}: ${result.stderr}`);
  return result.stdout;
}
