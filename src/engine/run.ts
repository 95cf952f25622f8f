/**
 * One run of salt-call in a container, in one exec: the run's entry point (scripts.ts RUN) makes a
 * private directory (in the container's /dev/shm tmpfs when it has room, else /tmp); the engine streams
 * the run's bundle and the cached thin into its stdin; it unpacks them, runs salt-call with an argv
 * array and a clean environment, and removes its directory on the way out. When it could not (cancel,
 * container stopped, the exec lost), the engine kills what is left and removes it here.
 * The entry point runs with the container's Python when it has one the Salt source supports; else
 * (or when asked) the engine first uploads its own Python runtime (runtime/) and runs it with that.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { createReadStream, statSync } from 'node:fs';
import { bundleBytes, bundleEntries, overlaid } from './bundle';
import { DockerEngine, type ExecInput, type ExecResult } from './docker/engine';
import { runErrorFrom } from './failures';
import type { PythonUsed, RawOutput, RunError } from './results/model';
import { withSaltLog } from './results/parse';
import type { RunControl, SaltCallOutcome, SaltCallSpec } from './spec';
import { buildRuntime, type BundledRuntime } from './runtime/build';
import { chooseRuntime, pythonRule, runtimePlaces, type PythonRule, type PythonSeen, type RuntimeChoice } from './runtime/choose';
import { placeRuntime } from './runtime/ship';
import { CACHE_DIR_MARK, CLEANUP, HELLO, RUN, RUN_DIR_MARK, SETUP_ERROR } from './salt/scripts';
import { SaltSource, type Thin } from './salt/source';

/** The PATH salt-call sees: the usual system directories, nothing from the host or the image's env. */
export const CLEAN_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const PYTHON_CANDIDATES = ['python3', '/usr/libexec/platform-python', 'python'];
/** For an entry point that could not set up its directory: what the container must offer. */
const ROOM_HINT = 'Salt needs about 30 MB for the run in a writable /dev/shm or /tmp in the container.';
export const SALT_OPTIONS = ['--local', '--retcode-passthrough', '--out', 'json', '-l', 'quiet'];
/** Root by uid: images without /etc/passwd cannot resolve the name. */
export const ROOT = '0:0';
/** The environment of the entry point (and of Salt under it). */
export const RUN_ENV = [CLEAN_PATH, 'LANG=C.UTF-8', 'LC_ALL=C.UTF-8', 'HOME=/root', 'PYTHONDONTWRITEBYTECODE=1', 'PYTHONIOENCODING=utf-8'];
/** How the bundled interpreter starts: isolated from the image's PYTHON* variables (-I), writing no bytecode (-B). */
const BUNDLED_FLAGS = ['-I', '-B'];

/** The entry point's environment for one interpreter: RUN_ENV and its options (see salt/scripts.ts RUN), which it takes out before Salt starts. */
export function entryEnv(rule: PythonRule, interpreter: Interpreter): string[] {
  return [...RUN_ENV, `SALT_CONTAINERS_PYTHONS=${rule.accepted.join(' ') || 'none'}`, ...(interpreter.runtime ? [`SALT_CONTAINERS_RUNTIME=${interpreter.runtime.dir}`] : [])];
}

/** What the entry point says first: where the run lives (none from a Python 2) and which Python runs it. */
export interface Hello {
  dir?: string;
  python: string;
}

/** Thrown inside a run to end it with a RunError. */
class RunFailure extends Error {
  constructor(
    readonly error: RunError,
    /** Salt's output, when it got as far as printing some. */
    readonly raw?: RawOutput,
  ) {
    super(error.message);
  }
}

/** A cancel between the steps of a run: nothing more is run. */
function throwIfCancelled(control: RunControl): void {
  if (control.signal?.aborted) throw new RunFailure({ kind: 'cancelled', message: 'cancelled: nothing more was run' });
}

function asRunError(error: unknown): RunError {
  return error instanceof RunFailure ? error.error : runErrorFrom(error);
}

/** One Python to try in the container: the argv that starts it, and, for the bundled one, its directory there. */
export interface Interpreter {
  argv: string[];
  runtime?: { dir: string; runtime: BundledRuntime };
}

