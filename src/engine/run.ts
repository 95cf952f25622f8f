/**
 * One run of salt-call in a container, in one exec: the run's entry point (scripts.ts RUN) makes a
 * private directory (in the container's /dev/shm tmpfs when it has room, else /tmp); the engine streams
 * the run's bundle and the cached thin into its stdin; it unpacks them, runs salt-call with an argv
 * array and a clean environment, and removes its directory on the way out. When it could not (cancel,
 * container stopped, the exec lost), the engine kills what is left and removes it here.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { bundleBytes } from './bundle';
import { DockerEngine, type ExecInput } from './docker/engine';
import { runErrorFrom } from './failures';
import type { RawOutput, RunError } from './results/model';
import type { RunControl, SaltTree } from './runner';
import { CACHE_DIR_MARK, CLEANUP, HELLO, RUN, RUN_DIR_MARK, SETUP_ERROR } from './salt/scripts';
import { SaltSource, type Thin } from './salt/source';

export interface SaltCallSpec {
  container: string;
  /** salt-call's positional part: the function and its arguments, e.g. ['state.sls', 'web', 'test=True']. */
  args: string[];
  tree: SaltTree;
  saltenv?: string;
}

export interface SaltCallOutcome {
  container: { id: string; name: string };
  saltVersion?: string;
  raw?: RawOutput;
  /** Set when the run could not produce Salt output at all (engine, container, Python, cancel). */
  error?: RunError;
  durationMs: number;
  notes?: string[];
  /** True when a warm session ran it (engine/session), not a salt-call of its own. */
  warm?: boolean;
}

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

/** What the entry point says first: where the run lives (none from a Python 2) and which Python runs it. */
interface Hello {
  dir?: string;
  python: string;
}

/** Thrown inside a run to end it with a RunError. */
class RunFailure extends Error {
  constructor(readonly error: RunError) {
    super(error.message);
  }
}

function asRunError(error: unknown): RunError {
  return error instanceof RunFailure ? error.error : runErrorFrom(error);
}

