/**
 * The engines beside the main one that scripts/setup-engines.sh starts: Podman's Docker API and a
 * second dockerd over TCP with TLS (where they are: $CACHE/engines/engines.json). Also a Docker
 * context for the TLS engine made by the real docker CLI in a private DOCKER_CONFIG, and a Podman
 * API service of a test's own (another containers.conf, a socket that can be stopped) on the same storage.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine, resolveEngine } from '../../src/engine';
import { defaultCacheDir } from '../../src/engine/salt/source';

export interface TestEngines {
  podman: { host: string; root: string; runroot: string; conf: string };
  tls: { host: string; certPath: string };
}

/** Where setup-engines.sh put the engines; a clear error when it has not run. */
export function testEngines(): TestEngines {
  const file = join(defaultCacheDir(), 'engines', 'engines.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: run bash scripts/setup-engines.sh (setup-env.sh runs it)`);
  return JSON.parse(readFileSync(file, 'utf8')) as TestEngines;
}

/** The environment a client of the TLS engine has with the docker CLI's variables. */
export function tlsEnv(engines = testEngines()): Record<string, string> {
  return { DOCKER_HOST: engines.tls.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: engines.tls.certPath };
}

/** A private Docker config folder with a context NAME for the TLS engine, made by `docker context create`. */
export function tlsContext(name: string, engines = testEngines()): { configDir: string; remove: () => void } {
  const configDir = mkdtempSync(join(tmpdir(), 'sc-docker-config-'));
  const certs = engines.tls.certPath;
  const docker = `host=${engines.tls.host},ca=${join(certs, 'ca.pem')},cert=${join(certs, 'cert.pem')},key=${join(certs, 'key.pem')}`;
  execFileSync('docker', ['context', 'create', name, '--description', 'salt-containers test TLS engine', '--docker', docker], { env: { ...cleanDockerEnv(), DOCKER_CONFIG: configDir }, stdio: 'pipe' });
  return { configDir, remove: () => rmSync(configDir, { recursive: true, force: true }) };
}

/** process.env without the variables that name an engine (each test names its own). */
export function cleanDockerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'DOCKER_TLS_VERIFY', 'DOCKER_TLS', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION']) delete env[name];
  return env;
}

/** The engines the tests run on, each by the way a user names it. */
export function engineUnderTest(which: 'podman' | 'tls', engines = testEngines()): DockerEngine {
  if (which === 'podman') return new DockerEngine({ dockerHost: engines.podman.host });
  return new DockerEngine({ endpoint: resolveEngine({}, { env: { ...cleanDockerEnv(), ...tlsEnv(engines) } }) });
}

export interface PodmanService {
  host: string;
  engine: DockerEngine;
  stop(): Promise<void>;
}

/**
 * A Podman API service of the test's own on the set-up's storage, with `conf` as its containers.conf
 * (the set-up's, less what the test takes out). Stopped (its process group) by stop().
 */
export async function startPodmanService(conf: string, engines = testEngines()): Promise<PodmanService> {
  // Loaded here: the extension-host tests use this module too, and need none of the browser side.
  const { stopProcessGroup, waitFor } = await import('./codeServer');
  const dir = mkdtempSync(join(tmpdir(), 'sc-podman-'));
  const confFile = join(dir, 'containers.conf');
  writeFileSync(confFile, conf);
  const socket = join(dir, 'podman.sock');
  const child = spawn('podman', ['--root', engines.podman.root, '--runroot', engines.podman.runroot, 'system', 'service', '--time=0', `unix://${socket}`], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, CONTAINERS_CONF: confFile },
  });
  const host = `unix://${socket}`;
  const engine = new DockerEngine({ dockerHost: host });
  const stop = async () => {
    await stopProcessGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`podman system service at ${host}`, () => engine.ping().then(() => true), 30_000, 200);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, engine, stop };
}

/** The set-up's containers.conf without its `default_ulimits` line: Podman's own defaults, which exceed this machine's limits. */
export function confWithPodmanDefaultUlimits(engines = testEngines()): string {
  return readFileSync(engines.podman.conf, 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('default_ulimits'))
    .join('\n');
}
