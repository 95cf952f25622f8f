/**
 * Where Salt comes from: a host Python that has Salt installed, or, on a machine without one (`auto`)
 * or when asked (`engine`), a helper container on the engine (onEngine.ts). Its thin (Salt's own thin
 * generator) is made once per (Salt version, Python version) and cached on disk, and so is its
 * bytecode for each Python version containers have, compiled by a Python of that version (the Salt
 * one, another on this machine, or the helper's): a run in a container then compiles nothing.
 * Bytecode is never taken back from a user's container.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { DockerEngine, PullOptions } from '../docker/engine';
import { writeFileAtomic } from '../host';
import { helperSettings, saltOnSetting, type HelperSettings, type SaltOn } from '../helper/settings';
import { cachedRuntime, hostCommand } from '../runtime/build';
import type { ThinPackage } from '../runtime/choose';
import { hostArch } from '../runtime/debian';
import { installedSalt, PINNED_SALT_VERSION } from './install';
import { makeSaltOnEngine, thinFolder, type EngineSalt } from './onEngine';
import { COMPILE_THIN, GENERATE_THIN, PROBE_SALT } from './scripts';

export interface SaltSourceOptions {
  /** A Python with Salt (the `saltContainers.saltPython` setting); else SALT_CONTAINERS_PYTHON, the Salt installed in the cache, salt-call's Python on PATH. */
  python?: string;
  /** Default: SALT_CONTAINERS_CACHE, else $XDG_CACHE_HOME/salt-containers, else ~/.cache/salt-containers. */
  cacheDir?: string;
  log?: (line: string) => void;
  /** Where Salt's host-side work is done: `auto` (the default, or SALT_CONTAINERS_SALT_ON) takes the host when it has a Python with Salt, else the engine. */
  saltOn?: SaltOn;
  /** The engine whose helpers make Salt when it is not made here. */
  engine?: DockerEngine;
  /** The Salt version to use: a venv of the cache for it on the host, else made on the engine. Default: any host Salt, else PINNED_SALT_VERSION. */
  version?: string;
  /** The helpers' images and network (settings); the rest from the environment (helper/settings.ts). */
  helpers?: Partial<HelperSettings>;
  /** First-use work on the engine (a helper installing Salt: about a minute), a line at a time. */
  onProgress?: (line: string) => void;
  /** The pull of a helper image the engine lacks. */
  onPull?: PullOptions['onProgress'];
}

export interface SaltInfo {
  /** The Python with Salt on this machine; for Salt made on the engine, words that say so. */
  python: string;
  saltVersion: string;
  /** major.minor of the Python that generated the thin. */
  pythonVersion: string;
  /** Set when Salt was made on the engine: the host cache folder it was copied to, and the cache image. */
  onEngine?: EngineSalt;
}

export interface Thin {
  saltVersion: string;
  /** major.minor of the host Python that generated it. */
  pythonVersion: string;
  /** Uncompressed tar of the thin's sources (py3/, pyall/, version, ...). */
  tarPath: string;
  files: number;
  bytes: number;
  /** Its top-level packages: their Requires-Python and compiled files (what decides which Pythons run it). */
  packages: ThinPackage[];
}

/** The thin precompiled for one Python version: bytecode, with each compiled source emptied. */
export interface ThinBytecode {
  pythonVersion: string;
  tarPath: string;
  files: number;
  bytes: number;
}

export class SaltSourceError extends Error {
  readonly kind = 'salt-source';
  constructor(
    message: string,
    readonly hint: string,
    /** No Python with Salt was found at all (installSalt can fix that), rather than one that failed. */
    readonly missing = false,
  ) {
    super(message);
    this.name = 'SaltSourceError';
  }
}

export function defaultCacheDir(): string {
  return process.env.SALT_CONTAINERS_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'salt-containers');
}

/** Runs a host Python program (argv, no shell); rejects with the error carrying stdout and stderr. */
export function runPython(file: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PYTHONWARNINGS: 'ignore' } }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/** The interpreter a `salt-call` script on PATH runs with (its #! line), if there is one. */
function saltCallPython(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const script = join(dir, 'salt-call');
    if (!dir || !existsSync(script)) continue;
    const first = readFileSync(script, 'utf8').split('\n', 1)[0];
    const match = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
    if (!match) continue;
    // `#!/usr/bin/env python3` names the interpreter in the second word.
    return match[1].endsWith('/env') && match[2] ? match[2] : match[1];
  }
  return undefined;
}

