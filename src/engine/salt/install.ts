/**
 * Salt from PyPI into a venv of our own cache, one per Salt version, made with the host's python3: what a
 * machine without Salt gets when asked (the extension's offer, the CLI's --install-salt), what the test
 * set-up uses, and what a test matrix's Salt versions use. A venv is built beside its place and renamed
 * into it when complete, so a cancelled or failed install leaves nothing and two installs never mix.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostProgramCancelled, HostWorkError, lastLines, runHostProgram } from '../host';
import { PROBE_SALT } from './scripts';

export { installEnv } from '../host';

/** The Salt the product installs when none is named: the newest that installs and runs on Debian 12's Python here. */
export const PINNED_SALT_VERSION = '3008.4';

/** Written last into a complete venv. */
const MARKER = 'salt-containers.json';

export class SaltInstallError extends HostWorkError {
  override name = 'SaltInstallError';
}

export interface InstallOptions {
  /** Default PINNED_SALT_VERSION. */
  version?: string;
  cacheDir: string;
  /** The host Python to make the venv with; default python3 on PATH. */
  hostPython?: string;
  signal?: AbortSignal;
  /** pip's progress, a line at a time (Collecting ..., Installing collected packages ...). */
  onProgress?: (line: string) => void;
}

export interface InstalledSalt {
  version: string;
  /** The venv's interpreter: a Python with Salt. */
  python: string;
}

function venvDir(cacheDir: string, version: string): string {
  return join(cacheDir, 'salt', version);
}

/** The venv this cache holds for a Salt version, when its install completed. */
export function installedSalt(cacheDir: string, version = PINNED_SALT_VERSION): InstalledSalt | undefined {
  const dir = venvDir(cacheDir, version);
  if (!existsSync(join(dir, MARKER))) return undefined;
  return { version, python: join(dir, 'bin', 'python') };
}

/** Runs a program of the install (see runHostProgram); a cancel stops it and says nothing was installed. */
async function runStep(command: string, args: string[], signal: AbortSignal | undefined, onLine?: (line: string) => void): Promise<{ code: number | null; output: string }> {
  try {
    return await runHostProgram(command, args, { signal, onLine, env: { PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONWARNINGS: 'ignore' } });
  } catch (error) {
    if (error instanceof HostProgramCancelled) throw new SaltInstallError('the Salt install was cancelled', 'Nothing was installed.', true);
    throw error;
  }
}

/** The host python3 that can make venvs, or an error that says what to install. */
async function venvPython(wanted: string | undefined, signal?: AbortSignal): Promise<string> {
  const python = wanted ?? 'python3';
  let probe;
  try {
    probe = await runStep(python, ['-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])'], signal);
  } catch (error) {
    if (error instanceof SaltInstallError) throw error;
    throw new SaltInstallError(`there is no ${python} on this machine to install Salt with`, 'Install Python 3 with its venv module (Debian, Ubuntu: `apt-get install python3 python3-venv`), then try again.');
  }
  if (probe.code !== 0) {
    throw new SaltInstallError(
      `${python} cannot make a virtual environment: ${lastLines(probe.output, 1)}`,
      'Install its venv module (Debian, Ubuntu: `apt-get install python3-venv`), or name another Python 3 in the saltPython setting.',
    );
  }
  return python;
}

/** Runs one program of an install, here or in a helper container: its exit code and output (stdout and stderr). */
export type InstallStep = (argv: string[], onLine?: (line: string) => void) => Promise<{ code: number | null; output: string }>;

/**
 * The steps of a Salt install, wherever they run: a venv made by `python` at `venv`, salt==version from
 * the package index into it, and the checks that it runs and has what the thin needs. `reach` says
 * what to check when pip cannot install. Throws SaltInstallError.
 */
export async function installSteps(step: InstallStep, python: string, venv: string, version: string, progress: (line: string) => void, reach: string): Promise<void> {
  progress(`creating a venv with ${python}`);
  const made = await step([python, '-m', 'venv', venv]);
  if (made.code !== 0) throw new SaltInstallError(`${python} -m venv failed: ${lastLines(made.output)}`, 'Install the venv module (Debian, Ubuntu: `apt-get install python3-venv`).');
  progress(`installing salt==${version} from PyPI`);
  const venvPython = `${venv}/bin/python`;
  const pip = await step([venvPython, '-m', 'pip', 'install', '--no-input', '--progress-bar', 'off', `salt==${version}`], (line) => {
    if (/^(Collecting|Installing collected|Successfully installed|Building wheel)/.test(line)) progress(line.length > 160 ? `${line.slice(0, 157)}...` : line);
  });
  if (pip.code !== 0) throw new SaltInstallError(`pip could not install salt==${version}: ${lastLines(pip.output)}`, `${reach} and that the version exists.`);
  const probe = await step([venvPython, '-c', PROBE_SALT]);
  const found = probe.code === 0 ? (JSON.parse(probe.output.trim().split('\n').pop() ?? '{}') as { salt?: string }).salt : undefined;
  if (found !== version) throw new SaltInstallError(`the installed Salt does not run: ${lastLines(probe.output)}`, `Remove ${venv} and try again, or install Salt yourself and set saltPython.`);
  // Some releases' packages install here without a single dependency (3007.8, 3007.13, 3007.14 from
  // their sdists): `import salt.version` still works, the thin generator does not. Ask for what the thin needs.
  const thin = await step([venvPython, '-c', 'import salt.utils.thin; salt.utils.thin.get_tops()']);
  if (thin.code !== 0) {
    throw new SaltInstallError(
      `salt==${version} installed without what it needs to run (${lastLines(thin.output, 1)}): its package on PyPI brought no dependencies`,
      'Name another release of that line (for 3007: 3007.16), or install Salt yourself and set saltPython.',
    );
  }
}

/** Refuses what is not a release name (it goes into pip's argv and a folder name). */
export function checkSaltVersion(version: string): void {
  if (!/^[0-9][0-9A-Za-z.+-]*$/.test(version)) throw new SaltInstallError(`"${version}" is not a Salt version`, 'Name a release such as 3008.4.');
}

/**
 * Installs Salt `version` from PyPI into the cache (about a minute; a no-op when it is there) and
 * returns its Python. Throws SaltInstallError saying what failed and what to do; cancel (signal) kills
 * pip and removes what it had written.
 */
export async function installSalt(options: InstallOptions): Promise<InstalledSalt> {
  const version = options.version ?? PINNED_SALT_VERSION;
  checkSaltVersion(version);
  const done = installedSalt(options.cacheDir, version);
  if (done) return done;
  const host = await venvPython(options.hostPython, options.signal);
  const target = venvDir(options.cacheDir, version);
  mkdirSync(join(options.cacheDir, 'salt'), { recursive: true });
  const work = join(options.cacheDir, 'salt', `.${version}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  const progress = options.onProgress ?? (() => undefined);
  try {
    await installSteps(
      ([command, ...args], onLine) => runStep(command, args, options.signal, onLine),
      host,
      work,
      version,
      progress,
      'Check that this machine reaches PyPI (or its pip configuration names a mirror)',
    );
    writeFileSync(join(work, MARKER), JSON.stringify({ version, hostPython: host }));
    try {
      renameSync(work, target);
    } catch {
      // Another install of the same version finished first: it is as good as ours.
      if (!installedSalt(options.cacheDir, version)) {
        rmSync(target, { recursive: true, force: true });
        renameSync(work, target);
      }
    }
    progress(`Salt ${version} installed in ${target}`);
    return installedSalt(options.cacheDir, version)!;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
