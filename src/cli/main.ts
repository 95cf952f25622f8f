/**
 * `salt-containers`: the engine from a terminal. The same SaltRunner the extension uses; the verbs,
 * options, --json shapes and exit codes are a contract (README).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { DockerEngine, installSalt, PINNED_SALT_VERSION, pullLines, SaltRunner, SaltSource, SaltSourceError, startKeptAlive, WarmSessions, type AnyRun, type PullProgress, type RunError } from '../engine';
import { findRoots } from '../sls/roots';
import { locateRunError } from '../sls/locate';
import { parseCommandLine, USAGE, type CliCommand } from './args';
import { WATCH_SESSION_IDLE_MS, watchApply } from './watch';
import { colors, formatCall, formatEngineCache, formatList, formatStateRun, plain, relativeTo, toJson } from './format';
import { listEngineCache, removeEngineCache } from '../engine/helper/cache';
import { saltVerb } from './salt';
import { testVerb } from './test';
import { reportMergeVerb } from './report';
import { checkTrees, emptyHighstateNote } from './trees';
import { check, formatFindings, saltFindings, type CheckFinding } from './check';
import { excludedUnder } from './exclude';

/** check --container: the warm session outlives a pause between modules, not the check. */
const CHECK_SESSION_IDLE_MS = 60_000;

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function execute(command: CliCommand, write: (text: string) => void): Promise<number> {
  if (command.verb === 'check' && !command.container && !command.images.length) {
    // The source alone: no engine.
    const { files, findings } = await checkSource(command);
    return reportCheck(command, files, findings, write);
  }
  const log = command.debug ? (line: string) => process.stderr.write(`[debug] ${line}\n`) : undefined;
  // Reports only: no engine, no Salt.
  if (command.verb === 'report') return reportMergeVerb(command, write);
  const engine = new DockerEngine({ dockerHost: command.host, context: command.context });
  // docker-modem's ssh transport makes a URL Node warns about (DEP0170) on every run: not the user's business.
  if (engine.endpoint.host.startsWith('ssh://')) process.noDeprecation = true;
  log?.(`engine: ${engine.address}, chosen by ${engine.endpoint.source}${engine.endpoint.tls ? ` (TLS${engine.endpoint.tls.verify ? '' : ', not verified'}${engine.endpoint.tls.dir ? ` from ${engine.endpoint.tls.dir}` : ''})` : ''}`);
  // First use on a machine without Salt: a helper on the engine installs it (about a minute). Its
  // progress and any pull go to stderr, as a pull's do.
  const progress = (line: string) => process.stderr.write(`… ${line}\n`);
  const source = new SaltSource({ log, engine, saltOn: command.saltOn, onProgress: progress, onPull: pullLines(progress) });
  const runner = new SaltRunner(engine, source);
  const style = process.stdout.isTTY && !process.env.NO_COLOR && !command.json ? colors : plain;

  if (command.verb === 'test') {
    return testVerb(command, { selection: { host: command.host, context: command.context }, source, offerSalt: (signal) => offerSalt(source, command, signal), write, style, log });
  }

  if (command.verb === 'cache') {
    if (command.cacheAction === 'rm') {
      const removed = await removeEngineCache(engine, command.args.length ? command.args : undefined);
      write(command.json ? JSON.stringify(removed, null, 2) : [...removed.images.map((t) => `removed ${t}`), ...removed.containers.map((c) => `removed helper container ${c}`)].join('\n') || 'nothing to remove');
      return 0;
    }
    const entries = await listEngineCache(engine);
    write(command.json ? JSON.stringify(entries.map(({ tag, kind, size, created }) => ({ tag, kind, size, created })), null, 2) : formatEngineCache(entries));
    return 0;
  }

  if (command.verb === 'salt') return saltVerb(command, { engine, cacheDir: source.cacheDir, write, log });

  if (command.verb === 'ls') {
    const [containers, images] = await Promise.all([engine.listContainers(), engine.listImages()]);
    write(command.json ? JSON.stringify({ containers, images }, null, 2) : formatList(containers, images));
    return 0;
  }

  const tree = findRoots(process.cwd(), { stateRoot: command.states, pillarRoot: command.pillar });
  const note = (text: string) => process.stderr.write(`${style.yellow(`note: ${text}`)}\n`);
  for (const text of checkTrees(tree, command, process.cwd())) note(text);
  const locate = (error: RunError) => {
    const where = locateRunError(tree, error, { mods: command.mods, highstate: command.verb === 'highstate' });
    return where && `${relativeTo(process.cwd(), where.file)}${where.exact ? `:${where.line + 1}${error.column ? `:${error.column}` : ''}` : ''}`;
  };

  // Ctrl-C cancels the run (salt-call is killed, the injected files removed); a second one quits at once.
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write('cancelling: stopping Salt in the container and cleaning up (Ctrl-C again to quit now)\n');
    controller.abort();
  });
  // Stages go to a terminal's stderr only: stdout is for the result, which scripts read. A pull (a base
  // image the engine lacks) can take minutes: its progress goes to stderr always, as docker's does.
  const control = {
    signal: controller.signal,
    log,
    onStage: process.stderr.isTTY && !command.json ? (stage: string) => process.stderr.write(`… ${stage}\n`) : undefined,
    onPull: pullLines((line) => process.stderr.write(`… ${line}\n`)),
  };
  const options = { ...control, test: command.test, saltenv: command.saltenv, python: command.python };
  await offerSalt(source, command, controller.signal);

  if (command.verb === 'check') {
    // The source, then Salt's own render of each state module in the container: nothing applied.
    const { files, findings, checked, roots } = await checkSource(command, engine);
    const cwd = process.cwd();
    // Salt renders the trees the source check read (the ones that hold the paths), with the --pillar given.
    const checkTree = { ...tree, stateRoot: roots.stateRoot, pillarRoot: command.pillar ? tree.pillarRoot : roots.pillarRoot };
    // One warm Salt in the container for all the modules, ended with the check.
    const sessions = new WarmSessions(runner.launcher, { idleTimeoutMs: CHECK_SESSION_IDLE_MS, log });
    runner.warm = sessions;
    const inContainer = (container: string) =>
      saltFindings(runner, container, checked, checkTree, findings, { cwd, saltenv: command.saltenv, control: { ...control, python: command.python }, excluded: excludedUnder(cwd, command.excludes) }).finally(() =>
        sessions.dispose(),
      );
    const salt = command.container ? await inContainer(command.container) : await inFreshContainer(engine, command.images[0], control, inContainer);
    const all = [...findings, ...salt].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
    return reportCheck(command, files, all, write);
  }

  if (command.verb === 'watch') {
    // One Salt stays warm in the container while the watch lasts; it ends with it (Ctrl-C), or when idle.
    const sessions = new WarmSessions(runner.launcher, { idleTimeoutMs: WATCH_SESSION_IDLE_MS, log });
    runner.warm = sessions;
    const last = await watchApply(runner, command.container!, command.mods, tree, {
      ...options,
      signal: controller.signal,
      // What the watcher cannot watch, or a tree removed: on stderr, in --json mode too (stdout is the runs').
      onNote: note,
      show: (path) => relativeTo(process.cwd(), path),
      onRun: (run, changed) => {
        // One apply document per line: a script reads them as they come.
        if (command.json) write(JSON.stringify(toJson(run)));
        else {
          if (changed.length) write(style.cyan(`changed: ${changed.map((f) => relativeTo(process.cwd(), f)).join(', ')}`));
          write(formatStateRun(run, style, locate));
          write(style.cyan(`watching ${[tree.stateRoot, tree.pillarRoot].filter(Boolean).map((r) => relativeTo(process.cwd(), r!)).join(' and ')} (Ctrl-C to stop)`));
        }
      },
    }).finally(() => sessions.dispose());
    return last?.retcode ?? 1;
  }

  let run: AnyRun;
  switch (command.verb) {
    case 'apply':
      run = await runner.apply(command.container!, command.mods, tree, options);
      break;
    case 'highstate': {
      run = await runner.highstate(command.container!, tree, options);
      const why = emptyHighstateNote(run, tree.stateRoot, process.cwd(), command.saltenv);
      if (why) run.notes = [...(run.notes ?? []), why];
      break;
    }
    case 'call':
      run = await runner.call(command.container!, command.fn!, command.args, command.kwargs, tree, { ...control, python: command.python });
      break;
    case 'build':
      run = await runner.build(command.mods, tree, { ...options, baseImage: command.from!, tag: command.tag!, commitOnFailure: command.commitOnFailure });
      break;
  }
  if (command.json) write(JSON.stringify(toJson(run), null, 2));
  else write(run.kind === 'call' ? formatCall(run, style, locate) : formatStateRun(run, style, locate));
  return run.errors.some((e) => e.kind === 'cancelled') ? 1 : run.retcode;
}

