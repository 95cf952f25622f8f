/** A Podman API service of a test's own on the set-up's storage: another containers.conf, a socket that can be stopped. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine } from '../../src/engine';
import { stopProcessGroup, waitFor } from './codeServer';
import { testEngines } from './engines';

export interface PodmanService {
  host: string;
  engine: DockerEngine;
  stop(): Promise<void>;
}

/**
 * A Podman API service of the test's own on the set-up's storage, with `conf` as its containers.conf
 * (the set-up's, less what the test takes out) and `env` (e.g. CONTAINERS_REGISTRIES_CONF). Stopped
 * (its process group) by stop().
 */
export async function startPodmanService(conf: string, engines = testEngines(), env: Record<string, string> = {}): Promise<PodmanService> {
  const dir = mkdtempSync(join(tmpdir(), 'sc-podman-'));
  const confFile = join(dir, 'containers.conf');
  writeFileSync(confFile, conf);
  const socket = join(dir, 'podman.sock');
  const child = spawn('podman', ['--root', engines.podman.root, '--runroot', engines.podman.runroot, 'system', 'service', '--time=0', `unix://${socket}`], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...env, CONTAINERS_CONF: confFile },
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
