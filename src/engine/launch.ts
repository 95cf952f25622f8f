/**
 * The steps a cold run (run.ts) and a warm session (session/) share, so both start Salt in a container
 * the same way: the entry point's environment and greeting, the choice of the Python that runs it (the
 * container's own, else the bundled runtime: runtime/), sending it the run's bundle and the thin, the
 * verdict on one try of it, and the cleanup of what a run put in the container. One Launcher per
 * engine and Salt source: it remembers which Python each image ran with and the runtimes it built.
 */
import type Docker from 'dockerode';
import { createReadStream, statSync } from 'node:fs';
import type { DockerEngine, ExecInput, ExecResult } from './docker/engine';
import type { PythonUsed, RawOutput, RunError } from './results/model';
import type { RunControl } from './spec';
import { buildRuntime, type BundledRuntime } from './runtime/build';
import { chooseRuntime, runtimePlaces, type PythonRule, type PythonSeen, type RuntimeChoice } from './runtime/choose';
import { placeRuntime } from './runtime/ship';
import { CLEANUP, HELLO, SETUP_ERROR } from './salt/scripts';
import type { SaltSource, Thin } from './salt/source';

/** The PATH salt-call sees: the usual system directories, nothing from the host or the image's env. */
export const CLEAN_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const PYTHON_CANDIDATES = ['python3', '/usr/libexec/platform-python', 'python'];
/** For an entry point that could not set up its directory: what the container must offer. */
export const ROOM_HINT = 'Salt needs about 30 MB for the run in a writable /dev/shm or /tmp in the container.';
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
export class RunFailure extends Error {
  constructor(
    readonly error: RunError,
    /** Salt's output, when it got as far as printing some. */
    readonly raw?: RawOutput,
  ) {
    super(error.message);
  }
}

/** A cancel between the steps of a run: nothing more is run. */
export function throwIfCancelled(control: RunControl): void {
  if (control.signal?.aborted) throw new RunFailure({ kind: 'cancelled', message: 'cancelled: nothing more was run' });
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

/** What cold runs and warm sessions of one engine and Salt source share: see the file's comment. */
export class Launcher {
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
  async containerGone(container: { id: string; name: string }): Promise<string | undefined> {
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
export function setupErrorOf(stderr: string): string | undefined {
  const line = stderr.split('\n').find((l) => l.startsWith(SETUP_ERROR));
  return line?.slice(SETUP_ERROR.length).trim();
}