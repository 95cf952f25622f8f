/**
 * Salt's releases: which ones the package index serves (its JSON API, read from here; the install
 * steps ask pip instead), grouped by line with their support status, which ones the cache holds, and
 * what a version name means: exact (3006.29), a line (3006: the newest of it that installs here), or
 * latest. Also the cache's record of releases that cannot install here (a pin the index lacks), so a
 * line does not try them again on every use.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DockerEngine } from '../docker/engine';
import { HelperContainer } from '../helper/container';
import { helperSettings, type HelperSettings } from '../helper/settings';
import { runHostProgram, writeFileAtomic } from '../host';

export type SaltVersionName = { kind: 'exact'; version: string } | { kind: 'line'; line: number } | { kind: 'latest' };

/** What a version name asks for; throws on what is none of the three (it goes into argv and folder names). */
export function parseVersionName(name: string): SaltVersionName {
  if (name === 'latest') return { kind: 'latest' };
  if (/^[0-9]{4}$/.test(name)) return { kind: 'line', line: Number(name) };
  if (/^[0-9][0-9A-Za-z.+-]*$/.test(name)) return { kind: 'exact', version: name };
  throw new Error(`"${name}" is not a Salt version: name a release (3008.4), a line (3008) or latest`);
}

/**
 * The lines formulas are tested on, with their support (Salt's release notes; salt-facts.md): 3006 LTS
 * with security fixes until July 2027, 3007 STS whose end of life was 2026-07-31 (it still gets
 * occasional releases), 3008 the current LTS (3008.0 in May 2026).
 */
const LINES: readonly { line: number; kind: 'LTS' | 'STS'; endOfLife?: string }[] = [
  { line: 3008, kind: 'LTS' },
  { line: 3007, kind: 'STS', endOfLife: '2026-07-31' },
  { line: 3006, kind: 'LTS', endOfLife: '2027-07-31' },
];

/** A line's support on a day: LTS or STS (until its end of life, when known), else end of life. */
export function lineStatus(line: number, today: Date = new Date()): { status: 'LTS' | 'STS' | 'end of life' | 'unreleased line'; until?: string } {
  const known = LINES.find((l) => l.line === line);
  if (!known) return line > LINES[0].line ? { status: 'unreleased line' } : { status: 'end of life' };
  if (known.endOfLife && today.toISOString().slice(0, 10) > known.endOfLife) return { status: 'end of life', until: known.endOfLife };
  return { status: known.kind, ...(known.endOfLife ? { until: known.endOfLife } : {}) };
}

export interface SaltRelease {
  version: string;
  line: number;
  /** Upload day of its first file (YYYY-MM-DD), when the index says. */
  date?: string;
  yanked: boolean;
  /** rc, a, b, dev: never what a line or latest means. */
  prerelease: boolean;
}

/** Numeric order of release versions (3006.10 after 3006.9); a pre-release before its release. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [x, y] = [pa[i], pb[i]];
    if (x === y) continue;
    if (x === undefined) return typeof y === 'number' ? -1 : 1;
    if (y === undefined) return typeof x === 'number' ? 1 : -1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    // "0rc1" < "0": a pre-release sorts before the release.
    const [nx, ny] = [Number.parseInt(String(x), 10), Number.parseInt(String(y), 10)];
    if (nx !== ny) return nx - ny;
    return typeof x === 'number' ? 1 : typeof y === 'number' ? -1 : String(x).localeCompare(String(y));
  }
  return 0;
}

function release(version: string, date?: string, yanked = false): SaltRelease {
  return { version, line: Number.parseInt(version, 10), ...(date ? { date } : {}), yanked, prerelease: /[a-z]/i.test(version) };
}

/** The releases in a PyPI JSON API answer (`/pypi/salt/json`), newest first. */
export function releasesFromJson(json: { releases?: Record<string, { upload_time?: string; yanked?: boolean }[]> }): SaltRelease[] {
  return Object.entries(json.releases ?? {})
    .filter(([, files]) => files.length)
    .map(([version, files]) => release(version, files.map((f) => f.upload_time?.slice(0, 10)).filter(Boolean).sort()[0], files.every((f) => f.yanked)))
    .sort((a, b) => compareVersions(b.version, a.version));
}

