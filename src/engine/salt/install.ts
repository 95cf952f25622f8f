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
import { LOCKED_REQUIREMENTS, PROBE_SALT } from './scripts';
import { cachedSaltVersions, candidates, compareVersions, fetchReleases, parseVersionName, recordUninstallable, releasesFromPipIndex, uninstallable, type SaltVersionName } from './versions';

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

/**
 * The venv this cache holds for a Salt version name, when its install completed: the release itself,
 * or for a line (3007) or latest the newest release of it the cache holds (nothing asked of the index).
 */
export function installedSalt(cacheDir: string, version = PINNED_SALT_VERSION): InstalledSalt | undefined {
  let name: SaltVersionName;
  try {
    name = parseVersionName(version);
  } catch {
    return undefined;
  }
  const exact =
    name.kind === 'exact'
      ? version
      : cachedSaltVersions(cacheDir).find((c) => c.where === 'host' && !/[a-z]/i.test(c.version) && (name.kind === 'latest' || Number.parseInt(c.version, 10) === name.line))?.version;
  if (!exact) return undefined;
  const dir = venvDir(cacheDir, exact);
  if (!existsSync(join(dir, MARKER))) return undefined;
  return { version: exact, python: join(dir, 'bin', 'python') };
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

/** What an install came to: the release installed, the newer ones it could not install (and why), where its dependencies came from. */
export interface InstallResult {
  version: string;
  skipped: { version: string; reason: string }[];
  /** For a release whose package brought no dependencies: the lock file of its sdist they were installed from. */
  requirements?: string;
}

/** How many releases of a line an install tries before it gives up (each failed try is a pip resolution, ~20 s). */
const MAX_TRIES = 4;

/** The pin the index could not serve, when that is why pip failed (a release newer than the index's mirror of its dependencies). */
export function missingPin(pipOutput: string): string | undefined {
  const match = /No matching distribution found for (\S+)/.exec(pipOutput);
  return match && !/^salt([=<>!~ ]|$)/i.test(match[1]) ? match[1] : undefined;
}

/**
 * The steps of a Salt install, wherever they run: a venv made by `python` at `venv`, Salt from the
 * package index into it, and the checks that it runs and has what the thin needs. `wanted` is a
 * version name (exact, a line, latest: resolved with `pip index versions salt`) or the releases to try,
 * newest first: when one cannot install for a pin the index lacks, the next is tried, and the result
 * says which were skipped and why. A release whose package brings no dependencies (some sdists carry
 * no Requires-Dist) gets them from the lock file in its sdist, for the venv's Python. `reach` says
 * what to check when pip cannot install. Throws SaltInstallError.
 */
export async function installSteps(step: InstallStep, python: string, venv: string, wanted: string | readonly string[], progress: (line: string) => void, reach: string): Promise<InstallResult> {
  progress(`creating a venv with ${python}`);
  const made = await step([python, '-m', 'venv', venv]);
  if (made.code !== 0) throw new SaltInstallError(`${python} -m venv failed: ${lastLines(made.output)}`, 'Install the venv module (Debian, Ubuntu: `apt-get install python3-venv`).');
  const venvPython = `${venv}/bin/python`;
  const pip = (...args: string[]) => [venvPython, '-m', 'pip', ...args, '--no-input', '--progress-bar', 'off'];
  const releases = async () => {
    const listed = await step([venvPython, '-m', 'pip', 'index', 'versions', 'salt', '--no-input']);
    if (listed.code !== 0) throw new SaltInstallError(`pip could not list Salt's releases: ${lastLines(listed.output)}`, `${reach}.`);
    return releasesFromPipIndex(listed.output);
  };
  let versions: readonly string[];
  if (typeof wanted !== 'string') versions = wanted;
  else {
    const name = checkSaltVersion(wanted);
    versions = name.kind === 'exact' ? [name.version] : candidates(name, await releases());
  }
  if (!versions.length) throw new SaltInstallError(`the package index serves no Salt release for "${typeof wanted === 'string' ? wanted : wanted.join(', ')}"`, `${reach}, and run \`salt-containers salt versions\` to see what it serves.`);
  const skipped: InstallResult['skipped'] = [];
  for (const [i, version] of versions.slice(0, MAX_TRIES).entries()) {
    progress(`installing salt==${version} from the package index`);
    const installed = await step(pip('install', `salt==${version}`), (line) => {
      if (/^(Collecting|Installing collected|Successfully installed|Building wheel)/.test(line)) progress(line.length > 160 ? `${line.slice(0, 157)}...` : line);
    });
    if (installed.code !== 0) {
      const pin = missingPin(installed.output);
      if (!pin) throw new SaltInstallError(`pip could not install salt==${version}: ${lastLines(installed.output)}`, `${reach} and that the version exists.`);
      const reason = `it pins ${pin}, which the package index does not serve`;
      skipped.push({ version, reason });
      const next = versions[i + 1];
      if (next && i + 1 < MAX_TRIES) {
        progress(`salt==${version} cannot install here: ${reason}; trying ${next}`);
        continue;
      }
      // Nothing more to try (an exact release, or a line's last try): name the newest that installs.
      const line = Number.parseInt(version, 10);
      const older = typeof wanted !== 'string' || versions.length > 1 ? [] : candidates({ kind: 'line', line }, await releases()).filter((v) => compareVersions(v, version) < 0);
      let newest: string | undefined;
      for (const candidate of older.slice(0, MAX_TRIES)) {
        progress(`salt==${version} cannot install here (${reason}): does ${candidate}?`);
        const dry = await step(pip('install', '--dry-run', `salt==${candidate}`));
        if (dry.code === 0) {
          newest = candidate;
          break;
        }
        const its = missingPin(dry.output);
        if (!its) break; // another failure: the index is the trouble, not the release
        skipped.push({ version: candidate, reason: `it pins ${its}, which the package index does not serve` });
      }
      throw Object.assign(
        new SaltInstallError(
          `salt==${version} cannot install here: ${reason}${skipped.length > 1 ? ` (nor could ${skipped.slice(0, -1).map((s) => s.version).join(', ')})` : ''}${newest ? `; the newest ${line} that installs here is ${newest}` : ''}`,
          newest ? `Name ${newest} (or the line, ${line}, which takes the newest that installs), or point pip at an index that has ${pin}.` : `${reach}, or name an older release.`,
        ),
        { skipped },
      );
    }
    const probe = await step([venvPython, '-c', PROBE_SALT]);
    const found = probe.code === 0 ? (JSON.parse(probe.output.trim().split('\n').pop() ?? '{}') as { salt?: string }).salt : undefined;
    if (found !== version) throw new SaltInstallError(`the installed Salt does not run: ${lastLines(probe.output)}`, `Remove ${venv} and try again, or install Salt yourself and set saltPython.`);
    // Some releases' packages install without a single dependency (3007.1, 3007.8, 3008.0: their sdists
    // carry no Requires-Dist; Salt issues 67973 and 69244): `import salt.version` still works, the thin
    // generator does not. Their dependencies are pinned in the sdist's own lock files.
    const thinCheck = [venvPython, '-c', 'import salt.utils.thin; salt.utils.thin.get_tops()'];
    const thin = await step(thinCheck);
    let requirements: string | undefined;
    if (thin.code !== 0) {
      progress(`salt==${version} came without its dependencies (${lastLines(thin.output, 1)}): installing them from the lock file in its sdist`);
      requirements = await lockedRequirements(step, venvPython, venv, version, pip, reach);
      const again = await step(thinCheck);
      if (again.code !== 0) {
        throw new SaltInstallError(
          `salt==${version} does not run with the dependencies of its lock file ${requirements}: ${lastLines(again.output, 1)}`,
          'Name another release of that line (or the line itself), or install Salt yourself and set saltPython.',
        );
      }
    }
    return { version, skipped, ...(requirements ? { requirements } : {}) };
  }
  throw new SaltInstallError(`no release of "${String(wanted)}" installs here: ${skipped.map((s) => `${s.version}: ${s.reason}`).join('; ')}`, `${reach}, or name an older release.`);
}

/**
 * Installs the dependencies pinned in salt==version's sdist for the venv's Python (the sdist from the
 * index, its requirements/static/pkg/py3.X/linux.txt, or .lock from 3008.2 on; the nearest lower
 * Python's when the sdist has none for this one). Returns the lock file's path in the sdist.
 */
async function lockedRequirements(step: InstallStep, venvPython: string, venv: string, version: string, pip: (...args: string[]) => string[], reach: string): Promise<string> {
  const sdist = `${venv}/salt-sdist`;
  const downloaded = await step(pip('download', '--no-deps', '--no-binary', ':all:', '--dest', sdist, `salt==${version}`));
  if (downloaded.code !== 0) throw new SaltInstallError(`pip could not download the sdist of salt==${version}: ${lastLines(downloaded.output)}`, `${reach}.`);
  const requirements = `${venv}/salt-requirements.txt`;
  const read = await step([venvPython, '-c', LOCKED_REQUIREMENTS, sdist, requirements]);
  if (read.code !== 0) throw new SaltInstallError(`salt==${version} brought no dependencies, and its sdist has no lock file to take them from: ${lastLines(read.output, 1)}`, 'Name another release of that line (or the line itself), or install Salt yourself and set saltPython.');
  const file = read.output.trim().split('\n').pop() ?? '';
  await step([venvPython, '-c', 'import shutil, sys; shutil.rmtree(sys.argv[1])', sdist]);
  const installed = await step(pip('install', '-r', requirements));
  if (installed.code !== 0) throw new SaltInstallError(`pip could not install the dependencies of salt==${version} from its ${file}: ${lastLines(installed.output)}`, `${reach}, or name another release of that line.`);
  return file;
}

/** Refuses what is not a version name (it goes into pip's argv and a folder name); what it asks for. */
export function checkSaltVersion(version: string): SaltVersionName {
  try {
    return parseVersionName(version);
  } catch (error) {
    throw new SaltInstallError((error as Error).message, 'Name a release such as 3008.4, a line such as 3008, or latest.');
  }
}

/**
 * What an install of a version name needs to do: a release the cache already holds (`cached`), else
 * the releases to try newest first (`versions`; undefined: an exact release, or a name pip resolves
 * when the index's JSON API did not answer), and an older release of the name the cache holds to fall back on when none of
 * them installs. A line or latest skips the releases known not to install here.
 */
export async function planInstall(name: string, cacheDir: string, isCached: (version: string) => boolean): Promise<{ cached?: string; versions?: string[]; fallback?: string }> {
  const parsed = checkSaltVersion(name);
  if (parsed.kind === 'exact') return isCached(parsed.version) ? { cached: parsed.version } : {};
  const releases = await fetchReleases().catch(() => undefined);
  if (!releases) {
    const held = cachedSaltVersions(cacheDir).find((c) => (parsed.kind === 'latest' || Number.parseInt(c.version, 10) === parsed.line) && isCached(c.version));
    return held ? { cached: held.version } : {};
  }
  const list = candidates(parsed, releases, uninstallable(cacheDir));
  const first = list.findIndex(isCached);
  if (first === 0) return { cached: list[0] };
  return first < 0 ? { versions: list } : { versions: list.slice(0, first), fallback: list[first] };
}

/**
 * Installs Salt `version` from PyPI into the cache (about a minute; a no-op when it is there) and
 * returns its Python. Throws SaltInstallError saying what failed and what to do; cancel (signal) kills
 * pip and removes what it had written.
 */
export async function installSalt(options: InstallOptions): Promise<InstalledSalt> {
  const name = options.version ?? PINNED_SALT_VERSION;
  const { cacheDir } = options;
  const plan = await planInstall(name, cacheDir, (v) => installedSalt(cacheDir, v)?.version === v);
  if (plan.cached) return installedSalt(cacheDir, plan.cached)!;
  const host = await venvPython(options.hostPython, options.signal);
  mkdirSync(join(cacheDir, 'salt'), { recursive: true });
  const work = join(cacheDir, 'salt', `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  const progress = options.onProgress ?? (() => undefined);
  try {
    let result: InstallResult;
    try {
      result = await installSteps(
        ([command, ...args], onLine) => runStep(command, args, options.signal, onLine),
        host,
        work,
        plan.versions ?? name,
        progress,
        'Check that this machine reaches PyPI (or its pip configuration names a mirror)',
      );
    } catch (error) {
      const skipped = (error as { skipped?: InstallResult['skipped'] }).skipped ?? [];
      recordUninstallable(cacheDir, skipped);
      if (plan.fallback && skipped.length && !(error as SaltInstallError).cancelled) {
        progress(`no newer ${name} installs here (${skipped.map((s) => `${s.version}: ${s.reason}`).join('; ')}): using ${plan.fallback}, which the cache holds`);
        return installedSalt(cacheDir, plan.fallback)!;
      }
      throw error;
    }
    recordUninstallable(cacheDir, result.skipped);
    const { version } = result;
    const target = venvDir(cacheDir, version);
    writeFileSync(join(work, MARKER), JSON.stringify({ version, asked: name, hostPython: host, ...(result.requirements ? { requirements: result.requirements } : {}) }));
    try {
      renameSync(work, target);
    } catch {
      // Another install of the same version finished first: it is as good as ours.
      if (!installedSalt(cacheDir, version)) {
        rmSync(target, { recursive: true, force: true });
        renameSync(work, target);
      }
    }
    const why = result.skipped.length ? ` (${result.skipped.map((s) => `${s.version} cannot install here: ${s.reason}`).join('; ')})` : '';
    progress(`Salt ${version} installed in ${target}${why}${result.requirements ? `, its dependencies from its sdist's ${result.requirements}` : ''}`);
    return installedSalt(cacheDir, version)!;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
