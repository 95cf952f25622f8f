/**
 * Which Python runs Salt in a container, and where the bundled one can go: pure decisions over what
 * the engine and a probe of the container saw, so the one-shot run and a warm session choose alike.
 */
import type Docker from 'dockerode';

/** The `saltContainers.pythonRuntime` setting and the CLI's `--python`. */
export type PythonRuntimeSetting = 'auto' | 'container' | 'bundled';
export const PYTHON_RUNTIME_SETTINGS: readonly PythonRuntimeSetting[] = ['auto', 'container', 'bundled'];

/**
 * The oldest Python a Salt release's thin runs on, when its thin says nothing of its packages (a thin
 * made before they were recorded). Measured: Salt 3008.4's thin stops at import on 3.9 (its tornado
 * evaluates `str | bytes` annotations) and on 3.8 (`dict[str, Any]`); it runs on 3.10. Older Salt
 * follows the Python releases the PSF supported when it came out.
 */
export function minimumPython(saltVersion: string): string {
  const major = Number.parseInt(saltVersion, 10);
  if (major >= 3008) return '3.10';
  if (major >= 3006) return '3.8';
  return '3.6';
}

/**
 * The newest Python any Salt is known to run on: the support matrix (test/integration/support.test.ts)
 * passes 3006, 3007 and 3008 on 3.13. A newer one in a container is not trusted with Salt (a newer
 * Python removes modules and deprecated APIs Salt's code still uses): the bundled runtime runs it.
 */
export const NEWEST_PYTHON = '3.13';

/** a >= b for major.minor versions. */
export function versionAtLeast(a: string, b: string): boolean {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am !== bm ? am > bm : an >= bn;
}

/** One top-level package of a thin, as its generator recorded it (salt/scripts.ts GENERATE_THIN). */
export interface ThinPackage {
  /** Its import name (a folder or module of the thin's py3/ or pyall/). */
  name: string;
  /** The distribution it came from, when the Salt venv has one for it (Salt's own stand-in modules have none). */
  dist?: string;
  version?: string;
  /** Its distribution's Requires-Python (PEP 440 specifiers), when it states one. */
  requiresPython?: string | null;
  /** ABI tags of the compiled files it was installed with (cpython-311, abi3); the thin leaves them out. */
  compiled: string[];
  /** It imports without its compiled files (a pure-Python fallback). */
  pure: boolean;
}

/** What the choice of a Python knows of a thin: Salt's version and, from its meta, its packages. */
export interface ThinFacts {
  saltVersion: string;
  packages?: readonly ThinPackage[];
}

/** The Python minor versions the rule is asked about: every CPython 3 that exists or may soon. */
const PYTHON_MINORS = Array.from({ length: 21 }, (_, i) => `3.${i}`);

/**
 * Whether major.minor `version` satisfies one PEP 440 specifier set (`>=3.9, !=3.9.0`). A minor
 * stands for its newest patch release (3.9 as 3.9.999): the patch of a container's Python is not
 * known before it runs, and a patch excluded by `!=` is an old one. Unknown operators satisfy.
 */
export function satisfies(version: string, specifiers: string): boolean {
  const have = [...version.split('.').map(Number), 999];
  const cmp = (want: number[]): number => {
    for (let i = 0; i < Math.max(have.length, want.length); i++) {
      const d = (have[i] ?? 0) - (want[i] ?? 0);
      if (d) return Math.sign(d);
    }
    return 0;
  };
  return specifiers
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((spec) => {
      const m = /^(~=|===|==|!=|<=|>=|<|>)\s*([0-9][0-9.]*)(\.\*)?$/.exec(spec);
      if (!m) return true;
      const [, op, text, star] = m;
      const want = text.replace(/\.$/, '').split('.').map(Number);
      if (star) {
        const same = want.every((n, i) => have[i] === n);
        return op === '!=' ? !same : same;
      }
      const c = cmp(want);
      switch (op) {
        case '>=':
          return c >= 0;
        case '>':
          return c > 0;
        case '<=':
          return c <= 0;
        case '<':
          return c < 0;
        case '!=':
          return c !== 0;
        case '~=':
          return c >= 0 && want.slice(0, -1).every((n, i) => have[i] === n);
        default:
          return c === 0;
      }
    });
}

/**
 * Why a Python of major.minor `version` cannot run this thin, or undefined when it can: Salt and every
 * package of the thin must support it (each one's own Requires-Python), a package that does not run
 * without its compiled files needs the Python they were built for, and no Python newer than any Salt
 * is known to run on is trusted. A thin whose packages are unknown falls back to minimumPython.
 */