/**
 * What one try of an entry point with one interpreter came to: no such program; a Python that cannot
 * run the thin (it stopped by itself; 'too-old' also for one too new); or it greeted with its run directory (`value`:
 * what the caller made of the try, e.g. the finished exec, or a session's live one).
 */
export type Attempt<T> = { kind: 'absent' } | { kind: 'too-old'; version: string } | { kind: 'ran'; value: T; version: string };

/** The Python choosePython settled on, and what its try gave. */
export interface ChosenPython<T> {
  value: T;
  interpreter: Interpreter;
  python: PythonUsed;
  /** For the bundled runtime: the note that says it ran, and why. */
  note?: string;
}

/** What the choice needs to know of the container and the Salt source. */
export interface PythonTarget {
  details: Docker.ContainerInspectInfo;
  /** The run's (or session's) name: the bundled runtime goes to NAME.python. */
  name: string;
  /** Which Pythons can run the thin (pythonRule). */
  rule: PythonRule;
}

/** A cold run's try: the finished exec and the entry point's greeting. */
type Ran = { result: ExecResult; hello: Required<Hello> };

/** What a run knows while it runs (for its tries and its cleanup). */
interface RunState {
  spec: SaltCallSpec;
  control: RunControl;
  log: (line: string) => void;
  container: { id: string; name: string };
  runName: string;
  where: string;
  need: number;
  rule: PythonRule;
  bundle: Buffer;
  thin: Thin;
  notes: string[];
  /** The interpreter the cleanup runs, and the run's directories beyond the entry point's own. */
  cleanup?: { argv: string[]; dirs: string[] };
}

export class SaltCallRunner {
  /** The Python each image ran with (by image id), tried first. */
  private readonly pythons = new Map<string, string>();
  /** Images that ran with the bundled runtime in auto mode (by image id): why (they have no Python to try). */
  private readonly bundledImages = new Map<string, string>();
  /** Each image's architecture (by image id). */
  private readonly arches = new Map<string, string>();
  /** The bundled runtime by architecture, built once. */
  private readonly runtimes = new Map<string, Promise<BundledRuntime>>();

  constructor(
    readonly engine: DockerEngine,
    readonly salt: SaltSource,
  ) {}

