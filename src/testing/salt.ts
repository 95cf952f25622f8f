/**
 * The Salt versions of a matrix: each from its own venv in the cache (installed from PyPI by the
 * product's installer on first use, with progress), or made on the engine when the configured Salt is
 * (a machine without Python), and its own SaltSource (its thin and bytecode are cached per Salt and
 * Python version). No version named: the configured Salt source.
 */
import { installedSalt, installSalt } from '../engine/salt/install';
import { SaltSource } from '../engine/salt/source';

export interface SaltVersionsOptions {
  /** The Salt the front door would use for an apply (settings, SALT_CONTAINERS_PYTHON, the cache). */
  configured: SaltSource;
  /** Default: the configured source's cache. */
  cacheDir?: string;
  /** Install progress, a line at a time. */
  onProgress?: (version: string, line: string) => void;
  log?: (line: string) => void;
}

export class SaltVersions {
  private readonly sources = new Map<string, Promise<SaltSource>>();

  constructor(readonly options: SaltVersionsOptions) {}

  get cacheDir(): string {
    return this.options.cacheDir ?? this.options.configured.cacheDir;
  }

  /** The source of a version (undefined: the configured one); the first ask installs it, later ones share that. */
  source(version: string | undefined, signal?: AbortSignal): Promise<SaltSource> {
    if (version === undefined) return Promise.resolve(this.options.configured);
    let pending = this.sources.get(version);
    if (!pending) {
      pending = this.make(version, signal);
      pending.catch(() => this.sources.delete(version));
      this.sources.set(version, pending);
    }
    return pending;
  }

  private async make(version: string, signal?: AbortSignal): Promise<SaltSource> {
    // The configured Salt may be this very version: nothing to install.
    const configured = await this.options.configured.info(signal).catch(() => undefined);
    if (configured?.saltVersion === version) return this.options.configured;
    const progress = (line: string) => this.options.onProgress?.(version, line);
    if (configured?.onEngine || this.options.configured.saltOn === 'engine') {
      // Salt is made on the engine here: so is every version (at first use, in a helper).
      const source = new SaltSource({ ...this.options.configured.options, python: undefined, version, cacheDir: this.cacheDir, onProgress: progress });
      await source.info(signal);
      return source;
    }
    let installed = installedSalt(this.cacheDir, version);
    if (!installed) {
      progress(`installing Salt ${version} from PyPI into ${this.cacheDir}/salt (first use, about a minute)`);
      installed = await installSalt({ version, cacheDir: this.cacheDir, signal, onProgress: progress });
    }
    return new SaltSource({ python: installed.python, cacheDir: this.cacheDir, log: this.options.log });
  }
}