export function whyNotPython(facts: ThinFacts, version: string): string | undefined {
  if (!facts.packages) return versionAtLeast(version, minimumPython(facts.saltVersion)) ? undefined : `Salt ${facts.saltVersion} needs Python ${minimumPython(facts.saltVersion)} or newer`;
  const reasons: string[] = [];
  if (!versionAtLeast(NEWEST_PYTHON, version)) reasons.push(`Python ${version} is newer than any Salt is known to run on (${NEWEST_PYTHON})`);
  for (const p of facts.packages) {
    const label = p.dist ? `${p.dist} ${p.version ?? ''}`.trim() : p.name;
    if (p.requiresPython && !satisfies(version, p.requiresPython)) reasons.push(`${label} requires Python ${p.requiresPython.replace(/\s+/g, '')}`);
    const built = p.compiled.map((tag) => /^cpython-(\d)(\d+)$/.exec(tag)).filter((m): m is RegExpExecArray => m !== null).map((m) => `${m[1]}.${m[2]}`);
    if (!p.pure && built.length && !built.includes(version)) reasons.push(`${label} runs only with its compiled files, built for Python ${built.join(', ')}`);
  }
  return reasons.length ? reasons.join('; ') : undefined;
}

/** Which Pythons can run a thin, and why another cannot: what the choice and the entry point are given. */
export interface PythonRule {
  saltVersion: string;
  /** The major.minor versions that can run it, oldest first (the entry point refuses the others). */
  accepted: string[];
  whyNot(version: string): string | undefined;
  /** Why an accepted one can, for the run's log. */
  because: string;
}

export function pythonRule(facts: ThinFacts): PythonRule {
  const accepted = PYTHON_MINORS.filter((v) => !whyNotPython(facts, v));
  const n = facts.packages?.length;
  return {
    saltVersion: facts.saltVersion,
    accepted,
    whyNot: (version) => whyNotPython(facts, version),
    because: n ? `Salt ${facts.saltVersion} and the ${n} packages of its thin support it (${describeVersions(accepted)})` : `Salt ${facts.saltVersion} supports it`,
  };
}

/** 3.10 to 3.13, for messages. */
export function describeVersions(versions: readonly string[]): string {
  if (!versions.length) return 'no Python';
  return versions.length === 1 ? `Python ${versions[0]}` : `Python ${versions[0]} to ${versions[versions.length - 1]}`;
}

/** One Python a probe of the container tried: its command, and its major.minor when it ran. */
export interface PythonSeen {
  python: string;
  version?: string;
}

export type RuntimeChoice =
  | { kind: 'container'; python: string; version: string }
  | { kind: 'bundled'; reason: string }
  | { kind: 'none'; message: string; hint: string };

export interface ChoiceContext {
  image: string;
  rule: PythonRule;
}

/**
 * The container's Python when it is one that can run the thin (pythonRule), else the bundled runtime;
 * forced either way by the setting. `seen` lists the container's candidates in the order they were tried.
 */
export function chooseRuntime(setting: PythonRuntimeSetting, seen: readonly PythonSeen[], context: ChoiceContext): RuntimeChoice {
  if (setting === 'bundled') return { kind: 'bundled', reason: 'the python runtime setting asks for it (bundled)' };
  const { rule } = context;
  const usable = seen.find((p) => p.version && !rule.whyNot(p.version));
  if (usable) return { kind: 'container', python: usable.python, version: usable.version! };
  const old = seen.find((p) => p.version);
  const why = old ? `the container's Python ${old.version} (${old.python}) cannot run Salt ${rule.saltVersion}'s thin: ${rule.whyNot(old.version!)}` : 'the container has no Python 3';
  if (setting === 'auto') return { kind: 'bundled', reason: why };
  return {
    kind: 'none',
    message: old ? `image ${context.image}: ${why}` : `image ${context.image} has no Python 3`,
    hint: `The python runtime setting is "container" (--python container): set it to "auto" or "bundled" and Salt Containers brings its own Python, or install python3 (${describeVersions(rule.accepted)}) in the image.`,
  };
}

/** Where the bundled runtime can go in a container: directories of its root filesystem, best first. */
export type RuntimePlaces = { parents: string[] } | { readOnly: true };

/**
 * Directories on the container's root filesystem, not under a mount: /tmp, /var/tmp, else /. An
 * upload into a tmpfs or volume mount writes beside it where the container cannot see it
 * (moby#22020), and tmpfs and /dev/shm are noexec. A read-only root filesystem has no such place.
 */
export function runtimePlaces(details: Pick<Docker.ContainerInspectInfo, 'Mounts' | 'HostConfig'>): RuntimePlaces {
  const host = details.HostConfig as Docker.HostConfig & { ReadonlyRootfs?: boolean; Tmpfs?: Record<string, string> };
  if (host?.ReadonlyRootfs) return { readOnly: true };
  const mounts = [
    ...(details.Mounts ?? []).map((m) => m.Destination),
    ...Object.keys(host?.Tmpfs ?? {}),
    ...(host?.Mounts ?? []).map((m) => m.Target),
  ].map((m) => m.replace(/\/+$/, '') || '/');
  const underMount = (dir: string) => mounts.some((m) => m !== '/' && (dir === m || dir.startsWith(`${m}/`)));
  return { parents: ['/tmp', '/var/tmp', '/'].filter((dir) => dir === '/' || !underMount(dir)) };
}