  /** Runs salt-call; never throws for engine, container or Salt problems (they come back in `error`). */
  async run(spec: SaltCallSpec, control: RunControl = {}): Promise<SaltCallOutcome> {
    const started = Date.now();
    const log = control.log ?? (() => undefined);
    let container = { id: spec.container, name: spec.container };
    let saltVersion: string | undefined;
    let raw: RawOutput | undefined;
    let state: RunState | undefined;
    try {
      control.onStage?.('preparing');
      throwIfCancelled(control);
      const [details, thin] = await Promise.all([this.engine.inspectContainer(spec.container), this.salt.thin(control.signal)]);
      saltVersion = thin.saltVersion;
      container = { id: details.Id, name: details.Name.replace(/^\//, '') };
      if (!details.State.Running) {
        throw new RunFailure({ kind: 'container-not-running', message: `container ${container.name} is not running (${details.State.Status})`, hint: 'Start the container first.' });
      }
      const where = runPlace(details);
      const bundle = await bundleBytes({ runDir: RUN_DIR_MARK, cacheDir: CACHE_DIR_MARK, tree: spec.tree, minionId: container.name, saltenv: spec.saltenv ?? 'base' }, overlaid(bundleEntries(spec.tree), spec.overlay));
      // Room the run takes: the bundle, and the thin's sources or its bytecode (about the same for every Python).
      const need = bundle.length + Math.max(thin.bytes, (await this.salt.bytecode(thin.pythonVersion))?.bytes ?? 0);
      // Chosen here, so a cleanup knows the directory even if the entry point never said where it is.
      const runName = `salt-containers.${randomBytes(8).toString('hex')}`;
      const run: RunState = { spec, control, log, container, runName, where, need, rule: pythonRule(thin), bundle, thin, notes: [] };
      state = run;
      throwIfCancelled(control);

      control.onStage?.('injecting');
      const chosen = await this.choosePython({ details, name: runName, rule: run.rule }, control, (interpreter) => this.attempt(run, interpreter));
      if (chosen.note) run.notes.push(chosen.note);
      return await this.outcome(run, chosen.value, chosen.python, started);
    } catch (error) {
      if (error instanceof RunFailure && error.raw) raw = error.raw;
      return { container, saltVersion, raw, error: asRunError(error), durationMs: Date.now() - started };
    } finally {
      if (state?.cleanup) {
        control.onStage?.('cleaning');
        await this.cleanup(state.container.id, state.cleanup.argv, state.runName, log, state.cleanup.dirs);
      }
    }
  }

  /**
   * The one choice of the Python that runs an entry point in a container, for cold runs and warm
   * sessions alike: unless the setting asks for the bundled runtime (or, in auto, the image already
   * ran with it), the container's candidates in turn (the one this image ran with first; when the
   * first is missing the engine says which of the others exist), each tried by `attempt`, which runs
   * the entry point with it (the entry point checks the version and greets); then, when none is one
   * the Salt source supports, the bundled runtime (runtime/choose.ts decides), placed in NAME.python
   * on the container's root filesystem and tried the same way. Once placed, its directory is the
   * caller's to remove: `attempt` learns of it (Interpreter.runtime) before anything can fail.
   * Throws a RunFailure when no Python can run the entry point.
   */
  async choosePython<T>(target: PythonTarget, control: RunControl, attempt: (interpreter: Interpreter) => Promise<Attempt<T>>): Promise<ChosenPython<T>> {
    const { details } = target;
    const log = control.log ?? (() => undefined);
    const name = details.Name.replace(/^\//, '');
    const setting = control.python ?? 'auto';
    const seen: PythonSeen[] = [];
    const bundledBefore = this.bundledImages.get(details.Image);
    let choice: RuntimeChoice | undefined = setting === 'auto' && bundledBefore ? { kind: 'bundled', reason: bundledBefore } : undefined;
    if (setting !== 'bundled' && !choice) {
      const known = this.pythons.get(details.Image);
      const candidates = known ? [known, ...PYTHON_CANDIDATES.filter((p) => p !== known)] : PYTHON_CANDIDATES;
      let present: Set<string> | undefined;
      for (const python of candidates) {
        if (present && !present.has(python)) {
          seen.push({ python });
          continue;
        }
        const tried = await attempt({ argv: [python] });
        if (tried.kind === 'ran') {
          this.pythons.set(details.Image, python);
          log(`Python: the container's ${tried.version} (${python}): ${target.rule.because}`);
          return { value: tried.value, interpreter: { argv: [python] }, python: { kind: 'container', version: tried.version, path: python } };
        }
        seen.push({ python, version: tried.kind === 'too-old' ? tried.version : undefined });
        // The first is missing: ask the engine which of the others exist (no exec each) before trying them.
        if (tried.kind === 'absent') present ??= await this.existing(details.Id, candidates.slice(candidates.indexOf(python) + 1));
      }
    }
    choice ??= chooseRuntime(setting, seen, { image: details.Config.Image, rule: target.rule });
    if (choice.kind === 'none') throw new RunFailure({ kind: 'no-python', message: choice.message, hint: choice.hint });
    if (choice.kind === 'container') throw new RunFailure({ kind: 'salt', message: `${choice.python} in the container did not run the entry point` }); // not reached: a usable one ran above
    if (setting === 'auto') this.bundledImages.set(details.Image, choice.reason);

    const readOnly = new RunFailure({
      kind: 'no-python',
      message: `container ${name} has a read-only root filesystem and ${choice.reason}: there is no place the bundled Python can run from (/dev/shm and tmpfs mounts are noexec)`,
      hint: 'Run the container without --read-only, or use an image with python3 (the run then needs only a writable /dev/shm or /tmp).',
    });
    if ('readOnly' in runtimePlaces(details)) throw readOnly; // before building a runtime it could not use
    const runtime = await this.runtime(details.Image, control);
    throwIfCancelled(control);
    const shipStarted = Date.now();
    const shipped = await placeRuntime(this.engine, details, runtime, `${target.name}.python`);
    if ('readOnly' in shipped) throw readOnly;
    if ('tried' in shipped) throw new RunFailure({ kind: 'no-python', message: `container ${name} has no directory on its root filesystem for the bundled Python (tried ${shipped.tried.join(', ')})` });
    const bundled: Interpreter = { argv: [shipped.python, ...BUNDLED_FLAGS], runtime: { dir: shipped.dir, runtime } };
    log(`bundled Python ${runtime.pythonFull} (${runtime.arch}, ${runtime.files.length} files, ${(runtime.bytes / 1e6).toFixed(1)} MB) uploaded to ${shipped.dir} in ${Date.now() - shipStarted} ms: ${choice.reason}`);
    const tried = await attempt(bundled);
    if (tried.kind !== 'ran') throw new RunFailure({ kind: 'no-python', message: `the bundled Python did not start in container ${name}` });
    return {
      value: tried.value,
      interpreter: bundled,
      python: { kind: 'bundled', version: tried.version, path: shipped.python },
      note: `Salt ran with the bundled Python ${runtime.pythonFull} (Debian ${runtime.suite}, ${runtime.arch}): ${choice.reason}.`,
    };
  }

  /**
   * Runs the entry point with one interpreter, streaming it the bundle and the thin once it greets.
   * 'absent': no such program; 'too-old': a Python older than the Salt source supports (it stopped
   * by itself); 'ran': the entry point ran Salt (whatever Salt's outcome).
   */
  private async attempt(state: RunState, interpreter: Interpreter): Promise<Attempt<Ran>> {
    const { spec, control, log, container } = state;
    // Until it says otherwise, the entry point may leave directories it will not remove itself.
    state.cleanup = { argv: interpreter.argv, dirs: interpreter.runtime ? [interpreter.runtime.dir] : [] };
    throwIfCancelled(control);
    const argv = [...interpreter.argv, '-c', RUN, state.runName, state.where, String(state.need), ...SALT_OPTIONS, '--', ...spec.args];
    log(`exec ${container.name}: ${JSON.stringify([...interpreter.argv, '-c', '<salt-containers entry point>', ...argv.slice(interpreter.argv.length + 2)])}`);
    // As root, like a minion: states install packages and manage services (they drop privileges with runas).
    const result = await this.engine.exec(container.id, argv, {
      env: entryEnv(state.rule, interpreter),
      user: ROOT,
      signal: control.signal,
      input: async (io) => {
        const hello = greeting(await io.firstLine());
        if (!hello?.dir) return; // not our entry point talking, or a Python too old: it stops by itself
        await this.send(io, hello.python, state.bundle, state.thin, log, state.notes);
        control.onStage?.('running');
      },
    });
    const hello = greeting(result.stdout.split('\n', 1)[0]);
    // The entry point removes its directories unless it was killed or never finished; the bundled
    // runtime's only once it got as far as greeting with a run directory.
    if (result.exitCode !== null && result.exitCode < 128 && (hello?.dir || !interpreter.runtime)) state.cleanup = undefined;
    throwIfCancelled(control);
    const verdict = await this.verdict(container, interpreter, hello, result, state.rule, log);
    return verdict.kind === 'ran' ? { kind: 'ran', value: { result, hello: verdict.hello }, version: verdict.hello.python } : verdict;
  }

  /**
   * What an entry point's greeting (or its silence) says of a try with one interpreter: 'absent' (no
   * such program), 'too-old' (it said its version and stopped), 'ran' (it greeted with its run
   * directory). Throws a RunFailure when it failed otherwise: the container went away, the entry point
   * could not set its run up, the program failed. `ended`: the exec's result (awaited only when it did not greet).
   */
  async verdict(
    container: { id: string; name: string },
    interpreter: Interpreter,
    hello: Hello | undefined,
    ended: ExecResult | Promise<ExecResult>,
    rule: PythonRule,
    log: (line: string) => void,
  ): Promise<{ kind: 'absent' } | { kind: 'too-old'; version: string } | { kind: 'ran'; hello: Required<Hello> }> {
    if (!hello) {
      const result = await ended;
      // Only "no such program" means this candidate is absent; anything else (the container stopping
      // under us, the runtime failing, the entry point failing) must not be reported as a missing Python.
      const output = `${result.stdout}${result.stderr}`;
      log(`${interpreter.argv[0]}: exit ${result.exitCode} ${output.trim()}`);
      // The engine says so with 126 (or a shell with 127); a Python that started and failed exits 1.
      if (!interpreter.runtime && (result.exitCode === 127 || (result.exitCode === 126 && /executable file not found|no such file or directory/i.test(output)))) return { kind: 'absent' };
      await this.failedToStart(container, interpreter.argv[0], result);
    }
    if (!hello!.dir) {
      log(`${interpreter.argv[0]} is Python ${hello!.python}, which cannot run Salt ${rule.saltVersion}'s thin: ${rule.whyNot(hello!.python) ?? 'the entry point refused it'}`);
      return { kind: 'too-old', version: hello!.python };
    }
    return { kind: 'ran', hello: hello as Required<Hello> };
  }

  /** A run whose entry point ran: Salt's raw output, or why the run could not finish. */
  private async outcome(state: RunState, ran: Ran, python: PythonUsed, started: number): Promise<SaltCallOutcome> {
    const { result, hello } = ran;
    const { spec, log, container, notes } = state;
    const stdout = result.stdout.slice(result.stdout.indexOf('\n') + 1);
    const raw = withSaltLog({ argv: ['salt-call', '-c', `${hello.dir}/conf`, ...SALT_OPTIONS, '--', ...spec.args], stdout, stderr: result.stderr, exitCode: result.exitCode });
    log(`exit ${result.exitCode ?? '(none)'} in ${hello.dir}; stdout ${stdout.length} bytes; stderr:\n${raw.stderr.trimEnd()}`);
    log(`stdout:\n${stdout.trimEnd()}`);
    if (raw.log) log(`Salt's log:\n${raw.log.trimEnd()}`);
    const setupError = setupErrorOf(raw.stderr);
    if (setupError) throw new RunFailure({ kind: 'salt', message: setupError, hint: ROOM_HINT }, raw);
    if (result.exitCode === null || result.exitCode >= 128) {
      const gone = await this.containerGone(container);
      if (gone) throw new RunFailure({ kind: 'container-gone', message: `Salt did not finish: container ${gone} while it ran`, hint: 'Keep the container running during the run. What the run had put in it (its directories under /tmp or /dev/shm, and the bundled Python if it used one) cannot be removed from a stopped container: later runs in this container remove them.' }, raw);
    }
    if (result.inputError && result.exitCode !== 0) log(`sending to the entry point failed: ${result.inputError.message}`);
    return { container, saltVersion: state.thin.saltVersion, raw, durationMs: Date.now() - started, python, ...(notes.length ? { notes } : {}) };
  }

  /** Which of these commands the container has, on the exec's PATH (looked up with the engine's archive stat: nothing runs). */
  private async existing(containerId: string, commands: string[]): Promise<Set<string>> {
    const dirs = CLEAN_PATH.slice('PATH='.length).split(':');
    const found = await Promise.all(
      commands.map(async (command) => {
        const paths = command.startsWith('/') ? [command] : dirs.map((dir) => `${dir}/${command}`);
        const stats = await Promise.all(paths.map((path) => this.engine.statPath(containerId, path).catch(() => undefined)));
        return stats.some(Boolean) ? command : undefined;
      }),
    );
    return new Set(found.filter((c): c is string => c !== undefined));
  }

  /** The bundled runtime for an image's architecture: from the cache, else built once (progress in the log). */
  private async runtime(imageId: string, control: RunControl): Promise<BundledRuntime> {
    let arch = this.arches.get(imageId);
    if (!arch) {
      arch = (await this.engine.inspectImage(imageId)).Architecture || 'amd64';
      this.arches.set(imageId, arch);
    }
    let pending = this.runtimes.get(arch);
    if (!pending) {
      const log = control.log ?? (() => undefined);
      pending = buildRuntime(arch, {
        cacheDir: this.salt.cacheDir,
        engine: this.engine,
        saltOn: this.salt.saltOn,
        helpers: this.salt.options.helpers,
        onPull: control.onPull,
        log: control.log,
        signal: control.signal,
        progress: (line) => {
          control.onStage?.('building-runtime');
          log(`runtime: ${line}`);
        },
      });
      pending.catch(() => this.runtimes.delete(arch!));
      this.runtimes.set(arch, pending);
    }
    return pending;
  }

  /**
   * Streams to the entry point a line with the sizes of the two tars that follow, then the run's
   * bundle and the thin: precompiled for the container's Python when this machine has that Python
   * (see SaltSource.bytecode), else its sources.
   */
  async send(io: ExecInput, pythonVersion: string, bundle: Buffer, thin: Thin, log: (line: string) => void, notes: string[]): Promise<void> {
    const bytecode = await this.salt.bytecode(pythonVersion);
    if (!bytecode && (await this.salt.info()).onEngine) {
      notes.push(`Salt went to the container as sources, compiled on every run (about twice as slow): it was made on the engine with Python ${thin.pythonVersion}, and the container runs Python ${pythonVersion}.`);
    } else if (!bytecode) {
      notes.push(
        `Salt went to the container as sources, compiled on every run (about twice as slow): this machine has no Python ${pythonVersion} to precompile it. ` +
          `Install Python ${pythonVersion} here (pyenv, uv or the package manager) and runs will precompile it once.`,
      );
    }
    const thinPath = bytecode?.tarPath ?? thin.tarPath;
    const thinBytes = statSync(thinPath).size;
    log(
      `sending run bundle ${bundle.length} bytes, Salt ${thin.saltVersion} thin ${thinBytes} bytes ` +
        (bytecode ? `(precompiled for Python ${pythonVersion})` : `(sources: no Python ${pythonVersion} on this machine to precompile it; the container's Python compiles what it imports, each run)`),
    );
    await io.write(`${bundle.length} ${thinBytes}\n`);
    await io.write(bundle);
    for await (const chunk of createReadStream(thinPath, { highWaterMark: 1 << 20 })) await io.write(chunk as Buffer);
  }

  /** The entry point did not greet: say why, unless the container went away. */
  private async failedToStart(container: { id: string; name: string }, python: string, result: { exitCode: number | null; stdout: string; stderr: string }): Promise<never> {
    const gone = await this.containerGone(container);
    if (gone) throw new RunFailure({ kind: 'container-not-running', message: `container ${gone}`, hint: 'Start the container first.' });
    const setupError = setupErrorOf(result.stderr);
    if (setupError) throw new RunFailure({ kind: 'salt', message: setupError, hint: ROOM_HINT });
    throw new RunFailure({ kind: 'salt', message: `could not run ${python} in the container: ${(result.stderr || result.stdout).trim() || `exit ${result.exitCode}`}` });
  }

  /**
   * After an exec was killed or failed: whether the container went away under it. A container being
   * removed or stopped still reports running for a moment, so look a few times before concluding.
   */
  private async containerGone(container: { id: string; name: string }): Promise<string | undefined> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const state = await this.engine.inspectContainer(container.id).then(
        (d) => (d.State.Running && d.State.Status !== 'removing' ? undefined : `${container.name} stopped (${d.State.Status})`),
        () => `${container.name} was removed`,
      );
      if (state) return state;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return undefined;
  }

  /**
   * Kills what is left of a run and removes its directories (the run's, and `dirs`: the bundled
   * runtime's); quiet when the container is gone. `python`: its command, or the bundled one's argv.
   */
  async cleanup(containerId: string, python: string[], runName: string, log: (line: string) => void, dirs: string[] = []): Promise<void> {
    try {
      log(`cleanup ${runName}`);
      const result = await this.engine.exec(containerId, [...python, '-c', CLEANUP, runName, ...dirs], { user: ROOT, env: [CLEAN_PATH] });
      if (!result.stdout.includes('removed')) log(`cleanup of ${runName} did not finish: ${result.stdout}${result.stderr}`);
    } catch (error) {
      log(`cleanup of ${runName} not possible: ${(error as Error).message}`);
    }
  }
}

/** Where the entry point may put the run: /dev/shm is the container's own unless it shares the host's or another container's. */
export function runPlace(details: { HostConfig?: { IpcMode?: string } }): 'shm' | 'tmp' {
  const ipc = details.HostConfig?.IpcMode ?? '';
  return ipc === 'host' || ipc.startsWith('container:') ? 'tmp' : 'shm';
}

/** The entry point's greeting, if the line is one (else the program that started is not ours). */
export function greeting(line: string | undefined): Hello | undefined {
  if (!line?.startsWith(HELLO)) return undefined;
  return JSON.parse(line.slice(HELLO.length)) as Hello;
}

/** The entry point's own explanation of why it could not set the run up, if it gave one. */
function setupErrorOf(stderr: string): string | undefined {
  const line = stderr.split('\n').find((l) => l.startsWith(SETUP_ERROR));
  return line?.slice(SETUP_ERROR.length).trim();
}
