/**
 * Where Salt comes from: a host Python that has Salt installed. Its thin (Salt's own thin generator)
 * is made once per (Salt version, Python version) and cached on disk with bytecode precompiled, so a
 * cold run in a container does not pay Python's compile of the whole thin.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { GENERATE_THIN, PROBE_SALT } from './scripts';

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

export interface Thin {
  saltVersion: string;
  /** major.minor of the Python its .pyc files were compiled for. */
  pythonVersion: string;
  /** Uncompressed tar of the thin (py3/, pyall/, version, ...): sources and __pycache__ bytecode. */
  tarPath: string;
  /** The same with every compiled source emptied: for a container Python equal to pythonVersion. */
  bytecodeTarPath: string;
  files: number;
  bytes: number;
}

export class SaltSourceError extends Error {
  readonly kind = 'salt-source';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'SaltSourceError';
  }
}

export function defaultCacheDir(): string {
  return process.env.SALT_CONTAINERS_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'salt-containers');
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
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

  constructor(readonly options: SaltSourceOptions = {}) {
    this.cacheDir = options.cacheDir ?? defaultCacheDir();
  }

  /** The candidates in order, with where each came from (for error messages). */
  candidates(): { python: string; from: string }[] {
    const list: { python: string; from: string }[] = [];
    if (this.options.python) list.push({ python: this.options.python, from: 'the saltPython setting' });
    else if (process.env.SALT_CONTAINERS_PYTHON) list.push({ python: process.env.SALT_CONTAINERS_PYTHON, from: 'SALT_CONTAINERS_PYTHON' });
    else {
      const venv = join(this.cacheDir, 'salt-venv', 'bin', 'python');
      if (existsSync(venv)) list.push({ python: venv, from: 'the test venv' });
      const fromPath = saltCallPython();
      if (fromPath) list.push({ python: fromPath, from: "salt-call's interpreter on PATH" });
    }
    return list;
  }

  /** The Python with Salt and its versions; cached for the life of this object. */
  info(): Promise<SaltInfo> {
    this.infoPromise ??= this.probe();
    this.infoPromise.catch(() => (this.infoPromise = undefined)); // retry after the user fixes it
    return this.infoPromise;
  }

  private async probe(): Promise<SaltInfo> {
    const candidates = this.candidates();
    const failures: string[] = [];
    for (const { python, from } of candidates) {
      try {
        const { stdout } = await run(python, ['-c', PROBE_SALT], 60_000);
        const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { salt: string; python: string };
        this.options.log?.(`salt source: ${python} (${from}): Salt ${parsed.salt}, Python ${parsed.python}`);
        return { python, saltVersion: parsed.salt, pythonVersion: parsed.python };
      } catch (error) {
        const stderr = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').pop();
        failures.push(`${python} (${from}): ${stderr || (error as Error).message}`);
      }
    }
    throw new SaltSourceError(
      candidates.length ? `no usable Python with Salt: ${failures.join('; ')}` : 'no Python with Salt found on this machine',
      'Install Salt on the host (e.g. `python3 -m venv v && v/bin/pip install salt`) and point the saltContainers.saltPython setting or SALT_CONTAINERS_PYTHON at that Python.',
    );
  }

  /** The cached thin for this Salt; generated once (about 5 s) and never again. */
  thin(): Promise<Thin> {
    this.thinPromise ??= this.loadOrGenerateThin();
    this.thinPromise.catch(() => (this.thinPromise = undefined));
    return this.thinPromise;
  }

  private async loadOrGenerateThin(): Promise<Thin> {
    const info = await this.info();
    // v3: no C extensions, no test suites; a cache from an older layout is simply not seen.
    const dir = join(this.cacheDir, 'thin', `${info.saltVersion}-py${info.pythonVersion}-v3`);
    const cached = this.readThin(dir);
    if (cached) return cached;
    mkdirSync(join(this.cacheDir, 'thin'), { recursive: true });
    const work = mkdtempSync(join(this.cacheDir, 'thin', '.gen-'));
    try {
      this.options.log?.(`generating the Salt ${info.saltVersion} thin with ${info.python}`);
      await run(info.python, ['-c', GENERATE_THIN, work], 300_000);
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
    return thin;
  }

  private readThin(dir: string): Thin | undefined {
    const metaPath = join(dir, 'meta.json');
    const tarPath = join(dir, 'thin.tar');
    const bytecodeTarPath = join(dir, 'thin-pyc.tar');
    if (![metaPath, tarPath, bytecodeTarPath].every((p) => existsSync(p))) return undefined;
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { salt: string; python: string; files: number; bytes: number };
    return { saltVersion: meta.salt, pythonVersion: meta.python, tarPath, bytecodeTarPath, files: meta.files, bytes: meta.bytes };
  }
}
