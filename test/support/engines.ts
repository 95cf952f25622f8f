/**
 * The engines beside the main one that scripts/setup-engines.sh starts: Podman's Docker API and a
 * second dockerd over TCP with TLS, an sshd for ssh:// (where they are: $CACHE/engines/engines.json). Also a Docker
 * context for the TLS engine made by the real docker CLI in a private DOCKER_CONFIG. Light enough for
 * the extension-host tests (a Podman service of a test's own is in podman.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine, resolveEngine } from '../../src/engine';
import { defaultCacheDir } from '../../src/engine/salt/source';

export interface TestEngines {
  podman: { host: string; root: string; runroot: string; conf: string };
  tls: { host: string; certPath: string };
  /** An sshd that reaches the main engine; `home` is a client's HOME (.ssh/known_hosts, .ssh/id_ed25519); `error` when it could not be set up. */
  ssh: { host: string; home: string; error?: string };
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