/** The releases in `pip index versions salt` output ("Available versions: 3008.5, 3008.4, ..."), newest first. */
export function releasesFromPipIndex(output: string): SaltRelease[] {
  const line = output.split('\n').find((l) => l.startsWith('Available versions:'));
  if (!line) return [];
  return line
    .slice('Available versions:'.length)
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => release(v))
    .sort((a, b) => compareVersions(b.version, a.version));
}

/**
 * The releases to try for a name, newest first: an exact one alone; for a line or latest, its
 * releases the index serves (not yanked, not pre-releases), less those known not to install here.
 */
export function candidates(name: SaltVersionName, releases: readonly SaltRelease[], uninstallable: Readonly<Record<string, string>> = {}): string[] {
  if (name.kind === 'exact') return [name.version];
  const final = releases.filter((r) => !r.yanked && !r.prerelease && !uninstallable[r.version]);
  const lineOf = name.kind === 'line' ? name.line : Math.max(...LINES.map((l) => l.line), ...final.map((r) => r.line));
  // latest: the newest line's releases first, then older lines (the newest line may not install at all).
  return final.filter((r) => name.kind === 'latest' || r.line === lineOf).map((r) => r.version);
}

/** The index pip uses here (PIP_INDEX_URL, else pip's configuration files), when one is named. */
export function pipIndexUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PIP_INDEX_URL) return env.PIP_INDEX_URL;
  const files = [env.PIP_CONFIG_FILE, join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'pip', 'pip.conf'), join(homedir(), '.pip', 'pip.conf'), '/etc/pip.conf', '/etc/xdg/pip/pip.conf'];
  for (const file of files) {
    if (!file || !existsSync(file)) continue;
    const match = /^\s*index[-_]url\s*[=:]\s*(\S+)/m.exec(readFileSync(file, 'utf8'));
    if (match) return match[1];
  }
  return undefined;
}

/** The JSON API of an index: PyPI's, or a PyPI-like mirror's (`<base>/simple` serves `<base>/pypi/salt/json`). */
export function indexJsonUrl(indexUrl: string | undefined): string {
  if (!indexUrl) return 'https://pypi.org/pypi/salt/json';
  const base = indexUrl.replace(/\/+$/, '').replace(/\/simple$/, '');
  return `${base}/pypi/salt/json`;
}

/** The releases the index serves, through its JSON API (a few hundred KB, well under a second); throws when it does not answer. */
export function fetchReleases(options: { indexUrl?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<SaltRelease[]> {
  const url = indexJsonUrl(options.indexUrl ?? pipIndexUrl());
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'application/json' }, timeout: options.timeoutMs ?? 15_000, signal: options.signal }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${url} answered ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          resolve(releasesFromJson(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        } catch (error) {
          reject(new Error(`${url}: ${(error as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer in time`)));
    req.on('error', reject);
    req.end();
  });
}

/** The cache's record of releases that did not install here, and why: {version: reason}. */
function uninstallableFile(cacheDir: string): string {
  return join(cacheDir, 'salt', 'uninstallable.json');
}

