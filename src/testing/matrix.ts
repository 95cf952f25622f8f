/**
 * The test matrix: images x Salt versions x suites, each combination a cell. Read from
 * `salt-containers.yml` (this file; its JSON Schema is schemas/salt-containers.schema.json) or from a
 * Test Kitchen file (kitchen.ts), into the same model. Pure: reads nothing but the text it is given.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { readYaml, type YamlFile, type YamlPath } from './yamlFile';
import type { FormulaDir } from '../engine/spec';
import type { SuiteChecks } from './checks';

export type MatrixFormat = 'salt-containers' | 'kitchen';

/** systemd as PID 1 (`init: systemd`): the command that starts it, or the usual places when unset. */
export interface InitSpec {
  kind: 'systemd';
  /** Exactly this (kitchen's run_command); else /lib/systemd/systemd, /usr/lib/systemd/systemd, /sbin/init in turn. */
  command?: string[];
}

export interface ImageEntry {
  /** The image reference: `debian:12`. */
  image: string;
  /** For people: kitchen's platform name, else the image. */
  name: string;
  init?: InitSpec;
  /** Ask the engine for a privileged container (refused by some engines: the cell reports the engine's error). */
  privileged?: boolean;
  /** kitchen.yml's `privileged: true`: asked for, and where the engine refuses it the cell runs unprivileged, with a note. */
  privilegedFallback?: boolean;
  /** The engine's network mode for the cell (`host`, `none`, a network). */
  network?: string;
  line?: number;
}

/** A file of an assembled pillar tree: copied from `source`, or written with `content`. */
export interface PillarFile {
  /** Relative to the pillar root, forward slashes: `top.sls`, `users.sls`. */
  path: string;
  source?: string;
  content?: string;
}

export type PillarSpec =
  /** A pillar tree folder (with its own top.sls). */
  | { kind: 'tree'; root: string }
  /** A pillar tree made for the suite: folders copied in, then files (kitchen's pillars, pillars_from_files). */
  | { kind: 'assembled'; directories: { source: string; dest: string }[]; files: PillarFile[] };

export interface Suite {
  name: string;
  /** SLS modules applied in one run, in order; empty with highstate. */
  states: string[];
  highstate: boolean;
  /** Undefined: the matrix's pillar tree. */
  pillar?: PillarSpec;
  /** SLS modules applied in test mode after converge: any state that would change fails. */
  verify: string[];
  idempotence: boolean;
  init?: InitSpec;
  /** Only these images (by name or image); undefined: all. */
  includes?: string[];
  excludes?: string[];
  /** Other formulas the suite's state tree holds (a kitchen.yml's path dependencies). */
  formulas?: FormulaDir[];
  /**
   * What `verify:` asks of saltcheck and testinfra: names (saltcheck: states or tests; testinfra: a path)
   * or false (off); undefined: automatic (load.ts finds them). Read by resolveChecks.
   */
  verifyWith?: { saltcheck?: string[] | false; testinfra?: string | false };
  /** The checks after converge (checks.ts), resolved when the matrix is loaded. */
  checks?: SuiteChecks;
  line?: number;
}

/** Something in the file that could not be mapped, or is worth knowing about how it was. */
export interface MatrixNote {
  /** Where it was: `suites[0].verifier`, `driver.provision_command`. */
  key: string;
  message: string;
  line?: number;
}

export interface Matrix {
  file: string;
  format: MatrixFormat;
  /** The file's folder: relative paths in it (and in JUnit) are relative to this. */
  dir: string;
  stateRoot: string;
  /** The pillar tree suites use when they name none; undefined: none. */
  pillarRoot?: string;
  saltenv: string;
  images: ImageEntry[];
  /** Salt versions; empty: the configured Salt source. */
  salt: string[];
  /** Engine names cells are spread over (`default`, a context, a DOCKER_HOST). */
  engines: string[];
  suites: Suite[];
  notes: MatrixNote[];
}

export class MatrixError extends Error {
  constructor(
    readonly file: string,
    readonly problems: { message: string; line?: number }[],
  ) {
    super(problems.map((p) => `${file}${p.line ? `:${p.line}` : ''}: ${p.message}`).join('\n'));
    this.name = 'MatrixError';
  }
}