export class SaltSource {
  readonly cacheDir: string;
  private infoPromise?: Promise<SaltInfo>;
  private thinPromise?: Promise<Thin>;
  /** By Python version; undefined when no host Python of that version was found (asked once per session). */
  private readonly bytecodes = new Map<string, Promise<ThinBytecode | undefined>>();

  constructor(readonly options: SaltSourceOptions = {}) {
    this.cacheDir = options.cacheDir ?? defaultCacheDir();
  }

  /** The candidates in order, with where each came from (for error messages). */
  candidates(): { python: string; from: string }[] {
    const list: { python: string; from: string }[] = [];
    if (this.options.python) list.push({ python: this.options.python, from: 'the saltPython setting' });
    else if (process.env.SALT_CONTAINERS_PYTHON) list.push({ python: process.env.SALT_CONTAINERS_PYTHON, from: 'SALT_CONTAINERS_PYTHON' });
    else {
      const installed = installedSalt(this.cacheDir, this.options.version);
      if (installed) list.push({ python: installed.python, from: `Salt ${installed.version} installed by Salt Containers` });
      // Another version than the one asked for is no candidate.
      const fromPath = this.options.version ? undefined : saltCallPython();
      if (fromPath) list.push({ python: fromPath, from: "salt-call's interpreter on PATH" });
    }
    return list;
  }

  /** Where Salt's host-side work is done, as asked (settings, SALT_CONTAINERS_SALT_ON). */
  get saltOn(): SaltOn {
    return saltOnSetting(this.options.saltOn);
  }

  /** The helpers' images and network, as configured. */
  get helpers(): HelperSettings {
    return helperSettings(this.options.helpers);
  }

  /**
   * The Python with Salt and its versions; cached for the life of this object. On the engine path the
   * first call may install Salt in a helper (about a minute): `signal` cancels that.
   */
  info(signal?: AbortSignal): Promise<SaltInfo> {
    this.infoPromise ??= this.resolve(signal);
    this.infoPromise.catch(() => (this.infoPromise = undefined)); // retry after the user fixes it
    return this.infoPromise;
  }

  /** A host Salt when asked or found; else (auto, engine) Salt made on the engine. */
  private async resolve(signal?: AbortSignal): Promise<SaltInfo> {
    const saltOn = this.saltOn;
    let missing: SaltSourceError | undefined;
    if (saltOn !== 'engine') {
      try {
        return await this.probe();
      } catch (error) {
        if (saltOn === 'host' || !(error instanceof SaltSourceError) || !error.missing || !this.options.engine) throw error;
        missing = error;
      }
    }
    const engine = this.options.engine;
    if (!engine) throw new SaltSourceError('Salt on the engine needs an engine, and none was given', 'Run it where an engine is configured, or set saltOn to host.');
    const version = this.options.version ?? PINNED_SALT_VERSION;
    this.options.log?.(`salt source: ${missing ? 'no Python with Salt on this machine: ' : ''}Salt ${version} made on the engine ${engine.address}`);
    try {
      const made = await makeSaltOnEngine({ engine, version, settings: this.helpers, cacheDir: this.cacheDir, signal, progress: this.options.onProgress, onPull: this.options.onPull, log: this.options.log });
      return { python: `Salt made on the engine (${made.image})`, saltVersion: made.saltVersion, pythonVersion: made.pythonVersion, onEngine: made };
    } catch (error) {
      const e = error as Error & { hint?: string; cancelled?: boolean };
      if (!missing || e.cancelled) throw error;
      // Neither way worked: say both, and keep the offer to install Salt here.
      throw new SaltSourceError(`no Python with Salt on this machine, and the engine could not make Salt: ${e.message}`, `${e.hint ?? ''} ${missing.hint}`.trim(), true);
    }
  }

