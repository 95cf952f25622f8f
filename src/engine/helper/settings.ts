/**
 * What Salt's host-side work needs when it runs on the engine instead of this machine: the images its
 * helper containers start from, their network, and the host's own package settings carried into them
 * (pip's index, extra index and CA bundle, proxies), so a helper installs what this machine could.
 * The three environment variables are a contract (README): tests and air-gapped users name local images.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where Salt's host-side work (thin, bytecode, catalogue, the bundled runtime) is done. */
export type SaltOn = 'auto' | 'host' | 'engine';
export const SALT_ON_VALUES: readonly SaltOn[] = ['auto', 'host', 'engine'];

/** Python 3.11, as the bundled runtime: the thin's bytecode then serves runs with either. */
export const DEFAULT_PYTHON_IMAGE = 'python:3.11-slim-bookworm';
export const DEFAULT_DEBIAN_IMAGE = 'debian:bookworm-slim';

export interface HelperSettings {
  /** An image with python3 and its venv module (pip comes from ensurepip): Salt is installed there. */
  pythonImage: string;
  /** A Debian image with apt-get and dpkg-deb: the bundled runtime is built there. */
  debianImage: string;
  /** The helpers' network mode (`host`, a network name); default the engine's. */
  network?: string;
}

/** The settings: what the caller names (a VS Code setting, a flag), else the environment, else the defaults. */
export function helperSettings(given: Partial<HelperSettings> = {}, env: NodeJS.ProcessEnv = process.env): HelperSettings {
  return {
    pythonImage: given.pythonImage || env.SALT_CONTAINERS_PYTHON_IMAGE || DEFAULT_PYTHON_IMAGE,
    debianImage: given.debianImage || env.SALT_CONTAINERS_DEBIAN_IMAGE || DEFAULT_DEBIAN_IMAGE,
    network: given.network || env.SALT_CONTAINERS_HELPER_NETWORK || undefined,
  };
}

/** `auto` unless the caller or SALT_CONTAINERS_SALT_ON says otherwise; an unknown word is refused by name. */
export function saltOnSetting(given: string | undefined, env: NodeJS.ProcessEnv = process.env): SaltOn {
  const value = given || env.SALT_CONTAINERS_SALT_ON || 'auto';
  if (!(SALT_ON_VALUES as readonly string[]).includes(value)) {
    throw new Error(`"${value}" is not a place for Salt's host-side work: say auto, host or engine`);
  }
  return value as SaltOn;
}

/** A file to put into a helper (its absolute path there) and an environment for its programs. */
export interface CarriedConfig {
  env: string[];
  files: { path: string; content: Buffer }[];
}

const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'no_proxy', 'all_proxy'].flatMap((name) => [name, name.toUpperCase()]);
/** pip's settings that mean the same inside a helper (no host paths). */
const PIP_VARIABLES = ['INDEX_URL', 'EXTRA_INDEX_URL', 'TRUSTED_HOST', 'DEFAULT_TIMEOUT', 'TIMEOUT', 'RETRIES', 'PROXY', 'ONLY_BINARY', 'PREFER_BINARY', 'NO_BINARY'].map((name) => `PIP_${name}`);
/** pip's settings that name a file on this machine: the file goes into the helper and the setting names it there. */
const PIP_FILE_KEYS: Record<string, string> = { cert: 'PIP_CERT', 'client-cert': 'PIP_CLIENT_CERT' };
const CARRIED_DIR = '/etc/salt-containers-helper';

/** pip's configuration files on this machine, lowest priority first, as pip reads them. */
export function pipConfigFiles(env: NodeJS.ProcessEnv = process.env, home = homedir(), platform = process.platform): string[] {
  if (env.PIP_CONFIG_FILE) return env.PIP_CONFIG_FILE === 'os.devnull' ? [] : [env.PIP_CONFIG_FILE];
  if (platform === 'win32') return [join(env.ProgramData ?? 'C:\\ProgramData', 'pip', 'pip.ini'), join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'pip', 'pip.ini')];
  const user = platform === 'darwin' ? [join(home, 'Library', 'Application Support', 'pip', 'pip.conf')] : [];
  return ['/etc/xdg/pip/pip.conf', '/etc/pip.conf', join(home, '.pip', 'pip.conf'), ...user, join(env.XDG_CONFIG_HOME || join(home, '.config'), 'pip', 'pip.conf')];
}