/** Salt versions as PyPI names them: 3008.4, 3007.14, 3006.9rc1. */
export const SALT_VERSION = /^[0-9]{4}(\.[0-9]+)*([a-z]+[0-9]*)?$/;
const SUITE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** SLS module names: dotted, no slashes. */
const SLS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** The roots a matrix folder gets when the file names none: the same rule as the CLI and the extension. */
export type RootsFinder = (folder: string, explicit: { stateRoot?: string; pillarRoot?: string }) => { stateRoot: string; pillarRoot?: string };

/** Reads values out of a parsed YAML file, collecting problems with their lines instead of throwing at the first. */
export class Reader {
  readonly problems: { message: string; line?: number }[] = [];
  constructor(readonly yaml: YamlFile) {}

  problem(path: YamlPath, message: string): void {
    this.problems.push({ message: `${pathText(path)}: ${message}`, line: this.lineNear(path) });
  }

  /** The line of `path`, else of the nearest enclosing node that is in the file. */
  lineNear(path: YamlPath): number | undefined {
    for (let n = path.length; n >= 0; n--) {
      const line = this.yaml.lineOf(path.slice(0, n));
      if (line) return line;
    }
    return undefined;
  }

  isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }

  /** Unknown keys are errors: a typo (`idempotency`) must not silently do nothing. */
  keys(path: YamlPath, value: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.problem([...path, key], `unknown key (known: ${known.join(', ')})`);
    }
  }

  string(path: YamlPath, value: unknown, pattern?: RegExp, what = 'a string'): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'number') {
      // 3007.10 unquoted is the number 3007.1: say so rather than guess.
      this.problem(path, `expected ${what}, got the number ${value}: write it in quotes (unquoted, 3007.10 is the number 3007.1)`);
      return undefined;
    }
    if (typeof value !== 'string' || value.trim() === '' || (pattern && !pattern.test(value))) {
      this.problem(path, `expected ${what}, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }

  boolean(path: YamlPath, value: unknown): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.problem(path, `expected true or false, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }

  strings(path: YamlPath, value: unknown, pattern?: RegExp, what = 'a string'): string[] | undefined {
    if (value === undefined) return undefined;
    // One item may be written without the list: `states: users`.
    const list = Array.isArray(value) ? value : [value];
    const out: string[] = [];
    list.forEach((item, i) => {
      const text = this.string(Array.isArray(value) ? [...path, i] : path, item, pattern, what);
      if (text !== undefined) out.push(text);
    });
    return out;
  }
}

export function pathText(path: YamlPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(file)';
}

/** The keys salt-containers.yml knows, at the top, in an image entry and in a suite (the schema has the same). */
export const MATRIX_KEYS = {
  top: ['images', 'salt', 'engines', 'suites', 'state_root', 'pillar_root', 'saltenv'],
  image: ['image', 'name', 'init', 'privileged', 'network'],
  suite: ['name', 'states', 'highstate', 'pillar', 'verify', 'idempotence', 'init', 'includes', 'excludes'],
  verify: ['states', 'saltcheck', 'testinfra'],
} as const;

/** `verify:` as a list of states (test mode), or `{states, saltcheck: true | false | [names], testinfra: PATH | false}`. */
function readVerify(r: Reader, path: YamlPath, value: unknown, dir: string): { states: string[]; with?: Suite['verifyWith'] } {
  if (!r.isObject(value)) return { states: r.strings(path, value, SLS_NAME, 'an SLS module name') ?? [] };
  r.keys(path, value, MATRIX_KEYS.verify);
  const states = r.strings([...path, 'states'], value.states, SLS_NAME, 'an SLS module name') ?? [];
  const verifyWith: NonNullable<Suite['verifyWith']> = {};
  if (value.saltcheck === false) verifyWith.saltcheck = false;
  else if (value.saltcheck !== undefined && value.saltcheck !== true) verifyWith.saltcheck = r.strings([...path, 'saltcheck'], value.saltcheck, SLS_NAME, 'a state or saltcheck test name');
  if (value.testinfra === false) verifyWith.testinfra = false;
  else if (value.testinfra !== undefined) {
    const testinfra = r.string([...path, 'testinfra'], value.testinfra, undefined, 'a path to testinfra tests (or false)');
    if (testinfra) verifyWith.testinfra = resolve(dir, testinfra);
  }
  return { states, with: verifyWith };
}

