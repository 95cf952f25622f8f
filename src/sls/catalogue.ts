/**
 * The state catalogue: every state function the Salt that runs the states knows, with its arguments and
 * doc. Made once through the host Salt (its loader, in a throw-away minion config under a temp dir, never
 * /etc/salt), or by the helper that made Salt on the engine, and cached per Salt version as
 * <cache>/catalogue/<saltVersion>.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCacheDir, runPython, SaltSource, writeFileAtomic, type SaltInfo } from '../engine/salt/source';
import { CATALOGUE_GENERATOR } from '../engine/salt/scripts';
import type { DockerEngine } from '../engine/docker/engine';
import type { HelperSettings, SaltOn } from '../engine/helper/settings';

export interface CatalogueArgument {
  name: string;
  /** Python repr of the default; absent when the argument is required. */
  default?: string;
}

export interface CatalogueFunction {
  args: CatalogueArgument[];
  /** Accepts **kwargs (extra arguments are passed on). */
  kwargs: boolean;
  doc: string;
}

export interface StateCatalogue {
  saltVersion: string;
  python: string;
  generatedAt: string;
  /** `file.managed` -> its arguments and doc. */
  functions: Record<string, CatalogueFunction>;
  /** `file` -> the module's doc. */
  modules: Record<string, string>;
  /**
   * Every state module Salt ships, loadable on the host or not (`docker_container` needs a library the
   * host may lack, the container may have it): such a module is not "unknown".
   */
  shippedModules: string[];
  /** CATALOGUE_FORMAT when made. */
  format: number;
}

/** Bumped when the catalogue's shape changes: an older cached one is made again. */
export const CATALOGUE_FORMAT = 2;


export interface CatalogueOptions {
  /** A Python with Salt (the `saltContainers.saltPython` setting). */
  python?: string;
  /** Default: defaultCacheDir(). */
  cacheDir?: string;
  /** Where Salt is made when this machine has none (see SaltSource): the engine and the choice. */
  engine?: DockerEngine;
  saltOn?: SaltOn;
  helpers?: Partial<HelperSettings>;
}

async function run(python: string, args: string[], timeoutMs: number): Promise<void> {
  await runPython(python, args, timeoutMs).catch((error: Error & { stderr?: string }) => {
    throw new Error(`${python} failed: ${(error.stderr || error.message).trim().split('\n').slice(-3).join(' ')}`);
  });
}

export const catalogueFile = (cacheDir: string, saltVersion: string) => join(cacheDir, 'catalogue', `${saltVersion}.json`);

/** The cached catalogue with the newest Salt version, if any (no Python needed). */
export function loadAnyCachedCatalogue(cacheDir = defaultCacheDir()): StateCatalogue | undefined {
  const dir = join(cacheDir, 'catalogue');
  if (!existsSync(dir)) return undefined;
  const versions = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  for (const version of versions.reverse()) {
    const catalogue = readCatalogue(catalogueFile(cacheDir, version));
    if (catalogue) return catalogue;
  }
  return undefined;
}

function readCatalogue(file: string): StateCatalogue | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as StateCatalogue;
    return data && typeof data.functions === 'object' && data.saltVersion && data.format === CATALOGUE_FORMAT ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Makes the catalogue with `python` now (a few seconds), caches it and returns it. */
export async function generateCatalogue(python: string, cacheDir = defaultCacheDir()): Promise<StateCatalogue> {
  const work = mkdtempSync(join(tmpdir(), 'salt-containers-catalogue-'));
  try {
    const out = join(work, 'catalogue.json');
    await run(python, ['-c', CATALOGUE_GENERATOR, work, out], 180_000);
    return storeCatalogue(out, cacheDir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Caches what the generator wrote (on this machine, or a helper on the engine) as this Salt version's catalogue. */
function storeCatalogue(generated: string, cacheDir: string): StateCatalogue {
  const raw = JSON.parse(readFileSync(generated, 'utf8')) as Omit<StateCatalogue, 'generatedAt' | 'format'>;
  const catalogue: StateCatalogue = { ...raw, generatedAt: new Date().toISOString(), format: CATALOGUE_FORMAT };
  mkdirSync(join(cacheDir, 'catalogue'), { recursive: true });
  writeFileAtomic(catalogueFile(cacheDir, catalogue.saltVersion), JSON.stringify(catalogue));
  return catalogue;
}

/**
 * The catalogue for the host Salt (found by SaltSource, the engine's one way to find it): from the cache
 * when this Salt version's is there, else made now. `refresh` makes it again. Throws
 * CatalogueUnavailable with a plain reason when no Python with Salt is found.
 */
export async function getCatalogue(options: CatalogueOptions & { refresh?: boolean } = {}): Promise<StateCatalogue> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  let info: SaltInfo;
  try {
    info = await new SaltSource({ python: options.python, cacheDir, engine: options.engine, saltOn: options.saltOn, helpers: options.helpers }).info();
  } catch (error) {
    throw new CatalogueUnavailable((error as Error).message);
  }
  if (!options.refresh) {
    const cached = readCatalogue(catalogueFile(cacheDir, info.saltVersion));
    if (cached) return cached;
  }
  // Salt made on the engine: its helper made the catalogue beside the thin.
  if (info.onEngine) return storeCatalogue(join(info.onEngine.dir, 'catalogue.json'), cacheDir);
  return generateCatalogue(info.python, cacheDir);
}

/** No Salt to make the catalogue with. `reason` is the bare fact; the message adds how to get one in VS Code. */
export class CatalogueUnavailable extends Error {
  constructor(readonly reason: string) {
    super(`${reason}. ${howToGetCatalogue}`);
  }
}

export const howToGetCatalogue =
  'The SLS state catalogue (state functions, arguments, docs) is made with a Python that has Salt: set the ' +
  '`saltContainers.saltPython` setting or SALT_CONTAINERS_PYTHON to it (or put salt-call on PATH), then run ' +
  '"Salt Containers: Refresh State Catalogue". Everything else in SLS files works without it.';

/** Functions of one module (`file` -> managed, directory, ...). */
export function functionsOfModule(catalogue: StateCatalogue, module: string): string[] {
  const prefix = `${module}.`;
  return Object.keys(catalogue.functions)
    .filter((name) => name.startsWith(prefix))
    .map((name) => name.slice(prefix.length));
}
