/**
 * The Python the engine brings into containers that have none it can use: CPython from Debian's
 * packages (see debian.ts), made relocatable on this machine and cached per Python version, Debian
 * release and architecture under the cache (`runtime/python3.11-bookworm-amd64-v1/`). It holds
 *   - bin/python3: Debian's interpreter, with its program interpreter set (patchelf) to a
 *     placeholder the engine replaces per run with the absolute path of the bundled loader, and a
 *     DT_RPATH (not RUNPATH) of $ORIGIN/../lib: a container's LD_LIBRARY_PATH cannot hijack it;
 *   - lib/: the closure of the libraries it and its C extensions need, down to glibc's own loader
 *     (each with a DT_RPATH of $ORIGIN where it needs more than glibc);
 *   - lib/python3.X/lib-dynload/: the C extensions Salt can use (no test modules, Tk, curses, readline,
 *     dbm, sqlite3);
 *   - lib/python3X.zip: the standard library as bytecode (see STDLIB_ZIP);
 *   - share/doc/PACKAGE/copyright: the licences of what it ships.
 * Built in a directory of its own and renamed into place when it passed its check, so a cancelled or
 * failed build leaves nothing, and a finished one is never rebuilt.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import type { DockerEngine, PullOptions } from '../docker/engine';
import { cachedImage, cacheTag, CACHE_LABEL, copyFromCache, keepInCache } from '../helper/cache';
import { HelperContainer } from '../helper/container';
import { helperSettings, saltOnSetting, type HelperSettings, type SaltOn } from '../helper/settings';
import { lastLines, onPath } from '../host';
import { debianArch, DebianPackages, extractDeb, hostArch, RuntimeBuildError, SUITE, type BuildPlace, type FetchedPackage } from './debian';
import { helperPlace, hostPlace } from './place';
import { ELF_MACHINE, isElf, readElf } from './elf';
import { CHECK_RUNTIME, STDLIB_ZIP } from './scripts';

/** Bumped when the runtime's layout changes: an older build is then simply not seen. */
const LAYOUT = 1;

/** The Debian packages the runtime is made of (Debian 12 names; the closure check proves them complete). */
const PACKAGES = [
  `python${SUITE.python}-minimal`,
  `libpython${SUITE.python}-minimal`,
  `libpython${SUITE.python}-stdlib`,
  'libc6',
  'zlib1g',
  'libexpat1',
  'libssl3',
  'libffi8',
  'liblzma5',
  'libbz2-1.0',
  'libuuid1',
  'libcrypt1',
];
/** What is enough to run Debian's interpreter on this machine (to compile the standard library). */
const COMPILER_PACKAGES = PACKAGES.slice(0, 6);

/** C extensions left out: tests, and those needing libraries the runtime does not carry (Tk, curses, readline, dbm, sqlite, NIS). */
const SKIPPED_EXTENSIONS = /^(_test|_ctypes_test|_xx|xx|_curses|readline|_dbm|_gdbm|nis|ossaudiodev|audioop|_sqlite3|_lsprof|_tkinter)/;