function readInit(r: Reader, path: YamlPath, value: unknown): InitSpec | undefined {
  const init = r.string(path, value, /^systemd$/, '"systemd"');
  return init ? { kind: 'systemd' } : undefined;
}

function readImage(r: Reader, path: YamlPath, value: unknown): ImageEntry | undefined {
  const line = r.yaml.lineOf(path);
  if (typeof value === 'string') return value.trim() ? { image: value.trim(), name: value.trim(), line } : (r.problem(path, 'expected an image name'), undefined);
  if (!r.isObject(value)) {
    r.problem(path, 'expected an image (`debian:12`) or {image, init, privileged, network}');
    return undefined;
  }
  r.keys(path, value, MATRIX_KEYS.image);
  const image = r.string([...path, 'image'], value.image);
  if (!image) {
    if (value.image === undefined) r.problem(path, 'needs `image:`');
    return undefined;
  }
  const entry: ImageEntry = { image, name: r.string([...path, 'name'], value.name) ?? image, line };
  const init = readInit(r, [...path, 'init'], value.init);
  if (init) entry.init = init;
  if (r.boolean([...path, 'privileged'], value.privileged)) entry.privileged = true;
  const network = r.string([...path, 'network'], value.network);
  if (network) entry.network = network;
  return entry;
}

function readPillar(r: Reader, path: YamlPath, value: unknown, dir: string): PillarSpec | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { kind: 'tree', root: resolve(dir, value) };
  if (!r.isObject(value)) {
    r.problem(path, 'expected a pillar tree folder, or a map of pillar module -> file');
    return undefined;
  }
  // `users: test/salt/pillar/default.sls` -> users.sls, and a top.sls giving every module to every minion.
  const files: PillarFile[] = [];
  const modules: string[] = [];
  for (const [module, file] of Object.entries(value)) {
    const source = r.string([...path, module], file, undefined, 'a file path');
    if (!SLS_NAME.test(module)) r.problem([...path, module], 'expected a pillar module name (`users`, `users.extra`)');
    else if (source) {
      files.push({ path: `${module.split('.').join('/')}.sls`, source: resolve(dir, source) });
      modules.push(module);
    }
  }
  files.push({ path: 'top.sls', content: topFile(modules) });
  return { kind: 'assembled', directories: [], files };
}

/** A top.sls giving these modules to every minion (JSON is YAML: no dumper needed). */
/**
 * The trees a cell's run error is in (sls/locate.ts RunRoots): the state root, and the pillar that
 * holds pillar module `module`: the suite's pillar tree, the file an assembled pillar copied as that
 * module (a formula's pillar.example), else the matrix's pillar tree.
 */
export function errorRoots(matrix: Pick<Matrix, 'stateRoot' | 'pillarRoot'>, suite: Pick<Suite, 'pillar'>, module?: string): { stateRoot: string; pillarRoot?: string } {
  const pillar = suite.pillar;
  if (!pillar) return { stateRoot: matrix.stateRoot, pillarRoot: matrix.pillarRoot };
  if (pillar.kind === 'tree') return { stateRoot: matrix.stateRoot, pillarRoot: pillar.root };
  const path = module?.replace(/\./g, '/');
  const copied = pillar.files.find((f) => f.source && (f.path === `${path}.sls` || f.path === `${path}/init.sls`));
  return { stateRoot: matrix.stateRoot, pillarRoot: copied?.source };
}

export function topFile(modules: string[]): string {
  return `${JSON.stringify({ base: { '*': modules } }, null, 2)}\n`;
}

