/** Test containers on the real engine: made from the test images, kept alive, always removed. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DockerEngine } from '../../src/engine/docker/engine';

export const PY3_IMAGE = 'salt-containers-test:py3';
export const NOPYTHON_IMAGE = 'salt-containers-test:nopython';
/** Debian 13's Python 3.13: another version than the Salt venv's. */
export const PY313_IMAGE = 'salt-containers-test:py3.13';
export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const EXAMPLES = { stateRoot: join(REPO_ROOT, 'examples', 'salt'), pillarRoot: join(REPO_ROOT, 'examples', 'pillar') };
export const FIXTURES = { stateRoot: join(REPO_ROOT, 'test', 'fixtures', 'engine', 'salt'), pillarRoot: join(REPO_ROOT, 'test', 'fixtures', 'engine', 'pillar') };

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A running container from image, kept alive with a plain sleep; returns its name. hostConfig: e.g. a small /dev/shm. */
export async function startContainer(engine: DockerEngine, image = PY3_IMAGE, prefix = 'sc-it', hostConfig?: Record<string, unknown>): Promise<string> {
  const name = uniqueName(prefix);
  const id = hostConfig
    ? (await engine.docker.createContainer({ Image: image, name, Entrypoint: ['sleep', '3600'], Cmd: [], HostConfig: hostConfig })).id
    : await engine.createContainer(image, { name, keepAlive: ['sleep', '3600'] });
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

/** What is in the container's /dev/shm: a tmpfs, which a container diff never shows. */
export async function shmEntries(engine: DockerEngine, name: string): Promise<string[]> {
  const result = await engine.exec(name, ['ls', '-A', '/dev/shm']);
  if (result.exitCode !== 0) throw new Error(`ls /dev/shm: ${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean);
}

/** What runs left behind: Salt's or our paths in the container's diff, and anything in its /dev/shm. */
export async function leftovers(engine: DockerEngine, name: string): Promise<string[]> {
  return [...saltLeftovers(await containerDiff(engine, name)), ...(await shmPaths(engine, name))];
}

/** Every change in the container: its diff, and anything in its /dev/shm. */
export async function allChanges(engine: DockerEngine, name: string): Promise<string[]> {
  return [...(await containerDiff(engine, name)), ...(await shmPaths(engine, name))];
}

async function shmPaths(engine: DockerEngine, name: string): Promise<string[]> {
  return (await shmEntries(engine, name)).map((entry) => `/dev/shm/${entry}`);
}

/** Reads a file in the container (cat through exec, argv only). */
export async function readInContainer(engine: DockerEngine, name: string, path: string): Promise<string> {
  const result = await engine.exec(name, ['cat', path]);
  if (result.exitCode !== 0) throw new Error(`cat ${path}: ${result.stderr}`);
  return result.stdout;
}

/** Runs an image to its end, with its own Cmd (or `cmd`), removes the container, and returns what it printed. */
export async function runImage(engine: DockerEngine, image: string, cmd?: string[]): Promise<string> {
  const container = await engine.docker.createContainer({ Image: image, ...(cmd ? { Cmd: cmd } : {}) });
  try {
    await container.start();
    await container.wait();
    return demux((await container.logs({ stdout: true, stderr: true })) as unknown as Buffer);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** The engine's multiplexed log frames (8-byte headers) -> text. */
function demux(buffer: Buffer): string {
  let out = '';
  for (let i = 0; i + 8 <= buffer.length; ) {
    const size = buffer.readUInt32BE(i + 4);
    out += buffer.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out;
}
