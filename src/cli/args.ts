/** The CLI's command line: verbs, options and their checks. Pure: no I/O, unit-tested. */
import { parseArgs } from 'node:util';
import { SALT_ON_VALUES, type SaltOn } from '../engine/helper/settings';
import { PYTHON_RUNTIME_SETTINGS, type PythonRuntimeSetting } from '../engine/runtime/choose';
import { parseShard, type Shard } from '../testing/shard';

export const USAGE = `salt-containers: apply Salt states in Docker containers, with Salt injected for the run and removed after

usage:
  salt-containers apply MOD[,MOD...] --container NAME [--test] [--states DIR] [--pillar DIR|FILE] [--json]
  salt-containers highstate --container NAME [--test] [--states DIR] [--pillar DIR|FILE] [--json]
  salt-containers watch MOD[,MOD...] --container NAME [--test] [--states DIR] [--pillar DIR|FILE] [--json]
  salt-containers call FUNCTION [ARG ...] [KEY=VALUE ...] --container NAME [--states DIR] [--json]
  salt-containers build MOD[,MOD...] --from IMAGE --tag TAG [--states DIR] [--pillar DIR|FILE] [--json]
  salt-containers ls [--json]
  salt-containers cache [ls | rm [TAG ...]] [--json]
  salt-containers check [FILE|DIR ...] [--exclude GLOB ...] [--states DIR] [--pillar DIR|FILE]
                        [--container NAME | --image IMAGE] [--json]
  salt-containers salt versions [--json]
  salt-containers test [--matrix FILE] [--suite NAME] [--image IMAGE] [--salt VERSION] [--workers N]
                       [--junit FILE] [--keep] [--json] [--shard K/N [--timings FILE]] [--list]
  salt-containers report merge FILE... [--junit FILE] [--json]

options:
  --container NAME     the running container to apply to (name or id)
  --test               dry run: report what would change, change nothing
  --states DIR         the state tree (file_roots); default ./salt if it exists, else .
  --pillar DIR|FILE    the pillar tree (pillar_roots); default ./pillar if it exists. A file (a formula's
                       pillar.example) is one pillar module that every minion is given
  --saltenv ENV        the salt environment (default base)
  --from IMAGE         build: the base image
  --tag TAG            build: the image to make (repo[:tag])
  --commit-on-failure  build: commit a failed run as TAG-failed for inspection
  --python WHICH       the Python that runs Salt in the container: auto (default: the container's
                       when Salt supports it, else one Salt Containers brings), container, bundled
  --install-salt       when this machine has no Python with Salt, install the pinned Salt from PyPI
                       into the cache first (on a terminal you are asked instead)
  --salt-on WHERE      where Salt's host-side work is done (the thin, the catalogue, the bundled
                       runtime): auto (default: this machine when it has a Python with Salt, else
                       helper containers on the engine), host, engine
  --matrix FILE        test: salt-containers.yml or kitchen.yml (default: salt-containers.yml, else
                       kitchen.yml, in the current folder)
  --suite NAME         test: only this suite (repeatable); --image IMAGE, --salt VERSION likewise
                       (--image NAME=IMAGE: that entry's cells on another image, e.g. a kitchen.yml
                       platform on debian:12)
  --workers N          test: cells run at once (default: the number of cores)
  --junit FILE         test: also write JUnit XML to FILE
  --keep               test: keep failed cells' containers (their names are printed)
  --shard K/N          test: only the K-th of N parts of the stably sorted cells (CI fleets: N jobs
                       run every cell once); --timings FILE (an earlier --json report) balances the
                       parts by its cells' durations
  --exclude GLOB       check: leave out the files and folders it names (repeatable), as .gitignore reads
                       it, relative to the current folder: mysql/macos.sls, 'mysql/*rpm*', test
  --list               test: print the cells (with --shard, that part's) instead of running them;
                       --json: as a document for a CI's dynamic matrix
  -H, --host URL       the engine, as DOCKER_HOST spells it (unix://, tcp:// with DOCKER_TLS_VERIFY
                       and DOCKER_CERT_PATH, ssh://)
  --context NAME       the Docker context (docker context ls); default: DOCKER_HOST, DOCKER_CONTEXT,
                       the current context (docker context use), else the first engine's socket
                       there: /var/run/docker.sock, Docker Desktop's, OrbStack's, Colima's,
                       Rancher Desktop's, Podman's (on Windows, the named pipes)
  --json               machine-readable output (see README)
  --debug              print the engine calls and Salt's raw output; stack traces on internal errors
  -h, --help           this help
  --version            the version

salt versions lists the Salt releases the package index serves, by line (3006, 3007, 3008), with each
line's support (LTS, STS, end of life) and the releases the cache holds. --salt (test) and
a matrix's salt: take a release (3006.29), a line (3006: its newest release that installs here) or latest.

report merge joins the --json reports and JUnit files of a run's shards into one (JUnit to --junit FILE,
the merged --json report to stdout); its exit code is the merged run's.

cache lists what helper containers made and the engine keeps (Salt per version, the bundled runtime per
architecture); cache rm removes it (all, or the tags named) and any helper container left behind.

check reports what the editor reports, without an engine: Jinja syntax errors as Jinja reports them,
YAML, includes, requisites, state functions; over the files and folders named (.sls, .jinja, .j2), else
the state and pillar trees; --pillar (a folder or a pillar.example) is checked as pillar data. One
line per problem (path:line:col: error: message [source]); --json: a list of {file, line, column,
severity, message, source, code}. Exit 1 when there is an error.
--exclude GLOB leaves out what it names: not checked, not rendered by Salt, nothing reported in it.
New: with --container NAME, also Salt's own render and compile of each state module checked in that
container (state.show_sls: nothing applied); Salt's errors are findings with source salt. With
--image IMAGE, the same in a fresh container of that image (pulled if missing), removed after.

watch applies at once, then again after each change under the state and pillar trees, through a warm
Salt session in the container (--json: one apply document per line); Ctrl-C ends it and the session.

exit codes: 0 all good, 2 a state failed (test: a test failed), 1 anything else (render error, no Python, engine down,
  check: an error found, ...)
environment: DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION
  (the engine, as the docker CLI reads them), SALT_CONTAINERS_PYTHON (a Python with Salt), SALT_CONTAINERS_CACHE,
  SALT_CONTAINERS_SALT_ON (as --salt-on), SALT_CONTAINERS_PYTHON_IMAGE and SALT_CONTAINERS_DEBIAN_IMAGE (the
  helpers' images: python:3.11-slim-bookworm, debian:bookworm-slim), SALT_CONTAINERS_HELPER_NETWORK (e.g. host)`;