/** An ini file as pip's configparser reads it: section -> key -> value (continuation lines joined). */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let section: Map<string, string> | undefined;
  let last: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim() || /^\s*[#;]/.test(raw)) continue;
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(raw);
    if (header) {
      const name = header[1].trim();
      section = sections.get(name) ?? new Map();
      sections.set(name, section);
      last = undefined;
      continue;
    }
    if (/^\s/.test(raw) && section && last) {
      section.set(last, `${section.get(last)}\n${raw.trim()}`);
      continue;
    }
    const pair = /^\s*([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!pair || !section) continue;
    last = pair[1].toLowerCase().replace(/_/g, '-');
    section.set(last, pair[2].trim());
  }
  return sections;
}

const isUrl = (value: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(value);

/**
 * This machine's pip and proxy settings as a helper needs them: proxies and pip's variables as they
 * are; pip's configuration files merged into one /etc/pip.conf (later files win, as in pip); the CA
 * bundles and client certificates they name copied in; local find-links (a folder of this machine)
 * left out, since a helper cannot see it.
 */
export function carriedHostConfig(env: NodeJS.ProcessEnv = process.env, read: (path: string) => Buffer | undefined = readIfThere, configFiles = pipConfigFiles(env)): CarriedConfig {
  const carried: CarriedConfig = { env: [], files: [] };
  const copy = (from: string): string | undefined => {
    const content = read(from);
    if (!content) return undefined;
    const path = `${CARRIED_DIR}/file-${carried.files.length}.pem`;
    carried.files.push({ path, content });
    return path;
  };
  for (const name of PROXY_VARIABLES) if (env[name]) carried.env.push(`${name}=${env[name]}`);
  for (const name of PIP_VARIABLES) if (env[name]) carried.env.push(`${name}=${env[name]}`);
  if (env.PIP_FIND_LINKS && env.PIP_FIND_LINKS.split(/\s+/).every(isUrl)) carried.env.push(`PIP_FIND_LINKS=${env.PIP_FIND_LINKS}`);
  // A CA bundle named for pip, or for Python's HTTPS in general: pip needs it to reach a mirror behind a company's proxy.
  const caBundle = env.PIP_CERT || env.REQUESTS_CA_BUNDLE || env.SSL_CERT_FILE;
  for (const [variable, from] of [['PIP_CERT', caBundle], ['PIP_CLIENT_CERT', env.PIP_CLIENT_CERT]] as const) {
    const path = from && copy(from);
    if (path) carried.env.push(`${variable}=${path}`);
  }
  const merged = new Map<string, Map<string, string>>();
  for (const file of configFiles) {
    const content = read(file);
    if (!content) continue;
    for (const [name, keys] of parseIni(content.toString('utf8'))) {
      const section = merged.get(name) ?? new Map<string, string>();
      merged.set(name, section);
      for (const [key, value] of keys) {
        if (key in PIP_FILE_KEYS) {
          const path = copy(value);
          if (path) section.set(key, path);
        } else if (key === 'find-links') {
          const urls = value.split(/\s+/).filter(isUrl);
          if (urls.length) section.set(key, urls.join('\n    '));
        } else section.set(key, value.replace(/\n/g, '\n    '));
      }
    }
  }
  if (merged.size) {
    const text = [...merged].map(([name, keys]) => [`[${name}]`, ...[...keys].map(([key, value]) => `${key} = ${value}`)].join('\n')).join('\n\n');
    carried.files.push({ path: '/etc/pip.conf', content: Buffer.from(`${text}\n`) });
  }
  return carried;
}

function readIfThere(path: string): Buffer | undefined {
  try {
    return existsSync(path) ? readFileSync(path) : undefined;
  } catch {
    return undefined;
  }
}
