/**
 * Debian's packages, for any architecture, fetched by this machine's own apt-get into an apt state of
 * our cache (its own sources list, package lists and an empty dpkg status): no root, nothing changed
 * in the host's apt or dpkg (no `dpkg --add-architecture`), and the same for amd64 and arm64.
 * Unpacked with dpkg-deb, never installed.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostProgramCancelled, HostWorkError, lastLines, runHostProgram } from '../host';

/** The Debian release the runtime is made from: its Python and its glibc. */
export const SUITE = { codename: 'bookworm', python: '3.11' } as const;
const MIRROR = 'http://deb.debian.org/debian';
const SECURITY = 'http://deb.debian.org/debian-security';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** Why the runtime could not be built, and what to do. */
/**
 * A host program of the runtime's build: a cancel is the build's cancel; a program that cannot start is
 * `missing` (what the build needs, and where to get it) when given, else thrown as it is.
 */
export async function runBuildProgram(program: string, args: string[], options: { signal?: AbortSignal; cwd?: string }, missing?: { message: string; hint: string }): ReturnType<typeof runHostProgram> {
  try {
    return await runHostProgram(program, args, options);
  } catch (error) {
    if (error instanceof HostProgramCancelled) throw new RuntimeBuildError('building the Python runtime was cancelled', 'Nothing was kept.', true);
    if (missing) throw new RuntimeBuildError(`${missing.message}: ${(error as Error).message}`, missing.hint);
    throw error;
  }
}

export class RuntimeBuildError extends HostWorkError {
  override name = 'RuntimeBuildError';
}

/** Docker's architecture names (image `Architecture`) for Debian's. */
const DEBIAN_ARCH: Record<string, string> = { amd64: 'amd64', arm64: 'arm64' };

/** Debian's name for a Docker architecture, or undefined when the runtime is not made for it. */
export function debianArch(dockerArch: string): string | undefined {
  return DEBIAN_ARCH[dockerArch];
}

/** This machine's architecture, as Docker and Debian name it. */
export function hostArch(): string {
  return { x64: 'amd64', arm64: 'arm64' }[process.arch as string] ?? process.arch;
}

export interface FetchedPackage {
  name: string;
  version: string;
  arch: string;
  deb: string;
}

export class DebianPackages {
  private readonly etc: string;
  private readonly state: string;
  private updated = false;

  /** dir: this apt state's home (under the cache); arches: the architectures to list packages for. */
  constructor(
    readonly dir: string,
    readonly arches: string[],
    private readonly signal?: AbortSignal,
    private readonly progress: (line: string) => void = () => undefined,
  ) {
    this.etc = join(dir, 'etc');
    this.state = join(dir, 'state');
  }

  /** apt-get's options that point every path at our own state. */
  private options(): string[] {
    const o = (name: string, value: string) => ['-o', `${name}=${value}`];
    return [
      ...o('Dir::State', this.state),
      ...o('Dir::State::status', join(this.state, 'status')),
      ...o('Dir::Cache', join(this.dir, 'cache')),
      ...o('Dir::Etc::SourceList', join(this.etc, 'sources.list')),
      ...o('Dir::Etc::SourceParts', join(this.etc, 'sources.list.d')),
      ...o('Dir::Etc::Preferences', join(this.etc, 'preferences')),
      ...o('Dir::Etc::PreferencesParts', join(this.etc, 'preferences.d')),
      ...o('APT::Architecture', this.arches[0]),
      ...this.arches.flatMap((arch) => o('APT::Architectures::', arch)),
      ...o('APT::Sandbox::User', 'root'),
      ...o('Debug::NoLocking', '1'),
    ];
  }

  private async apt(args: string[], cwd?: string): Promise<string> {
    const result = await runBuildProgram('apt-get', [...this.options(), '-q', ...args], { signal: this.signal, cwd }, {
      message: "building the Python runtime needs Debian's apt-get on this machine",
      hint: 'Build it on Debian or Ubuntu (apt-get, dpkg-deb), or use an image that has python3.',
    });
    if (result.code !== 0) {
      throw new RuntimeBuildError(`apt-get ${args[0]} failed: ${lastLines(result.output)}`, `Check that this machine reaches Debian's mirror (${MIRROR}).`);
    }
    return result.output;
  }

  /** Fetches the package lists of our suite (a few seconds), once per object. */
  async update(): Promise<void> {
    if (this.updated) return;
    for (const sub of ['sources.list.d', 'preferences.d']) mkdirSync(join(this.etc, sub), { recursive: true });
    mkdirSync(join(this.state, 'lists', 'partial'), { recursive: true });
    mkdirSync(join(this.dir, 'cache', 'archives', 'partial'), { recursive: true });
    const signed = `[signed-by=${KEYRING}]`;
    const { codename } = SUITE;
    writeFileSync(
      join(this.etc, 'sources.list'),
      [`deb ${signed} ${MIRROR} ${codename} main`, `deb ${signed} ${MIRROR} ${codename}-updates main`, `deb ${signed} ${SECURITY} ${codename}-security main`, ''].join('\n'),
    );
    if (!existsSync(join(this.state, 'status'))) writeFileSync(join(this.state, 'status'), '');
    this.progress(`fetching Debian ${codename}'s package lists (${this.arches.join(', ')})`);
    await this.apt(['update']);
    this.updated = true;
  }

  /** Downloads the newest version of each package for arch into dir (apt-get download). */
  async download(packages: string[], arch: string, dir: string): Promise<FetchedPackage[]> {
    await this.update();
    mkdirSync(dir, { recursive: true });
    this.progress(`downloading ${packages.length} Debian packages (${arch})`);
    await this.apt(['download', ...packages.map((name) => `${name}:${arch}`)], dir);
    const debs = readdirSync(dir).filter((f) => f.endsWith('.deb'));
    return packages.map((name) => {
      // Debian names a .deb NAME_VERSION_ARCH.deb, with the version's epoch colon escaped as %3a.
      const deb = debs.find((f) => f.startsWith(`${name}_`) && (f.endsWith(`_${arch}.deb`) || f.endsWith('_all.deb')));
      if (!deb) throw new RuntimeBuildError(`apt-get download did not fetch ${name}:${arch}`, `Check that Debian ${SUITE.codename} has ${name} for ${arch}.`);
      const version = decodeURIComponent(deb.slice(name.length + 1, deb.lastIndexOf('_')));
      return { name, version, arch, deb: join(dir, deb) };
    });
  }
}

/** Unpacks a .deb's files under root (dpkg-deb -x: no scripts run, nothing installed). */
export async function extractDeb(deb: string, root: string, signal?: AbortSignal): Promise<void> {
  mkdirSync(root, { recursive: true });
  const result = await runBuildProgram('dpkg-deb', ['-x', deb, root], { signal }, { message: 'building the Python runtime needs dpkg-deb on this machine', hint: 'Build it on Debian or Ubuntu, or use an image that has python3.' });
  if (result.code !== 0) throw new RuntimeBuildError(`dpkg-deb could not unpack ${deb}: ${lastLines(result.output)}`, 'Remove the runtime cache and try again.');
}