export class SaltCallRunner {
  /** The Python each image ran with (by image id), tried first. */
  readonly pythons = new Map<string, string>();

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
    // Chosen here, so a cleanup knows the directory even if the entry point never said where it is.
    const runName = `salt-containers.${randomBytes(8).toString('hex')}`;
    // True while the entry point (run by `python`) may have left a directory it will not remove itself.
    let leftover = false;
    let python = PYTHON_CANDIDATES[0];
    let raw: RawOutput | undefined;
    const notes: string[] = [];
    const cancelled = () => control.signal?.aborted === true;
    const checkCancel = () => {
      if (cancelled()) throw new RunFailure({ kind: 'cancelled', message: 'cancelled: nothing more was run' });
    };
    try {
      control.onStage?.('preparing');
      checkCancel();
      const [details, thin] = await Promise.all([this.engine.inspectContainer(spec.container), this.salt.thin()]);
      saltVersion = thin.saltVersion;
      container = { id: details.Id, name: details.Name.replace(/^\//, '') };
      if (!details.State.Running) {
        throw new RunFailure({ kind: 'container-not-running', message: `container ${container.name} is not running (${details.State.Status})`, hint: 'Start the container first.' });
      }
      const where = runPlace(details);
      const bundle = await bundleBytes({ runDir: RUN_DIR_MARK, cacheDir: CACHE_DIR_MARK, tree: spec.tree, minionId: container.name, saltenv: spec.saltenv ?? 'base' });
      // Room the run takes: the bundle, and the thin's sources or its bytecode (about the same for every Python).
      const need = bundle.length + Math.max(thin.bytes, (await this.salt.bytecode(thin.pythonVersion))?.bytes ?? 0);
      const known = this.pythons.get(details.Image);
      const candidates = known ? [known, ...PYTHON_CANDIDATES.filter((p) => p !== known)] : PYTHON_CANDIDATES;
      checkCancel();

      control.onStage?.('injecting');
      const env = RUN_ENV;
      for (const candidate of candidates) {
        python = candidate;
        const argv = [python, '-c', RUN, runName, where, String(need), ...SALT_OPTIONS, '--', ...spec.args];
        log(`exec ${container.name}: ${JSON.stringify([python, '-c', '<salt-containers entry point>', ...argv.slice(3)])}`);
        leftover = true;
        // As root, like a minion: states install packages and manage services (they drop privileges with runas).
        const result = await this.engine.exec(container.id, argv, {
          env,
          user: ROOT,
          signal: control.signal,
          input: async (io) => {
            const hello = greeting(await io.firstLine());
            if (!hello?.dir) return; // not our entry point talking, or not a Python 3: it stops by itself
            await this.send(io, hello.python, bundle, thin, log, notes);
            control.onStage?.('running');
          },
        });
        // The entry point removes its directory unless it was killed or never finished.
        leftover = result.exitCode === null || result.exitCode >= 128;
        checkCancel();
        const hello = greeting(result.stdout.split('\n', 1)[0]);
        if (!hello) {
          // Only "no such program" means this candidate is absent; anything else (the container stopping
          // under us, the runtime failing, the entry point failing) must not be reported as a missing Python.
          const output = `${result.stdout}${result.stderr}`;
          log(`${python}: exit ${result.exitCode} ${output.trim()}`);
          if (/executable file not found|no such file or directory/i.test(output) || result.exitCode === 127) continue;
          await this.failedToStart(container, python, result);
        }
        if (!hello!.dir) {
          log(`${python} is Python ${hello!.python}`);
          continue;
        }
        this.pythons.set(details.Image, python);
        const stdout = result.stdout.slice(result.stdout.indexOf('\n') + 1);
        raw = { argv: ['salt-call', '-c', `${hello!.dir}/conf`, ...SALT_OPTIONS, '--', ...spec.args], stdout, stderr: result.stderr, exitCode: result.exitCode };
        log(`exit ${result.exitCode ?? '(none)'} in ${hello!.dir}; stdout ${stdout.length} bytes; stderr:\n${result.stderr.trimEnd()}`);
        log(`stdout:\n${stdout.trimEnd()}`);
        const setupError = setupErrorOf(result.stderr);
        if (setupError) throw new RunFailure({ kind: 'salt', message: setupError, hint: ROOM_HINT });
        if (result.exitCode === null || result.exitCode >= 128) {
          const gone = await this.containerGone(container);
          if (gone) throw new RunFailure({ kind: 'container-gone', message: `Salt did not finish: container ${gone} while it ran`, hint: 'Keep the container running during the run.' });
        }
        if (result.inputError && result.exitCode !== 0) log(`sending to the entry point failed: ${result.inputError.message}`);
        return { container, saltVersion, raw, durationMs: Date.now() - started, ...(notes.length ? { notes } : {}) };
      }
      throw new RunFailure({
        kind: 'no-python',
        message: `image ${details.Config.Image} has no Python 3: Salt needs python3 in the image`,
        hint: 'Use an image with python3 installed (e.g. add `RUN apt-get install -y python3` to its Dockerfile).',
      });
    } catch (error) {
      return { container, saltVersion, raw, error: asRunError(error), durationMs: Date.now() - started };
    } finally {
      if (leftover) {
        control.onStage?.('cleaning');
        await this.cleanup(container.id, python, runName, log);
      }
    }
  }

  /**
   * Streams to the entry point a line with the sizes of the two tars that follow, then the run's
   * bundle and the thin: precompiled for the container's Python when this machine has that Python
   * (see SaltSource.bytecode), else its sources.
   */
  async send(io: ExecInput, pythonVersion: string, bundle: Buffer, thin: Thin, log: (line: string) => void, notes: string[]): Promise<void> {
    const bytecode = await this.salt.bytecode(pythonVersion);
    if (!bytecode) {
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

  /** Kills what is left of a run and removes its directory; quiet when the container is gone. */
  async cleanup(containerId: string, python: string, runName: string, log: (line: string) => void): Promise<void> {
    try {
      log(`cleanup ${runName}`);
      const result = await this.engine.exec(containerId, [python, '-c', CLEANUP, runName], { user: ROOT, env: [CLEAN_PATH] });
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