/** check's source findings: the language server's diagnostics over the files named, else the trees. */
function checkSource(command: CliCommand, engine?: DockerEngine): ReturnType<typeof check> {
  const cwd = process.cwd();
  // The trees given are refused as apply refuses them (no such folder, a file for --states...).
  if (command.states || command.pillar) checkTrees(findRoots(cwd, { stateRoot: command.states, pillarRoot: command.pillar }), { states: command.states, pillar: command.pillar }, cwd);
  const catalogue = engine && { engine, saltOn: command.saltOn };
  return check({ paths: command.paths, states: command.states, pillar: command.pillar, cwd, excluded: excludedUnder(cwd, command.excludes), note: (note) => process.stderr.write(`note: ${note}\n`), catalogue });
}

/**
 * `check --image`: a fresh container of the image (pulled if the engine lacks it, kept alive whatever
 * its command), given to `use`, then removed, also when the check fails or is cancelled.
 */
async function inFreshContainer<T>(
  engine: DockerEngine,
  image: string,
  control: { signal: AbortSignal; log?: (line: string) => void; onStage?: (stage: string) => void; onPull: (progress: PullProgress) => void },
  use: (container: string) => Promise<T>,
): Promise<T> {
  await engine.ensureImage(image, { signal: control.signal, onProgress: control.onPull, log: control.log }).catch((error) => {
    throw engine.translate(error, { image });
  });
  control.onStage?.(`starting a container of ${image}`);
  const container = await startKeptAlive(engine, image, { name: `salt-containers-check-${randomBytes(3).toString('hex')}` }, control.log);
  if (!container) throw Object.assign(new Error(`image ${image} has neither sleep nor python3 to keep a container running for the check`), { hint: 'Check against a running container of it instead (--container NAME).' });
  try {
    return await use(container);
  } finally {
    await engine.removeContainer(container, { force: true }).catch((error) => control.log?.(`check: could not remove ${container}: ${(error as Error).message}`));
  }
}