export function uninstallable(cacheDir: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(uninstallableFile(cacheDir), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

export function recordUninstallable(cacheDir: string, failures: readonly { version: string; reason: string }[]): void {
  if (!failures.length) return;
  const known = uninstallable(cacheDir);
  for (const { version, reason } of failures) known[version] = reason;
  mkdirSync(join(cacheDir, 'salt'), { recursive: true });
  writeFileAtomic(uninstallableFile(cacheDir), JSON.stringify(known, null, 1));
}

/** A Salt version the cache holds: a venv made here, or Salt made on the engine (its thin). */
export interface CachedSalt {
  version: string;
  where: 'host' | 'engine';
  /** The venv, or the thin's folder. */
  path: string;
}

/** Every Salt the cache holds, newest first (complete ones only). */
export function cachedSaltVersions(cacheDir: string): CachedSalt[] {
  const found: CachedSalt[] = [];
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  for (const name of list(join(cacheDir, 'salt'))) {
    if (existsSync(join(cacheDir, 'salt', name, 'salt-containers.json'))) found.push({ version: name, where: 'host', path: join(cacheDir, 'salt', name) });
  }
  for (const name of list(join(cacheDir, 'thin')).filter((n) => /^salt-.*\.json$/.test(n))) {
    try {
      const made = JSON.parse(readFileSync(join(cacheDir, 'thin', name), 'utf8')) as { saltVersion: string; dir: string };
      if (existsSync(join(made.dir, 'meta.json')) && !found.some((f) => f.version === made.saltVersion && f.where === 'engine')) found.push({ version: made.saltVersion, where: 'engine', path: made.dir });
    } catch {
      // a pointer being written: not complete yet
    }
  }
  return found.sort((a, b) => compareVersions(b.version, a.version));
}

/** One line of `salt versions`: its support and its releases, each with where the cache holds it. */
export interface SaltLine {
  line: number;
  status: ReturnType<typeof lineStatus>['status'];
  /** End of support (YYYY-MM-DD), when known. */
  until?: string;
  releases: (SaltRelease & { cached: ('host' | 'engine')[]; uninstallable?: string })[];
}

/**
 * The releases grouped by line, newest line first: the lines from 3006 on (older ones only when the
 * cache holds one of them). `uninstallableHere` marks releases known not to install here.
 */
export function groupByLine(releases: readonly SaltRelease[], cached: readonly CachedSalt[], uninstallableHere: Readonly<Record<string, string>> = {}, today: Date = new Date()): SaltLine[] {
  const lines = new Map<number, SaltLine>();
  const all = [...releases];
  for (const c of cached) if (!all.some((r) => r.version === c.version)) all.push(release(c.version));
  for (const r of all.sort((a, b) => compareVersions(b.version, a.version))) {
    const where = cached.filter((c) => c.version === r.version).map((c) => c.where);
    if (r.line < 3006 && !where.length) continue;
    let line = lines.get(r.line);
    if (!line) lines.set(r.line, (line = { line: r.line, ...lineStatus(r.line, today), releases: [] }));
    line.releases.push({ ...r, cached: where, ...(uninstallableHere[r.version] ? { uninstallable: uninstallableHere[r.version] } : {}) });
  }
  return [...lines.values()].sort((a, b) => b.line - a.line);
}

/** Where `saltReleases` got its list: the index's JSON API from here, pip on this machine, or pip in a helper container. */
export type ReleasesFrom = 'index' | 'pip' | 'helper';

/**
 * The releases the package index serves: its JSON API from here; else (no answer: a mirror without
 * one, a proxy) `pip index versions salt` with a Python of this machine, which uses pip's own
 * configuration; else, on a machine without one, the same in a helper container on the engine.
 */
export async function saltReleases(options: { cacheDir?: string; engine?: DockerEngine; helpers?: Partial<HelperSettings>; log?: (line: string) => void; signal?: AbortSignal } = {}): Promise<{ releases: SaltRelease[]; from: ReleasesFrom }> {
  const log = options.log ?? (() => undefined);
  try {
    return { releases: await fetchReleases({ signal: options.signal }), from: 'index' };
  } catch (error) {
    log(`the index's JSON API did not answer (${(error as Error).message}): asking pip`);
  }
  const pipArgs = ['-m', 'pip', 'index', 'versions', 'salt', '--no-input'];
  for (const python of [...(options.cacheDir ? cachedSaltVersions(options.cacheDir) : []).filter((c) => c.where === 'host').map((c) => join(c.path, 'bin', 'python')), 'python3']) {
    const listed = await runHostProgram(python, pipArgs, { signal: options.signal, env: { PIP_DISABLE_PIP_VERSION_CHECK: '1' } }).catch(() => undefined);
    if (listed?.code === 0) return { releases: releasesFromPipIndex(listed.stdout), from: 'pip' };
  }
  if (!options.engine) throw new Error("the package index's JSON API did not answer, and this machine has no pip to ask");
  const settings = helperSettings(options.helpers);
  const stdout = await HelperContainer.use(
    { engine: options.engine, purpose: 'salt-versions', image: settings.pythonImage, imageSetting: 'the saltContainers.helpers.pythonImage setting or SALT_CONTAINERS_PYTHON_IMAGE', settings, signal: options.signal, log },
    (helper) => helper.run(['python3', ...pipArgs], "listing Salt's releases with pip", "Check that the helper reaches the package index (SALT_CONTAINERS_HELPER_NETWORK) and this machine's pip settings."),
  );
  return { releases: releasesFromPipIndex(stdout), from: 'helper' };
}