export type Verb = 'apply' | 'highstate' | 'watch' | 'call' | 'build' | 'ls' | 'test' | 'cache' | 'check' | 'salt' | 'report';

export interface CliCommand {
  verb: Verb;
  mods: string[];
  /** check: the files and folders to check (none: the trees). */
  paths: string[];
  /** check --exclude: path globs of files and folders left out. */
  excludes: string[];
  container?: string;
  fn?: string;
  args: string[];
  kwargs: Record<string, string>;
  test: boolean;
  states?: string;
  pillar?: string;
  saltenv?: string;
  from?: string;
  tag?: string;
  commitOnFailure: boolean;
  /** --python: which Python runs Salt in the container (undefined: auto). */
  python?: PythonRuntimeSetting;
  /** Install the pinned Salt into the cache when no Python with Salt is found. */
  installSalt: boolean;
  /** --salt-on: where Salt's host-side work is done (undefined: SALT_CONTAINERS_SALT_ON, else auto). */
  saltOn?: SaltOn;
  /** cache: ls or rm, and rm's tags (empty: all). */
  cacheAction?: 'ls' | 'rm';
  /** The engine's address (--host), as DOCKER_HOST spells it. */
  host?: string;
  /** The Docker context (--context). */
  context?: string;
  json: boolean;
  debug: boolean;
  /** test: the matrix file. */
  matrix?: string;
  /** test: filters (empty: all). */
  suites: string[];
  images: string[];
  saltVersions: string[];
  /** test: cells at once; undefined: one per core. */
  workers?: number;
  /** test: where to write JUnit XML. */
  junit?: string;
  /** test: keep failed cells' containers. */
  keep: boolean;
  /** test: only this part of the sorted cells. */
  shard?: Shard;
  /** test: an earlier --json report whose durations balance the shards. */
  timings?: string;
  /** test: print the cells instead of running them. */
  list: boolean;
  /** report merge: the reports to join (--json documents and JUnit files). */
  reports: string[];
}

export type Parsed = { kind: 'command'; command: CliCommand } | { kind: 'help' } | { kind: 'version' } | { kind: 'usage-error'; message: string };

const KWARG = /^([A-Za-z_][\w.-]*)=(.*)$/s;

