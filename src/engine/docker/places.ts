/**
 * The places engines put their API on a machine when nothing names one: the local socket, then the
 * desktops' (Docker Desktop, OrbStack, Colima, Rancher Desktop), rootless Docker, Podman (rootless,
 * rootful, a Podman machine's), and on Windows the named pipes. One ordered list serves both the
 * default choice (the first place that is there) and the views' listing (every place that is there).
 * Pure over a LocalMachine (environment, home, platform, file checks) so tests can lay out any machine.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { posix } from 'node:path';
import { DEFAULT_SOCKET } from './endpoint';

/** The machine as discovery sees it: what is set, where home is, and what is on disk. */
export interface LocalMachine {
  env: NodeJS.ProcessEnv;
  home: string;
  platform: NodeJS.Platform;
  /** Whether an engine listens at this path (a unix socket's path, or a pipe's `//./pipe/NAME`). */
  exists: (path: string) => boolean;
  /** The names in a folder ([] when it is not there): Colima's profiles, Podman machines. */
  list: (dir: string) => string[];
  /** For the rootless runtime folder when XDG_RUNTIME_DIR is unset (/run/user/UID). */
  uid: number;
}

export interface EnginePlace {
  /** A short name for people, the views' label: 'Docker Desktop', 'Colima (work)', 'Podman (rootless)'. */
  label: string;
  /** The address as DOCKER_HOST spells it. */
  host: string;
  /** How an endpoint found here was chosen, for people: "Docker Desktop's socket". */
  source: string;
  /** Podman's (the podman setting lists these). */
  podman?: boolean;
}

/** Docker's own socket, the first place looked at and the default when no place is there. */
const LOCAL_SOCKET: EnginePlace = { label: 'Docker', host: DEFAULT_SOCKET, source: 'the local socket' };

