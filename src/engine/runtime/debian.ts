/**
 * Debian's packages, for any architecture, fetched by the build place's own apt-get (this machine's,
 * or a helper container's: place.ts) into an apt state of our own (its own sources list, package lists
 * and an empty dpkg status): no root, nothing changed in the place's apt or dpkg (no `dpkg
 * --add-architecture`), and the same for amd64 and arm64. Unpacked with dpkg-deb, never installed.
 */
import { HostWorkError, lastLines } from '../host';

/** The Debian release the runtime is made from: its Python and its glibc. */
export const SUITE = { codename: 'bookworm', python: '3.11' } as const;
const MIRROR = 'http://deb.debian.org/debian';
const SECURITY = 'http://deb.debian.org/debian-security';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** Why the runtime could not be built, and what to do. */
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

/**
 * Where the build's Linux programs run and its folders are (place.ts makes one: this machine, or a
 * helper container); Debian's packages are fetched and unpacked there. Declared here, below place.ts,
 * which needs this module's hostArch and RuntimeBuildError.
 */
export interface BuildPlace {
  /** Debian's name for the place's architecture: the programs it runs are of it. */
  arch: string;
  /** A folder of the place to work in. */
  work: string;
  /** Joins the place's paths (POSIX in a helper, whatever this machine uses here). */
  join(...parts: string[]): string;
  /** Runs a program there; `missing` says what to do when it does not exist. */
  run(program: string, args: string[], options?: { cwd?: string; missing?: { message: string; hint: string } }): Promise<{ code: number | null; output: string; stdout: string }>;
  mkdir(dir: string): Promise<void>;
  writeFile(path: string, content: string): Promise<void>;
  list(dir: string): Promise<string[]>;
  /** Brings the place's folder `from` to this machine's `to` (its content). */
  fetch(from: string, to: string): Promise<void>;
  /** Sends this machine's folder `from` to the place's `to` (its content; `to` is made). */
  send(from: string, to: string): Promise<void>;
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

  /** dir: this apt state's home (a folder of the place); arches: the architectures to list packages for. */
  constructor(
    private readonly place: BuildPlace,
    readonly dir: string,
    readonly arches: string[],
    private readonly progress: (line: string) => void = () => undefined,
  ) {
    this.etc = place.join(dir, 'etc');
    this.state = place.join(dir, 'state');
  }

  /** apt-get's options that point every path at our own state. */
  private options(): string[] {
    const o = (name: string, value: string) => ['-o', `${name}=${value}`];
    const join = this.place.join;
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
    const result = await this.place.run('apt-get', [...this.options(), '-q', ...args], {
      cwd,
      missing: { message: "building the Python runtime needs Debian's apt-get", hint: 'Build it on Debian or Ubuntu (apt-get, dpkg-deb), let the engine build it (saltOn: auto or engine), or use an image that has python3.' },
    });
    if (result.code !== 0) {
      throw new RuntimeBuildError(`apt-get ${args[0]} failed: ${lastLines(result.output)}`, `Check that this machine reaches Debian's mirror (${MIRROR}).`);
    }
    return result.output;
  }

  /** Fetches the package lists of our suite (a few seconds), once per object. */
  async update(): Promise<void> {
    if (this.updated) return;
    const join = this.place.join;
    for (const sub of ['sources.list.d', 'preferences.d']) await this.place.mkdir(join(this.etc, sub));
    await this.place.mkdir(join(this.state, 'lists', 'partial'));
    await this.place.mkdir(join(this.dir, 'cache', 'archives', 'partial'));
    const signed = `[signed-by=${KEYRING}]`;
    const { codename } = SUITE;
    await this.place.writeFile(
      join(this.etc, 'sources.list'),
      [`deb ${signed} ${MIRROR} ${codename} main`, `deb ${signed} ${MIRROR} ${codename}-updates main`, `deb ${signed} ${SECURITY} ${codename}-security main`, ''].join('\n'),
    );
    await this.place.writeFile(join(this.state, 'status'), '');
    this.progress(`fetching Debian ${codename}'s package lists (${this.arches.join(', ')})`);
    await this.apt(['update']);
    this.updated = true;
  }

  /** Downloads the newest version of each package for arch into dir (apt-get download). */
  async download(packages: string[], arch: string, dir: string): Promise<FetchedPackage[]> {
    await this.update();
    await this.place.mkdir(dir);
    this.progress(`downloading ${packages.length} Debian packages (${arch})`);
    await this.apt(['download', ...packages.map((name) => `${name}:${arch}`)], dir);
    const debs = (await this.place.list(dir)).filter((f) => f.endsWith('.deb'));
    return packages.map((name) => {
      // Debian names a .deb NAME_VERSION_ARCH.deb, with the version's epoch colon escaped as %3a.
      const deb = debs.find((f) => f.startsWith(`${name}_`) && (f.endsWith(`_${arch}.deb`) || f.endsWith('_all.deb')));
      if (!deb) throw new RuntimeBuildError(`apt-get download did not fetch ${name}:${arch}`, `Check that Debian ${SUITE.codename} has ${name} for ${arch}.`);
      const version = decodeURIComponent(deb.slice(name.length + 1, deb.lastIndexOf('_')));
      return { name, version, arch, deb: this.place.join(dir, deb) };
    });
  }
}

/** Unpacks a .deb's files under root, at the place (dpkg-deb -x: no scripts run, nothing installed). */
export async function extractDeb(place: BuildPlace, deb: string, root: string): Promise<void> {
  await place.mkdir(root);
  const result = await place.run('dpkg-deb', ['-x', deb, root], {
    missing: { message: 'building the Python runtime needs dpkg-deb', hint: 'Build it on Debian or Ubuntu, let the engine build it (saltOn: auto or engine), or use an image that has python3.' },
  });
  if (result.code !== 0) throw new RuntimeBuildError(`dpkg-deb could not unpack ${deb}: ${lastLines(result.output)}`, 'Remove the runtime cache and try again.');
}