function reportCheck(command: CliCommand, files: number, findings: CheckFinding[], write: (text: string) => void): number {
  const style = process.stdout.isTTY && !process.env.NO_COLOR && !command.json ? colors : plain;
  write(command.json ? JSON.stringify(findings, null, 2) : formatFindings(findings, files, style));
  return findings.some((f) => f.severity === 'error') ? 1 : 0;
}

/**
 * No Python with Salt on this machine: with --install-salt, or when a person at a terminal says yes,
 * the pinned Salt is installed into the cache first (progress on stderr, Ctrl-C cancels). Otherwise the
 * run reports the missing Salt itself, with the hint.
 */
async function offerSalt(source: SaltSource, command: CliCommand, signal: AbortSignal): Promise<void> {
  try {
    await source.info(signal);
    return;
  } catch (error) {
    if (!(error instanceof SaltSourceError) || !error.missing) return;
  }
  let install = command.installSalt;
  if (!install && !command.json && process.stdin.isTTY && process.stderr.isTTY) {
    const question = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await question.question(`No Python with Salt on this machine. Install Salt ${PINNED_SALT_VERSION} from PyPI into ${source.cacheDir}/salt? [y/N] `);
    question.close();
    install = /^y(es)?$/i.test(answer.trim());
  }
  if (!install) return;
  const installed = await installSalt({ cacheDir: source.cacheDir, signal, onProgress: (line) => process.stderr.write(`… ${line}\n`) });
  process.stderr.write(`Salt ${installed.version} is installed (${installed.python}).\n`);
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (parsed.kind === 'usage-error') {
    process.stderr.write(`salt-containers: ${parsed.message}\nRun salt-containers --help for usage.\n`);
    return 1;
  }
  const { command } = parsed;
  try {
    return await execute(command, (text) => process.stdout.write(`${text}\n`));
  } catch (error) {
    // Runs report their own errors; this is for the rest (ls with the engine down, a bug).
    const e = error as Error & { hint?: string };
    if (command.json) process.stdout.write(`${JSON.stringify({ retcode: 1, errors: [{ message: e.hint ? `${e.message} (${e.hint})` : e.message, sls: null, line: null }] }, null, 2)}\n`);
    else process.stderr.write(`salt-containers: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}\n`);
    if (command.debug) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
