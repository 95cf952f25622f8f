/**
 * A Test Kitchen file (kitchen.yml with kitchen-salt's salt_solo provisioner) read as a test matrix:
 * platforms -> images (driver.image; run_command/pid_one_command of systemd -> init: systemd), suites
 * (state_top, pillars, pillars_from_files, pillars_from_directories), with the provisioner's
 * top-level settings as defaults (suite settings win, as in Kitchen). Whatever cannot be mapped is
 * reported as a note with its line, never dropped silently. Pure: reads only the text given.
 */
import { dirname, join, posix } from 'node:path';
import { existsSync } from 'node:fs';
import { checkUnique, fromMatrix, MatrixError, pathText, Reader, SALT_VERSION, topFile, type ImageEntry, type InitSpec, type Matrix, type MatrixNote, type PillarFile, type PillarSpec, type RootsFinder, type Suite } from './matrix';
import { readYaml, type YamlPath } from './yamlFile';
import type { FormulaDir } from '../engine/spec';
import { SKIPPED_DIRS } from '../sls/modules';
import type { SuiteChecks } from './checks';

type Dict = Record<string, unknown>;

const isDict = (value: unknown): value is Dict => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Kitchen merges common < platform < suite: maps deeply, everything else replaced. */
export function deepMerge(base: Dict, over: Dict): Dict {
  const out: Dict = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = isDict(value) && isDict(out[key]) ? deepMerge(out[key] as Dict, value) : value;
  return out;
}

/** Provisioner keys that change nothing here (how Kitchen installs or logs), read without a note. */
const QUIET_PROVISIONER = new Set(['name', 'log_level', 'require_chef', 'salt_copy_filter', 'formula', 'is_file_root', 'state_collection', 'salt_install', 'salt_force_color', 'salt_enable_color', 'chef_bootstrap_url']);
/** Provisioner keys mapped below. */
const MAPPED_PROVISIONER = new Set(['state_top', 'state_top_from_file', 'pillars', 'pillars_from_files', 'pillars-from-files', 'pillars_from_directories', 'salt_version', 'salt_env', 'local_salt_root']);
const QUIET_DRIVER = new Set(['name', 'use_sudo', 'image', 'run_command', 'pid_one_command', 'privileged', 'network_mode', 'platform', 'use_cache', 'remove_images', 'pull', 'require_chef_omnibus', 'chef_version']);
const SYSTEMD_COMMAND = /(^|\/)(systemd|init)$/;

class KitchenReader {
  readonly notes: MatrixNote[] = [];
  constructor(readonly r: Reader) {}

  note(path: YamlPath, message: string): void {
    const key = pathText(path);
    // One note per message: the same driver setting on 70 platforms is said once.
    if (this.notes.some((n) => n.message === message)) return;
    this.notes.push({ key, message, line: this.r.lineNear(path) });
  }
}