  private async probe(): Promise<SaltInfo> {
    const candidates = this.candidates();
    const failures: string[] = [];
    for (const { python, from } of candidates) {
      try {
        const { stdout } = await runPython(python, ['-c', PROBE_SALT], 60_000);
        const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { salt: string; python: string };
        this.options.log?.(`salt source: ${python} (${from}): Salt ${parsed.salt}, Python ${parsed.python}`);
        return { python, saltVersion: parsed.salt, pythonVersion: parsed.python };
      } catch (error) {
        const stderr = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').pop();
        failures.push(`${python} (${from}): ${stderr || (error as Error).message}`);
      }
    }
    if (!candidates.length) {
      throw new SaltSourceError(
        'no Python with Salt found on this machine',
        `Install Salt ${PINNED_SALT_VERSION} into Salt Containers' cache (VS Code offers it; the CLI: --install-salt), or point the saltContainers.saltPython setting or SALT_CONTAINERS_PYTHON at a Python that has Salt.`,
        true,
      );
    }
    throw new SaltSourceError(
      `no usable Python with Salt: ${failures.join('; ')}`,
      'Fix that Python, or point the saltContainers.saltPython setting or SALT_CONTAINERS_PYTHON at another Python that has Salt.',
    );
  }

  /** The cached thin for this Salt; generated once (about 5 s) and never again. */
  thin(signal?: AbortSignal): Promise<Thin> {
    this.thinPromise ??= this.loadOrGenerateThin(signal);
    this.thinPromise.catch(() => (this.thinPromise = undefined));
    return this.thinPromise;
  }

  /**
   * The thin precompiled for a container's Python version (major.minor): from the cache, else compiled
   * once (about 10 s) by a host Python of that version; undefined when this machine has none (the run
   * then ships sources, and the container's Python compiles what it imports, each run).
   */
  async bytecode(pythonVersion: string): Promise<ThinBytecode | undefined> {
    return this.bytecodeOf(await this.thin(), pythonVersion);
  }

  private bytecodeOf(thin: Thin, pythonVersion: string): Promise<ThinBytecode | undefined> {
    let pending = this.bytecodes.get(pythonVersion);
    if (!pending) {
      pending = this.loadOrCompile(thin, pythonVersion);
      pending.catch(() => this.bytecodes.delete(pythonVersion));
      this.bytecodes.set(pythonVersion, pending);
    }
    return pending;
  }

