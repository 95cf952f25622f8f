/**
 * The image registry scripts/setup-engines.sh starts on 127.0.0.1 (Debian's distribution registry, with
 * salt-containers-test:py3 as sc/py3:1), and what tests make of it: images pushed under a repository of
 * their own (two test runs at once never share a name), registries of a test's own (credentials
 * required, or a storage of its own that goes with it), and a slow link to one (a pull that lasts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { DockerEngine } from '../../src/engine';
import { freePort, stopProcessGroup, waitFor } from './codeServer';
import { PY3_IMAGE, uniqueName } from './containers';
import { defaultCacheDir } from '../../src/engine/salt/source';
import { cleanDockerEnv } from './engines';

export interface TestRegistry {
  /** host:port */
  address: string;
  /** salt-containers-test:py3 as the set-up pushed it. */
  image: string;
  binary: string;
  storage: string;
  /** A registries.conf that lets Podman use it over plain HTTP (CONTAINERS_REGISTRIES_CONF). */
  registriesConf: string;
}

/** Where setup-engines.sh put the registry; a clear error when it has not run. */
export function testRegistry(): TestRegistry {
  const file = join(defaultCacheDir(), 'engines', 'registry', 'registry.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: run bash scripts/setup-engines.sh (setup-env.sh runs it)`);
  return JSON.parse(readFileSync(file, 'utf8')) as TestRegistry;
}

/** The docker CLI on the main engine, in a Docker config of nobody's (no credentials, no context). */
function docker(args: string[]): string {
  const config = mkdtempSync(join(tmpdir(), 'sc-docker-cli-'));
  try {
    return execFileSync('docker', args, { env: { ...cleanDockerEnv(), DOCKER_CONFIG: config }, stdio: 'pipe', encoding: 'utf8' });
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
}

/** The manifest's digest, as the registry names it (for deleting it). */
async function manifestDigest(address: string, repository: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`http://${address}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  return response.ok ? (response.headers.get('docker-content-digest') ?? undefined) : undefined;
}

export interface PushedImage {
  /** The reference to pull: ADDRESS/REPOSITORY:1. */
  ref: string;
  repository: string;
  /** Removes what pulls made on these engines and the manifest from the registry. */
  remove(engines: readonly DockerEngine[]): Promise<void>;
}

/**
 * A local image pushed to the registry under a repository of this test's own, its local tag removed
 * again: the engine has the image's layers (when it has `from`), but not that name.
 */
export async function pushedImage(from = PY3_IMAGE, address = testRegistry().address, prefix = 'sc-test'): Promise<PushedImage> {
  const repository = `${uniqueName(prefix)}/image`;
  const ref = `${address}/${repository}:1`;
  docker(['tag', from, ref]);
  try {
    docker(['push', ref]);
  } finally {
    docker(['rmi', ref]);
  }
  return {
    ref,
    repository,
    remove: async (engines) => {
      for (const engine of engines) await engine.removeImage(ref, { force: true }).catch(() => undefined);
      const digest = await manifestDigest(address, repository, '1').catch(() => undefined);
      if (digest) await fetch(`http://${address}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' }).catch(() => undefined);
      // The registry's API deletes manifests, not repositories: the test's own repository folder goes too.
      const shared = testRegistry();
      if (address === shared.address) rmSync(join(shared.storage, 'docker', 'registry', 'v2', 'repositories', repository.split('/')[0]), { recursive: true, force: true });
    },
  };
}

export interface OwnRegistry {
  address: string;
  stop(): Promise<void>;
}

/**
 * A registry process of the test's own on a free port: over the set-up's storage read-only (what it
 * holds, e.g. sc/py3:1), or over a storage of its own (`storage: 'own'`, removed by stop()); with
 * `htpasswd` (user:bcrypt lines) it wants credentials.
 */
export async function startRegistry(options: { storage?: 'shared' | 'own'; htpasswd?: string } = {}): Promise<OwnRegistry> {
  const shared = testRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'sc-registry-'));
  const address = `127.0.0.1:${await freePort()}`;
  const storage = options.storage === 'own' ? join(dir, 'data') : shared.storage;
  mkdirSync(storage, { recursive: true });
  const lines = [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: true}}',
    'storage:',
    `  filesystem: {rootdirectory: ${storage}}`,
    ...(options.storage === 'own' ? ['  delete: {enabled: true}'] : ['  maintenance: {readonly: {enabled: true}}']),
    `http: {addr: "${address}"}`,
  ];
  if (options.htpasswd) {
    writeFileSync(join(dir, 'htpasswd'), options.htpasswd);
    lines.push(`auth: {htpasswd: {realm: salt-containers-test, path: ${join(dir, 'htpasswd')}}}`);
  }
  writeFileSync(join(dir, 'config.yml'), `${lines.join('\n')}\n`);
  const child = spawn(shared.binary, ['serve', join(dir, 'config.yml')], { detached: true, stdio: 'ignore' });
  const stop = async () => {
    await stopProcessGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // 401 counts: a registry that wants credentials answers /v2/ with it.
    await waitFor(`the registry at ${address}`, () => fetch(`http://${address}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false), 15_000, 100);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, stop };
}

/** Passes bytes on at a rate: a tenth of a second's worth every 100 ms. */
class Throttle extends Transform {
  constructor(private readonly bytesPerSecond: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const slice = Math.max(1, Math.floor(this.bytesPerSecond / 10));
    let offset = 0;
    const next = () => {
      if (offset >= chunk.length) return done();
      const piece = chunk.subarray(offset, offset + slice);
      offset += piece.length;
      this.push(piece);
      setTimeout(next, (100 * piece.length) / slice);
    };
    next();
  }
}

/** A TCP link to `target` (host:port) on a port of its own that passes `bytesPerSecond` towards the client; `bytes()` counts what it passed. */
export async function slowLink(target: string, bytesPerSecond: number): Promise<{ address: string; bytes(): number; close(): Promise<void> }> {
  const colon = target.lastIndexOf(':');
  const sockets = new Set<Socket>();
  let passed = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.slice(colon + 1)), target.slice(0, colon));
    sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close);
    client.pipe(upstream);
    const throttle = new Throttle(bytesPerSecond);
    throttle.on('data', (chunk: Buffer) => (passed += chunk.length));
    upstream.pipe(throttle).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    address,
    bytes: () => passed,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An image whose top layer holds `megabytes` of random bytes, pushed to `address` and gone from the engine: pulling it downloads that much. */
export async function pushedLargeImage(engine: DockerEngine, address: string, megabytes: number): Promise<PushedImage> {
  const local = `${uniqueName('sc-test-large')}:1`;
  const id = await engine.createContainer(PY3_IMAGE, { keepAlive: ['sleep', 'infinity'] });
  try {
    await engine.startContainer(id);
    const made = await engine.exec(id, ['sh', '-c', `head -c ${megabytes * 1024 * 1024} /dev/urandom > /random.bin`]);
    if (made.exitCode !== 0) throw new Error(`could not write the random layer: ${made.stderr}`);
    await engine.commit(id, local, { Cmd: ['bash'] });
  } finally {
    await engine.removeContainer(id, { force: true });
  }
  try {
    return await pushedImage(local, address, 'sc-test-large');
  } finally {
    await engine.removeImage(local, { force: true });
  }
}