const TRIPLET: Record<string, string> = { amd64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

/** What PT_INTERP holds until a run puts the bundled loader's absolute path there (a path at most this long). */
export const LOADER_PLACEHOLDER = `/${'salt-containers-bundled-loader-'.padEnd(127, '@')}`;
/** glibc's own libraries: they need nothing beyond each other and are left as Debian built them. */
const GLIBC = /^(ld-linux[^/]*\.so\.\d|libc\.so\.6|libm\.so\.6|libmvec\.so\.1)$/;

export interface RuntimeFile {
  /** Relative to the runtime's root, with forward slashes. */
  path: string;
  mode: number;
  size: number;
}

export interface BundledRuntime {
  /** Docker's and Debian's name: amd64, arm64. */
  arch: string;
  /** The Debian release it comes from. */
  suite: string;
  /** major.minor, e.g. 3.11 (what the thin's bytecode is compiled for). */
  pythonVersion: string;
  /** e.g. 3.11.2 */
  pythonFull: string;
  /** The runtime's root in the cache. */
  root: string;
  /** Every file it ships, sorted (directories are implied). */
  files: RuntimeFile[];
  /** Their total size: what it takes unpacked. */
  bytes: number;
  /** The interpreter, relative to the root. */
  interpreter: string;
  /** glibc's loader, relative to the root (the interpreter's PT_INTERP points at it per run). */
  loader: string;
  /** Where LOADER_PLACEHOLDER sits in the interpreter's bytes. */
  placeholderOffset: number;
  /** Debian packages it is made of, with their versions (their licences are in share/doc). */
  packages: { name: string; version: string }[];
}

export interface RuntimeBuildOptions {
  cacheDir: string;
  signal?: AbortSignal;
  /** A line per step of a build (a build takes about half a minute, once). */
  progress?: (line: string) => void;
  /** The engine whose helper builds it where this machine cannot (see buildsOnEngine). */
  engine?: DockerEngine;
  /** As for the Salt source: `auto` builds here on a Debian-like Linux, else on the engine. */
  saltOn?: SaltOn;
  helpers?: Partial<HelperSettings>;
  onPull?: PullOptions['onProgress'];
  log?: (line: string) => void;
}

function runtimeHome(cacheDir: string): string {
  return join(cacheDir, 'runtime');
}

function runtimeDir(cacheDir: string, arch: string): string {
  return join(runtimeHome(cacheDir), `python${SUITE.python}-${SUITE.codename}-${arch}-v${LAYOUT}`);
}

/** The runtime this cache holds for arch, when its build finished. */
export function cachedRuntime(cacheDir: string, arch: string): BundledRuntime | undefined {
  const meta = join(runtimeDir(cacheDir, arch), 'meta.json');
  if (!existsSync(meta)) return undefined;
  const runtime = JSON.parse(readFileSync(meta, 'utf8')) as Omit<BundledRuntime, 'root'>;
  return { ...runtime, root: join(runtimeDir(cacheDir, arch), 'tree') };
}

/**
 * The argv prefix that runs a runtime on this machine (same architecture only): through its own
 * loader, as its PT_INTERP holds the placeholder until a run fills it in.
 */
export function hostCommand(runtime: BundledRuntime): string[] {
  return [join(runtime.root, runtime.loader), join(runtime.root, runtime.interpreter)];
}

/** Whether the runtime is built on the engine: when asked, or (auto) when this machine is no Debian-like Linux with apt-get and dpkg-deb. */
export function buildsOnEngine(options: Pick<RuntimeBuildOptions, 'engine' | 'saltOn'>): boolean {
  const saltOn = saltOnSetting(options.saltOn);
  if (!options.engine || saltOn === 'host') return false;
  return saltOn === 'engine' || process.platform !== 'linux' || !onPath('apt-get') || !onPath('dpkg-deb');
}

/**
 * The cached runtime for arch, else builds it (Debian's packages, patchelf; about half a minute): on
 * this machine, or in a helper container on the engine (buildsOnEngine), whose result is also kept on
 * the engine as a cache image for the next machine.
 */
export async function buildRuntime(arch: string, options: RuntimeBuildOptions): Promise<BundledRuntime> {
  const cached = cachedRuntime(options.cacheDir, arch);
  if (cached) return cached;
  if (!TRIPLET[arch]) throw new RuntimeBuildError(`no bundled Python for ${arch} containers`, 'The runtime is made for amd64 and arm64; use an image that has python3 for this architecture.');
  const progress = options.progress ?? (() => undefined);
  const home = runtimeHome(options.cacheDir);
  mkdirSync(home, { recursive: true });
  const work = join(home, `.build-${arch}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const engine = options.engine;
    if (engine && buildsOnEngine(options)) {
      const settings = helperSettings(options.helpers);
      const tag = cacheTag(`runtime-python${SUITE.python}-${SUITE.codename}-${arch}-v${LAYOUT}`);
      if (await cachedImage(engine, tag)) {
        progress(`copying the ${arch} runtime from the engine's cache (${tag})`);
        await copyFromCache(engine, tag, HELPER_OUT, join(work, 'out'));
      } else {
        await HelperContainer.use(
          { engine, purpose: `runtime-${arch}`, image: settings.debianImage, imageSetting: 'the saltContainers.helpers.debianImage setting or SALT_CONTAINERS_DEBIAN_IMAGE', settings, signal: options.signal, progress, onPull: options.onPull, log: options.log },
          async (helper) => {
            const helperArch = debianArch((await engine.inspectImage(settings.debianImage)).Architecture) ?? hostArch();
            progress(`building the ${arch} runtime in a helper container from ${settings.debianImage}`);
            const place = helperPlace(helper, helperArch);
            const runtime = await make(place, work, arch, progress);
            progress(`keeping the ${arch} runtime on the engine as ${tag}`);
            await keepInCache(engine, settings.debianImage, join(work, 'out'), HELPER_OUT, tag, { [CACHE_LABEL]: 'runtime', 'salt-containers.runtime-arch': arch, 'salt-containers.python-version': runtime.pythonFull });
          },
        );
      }
    } else {
      await make(hostPlace(work, options.signal), work, arch, progress);
    }
    const dir = runtimeDir(options.cacheDir, arch);
    try {
      renameSync(join(work, 'out'), dir); // atomic: a concurrent build that finished first wins
    } catch {
      if (!cachedRuntime(options.cacheDir, arch)) throw new RuntimeBuildError(`could not store the runtime in ${dir}`, `Remove ${dir} and try again.`);
    }
    const runtime = cachedRuntime(options.cacheDir, arch)!;
    progress(`Python ${runtime.pythonFull} runtime for ${arch}: ${runtime.files.length} files, ${(runtime.bytes / 1e6).toFixed(1)} MB`);
    return runtime;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Where a helper's build leaves the runtime (tree/ and meta.json), as the cache image keeps it. */
const HELPER_OUT = '/salt-containers-runtime/out';

/**
 * The build's steps at a place: Debian's packages fetched and unpacked there, the tree assembled on
 * this machine in `local` (out/tree), patched and its standard library compiled there, then checked
 * here. Writes local out/meta.json and returns what it says.
 */
async function make(place: BuildPlace, local: string, arch: string, progress: (line: string) => void): Promise<Omit<BundledRuntime, 'root'>> {
  const at = (...parts: string[]) => place.join(place.work, ...parts);
  const build = place.arch;
  const apt = new DebianPackages(place, at('apt'), [...new Set([arch, build])], progress);
  const packages = await apt.download(PACKAGES, arch, at('debs', arch));
  const [patchelfDeb] = await apt.download(['patchelf'], build, at('debs', `tools-${build}`));
  progress(`unpacking ${packages.length} packages`);
  for (const p of packages) await extractDeb(place, p.deb, at('root'));
  await extractDeb(place, patchelfDeb.deb, at('tools'));
  const patchelf = at('tools', 'usr', 'bin', 'patchelf');

  const root = join(local, 'root');
  await place.fetch(at('root'), root);
  const tree = join(local, 'out', 'tree');
  const assembled = assemble(root, tree, arch, TRIPLET[arch]);
  const placeTree = at('out', 'tree');
  await place.send(tree, placeTree);
  progress('patching the interpreter and libraries (patchelf: loader path, DT_RPATH)');
  await patch(place, patchelf, placeTree, assembled);

  progress(`compiling Python ${SUITE.python}'s standard library`);
  let compilerRoot = at('root');
  if (arch !== build) {
    // The bytecode is the same on every architecture: the build place's own build of the same Python makes it.
    const hostPackages = await apt.download(COMPILER_PACKAGES, build, at('debs', build));
    compilerRoot = at('host-root');
    for (const p of hostPackages) await extractDeb(place, p.deb, compilerRoot);
  }
  const zipName = `lib/python${SUITE.python.replace('.', '')}.zip`;
  const compiled = JSON.parse(
    await runChecked(place, debianPython(place, compilerRoot, build), ['-I', '-c', STDLIB_ZIP, place.join(at('root'), 'usr', 'lib', `python${SUITE.python}`), place.join(placeTree, zipName)]),
  ) as { python: string; modules: number };
  if (!compiled.python.startsWith(`${SUITE.python}.`)) throw new RuntimeBuildError(`the standard library was compiled by Python ${compiled.python}, not ${SUITE.python}`, 'Remove the runtime cache and try again.');
  if (arch === build) {
    progress('checking the runtime');
    const check = JSON.parse(await runChecked(place, [place.join(placeTree, assembled.loader), place.join(placeTree, 'bin', 'python3')], ['-I', '-c', CHECK_RUNTIME])) as { python: string };
    if (check.python !== compiled.python) throw new RuntimeBuildError(`the runtime says it is Python ${check.python}`, 'Remove the runtime cache and try again.');
  }
  await place.fetch(placeTree, tree);

  const files = listFiles(tree);
  const interpreter = 'bin/python3';
  const pythonBytes = readFileSync(join(tree, interpreter));
  const runtime: Omit<BundledRuntime, 'root'> = {
    arch,
    suite: SUITE.codename,
    pythonVersion: SUITE.python,
    pythonFull: compiled.python,
    files,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    interpreter,
    loader: assembled.loader,
    placeholderOffset: pythonBytes.indexOf(LOADER_PLACEHOLDER, 0, 'latin1'),
    packages: packages.map((p: FetchedPackage) => ({ name: p.name, version: p.version })),
  };
  checkElves(tree, files, arch);
  if (runtime.placeholderOffset < 0) throw new RuntimeBuildError('the interpreter lost its loader placeholder', 'Remove the runtime cache and try again.');
  writeFileSync(join(local, 'out', 'meta.json'), JSON.stringify(runtime, null, 1));
  return runtime;
}

/** glibc's loader by Debian architecture (what libc6 installs in /lib/TRIPLET). */
const LOADER: Record<string, string> = { amd64: 'ld-linux-x86-64.so.2', arm64: 'ld-linux-aarch64.so.1' };

/** argv that runs an unpacked Debian python3.X through that Debian's loader (it runs at the place, of its architecture). */
function debianPython(place: BuildPlace, root: string, arch: string): string[] {
  const triplet = TRIPLET[arch];
  const libs = [place.join(root, 'lib', triplet), place.join(root, 'usr', 'lib', triplet)];
  return [place.join(libs[0], LOADER[arch]), '--library-path', libs.join(':'), place.join(root, 'usr', 'bin', `python${SUITE.python}`)];
}

async function runChecked(place: BuildPlace, argv: string[], args: string[]): Promise<string> {
  const result = await place.run(argv[0], [...argv.slice(1), ...args]);
  if (result.code !== 0) throw new RuntimeBuildError(`${posix.basename(argv[argv.length - 1])} failed: ${lastLines(result.output)}`, 'Remove the runtime cache and try again.');
  return result.stdout.trim().split('\n').pop() ?? '';
}

interface Assembled {
  loader: string;
  /** ELF files to give a DT_RPATH, with the one each gets. */
  rpaths: [string, string][];
}

/** Copies the interpreter, the C extensions and the closure of their libraries from root into tree. */
function assemble(root: string, tree: string, arch: string, triplet: string): Assembled {
  const libDirs = [join('lib', triplet), join('usr', 'lib', triplet), 'lib', 'usr/lib'];
  /** Follows symlinks inside root (an absolute target is root-relative); undefined when absent. */
  const resolve = (path: string): string | undefined => {
    for (let hops = 0; hops < 20; hops++) {
      let stats;
      try {
        stats = lstatSync(path);
      } catch {
        return undefined;
      }
      if (!stats.isSymbolicLink()) return path;
      const target = readlinkSync(path);
      path = target.startsWith('/') ? join(root, target) : join(dirname(path), target);
    }
    return undefined;
  };
  const copy = (from: string, to: string, mode?: number) => {
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    chmodSync(to, mode ?? statSync(from).mode & 0o777);
  };
  const python = join(root, 'usr', 'bin', `python${SUITE.python}`);
  const interp = readElf(python).interpreter;
  if (!interp) throw new RuntimeBuildError(`python${SUITE.python} has no program interpreter`, 'Remove the runtime cache and try again.');
  copy(python, join(tree, 'bin', 'python3'), 0o755);
  const rpaths: [string, string][] = [['bin/python3', '$ORIGIN/../lib']];
  const dynload = join('lib', `python${SUITE.python}`, 'lib-dynload');
  const wanted = [python];
  for (const name of readdirSync(join(root, 'usr', dynload)).sort()) {
    if (!name.endsWith('.so') || SKIPPED_EXTENSIONS.test(name)) continue;
    copy(join(root, 'usr', dynload, name), join(tree, dynload, name));
    wanted.push(join(root, 'usr', dynload, name));
    rpaths.push([`${dynload}/${name}`, '$ORIGIN/../..']);
  }
  // The libraries, by soname, until nothing new is needed.
  const copied = new Set<string>();
  while (wanted.length) {
    const needed = readElf(wanted.pop()!).needed;
    for (const soname of needed) {
      if (copied.has(soname)) continue;
      const found = libDirs.map((d) => resolve(join(root, d, soname))).find(Boolean);
      if (!found) throw new RuntimeBuildError(`the runtime needs ${soname}, which none of its Debian packages has (${arch})`, 'Add its package to the runtime (src/engine/runtime/build.ts PACKAGES).');
      copy(found, join(tree, 'lib', soname));
      copied.add(soname);
      wanted.push(found);
      if (!GLIBC.test(soname) && readElf(found).needed.some((n) => !GLIBC.test(n))) rpaths.push([`lib/${soname}`, '$ORIGIN']);
    }
  }
  const loader = `lib/${posix.basename(interp)}`;
  if (!copied.has(posix.basename(interp))) throw new RuntimeBuildError(`glibc's loader ${interp} is not in the runtime`, 'Remove the runtime cache and try again.');
  // Licences of what it ships: each package's Debian copyright file.
  for (const name of PACKAGES) {
    const copyright = resolve(join(root, 'usr', 'share', 'doc', name, 'copyright'));
    if (copyright) copy(copyright, join(tree, 'share', 'doc', name, 'copyright'), 0o644);
  }
  return { loader, rpaths };
}

/** patchelf: the interpreter's loader placeholder and every DT_RPATH (--force-rpath: RPATH, not RUNPATH). */
async function patch(place: BuildPlace, patchelf: string, tree: string, assembled: Assembled): Promise<void> {
  await runChecked(place, [patchelf], ['--set-interpreter', LOADER_PLACEHOLDER, place.join(tree, 'bin', 'python3')]);
  for (const [file, rpath] of assembled.rpaths) await runChecked(place, [patchelf], ['--force-rpath', '--set-rpath', rpath, place.join(tree, ...file.split('/'))]);
}

/** Every ELF file is for arch and none has a RUNPATH (LD_LIBRARY_PATH would come before it). */
function checkElves(tree: string, files: RuntimeFile[], arch: string): void {
  for (const file of files) {
    const bytes = readFileSync(join(tree, file.path));
    if (!isElf(bytes)) continue;
    const elf = readElf(bytes);
    if (elf.machine !== ELF_MACHINE[arch]) throw new RuntimeBuildError(`${file.path} is not an ${arch} ELF file`, 'Remove the runtime cache and try again.');
    if (elf.runpath) throw new RuntimeBuildError(`${file.path} has a RUNPATH`, 'Remove the runtime cache and try again.');
  }
}

function listFiles(tree: string): RuntimeFile[] {
  const files: RuntimeFile[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stats = lstatSync(path);
      if (stats.isDirectory()) visit(path);
      else files.push({ path: relative(tree, path).split('\\').join('/'), mode: stats.mode & 0o777, size: stats.size });
    }
  };
  visit(tree);
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}
