/**
 * The state catalogue: every state function the Salt that runs the states knows, with its arguments and
 * doc. Made once through the host Salt (its loader, in a throw-away minion config under a temp dir, never
 * /etc/salt) and cached per Salt version as <cache>/catalogue/<saltVersion>.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCacheDir, runPython, SaltSource, writeFileAtomic, type SaltInfo } from '../engine/salt/source';

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

/** Runs inside the host Python: argv[1] a private temp dir, argv[2] the output file. */
const GENERATOR = String.raw`
import json, os, sys
tmp, out = sys.argv[1], sys.argv[2]
import salt.client, salt.config, salt.version
conf = os.path.join(tmp, "minion")
paths = {k: os.path.join(tmp, k) for k in ("cache", "pki", "sock", "ext", "srv", "pillar")}
for p in paths.values():
    os.makedirs(p, exist_ok=True)
with open(conf, "w") as f:
    json.dump({
        "id": "salt-containers-catalogue", "file_client": "local", "cachedir": paths["cache"],
        "pki_dir": paths["pki"], "sock_dir": paths["sock"], "extension_modules": paths["ext"],
        "log_file": os.path.join(tmp, "log"), "log_level": "quiet", "log_level_logfile": "quiet",
        "file_roots": {"base": [paths["srv"]]}, "pillar_roots": {"base": [paths["pillar"]]},
        "grains_cache": False,
    }, f)
opts = salt.config.minion_config(conf)
caller = salt.client.Caller(mopts=opts)
names = caller.cmd("sys.list_state_functions")
docs = caller.cmd("sys.state_doc")
functions, modules = {}, {}
module_names = sorted({n.split(".")[0] for n in names})
for module in module_names:
    modules[module] = docs.get(module) or ""
# One call for every function (a glob): each call builds a fresh states loader (seconds).
specs = caller.cmd("sys.state_argspec", "*") or {}
for name, spec in specs.items():
    if name not in names or not isinstance(spec, dict):
        continue
    args = list(spec.get("args") or [])
    defaults = list(spec.get("defaults") or [])
    first_default = len(args) - len(defaults)
    entries = []
    for i, arg in enumerate(args):
        entry = {"name": arg}
        if i >= first_default:
            entry["default"] = repr(defaults[i - first_default])
        entries.append(entry)
    functions[name] = {"args": entries, "kwargs": bool(spec.get("kwargs")), "doc": docs.get(name) or ""}
import re, salt.states
shipped = set(modules)
states_dir = os.path.dirname(salt.states.__file__)
for entry in os.listdir(states_dir):
    if not entry.endswith(".py") or entry.startswith("_"):
        continue
    shipped.add(entry[:-3])
    try:
        with open(os.path.join(states_dir, entry), encoding="utf-8", errors="replace") as source:
            found = re.search(r"^__virtualname__\s*=\s*['\"]([\w]+)['\"]", source.read(), re.M)
        if found:
            shipped.add(found.group(1))
    except OSError:
        pass
for name in names:
    functions.setdefault(name, {"args": [], "kwargs": True, "doc": docs.get(name) or ""})
with open(out, "w") as f:
    json.dump({"saltVersion": salt.version.__version__, "python": sys.executable, "functions": functions, "modules": modules, "shippedModules": sorted(shipped)}, f)
`;

export interface CatalogueOptions {
  /** A Python with Salt (the `saltContainers.saltPython` setting). */
  python?: string;
  /** Default: defaultCacheDir(). */
  cacheDir?: string;
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
    await run(python, ['-c', GENERATOR, work, out], 180_000);
    const raw = JSON.parse(readFileSync(out, 'utf8')) as Omit<StateCatalogue, 'generatedAt' | 'format'>;
    const catalogue: StateCatalogue = { ...raw, generatedAt: new Date().toISOString(), format: CATALOGUE_FORMAT };
    const file = catalogueFile(cacheDir, catalogue.saltVersion);
    mkdirSync(join(cacheDir, 'catalogue'), { recursive: true });
    writeFileAtomic(file, JSON.stringify(catalogue));
    return catalogue;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
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
    info = await new SaltSource({ python: options.python, cacheDir }).info();
  } catch (error) {
    throw new CatalogueUnavailable(`${(error as Error).message}. ${howToGetCatalogue}`);
  }
  if (!options.refresh) {
    const cached = readCatalogue(catalogueFile(cacheDir, info.saltVersion));
    if (cached) return cached;
  }
  return generateCatalogue(info.python, cacheDir);
}

export class CatalogueUnavailable extends Error {}

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