  private async loadOrGenerateThin(signal?: AbortSignal): Promise<Thin> {
    const info = await this.info(signal);
    // v5: sources only, bytecode per Python apart, the packages in meta.json; a cache from an older layout is simply not seen.
    const dir = this.thinDir(info);
    const cached = this.readThin(dir);
    if (cached) return cached;
    if (info.onEngine) throw new SaltSourceError(`the thin made on the engine is not in ${dir}`, `Remove ${dir} and try again.`);
    mkdirSync(join(this.cacheDir, 'thin'), { recursive: true });
    const work = mkdtempSync(join(this.cacheDir, 'thin', '.gen-'));
    try {
      this.options.log?.(`generating the Salt ${info.saltVersion} thin with ${info.python}`);
      await runPython(info.python, ['-c', GENERATE_THIN, work], 300_000);
      rmSync(join(work, 'gen'), { recursive: true, force: true });
      rmSync(join(work, 'tree'), { recursive: true, force: true });
      try {
        renameSync(work, dir); // atomic: a concurrent generator that finished first wins
      } catch {
        if (!this.readThin(dir)) throw new Error(`could not store the thin in ${dir}`);
      }
    } catch (error) {
      const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
      throw new SaltSourceError(`Salt's thin generator failed: ${stderr.split('\n').pop() || (error as Error).message}`, `Check that ${info.python} has a complete Salt installation.`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const thin = this.readThin(dir);
    if (!thin) throw new SaltSourceError(`the thin in ${dir} is incomplete`, `Remove ${dir} and try again.`);
    // The Salt Python's own version is the likeliest in containers: compile for it now, with the thin.
    await this.bytecodeOf(thin, info.pythonVersion);
    return thin;
  }

  private thinDir(info: SaltInfo): string {
    return info.onEngine?.dir ?? join(this.cacheDir, 'thin', thinFolder(info.saltVersion, info.pythonVersion));
  }

  private readThin(dir: string): Thin | undefined {
    const metaPath = join(dir, 'meta.json');
    const tarPath = join(dir, 'thin.tar');
    if (![metaPath, tarPath].every((p) => existsSync(p))) return undefined;
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { salt: string; python: string; files: number; bytes: number; packages: ThinPackage[] };
    return { saltVersion: meta.salt, pythonVersion: meta.python, tarPath, files: meta.files, bytes: meta.bytes, packages: meta.packages };
  }

  private async loadOrCompile(thin: Thin, pythonVersion: string): Promise<ThinBytecode | undefined> {
    const dir = this.thinDir(await this.info());
    const tarPath = join(dir, `thin-pyc-${pythonVersion}.tar`);
    const metaPath = join(dir, `thin-pyc-${pythonVersion}.json`);
    const read = (): ThinBytecode | undefined => {
      if (!existsSync(tarPath) || !existsSync(metaPath)) return undefined;
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { files: number; bytes: number };
      return { pythonVersion, tarPath, files: meta.files, bytes: meta.bytes };
    };
    const cached = read();
    if (cached) return cached;
    const info = await this.info();
    if (info.onEngine) {
      this.options.log?.(`Salt was made on the engine with Python ${info.pythonVersion}: no bytecode for Python ${pythonVersion}`);
      return undefined;
    }
    const command = await this.hostPython(pythonVersion);
    if (!command) {
      this.options.log?.(`no Python ${pythonVersion} on this machine to precompile Salt for containers with that version`);
      return undefined;
    }
    const python = command.join(' ');
    this.options.log?.(`precompiling the Salt ${thin.saltVersion} thin for Python ${pythonVersion} with ${python}`);
    const partial = `${tarPath}.${process.pid}.partial`;
    try {
      const { stdout } = await runPython(command[0], [...command.slice(1), '-c', COMPILE_THIN, thin.tarPath, partial], 300_000);
      const meta = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { python: string; files: number; bytes: number };
      if (meta.python !== pythonVersion) throw new Error(`${python} is Python ${meta.python}`);
      // The tar first, then its meta: a meta file says the tar beside it is complete.
      renameSync(partial, tarPath);
      writeFileAtomic(metaPath, JSON.stringify({ files: meta.files, bytes: meta.bytes }));
    } catch (error) {
      const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
      throw new SaltSourceError(`precompiling Salt for Python ${pythonVersion} failed: ${stderr.split('\n').pop() || (error as Error).message}`, `Check ${python}, or remove ${dir} and try again.`);
    } finally {
      rmSync(partial, { force: true });
    }
    return read();
  }

  /**
   * The argv of a host Python of this major.minor: the Salt one, `pythonX.Y` on PATH, one that pyenv or
   * uv installed, or the bundled runtime for this machine's architecture when the cache has it. Only
   * its version matters: it compiles, it needs no Salt.
   */
  private async hostPython(version: string): Promise<string[] | undefined> {
    const info = await this.info();
    if (info.pythonVersion === version) return [info.python];
    const candidates: string[] = [];
    for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, `python${version}`));
    const installed = (root: string, prefix: string, bin: string) => {
      try {
        for (const name of readdirSync(root).sort().reverse()) if (name.startsWith(prefix)) candidates.push(join(root, name, bin));
      } catch {
        // no such manager here
      }
    };
    installed(join(process.env.PYENV_ROOT || join(homedir(), '.pyenv'), 'versions'), `${version}.`, join('bin', 'python'));
    installed(process.env.UV_PYTHON_INSTALL_DIR || join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'uv', 'python'), `cpython-${version}.`, join('bin', 'python3'));
    for (const python of candidates) {
      if (!existsSync(python)) continue;
      try {
        const { stdout } = await runPython(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], 30_000);
        if (stdout.trim() === version) return [python];
      } catch {
        // not runnable: try the next
      }
    }
    const runtime = cachedRuntime(this.cacheDir, hostArch());
    return runtime?.pythonVersion === version ? hostCommand(runtime) : undefined;
  }
}

export { writeFileAtomic };