function commandOf(value: unknown): string[] | undefined {
  if (typeof value === 'string' && value.trim()) return value.trim().split(/\s+/);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

/** kitchen-docker names the image after the platform when none is given: `debian-12` -> `debian:12`. */
function imageFromPlatformName(name: string): string | undefined {
  const match = /^([a-z][a-z0-9]*)-(\d[\w.]*)$/.exec(name);
  return match ? `${match[1]}:${match[2]}` : undefined;
}

/** The init a driver section asks for: systemd (or /sbin/init) as its run_command or pid_one_command. */
function initOf(k: KitchenReader, path: YamlPath, driver: Dict): InitSpec | undefined {
  const key = driver.pid_one_command !== undefined ? 'pid_one_command' : 'run_command';
  const command = commandOf(driver[key]);
  if (!command) return undefined;
  if (SYSTEMD_COMMAND.test(command[0])) return { kind: 'systemd', command };
  k.note([...path, key], `${key} ${command.join(' ')} is not run: cells keep their container up themselves (only systemd or /sbin/init is started, as init: systemd)`);
  return undefined;
}

function driverNotes(k: KitchenReader, path: YamlPath, driver: Dict): void {
  if (typeof driver.name === 'string' && !['docker', 'dokken'].includes(driver.name)) {
    k.note([...path, 'name'], `driver ${driver.name}: cells run in containers of the platforms' images on the Docker engine instead`);
  }
  for (const key of Object.keys(driver)) if (!QUIET_DRIVER.has(key)) k.note([...path, key], `driver setting ${key} is not mapped`);
}

function readPlatforms(k: KitchenReader, doc: Dict): ImageEntry[] {
  const common = isDict(doc.driver) ? doc.driver : {};
  driverNotes(k, ['driver'], common);
  const images: ImageEntry[] = [];
  if (!Array.isArray(doc.platforms) || doc.platforms.length === 0) {
    k.r.problem(['platforms'], 'needs a list of platforms with driver.image');
    return images;
  }
  doc.platforms.forEach((platform, i) => {
    const path: YamlPath = ['platforms', i];
    if (!isDict(platform) || typeof platform.name !== 'string') {
      k.r.problem(path, 'a platform needs a name');
      return;
    }
    const own = isDict(platform.driver) ? platform.driver : {};
    const driver = deepMerge(common, own);
    driverNotes(k, [...path, 'driver'], own);
    let image = typeof driver.image === 'string' && driver.image.trim() ? driver.image.trim() : undefined;
    if (!image) {
      image = imageFromPlatformName(platform.name);
      if (image) k.note(path, `platform ${platform.name} has no driver.image: ${image}, as kitchen-docker names it`);
      else {
        k.note(path, `platform ${platform.name} has no driver.image: left out`);
        return;
      }
    }
    const entry: ImageEntry = { image, name: platform.name, line: k.r.yaml.lineOf(path) };
    const init = initOf(k, [...path, 'driver'], driver);
    if (init) entry.init = init;
    if (typeof driver.network_mode === 'string') entry.network = driver.network_mode;
    // Passed on; an engine that refuses privileged containers gets an unprivileged one, and the cell says so.
    if (driver.privileged === true) Object.assign(entry, { privileged: true, privilegedFallback: true });
    if (isDict(platform.provisioner)) {
      for (const key of Object.keys(platform.provisioner)) k.note([...path, 'provisioner', key], `platform-level provisioner setting ${key} is not mapped (settings apply per suite here)`);
    }
    for (const key of Object.keys(platform)) if (!['name', 'driver', 'provisioner', 'transport', 'verifier'].includes(key)) k.note([...path, key], `platform setting ${key} is not mapped`);
    images.push(entry);
  });
  return images;
}

/** state_top's `base: {'*': [mods]}` -> the states; other environments and targets are noted. */
function statesOfTop(k: KitchenReader, path: YamlPath, top: unknown): string[] {
  const states: string[] = [];
  if (!isDict(top)) return states;
  for (const [env, targets] of Object.entries(top)) {
    if (!isDict(targets)) continue;
    for (const [target, mods] of Object.entries(targets)) {
      const list = Array.isArray(mods) ? mods.filter((m): m is string => typeof m === 'string') : [];
      if (env === 'base' && target === '*') states.push(...list);
      else k.note([...path, env, target], `state_top target ${env}: '${target}' is not mapped: only base: '*' is applied (${list.join(', ')})`);
    }
  }
  return states;
}

/** pillars, pillars_from_files and pillars_from_directories as one assembled pillar tree. */
function pillarOf(k: KitchenReader, path: YamlPath, provisioner: Dict, dir: string): PillarSpec | undefined {
  const directories: { source: string; dest: string }[] = [];
  const files: PillarFile[] = [];
  const fromDirs = Array.isArray(provisioner.pillars_from_directories) ? provisioner.pillars_from_directories : [];
  fromDirs.forEach((entry, i) => {
    if (typeof entry === 'string') directories.push({ source: fromMatrix(dir, entry), dest: '' });
    else if (isDict(entry) && typeof entry.source === 'string' && typeof entry.dest === 'string') {
      const dest = posix.normalize(entry.dest.replace(/^\/?srv\/pillar\/?/, ''));
      if (/^\/?srv\/pillar(\/|$)/.test(entry.dest) && !dest.startsWith('..')) directories.push({ source: fromMatrix(dir, entry.source), dest: dest === '.' ? '' : dest });
      else k.note([...path, 'pillars_from_directories', i], `pillars_from_directories dest ${entry.dest} is outside the pillar root: not mapped`);
    }
  });
  if (isDict(provisioner.pillars)) {
    // Written as Kitchen writes them, one YAML document a file (JSON is YAML).
    for (const [name, content] of Object.entries(provisioner.pillars)) files.push({ path: name, content: `${JSON.stringify(content ?? {}, null, 2)}\n` });
  }
  const fromFiles = provisioner.pillars_from_files ?? provisioner['pillars-from-files'];
  if (isDict(fromFiles)) {
    for (const [name, source] of Object.entries(fromFiles)) if (typeof source === 'string') files.push({ path: name, source: fromMatrix(dir, source) });
  }
  if (directories.length === 0 && files.length === 0) {
    if (typeof provisioner.local_salt_root === 'string') return { kind: 'tree', root: join(fromMatrix(dir, provisioner.local_salt_root), 'pillar') };
    return { kind: 'assembled', directories, files };
  }
  // pillars_from_files without a top.sls among pillars: Kitchen gives the modules to nobody; say so.
  if (!files.some((f) => f.path === 'top.sls') && !directories.length) {
    const modules = files.map((f) => f.path.replace(/\.sls$/, '').split('/').join('.'));
    k.note([...path, 'pillars'], `no pillar top.sls: one giving ${modules.join(', ')} to every minion is used`);
    files.push({ path: 'top.sls', content: topFile(modules) });
  }
  return { kind: 'assembled', directories, files };
}

/**
 * A suite's path dependencies as Kitchen places them: PATH/NAME in the state tree as NAME/, with
 * PATH's custom module folders. One whose folder is missing is left out, with a note.
 */
function formulasOf(k: KitchenReader, path: YamlPath, provisioner: Dict, dir: string): FormulaDir[] {
  const formulas: FormulaDir[] = [];
  const dependencies = Array.isArray(provisioner.dependencies) ? provisioner.dependencies : [];
  dependencies.forEach((d, i) => {
    if (!isDict(d) || typeof d.path !== 'string' || typeof d.name !== 'string') return;
    const root = fromMatrix(dir, d.path);
    if (existsSync(join(root, d.name))) formulas.push({ name: d.name, root });
    else k.note([...path, 'dependencies', i], `dependency ${d.name}: no folder ${join(d.path, d.name)} next to the Kitchen file: left out`);
  });
  return formulas;
}

function provisionerNotes(k: KitchenReader, path: YamlPath, provisioner: Dict, dir: string): void {
  for (const [key, value] of Object.entries(provisioner)) {
    if (MAPPED_PROVISIONER.has(key)) continue;
    if (key === 'salt_copy_filter') {
      const extra = (Array.isArray(value) ? value : []).filter((v) => !SKIPPED_DIRS.has(String(v)));
      if (extra.length) k.note([...path, key], `salt_copy_filter ${extra.join(', ')} is not applied: runs leave out only ${[...SKIPPED_DIRS].join(', ')}`);
      continue;
    }
    if (key === 'name' && value !== 'salt_solo') k.note([...path, key], `provisioner ${String(value)}: read as salt_solo`);
    else if (key === 'salt_install') k.note([...path, key], `salt_install: ${String(value)} is not done: each run brings Salt Containers' own Salt (a Salt in the image is not used)`);
    else if (key === 'formula' && typeof value === 'string' && !existsSync(join(dir, value))) k.r.problem([...path, key], `formula ${value}: no folder ${value}/ next to the Kitchen file`);
    else if (key === 'dependencies' && Array.isArray(value) && value.length) {
      // Path dependencies are mapped (formulasOf); git, spm, apt and yum ones would need fetching.
      const fetched = value.filter((d) => !(isDict(d) && typeof d.path === 'string'));
      if (fetched.length) k.note([...path, key], `dependencies (${fetched.map((d) => (isDict(d) ? String(d.name) : String(d))).join(', ')}) are not fetched: put them in the state tree`);
    } else if (!QUIET_PROVISIONER.has(key) && key !== 'dependencies') k.note([...path, key], `provisioner setting ${key} is not mapped`);
  }
}

/**
 * The suite's verifier (kitchen's top-level one, its own merged over it): `shell` runs its command (in
 * the container with remote_exec: true, else here); InSpec is not run, and each cell says so.
 */
function verifierChecks(k: KitchenReader, path: YamlPath, file: string, common: Dict | undefined, own: Dict | undefined, suite: string): SuiteChecks | undefined {
  if (!common && !own) return undefined;
  const verifier = deepMerge(common ?? {}, own ?? {});
  const at: YamlPath = own ? [...path, 'verifier'] : ['verifier'];
  const line = k.r.lineNear(at);
  const name = String(verifier.name ?? 'inspec');
  if (name === 'shell') {
    if (typeof verifier.command === 'string' && verifier.command.trim()) return { shell: { command: verifier.command, remote: verifier.remote_exec === true, file, ...(line ? { line } : {}) } };
    k.note(at, `suite ${suite}: shell verifier without a command: nothing to run`);
    return undefined;
  }
  if (name === 'inspec') {
    const paths = Array.isArray(verifier.inspec_tests) ? verifier.inspec_tests.map((t) => (isDict(t) ? String(t.path ?? t.name) : String(t))) : [`test/integration/${suite}`];
    k.note(at, `suite ${suite}: verifier inspec (${paths.join(', ')}) is not run: each cell says so (verify: InSpec not run); move its controls to saltcheck or testinfra tests`);
    return { inspec: { paths, file, ...(line ? { line } : {}) } };
  }
  return undefined;
}

/** Parses a Kitchen file into a matrix; throws MatrixError for what makes no matrix at all. */
export function parseKitchen(text: string, file: string, findRoots: RootsFinder): Matrix {
  const yaml = readYaml(text);
  if (yaml.errors.length) {
    const erb = /<%/.test(text) ? ' (ERB `<% %>` is not evaluated)' : '';
    throw new MatrixError(file, yaml.errors.map((e) => ({ message: `not valid YAML${erb}: ${e.message}`, line: e.line })));
  }
  const r = new Reader(yaml);
  const k = new KitchenReader(r);
  const doc = yaml.value;
  if (!isDict(doc)) throw new MatrixError(file, [{ message: 'expected a Kitchen file with platforms and suites', line: 1 }]);
  if (/<%/.test(text)) k.note([], 'ERB (`<% %>`) is not evaluated: values are read as written');
  const dir = dirname(file);
  for (const key of Object.keys(doc)) {
    if (key === 'transport' || key === 'lifecycle') k.note([key], `${key} is not mapped: runs go through the Docker engine, not SSH`);
    else if (!['driver', 'provisioner', 'platforms', 'suites', 'verifier'].includes(key)) k.note([key], `${key} is not mapped`);
  }
  const verifierName = (v: Dict) => String(v.name ?? 'inspec');
  if (isDict(doc.verifier) && !['inspec', 'shell'].includes(verifierName(doc.verifier))) k.note(['verifier'], `verifier ${verifierName(doc.verifier)} is not run: its checks are not Salt states (use saltcheck or testinfra tests)`);
  const images = readPlatforms(k, doc);
  checkUnique(r, 'platform', images.map((image, i) => ({ name: image.name, path: ['platforms', i] })));
  const common = isDict(doc.provisioner) ? doc.provisioner : {};
  provisionerNotes(k, ['provisioner'], common, dir);
  const salt: string[] = [];
  const commonVersion = common.salt_version;
  if (typeof commonVersion === 'string' || typeof commonVersion === 'number') {
    if (SALT_VERSION.test(String(commonVersion))) salt.push(String(commonVersion));
    else if (commonVersion !== 'latest') k.note(['provisioner', 'salt_version'], `salt_version ${commonVersion} is not a release: the configured Salt is used`);
  }
  const suites: Suite[] = [];
  if (!Array.isArray(doc.suites) || doc.suites.length === 0) r.problem(['suites'], 'needs a list of suites');
  else doc.suites.forEach((value, i) => {
    const path: YamlPath = ['suites', i];
    if (!isDict(value) || typeof value.name !== 'string') {
      r.problem(path, 'a suite needs a name');
      return;
    }
    const own = isDict(value.provisioner) ? value.provisioner : {};
    const provisioner = deepMerge(common, own);
    provisionerNotes(k, [...path, 'provisioner'], own, dir);
    if (own.salt_version !== undefined && String(own.salt_version) !== String(commonVersion ?? '')) {
      k.note([...path, 'provisioner', 'salt_version'], `suite ${value.name}: its own salt_version ${String(own.salt_version)} is not mapped (one Salt list for all suites)`);
    }
    const highstate = provisioner.state_top_from_file === true || !isDict(provisioner.state_top) || Object.keys(provisioner.state_top).length === 0;
    if (highstate && provisioner.state_top_from_file !== true) k.note([...path, 'provisioner'], `suite ${value.name} has no state_top: the state tree's top.sls is applied (highstate)`);
    const states = highstate ? [] : statesOfTop(k, [...path, 'provisioner', 'state_top'], provisioner.state_top);
    if (!highstate && states.length === 0) r.problem([...path, 'provisioner', 'state_top'], "state_top has no base: '*' list of states to apply");
    const suite: Suite = { name: value.name, states, highstate, pillar: pillarOf(k, [...path, 'provisioner'], provisioner, dir), verify: [], idempotence: true, line: yaml.lineOf(path) };
    const formulas = formulasOf(k, [...path, 'provisioner'], provisioner, dir);
    if (formulas.length) suite.formulas = formulas;
    if (isDict(value.driver)) {
      const init = initOf(k, [...path, 'driver'], value.driver);
      if (init) suite.init = init;
      driverNotes(k, [...path, 'driver'], value.driver);
      if (value.driver.privileged === true) k.note([...path, 'driver', 'privileged'], `suite ${value.name}: privileged: true in a suite's driver is not mapped: give it on the platforms`);
    }
    const names = (key: 'includes' | 'excludes') => (Array.isArray(value[key]) ? (value[key] as unknown[]).map(String) : undefined);
    const includes = names('includes');
    const excludes = names('excludes');
    if (includes) suite.includes = includes;
    if (excludes) suite.excludes = excludes;
    const checks = verifierChecks(k, path, file, isDict(doc.verifier) ? doc.verifier : undefined, isDict(value.verifier) ? value.verifier : undefined, value.name);
    if (checks) suite.checks = checks;
    for (const key of Object.keys(value)) if (!['name', 'provisioner', 'driver', 'verifier', 'includes', 'excludes', 'transport'].includes(key)) k.note([...path, key], `suite setting ${key} is not mapped`);
    suites.push(suite);
  });
  checkUnique(r, 'suite', suites.map((suite, i) => ({ name: suite.name, path: ['suites', i] })));
  if (r.problems.length) throw new MatrixError(file, r.problems);
  const localRoot = typeof common.local_salt_root === 'string' ? join(fromMatrix(dir, common.local_salt_root), 'salt') : undefined;
  // A formula's folder (or the project as its own file root) is under the Kitchen file's folder.
  const roots = findRoots(dir, { stateRoot: localRoot ?? dir });
  const saltenv = typeof common.salt_env === 'string' ? common.salt_env : 'base';
  const notes = [...k.notes].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { file, format: 'kitchen', dir, stateRoot: roots.stateRoot, pillarRoot: undefined, saltenv, images, salt, engines: ['default'], suites, notes };
}
