/**
 * Salt's host-side work done on the engine, for a machine without a Python with Salt (a Mac, Windows,
 * a bare Linux): a helper container from the Python image installs salt==VERSION with pip (the same
 * install steps as on a host), makes the thin, its bytecode for the helper's Python and the state
 * catalogue with the same scripts a host Python runs, and the results are copied into the host cache
 * in the host path's layout, so nothing after this knows how they were made. They are also kept on
 * the engine as a cache image (the helper image plus what was made, not the venv or the compiler):
 * the next machine (or an emptied host cache) copies them out in a second instead of installing again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DockerEngine, PullOptions } from '../docker/engine';
import { cachedImage, cacheTag, CACHE_LABEL, copyFromCache, imageKey, keepInCache } from '../helper/cache';
import { HelperContainer } from '../helper/container';
import type { HelperSettings } from '../helper/settings';
import { installSteps, planInstall, type InstallResult } from './install';
import { recordUninstallable } from './versions';
import { CATALOGUE_GENERATOR, COMPILE_THIN, GENERATE_THIN } from './scripts';

/** Where the helper keeps its work; `out` is what is copied to the host and kept in the cache image. */
const HOME = '/salt-containers';
const OUT = `${HOME}/out`;

export interface EngineSaltOptions {
  engine: DockerEngine;
  version: string;
  settings: HelperSettings;
  cacheDir: string;
  signal?: AbortSignal;
  progress?: (line: string) => void;
  onPull?: PullOptions['onProgress'];
  log?: (line: string) => void;
}

/** What the host cache holds for a Salt made on the engine: where its thin is, and its versions. */
export interface EngineSalt {
  saltVersion: string;
  pythonVersion: string;
  /** The thin's folder in the host cache (thin.tar, meta.json, thin-pyc-X.Y.*, catalogue.json). */
  dir: string;
  /** The engine's cache image it came from or was kept as. */
  image: string;
}

/** Labels of a cache image of Salt. */
const SALT_LABELS = { version: 'salt-containers.salt-version', python: 'salt-containers.python-version', image: 'salt-containers.python-image' };

/** The thin folder's name, as the host path names it (SaltSource.thinDir). */
export function thinFolder(saltVersion: string, pythonVersion: string): string {
  return `${saltVersion}-py${pythonVersion}-v5`;
}

/** The cache key of a Salt version made with a Python image. */
function saltKey(version: string, pythonImage: string): string {
  return `salt-${version}-${imageKey(pythonImage)}`;
}

/** Which thin folder of the host cache an engine-made Salt went to (a small pointer file beside them). */
function pointerFile(cacheDir: string, key: string): string {
  return join(cacheDir, 'thin', `${key}.json`);
}

/** The engine-made Salt the host cache already holds, when complete. */
export function cachedEngineSalt(cacheDir: string, version: string, settings: HelperSettings): EngineSalt | undefined {
  const pointer = pointerFile(cacheDir, saltKey(version, settings.pythonImage));
  if (!existsSync(pointer)) return undefined;
  const salt = JSON.parse(readFileSync(pointer, 'utf8')) as EngineSalt;
  return existsSync(join(salt.dir, 'meta.json')) && existsSync(join(salt.dir, 'thin.tar')) ? salt : undefined;
}

/**
 * Salt `version` made on the engine and copied into the host cache: from the host cache, else from the
 * engine's cache image, else made in a helper (about a minute, with progress). Throws SaltInstallError
 * or HelperError saying what failed and which setting names another image or index.
 */