function isListening(path: string, platform: NodeJS.Platform): boolean {
  try {
    // A pipe is no socket to stat; elsewhere a leftover plain file is not an engine.
    return platform === 'win32' ? existsSync(path.replace(/\//g, '\\')) : statSync(path).isSocket();
  } catch {
    return false;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** This machine, with parts replaced (tests lay out another). */
export function localMachine(parts: Partial<LocalMachine> = {}): LocalMachine {
  const env = parts.env ?? process.env;
  const platform = parts.platform ?? process.platform;
  return {
    env,
    platform,
    home: parts.home ?? (env.HOME || homedir()),
    exists: parts.exists ?? ((path) => isListening(path, platform)),
    list: parts.list ?? listDir,
    // process.getuid, not userInfo(): that throws for a uid without a passwd entry (common in containers).
    uid: parts.uid ?? process.getuid?.() ?? 0,
  };
}

/** Colima's profiles, COLIMA_PROFILE (default `default`) first, each with its socket. */
function colimaPlaces(machine: LocalMachine): EnginePlace[] {
  const dir = machine.env.COLIMA_HOME || posix.join(machine.home, '.colima');
  const first = machine.env.COLIMA_PROFILE || 'default';
  const profiles = [first, ...machine.list(dir).filter((name) => name !== first && !name.startsWith('_'))];
  return profiles.map((profile) => ({
    label: profile === 'default' ? 'Colima' : `Colima (${profile})`,
    host: `unix://${posix.join(dir, profile, 'docker.sock')}`,
    source: profile === 'default' ? 'Colima\'s socket' : `Colima's socket (profile ${profile})`,
  }));
}

/**
 * A Podman machine's API socket on macOS: Podman 5 forwards it to $TMPDIR/podman/NAME-api.sock,
 * Podman 4 to ~/.local/share/containers/podman/machine/NAME/podman.sock (`podman machine inspect`
 * prints it as ConnectionInfo.PodmanSocket.Path). The default machine first.
 */
function podmanMachinePlaces(machine: LocalMachine): EnginePlace[] {
  const named = (name: string) => (name === 'podman-machine-default' ? 'Podman machine' : `Podman machine (${name})`);
  const place = (name: string, path: string): EnginePlace => ({ label: named(name), host: `unix://${path}`, source: `${named(name)}'s socket`, podman: true });
  const defaultFirst = (names: string[]) => ['podman-machine-default', ...names.filter((n) => n !== 'podman-machine-default')];
  const tmp = posix.join(machine.env.TMPDIR || '/tmp', 'podman');
  const apiSockets = machine.list(tmp).filter((name) => name.endsWith('-api.sock')).map((name) => name.slice(0, -'-api.sock'.length));
  const machines = posix.join(machine.home, '.local', 'share', 'containers', 'podman', 'machine');
  return [
    ...defaultFirst(apiSockets).map((name) => place(name, posix.join(tmp, `${name}-api.sock`))),
    ...defaultFirst(machine.list(machines)).map((name) => place(name, posix.join(machines, name, 'podman.sock'))),
  ];
}

/**
 * Every place an engine may be, in the order they are tried: Docker's (the local socket, Docker
 * Desktop's, rootless Docker's), the other desktops', then Podman's. On Windows the named pipes only.
 */
export function enginePlaces(machine: LocalMachine): EnginePlace[] {
  if (machine.platform === 'win32') {
    return [
      // Docker Desktop's (Rancher Desktop's too): the docker CLI's default there.
      { label: 'Docker', host: 'npipe:////./pipe/docker_engine', source: 'Docker\'s named pipe' },
      { label: 'Podman machine', host: 'npipe:////./pipe/podman-machine-default', source: 'Podman machine\'s named pipe', podman: true },
    ];
  }
  const home = (...parts: string[]) => `unix://${posix.join(machine.home, ...parts)}`;
  const runtimeDir = machine.env.XDG_RUNTIME_DIR || `/run/user/${machine.uid}`;
  return [
    LOCAL_SOCKET,
    // Since 4.13 on macOS (the old socket needs the "allow the default Docker socket" option); on Linux its own folder.
    { label: 'Docker Desktop', host: home('.docker', 'run', 'docker.sock'), source: 'Docker Desktop\'s socket' },
    { label: 'Docker Desktop', host: home('.docker', 'desktop', 'docker.sock'), source: 'Docker Desktop\'s socket' },
    { label: 'Docker (rootless)', host: `unix://${posix.join(runtimeDir, 'docker.sock')}`, source: 'rootless Docker\'s socket' },
    { label: 'OrbStack', host: home('.orbstack', 'run', 'docker.sock'), source: 'OrbStack\'s socket' },
    ...colimaPlaces(machine),
    { label: 'Rancher Desktop', host: home('.rd', 'docker.sock'), source: 'Rancher Desktop\'s socket' },
    { label: 'Podman (rootless)', host: `unix://${posix.join(runtimeDir, 'podman', 'podman.sock')}`, source: 'rootless Podman\'s socket', podman: true },
    { label: 'Podman', host: 'unix:///run/podman/podman.sock', source: 'Podman\'s socket', podman: true },
    ...podmanMachinePlaces(machine),
  ];
}

/** Where a place's engine would be on disk: a socket's path, a pipe's `//./pipe/NAME`. */
function pathOf(place: EnginePlace): string {
  return place.host.replace(/^(unix|npipe):\/\//, '');
}

/** The places that are there, in order. */
export function presentPlaces(machine: LocalMachine): EnginePlace[] {
  return enginePlaces(machine).filter((place) => machine.exists(pathOf(place)));
}

export interface Discovery {
  /** The first place that is there; else the first place (the local socket; Docker's pipe on Windows), which is not there either. */
  place: EnginePlace;
  /** Every place looked at, in order, for people: "unix:///var/run/docker.sock (Docker)". */
  looked: string[];
}

/** The engine to use when nothing names one: the first place that is there. */
export function discoverEngine(machine: LocalMachine): Discovery {
  const places = enginePlaces(machine);
  const looked: string[] = [];
  for (const place of places) {
    looked.push(`${pathOf(place)} (${place.label})`);
    if (machine.exists(pathOf(place))) return { place, looked };
  }
  return { place: places[0], looked };
}
