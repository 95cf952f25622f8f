/**
 * Which Python runs Salt in a container, and where the bundled one can go: pure decisions over what
 * the engine and a probe of the container saw, so the one-shot run and a warm session choose alike.
 */
import type Docker from 'dockerode';

/** The `saltContainers.pythonRuntime` setting and the CLI's `--python`. */
export type PythonRuntimeSetting = 'auto' | 'container' | 'bundled';
export const PYTHON_RUNTIME_SETTINGS: readonly PythonRuntimeSetting[] = ['auto', 'container', 'bundled'];

/**
 * The oldest Python a Salt release's thin runs on. Measured: Salt 3008.4's thin stops at import on
 * 3.9 (its tornado 6.5 evaluates `str | bytes` annotations) and on 3.8 (`dict[str, Any]`); it runs
 * on 3.10. Older Salt follows the Python releases the PSF supported when it came out.
 */
export function minimumPython(saltVersion: string): string {
  const major = Number.parseInt(saltVersion, 10);
  if (major >= 3008) return '3.10';
  if (major >= 3006) return '3.8';
  return '3.6';
}

/** a >= b for major.minor versions. */
export function versionAtLeast(a: string, b: string): boolean {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am !== bm ? am > bm : an >= bn;
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
  saltVersion: string;
  /** minimumPython(saltVersion) */
  minimum: string;
}

/**
 * The container's Python when it is one the Salt source supports, else the bundled runtime; forced
 * either way by the setting. `seen` lists the container's candidates in the order they were tried.
 */
export function chooseRuntime(setting: PythonRuntimeSetting, seen: readonly PythonSeen[], context: ChoiceContext): RuntimeChoice {
  if (setting === 'bundled') return { kind: 'bundled', reason: 'the python runtime setting asks for it (bundled)' };
  const usable = seen.find((p) => p.version && versionAtLeast(p.version, context.minimum));
  if (usable) return { kind: 'container', python: usable.python, version: usable.version! };
  const old = seen.find((p) => p.version);
  const why = old
    ? `the container's Python ${old.version} (${old.python}) is older than Salt ${context.saltVersion} supports (${context.minimum} or newer)`
    : 'the container has no Python 3';
  if (setting === 'auto') return { kind: 'bundled', reason: why };
  return {
    kind: 'none',
    message: old ? `image ${context.image}: ${why}` : `image ${context.image} has no Python 3`,
    hint: `The python runtime setting is "container" (--python container): set it to "auto" or "bundled" and Salt Containers brings its own Python, or install python3 (${context.minimum} or newer) in the image.`,
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
