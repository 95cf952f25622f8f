/** Test containers on the real engine: made from the test images, kept alive, always removed. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { DockerEngine } from '../../src/engine/docker/engine';
import type { StateRun } from '../../src/engine/results/model';
import type { SaltRunnerApi } from '../../src/engine/runner';
import { readTar } from './tar';

export const PY3_IMAGE = 'salt-containers-test:py3';
export const NOPYTHON_IMAGE = 'salt-containers-test:nopython';
/** Debian 13's Python 3.13: another version than the Salt venv's. */
export const PY313_IMAGE = 'salt-containers-test:py3.13';
/** Debian 12 minbase without python3, like the official debian:12. */
export const DEBIAN_IMAGE = 'salt-containers-test:debian';
/** Debian 11 with its python3: 3.9, older than Salt 3008 runs on. */
export const PY39_IMAGE = 'salt-containers-test:py3.9';
/** busybox-static and the accounts, like the official busybox image: no libc at all. */
export const BUSYBOX_IMAGE = 'salt-containers-test:busybox';
/** Debian's musl as the only libc, busybox as the tools. */
export const MUSL_IMAGE = 'salt-containers-test:musl';
/** Debian 12 arm64 + python3, and the same without Python (scripts/setup-arm64.sh): run through qemu here. */
export const ARM64_PY3_IMAGE = 'salt-containers-test:arm64-py3';
export const ARM64_DEBIAN_IMAGE = 'salt-containers-test:arm64-debian';
export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const EXAMPLES = { stateRoot: join(REPO_ROOT, 'examples', 'salt'), pillarRoot: join(REPO_ROOT, 'examples', 'pillar') };
export const FIXTURES = { stateRoot: join(REPO_ROOT, 'test', 'fixtures', 'engine', 'salt'), pillarRoot: join(REPO_ROOT, 'test', 'fixtures', 'engine', 'pillar') };

/** The fixture SLS `failing` as Salt runs it: ids and results in order (a failure, a requisite failure, the others intact). */
export const FAILING_RESULTS = [
  ['ok_first', true],
  ['must_fail', false],
  ['needs_failed', false],
  ['ok_after', true],
];

/**
 * Why arm64 containers cannot run here, or undefined when they can: on an amd64 machine they need
 * qemu-aarch64 registered with binfmt_misc's F flag (the set-up registers it where it can, and says why not).
 */
export function arm64Unavailable(): string | undefined {
  if (process.arch === 'arm64') return undefined;
  let entry: string;
  try {
    entry = readFileSync('/proc/sys/fs/binfmt_misc/qemu-aarch64', 'utf8');
  } catch {
    return 'this machine cannot run arm64 containers: no qemu-aarch64 in binfmt_misc (scripts/setup-arm64.sh says why)';
  }
  if (!/^enabled$/m.test(entry) || !/^flags: .*F/m.test(entry)) return 'this machine cannot run arm64 containers: qemu-aarch64 is not enabled with the F flag in binfmt_misc';
  return undefined;
}

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

/** Command lines of the container's processes that contain `needle` (from /proc, with sh and tr: no ps or Python needed). */
export async function processesMatching(engine: DockerEngine, name: string, needle: string): Promise<string[]> {
  const script = 'for p in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$p"; echo; done 2>/dev/null';
  const result = await engine.exec(name, ['sh', '-c', script]);
  return result.stdout.split('\n').filter((line) => line.includes(needle) && !line.includes('/proc/[0-9]*'));
}

/** Processes of the container that died and that nobody reaped (`Name` of each): what a cancel must not leave. */
export async function zombies(engine: DockerEngine, name: string): Promise<string[]> {
  const script = 'for p in /proc/[0-9]*/status; do grep -q "^State:.*Z" "$p" 2>/dev/null && sed -n "s/^Name:\\t//p" "$p"; done; true';
  const result = await engine.exec(name, ['sh', '-c', script]);
  return result.stdout.split('\n').filter(Boolean);
}

/**
 * The paths in an image's top layer (what its last commit added or changed), read from `docker save`:
 * for a built image, everything the build left in it.
 */
export async function topLayerPaths(engine: DockerEngine, image: string): Promise<string[]> {
  const layers = new Map<string, Buffer>();
  let manifest: { Layers: string[] }[] = [];
  const reader = extract();
  await new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const small = (header.size ?? 0) < 16 << 20; // the base image's own layers are large: skip their bytes
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => {
        if (small) chunks.push(chunk as Buffer);
      });
      stream.on('end', () => {
        if (header.name === 'manifest.json') manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof manifest;
        else if (small && header.name.endsWith('layer.tar')) layers.set(header.name, Buffer.concat(chunks));
        next();
      });
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
    engine.docker
      .getImage(image)
      .get()
      .then((stream) => stream.pipe(reader as unknown as NodeJS.WritableStream), reject);
  });
  const top = layers.get(manifest[0]?.Layers.at(-1) ?? '');
  if (!top) throw new Error(`${image}: its top layer is not small, or not there`);
  return [...(await readTar(Readable.from([top]))).keys()].sort();
}

/** Applies the example `web` and cancels it `delayMs` after the run starts injecting (while Salt, or the runtime, is being sent). */
export function applyCancelledWhileInjecting(runner: SaltRunnerApi, container: string, delayMs: number): Promise<StateRun> {
  const controller = new AbortController();
  return runner.apply(container, ['web'], EXAMPLES, {
    signal: controller.signal,
    onStage: (stage) => {
      if (stage === 'injecting') setTimeout(() => controller.abort(), delayMs);
    },
  });
}