export async function makeSaltOnEngine(options: EngineSaltOptions): Promise<EngineSalt> {
  const { engine, settings, cacheDir } = options;
  // A line or latest: the newest release of it that installs (planInstall); the cache is keyed by release.
  const plan = await planInstall(options.version, cacheDir, (v) => cachedEngineSalt(cacheDir, v, settings) !== undefined);
  if (plan.cached) return cachedEngineSalt(cacheDir, plan.cached, settings)!;
  const progress = options.progress ?? (() => undefined);
  let version = plan.versions?.[0] ?? options.version;
  let tag = cacheTag(saltKey(version, settings.pythonImage));
  mkdirSync(join(cacheDir, 'thin'), { recursive: true });
  const work = join(cacheDir, 'thin', `.engine-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // An exact release (no `versions`) or the newest of a line: what another machine on this engine made.
    if (await cachedImage(engine, tag)) {
      progress(`copying Salt ${version} from the engine's cache (${tag})`);
      await copyFromCache(engine, tag, OUT, work);
    } else {
      await HelperContainer.use(
        { engine, purpose: `salt-${version}`, image: settings.pythonImage, imageSetting: 'the saltContainers.helpers.pythonImage setting or SALT_CONTAINERS_PYTHON_IMAGE', settings, signal: options.signal, progress, onPull: options.onPull, log: options.log },
        async (helper) => {
          progress(`installing Salt ${version} in a helper container from ${settings.pythonImage} (first use, about a minute)`);
          const python = 'python3';
          const step = async (argv: string[], onLine?: (line: string) => void) => helper.exec(argv, onLine);
          await compilerFor(helper, progress);
          const reach = `Check that the helper container reaches PyPI: its network (SALT_CONTAINERS_HELPER_NETWORK, e.g. host) and this machine's pip settings (index URL, CA bundle, proxy), which it is given`;
          const installed = await installSteps(step, python, `${HOME}/venv`, plan.versions ?? options.version, progress, reach).catch((error: unknown) => {
            recordUninstallable(cacheDir, (error as { skipped?: InstallResult['skipped'] }).skipped ?? []);
            throw error;
          });
          recordUninstallable(cacheDir, installed.skipped);
          version = installed.version;
          tag = cacheTag(saltKey(version, settings.pythonImage));
          const venvPython = `${HOME}/venv/bin/python`;
          const thinDir = `${OUT}/thin`;
          await helper.run(['mkdir', '-p', thinDir, `${HOME}/catalogue`], 'making the output folder', 'Name a Python image with a shell toolset (mkdir).');
          progress(`generating the Salt ${version} thin`);
          const meta = JSON.parse(lastJson(await helper.run([venvPython, '-c', GENERATE_THIN, thinDir], "Salt's thin generator", 'Check the Python image.'))) as { python: string; files: number; bytes: number };
          await helper.run(['rm', '-rf', `${thinDir}/gen`, `${thinDir}/tree`], 'tidying the thin', 'Check the Python image.');
          progress(`precompiling the thin for Python ${meta.python}`);
          const compiled = lastJson(await helper.run([venvPython, '-c', COMPILE_THIN, `${thinDir}/thin.tar`, `${thinDir}/thin-pyc-${meta.python}.tar`], 'precompiling the thin', 'Check the Python image.'));
          progress('making the state catalogue');
          await helper.run([venvPython, '-c', CATALOGUE_GENERATOR, `${HOME}/catalogue`, `${thinDir}/catalogue.json`], 'the state catalogue', 'Check the Python image.');
          await helper.copyOut(OUT, work);
          // The bytecode's meta, as the host path writes it beside the tar (the tar first, then its meta).
          const { files, bytes } = JSON.parse(compiled) as { files: number; bytes: number };
          writeFileSync(join(work, 'thin', `thin-pyc-${meta.python}.json`), JSON.stringify({ files, bytes }));
          progress(`keeping Salt ${version} on the engine as ${tag}`);
          await keepInCache(engine, settings.pythonImage, work, OUT, tag, { [CACHE_LABEL]: 'salt', [SALT_LABELS.version]: version, [SALT_LABELS.python]: meta.python, [SALT_LABELS.image]: settings.pythonImage });
        },
      );
    }
    const meta = JSON.parse(readFileSync(join(work, 'thin', 'meta.json'), 'utf8')) as { salt: string; python: string };
    const dir = join(cacheDir, 'thin', thinFolder(meta.salt, meta.python));
    if (!existsSync(join(dir, 'meta.json'))) {
      rmSync(dir, { recursive: true, force: true });
      try {
        renameSync(join(work, 'thin'), dir);
      } catch {
        if (!existsSync(join(dir, 'meta.json'))) throw new Error(`could not store the thin in ${dir}`);
      }
    }
    const salt: EngineSalt = { saltVersion: meta.salt, pythonVersion: meta.python, dir, image: tag };
    const pointer = pointerFile(cacheDir, saltKey(meta.salt, settings.pythonImage));
    const partial = `${pointer}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify(salt));
    renameSync(partial, pointer);
    progress(`Salt ${meta.salt} (Python ${meta.python}) is ready`);
    return salt;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A C compiler in the helper: some of Salt's dependencies come only as sources (timelib), and slim
 * Python images have none. Installed with the image's apt-get when it has one.
 */
async function compilerFor(helper: HelperContainer, progress: (line: string) => void): Promise<void> {
  if ((await helper.exec(['sh', '-c', 'command -v cc || command -v gcc'])).code === 0) return;
  if ((await helper.exec(['sh', '-c', 'command -v apt-get'])).code !== 0) return; // pip says what it cannot build
  progress('installing a C compiler in the helper (some of Salt\'s dependencies build from source)');
  const hint = "Check that the helper reaches Debian's mirror (SALT_CONTAINERS_HELPER_NETWORK), or name a Python image with gcc.";
  await helper.run(['apt-get', 'update', '-q'], 'apt-get update', hint);
  await helper.run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'gcc', 'libc6-dev'], 'installing gcc', hint);
}

/** The last line of a program's stdout (the scripts print their JSON last). */
function lastJson(stdout: string): string {
  return stdout.trim().split('\n').pop() ?? '';
}