function readSuite(r: Reader, path: YamlPath, value: unknown, dir: string): Suite | undefined {
  if (!r.isObject(value)) {
    r.problem(path, 'expected a suite: {name, states | highstate, pillar, verify, idempotence}');
    return undefined;
  }
  r.keys(path, value, MATRIX_KEYS.suite);
  const name = r.string([...path, 'name'], value.name, SUITE_NAME, 'a suite name (letters, digits, _ . -)');
  if (value.name === undefined) r.problem(path, 'needs `name:`');
  const states = r.strings([...path, 'states'], value.states, SLS_NAME, 'an SLS module name') ?? [];
  const highstate = r.boolean([...path, 'highstate'], value.highstate) ?? false;
  if (highstate && states.length) r.problem([...path, 'highstate'], 'give `states:` or `highstate: true`, not both');
  if (!highstate && states.length === 0 && value.states === undefined) r.problem(path, 'needs `states:` (SLS modules to apply) or `highstate: true`');
  if (!name) return undefined;
  const suite: Suite = {
    name,
    states,
    highstate,
    pillar: readPillar(r, [...path, 'pillar'], value.pillar, dir),
    verify: [],
    idempotence: r.boolean([...path, 'idempotence'], value.idempotence) ?? true,
    line: r.yaml.lineOf(path),
  };
  const verify = readVerify(r, [...path, 'verify'], value.verify, dir);
  suite.verify = verify.states;
  if (verify.with) suite.verifyWith = verify.with;
  const init = readInit(r, [...path, 'init'], value.init);
  if (init) suite.init = init;
  const includes = r.strings([...path, 'includes'], value.includes);
  if (includes) suite.includes = includes;
  const excludes = r.strings([...path, 'excludes'], value.excludes);
  if (excludes) suite.excludes = excludes;
  return suite;
}

/** Names must be unique: cells, JUnit classnames and test items are keyed by them. */
export function checkUnique(r: Reader, what: string, names: { name: string; path: YamlPath }[]): void {
  const seen = new Set<string>();
  for (const { name, path } of names) {
    if (seen.has(name)) r.problem(path, `${what} ${name} is named twice`);
    seen.add(name);
  }
}

/** Parses salt-containers.yml; throws MatrixError with every problem and its line. */
export function parseMatrix(text: string, file: string, findRoots: RootsFinder): Matrix {
  const yaml = readYaml(text);
  if (yaml.errors.length) throw new MatrixError(file, yaml.errors.map((e) => ({ message: `not valid YAML: ${e.message}`, line: e.line })));
  const r = new Reader(yaml);
  const doc = yaml.value;
  if (!r.isObject(doc)) throw new MatrixError(file, [{ message: 'expected a map with `images:` and `suites:`', line: 1 }]);
  r.keys([], doc, MATRIX_KEYS.top);
  const dir = dirname(file);
  const images: ImageEntry[] = [];
  if (!Array.isArray(doc.images) || doc.images.length === 0) r.problem(['images'], 'needs a list of images, e.g. `images: [debian:12]`');
  else doc.images.forEach((value, i) => {
    const entry = readImage(r, ['images', i], value);
    if (entry) images.push(entry);
  });
  checkUnique(r, 'image', images.map((image, i) => ({ name: image.name, path: ['images', i] })));
  const suites: Suite[] = [];
  if (!Array.isArray(doc.suites) || doc.suites.length === 0) r.problem(['suites'], 'needs a list of suites, e.g. `suites: [{name: default, states: [web]}]`');
  else doc.suites.forEach((value, i) => {
    const suite = readSuite(r, ['suites', i], value, dir);
    if (suite) suites.push(suite);
  });
  checkUnique(r, 'suite', suites.map((suite, i) => ({ name: suite.name, path: ['suites', i] })));
  const salt = r.strings(['salt'], doc.salt, SALT_VERSION, 'a Salt version (3008.4)') ?? [];
  const engines = r.strings(['engines'], doc.engines) ?? ['default'];
  const stateRoot = r.string(['state_root'], doc.state_root);
  const pillarRoot = r.string(['pillar_root'], doc.pillar_root);
  const saltenv = r.string(['saltenv'], doc.saltenv) ?? 'base';
  for (const [i, suite] of suites.entries()) {
    for (const [key, names] of [['includes', suite.includes], ['excludes', suite.excludes]] as const) {
      for (const name of names ?? []) if (!images.some((image) => image.name === name || image.image === name)) r.problem(['suites', i, key], `no image named ${name}`);
    }
  }
  if (r.problems.length) throw new MatrixError(file, r.problems);
  const roots = findRoots(dir, { stateRoot, pillarRoot });
  return { file, format: 'salt-containers', dir, stateRoot: roots.stateRoot, pillarRoot: roots.pillarRoot, saltenv, images, salt: [...new Set(salt)], engines, suites, notes: [] };
}

/** A path from a matrix file, absolute. */
export function fromMatrix(dir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dir, path);
}