export function parseCommandLine(argv: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        container: { type: 'string', short: 'c' },
        test: { type: 'boolean' },
        states: { type: 'string' },
        pillar: { type: 'string' },
        saltenv: { type: 'string' },
        from: { type: 'string' },
        tag: { type: 'string', short: 't' },
        'commit-on-failure': { type: 'boolean' },
        python: { type: 'string' },
        'install-salt': { type: 'boolean' },
        'salt-on': { type: 'string' },
        host: { type: 'string', short: 'H' },
        context: { type: 'string' },
        json: { type: 'boolean' },
        debug: { type: 'boolean' },
        matrix: { type: 'string' },
        suite: { type: 'string', multiple: true },
        image: { type: 'string', multiple: true },
        salt: { type: 'string', multiple: true },
        workers: { type: 'string' },
        junit: { type: 'string' },
        keep: { type: 'boolean' },
        shard: { type: 'string' },
        timings: { type: 'string' },
        list: { type: 'boolean' },
        exclude: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (error) {
    return { kind: 'usage-error', message: (error as Error).message.replace(/\. To specify a positional argument.*$/s, '') };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const [verb, ...rest] = positionals;
  if (!verb) return { kind: 'usage-error', message: 'no command given' };
  const command: CliCommand = {
    verb: verb as Verb,
    mods: [],
    paths: [],
    excludes: values.exclude ?? [],
    container: values.container,
    args: [],
    kwargs: {},
    test: values.test ?? false,
    states: values.states,
    pillar: values.pillar,
    saltenv: values.saltenv,
    from: values.from,
    tag: values.tag,
    commitOnFailure: values['commit-on-failure'] ?? false,
    python: values.python as PythonRuntimeSetting | undefined,
    installSalt: values['install-salt'] ?? false,
    saltOn: values['salt-on'] as SaltOn | undefined,
    host: values.host,
    context: values.context,
    json: values.json ?? false,
    debug: values.debug ?? false,
    matrix: values.matrix,
    suites: values.suite ?? [],
    images: values.image ?? [],
    saltVersions: values.salt ?? [],
    junit: values.junit,
    keep: values.keep ?? false,
    timings: values.timings,
    list: values.list ?? false,
    reports: [],
  };
  const needContainer = () => (command.container ? undefined : `${verb} needs --container NAME`);
  const mods = (list: string[]) => list.flatMap((m) => m.split(',')).map((m) => m.trim()).filter(Boolean);
  let problem: string | undefined;
  switch (verb) {
    case 'apply':
    case 'watch':
      command.mods = mods(rest);
      problem = command.mods.length === 0 ? `${verb} needs at least one SLS module, e.g. \`${verb} web\`` : needContainer();
      break;
    case 'highstate':
      problem = rest.length ? `highstate takes no modules (got ${rest.join(' ')}); use apply for those` : needContainer();
      break;
    case 'call': {
      const [fn, ...callArgs] = rest;
      if (!fn) problem = 'call needs a function, e.g. `call grains.items`';
      command.fn = fn;
      for (const arg of callArgs) {
        const kwarg = KWARG.exec(arg);
        if (kwarg) command.kwargs[kwarg[1]] = kwarg[2];
        else command.args.push(arg);
      }
      problem ??= needContainer();
      break;
    }
    case 'build':
      command.mods = mods(rest);
      if (command.mods.length === 0) problem = 'build needs at least one SLS module';
      else if (!command.from) problem = 'build needs --from IMAGE (the base image)';
      else if (!command.tag) problem = 'build needs --tag TAG (the image to make)';
      break;
    case 'ls':
      if (rest.length) problem = `ls takes no arguments (got ${rest.join(' ')})`;
      break;
    case 'cache': {
      const [action = 'ls', ...tags] = rest;
      if (action !== 'ls' && action !== 'rm') problem = `cache takes ls or rm (got ${action})`;
      else if (action === 'ls' && tags.length) problem = `cache ls takes no arguments (got ${tags.join(' ')})`;
      command.cacheAction = action as 'ls' | 'rm';
      command.args = tags;
      break;
    }
    case 'check':
      command.paths = rest;
      if (command.container && command.images.length) problem = 'check takes --container NAME or --image IMAGE, not both';
      else if (command.images.length > 1) problem = `check takes one --image (got ${command.images.join(', ')})`;
      else if (command.images[0]?.includes('=')) problem = `check --image takes an image, not NAME=IMAGE (got ${command.images[0]})`;
      break;
    case 'salt':
      if (rest.length !== 1 || rest[0] !== 'versions') problem = `salt takes versions (got ${rest.join(' ') || 'nothing'})`;
      command.args = rest;
      break;
    case 'test':
      if (rest.length) problem = `test takes no arguments (got ${rest.join(' ')}); name the matrix with --matrix FILE`;
      else if (values.workers !== undefined) {
        const workers = Number(values.workers);
        if (!Number.isInteger(workers) || workers < 1) problem = `--workers needs a whole number of at least 1 (got ${values.workers})`;
        else command.workers = workers;
      }
      if (values.shard !== undefined) {
        const shard = parseShard(values.shard);
        if (typeof shard === 'string') problem ??= shard;
        else command.shard = shard;
      } else if (values.timings !== undefined) problem ??= '--timings balances shards: give --shard K/N with it';
      break;
    case 'report': {
      const [action, ...files] = rest;
      if (action !== 'merge') problem = `report takes merge (got ${action ?? 'nothing'}), e.g. \`report merge shard-*.json shard-*.xml --junit all.xml --json\``;
      else if (files.length === 0) problem = 'report merge needs the reports to join (--json documents and JUnit files of the shards)';
      command.reports = files;
      break;
    }
    default:
      problem = `unknown command ${verb}`;
  }
  if (command.excludes.length && verb !== 'check') problem ??= `--exclude is for check (got ${verb})`;
  // As the docker CLI: one or the other names the engine.
  if (command.host && command.context) problem = 'conflicting options: give --host or --context, not both';
  if (command.saltOn !== undefined && !SALT_ON_VALUES.includes(command.saltOn)) problem ??= `--salt-on takes ${SALT_ON_VALUES.join(', ')} (got ${command.saltOn})`;
  if (command.python !== undefined && !PYTHON_RUNTIME_SETTINGS.includes(command.python)) problem ??= `--python takes ${PYTHON_RUNTIME_SETTINGS.join(', ')} (got ${command.python})`;
  return problem ? { kind: 'usage-error', message: problem } : { kind: 'command', command };
}
