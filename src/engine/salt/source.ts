/**
 * Where Salt comes from: a host Python that has Salt installed. Its thin (Salt's own thin generator)
 * is made once per (Salt version, Python version) and cached on disk, with bytecode precompiled.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface SaltSourceOptions {
  /** A Python with Salt (the `saltContainers.saltPython` setting); else SALT_CONTAINERS_PYTHON, the test venv, salt-call's Python on PATH. */
  python?: string;
  /** Default: SALT_CONTAINERS_CACHE, else $XDG_CACHE_HOME/salt-containers, else ~/.cache/salt-containers. */
  cacheDir?: string;
  log?: (line: string) => void;
}

export interface SaltInfo {
  python: string;
  saltVersion: string;
  /** major.minor of the host Python that generated the thin. */
  pythonVersion: string;
}

export function defaultCacheDir(): string {
  return process.env.SALT_CONTAINERS_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'salt-containers');
}

export class SaltSource {
  readonly cacheDir: string;
  constructor(readonly options: SaltSourceOptions = {}) {
    this.cacheDir = options.cacheDir ?? defaultCacheDir();
  }
}
