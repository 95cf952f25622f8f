/**
 * One run of salt-call in a container, in one exec: the run's entry point (scripts.ts RUN) makes a
 * private directory (in the container's /dev/shm tmpfs when it has room, else /tmp); the engine streams
 * the run's bundle and the cached thin into its stdin; it unpacks them, runs salt-call with an argv
 * array and a clean environment, and removes its directory on the way out. When it could not (cancel,
 * container stopped, the exec lost), the engine kills what is left and removes it here.
 * The entry point runs with the container's Python when it has one the Salt source supports; else
 * (or when asked) the engine first uploads its own Python runtime (runtime/) and runs it with that:
 * launch.ts chooses, sends, judges each try and cleans up, as it does for a warm session.
 */
import { randomBytes } from 'node:crypto';
import { bundleBytes, bundleEntries, overlaid } from './bundle';
import type { ExecResult } from './docker/engine';
import { runErrorFrom } from './failures';
import { entryEnv, greeting, ROOM_HINT, ROOT, RunFailure, runPlace, SALT_OPTIONS, setupErrorOf, throwIfCancelled, type Attempt, type Hello, type Interpreter, type Launcher } from './launch';
import type { PythonUsed, RawOutput, RunError } from './results/model';
import { withSaltLog } from './results/parse';
import type { RunControl, SaltCallOutcome, SaltCallSpec } from './spec';
import { pythonRule, type PythonRule } from './runtime/choose';
import { CACHE_DIR_MARK, RUN, RUN_DIR_MARK } from './salt/scripts';
import type { Thin } from './salt/source';

function asRunError(error: unknown): RunError {
  return error instanceof RunFailure ? error.error : runErrorFrom(error);
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
  constructor(readonly launcher: Launcher) {}

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
      const [details, thin] = await Promise.all([this.launcher.engine.inspectContainer(spec.container), this.launcher.salt.thin(control.signal)]);
      saltVersion = thin.saltVersion;
      container = { id: details.Id, name: details.Name.replace(/^\//, '') };
      if (!details.State.Running) {
        throw new RunFailure({ kind: 'container-not-running', message: `container ${container.name} is not running (${details.State.Status})`, hint: 'Start the container first.' });
      }
      const where = runPlace(details);
      const bundle = await bundleBytes({ runDir: RUN_DIR_MARK, cacheDir: CACHE_DIR_MARK, tree: spec.tree, minionId: container.name, saltenv: spec.saltenv ?? 'base' }, overlaid(bundleEntries(spec.tree), spec.overlay));
      // Room the run takes: the bundle, and the thin's sources or its bytecode (about the same for every Python).
      const need = bundle.length + Math.max(thin.bytes, (await this.launcher.salt.bytecode(thin.pythonVersion))?.bytes ?? 0);
      // Chosen here, so a cleanup knows the directory even if the entry point never said where it is.
      const runName = `salt-containers.${randomBytes(8).toString('hex')}`;
      const run: RunState = { spec, control, log, container, runName, where, need, rule: pythonRule(thin), bundle, thin, notes: [] };
      state = run;
      throwIfCancelled(control);

      control.onStage?.('injecting');
      const chosen = await this.launcher.choosePython({ details, name: runName, rule: run.rule }, control, (interpreter) => this.attempt(run, interpreter));
      if (chosen.note) run.notes.push(chosen.note);
      return await this.outcome(run, chosen.value, chosen.python, started);
    } catch (error) {
      if (error instanceof RunFailure && error.raw) raw = error.raw;
      return { container, saltVersion, raw, error: asRunError(error), durationMs: Date.now() - started };
    } finally {
      if (state?.cleanup) {
        control.onStage?.('cleaning');
        await this.launcher.cleanup(state.container.id, state.cleanup.argv, state.runName, log, state.cleanup.dirs);
      }
    }
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
    const result = await this.launcher.engine.exec(container.id, argv, {
      env: entryEnv(state.rule, interpreter),
      user: ROOT,
      signal: control.signal,
      input: async (io) => {
        const hello = greeting(await io.firstLine());
        if (!hello?.dir) return; // not our entry point talking, or a Python too old: it stops by itself
        await this.launcher.send(io, hello.python, state.bundle, state.thin, log, state.notes);
        control.onStage?.('running');
      },
    });
    const hello = greeting(result.stdout.split('\n', 1)[0]);
    // The entry point removes its directories unless it was killed or never finished; the bundled
    // runtime's only once it got as far as greeting with a run directory.
    if (result.exitCode !== null && result.exitCode < 128 && (hello?.dir || !interpreter.runtime)) state.cleanup = undefined;
    throwIfCancelled(control);
    const verdict = await this.launcher.verdict(container, interpreter, hello, result, state.rule, log);
    return verdict.kind === 'ran' ? { kind: 'ran', value: { result, hello: verdict.hello }, version: verdict.hello.python } : verdict;
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
      const gone = await this.launcher.containerGone(container);
      if (gone) throw new RunFailure({ kind: 'container-gone', message: `Salt did not finish: container ${gone} while it ran`, hint: 'Keep the container running during the run. What the run had put in it (its directories under /tmp or /dev/shm, and the bundled Python if it used one) cannot be removed from a stopped container: later runs in this container remove them.' }, raw);
    }
    if (result.inputError && result.exitCode !== 0) log(`sending to the entry point failed: ${result.inputError.message}`);
    return { container, saltVersion: state.thin.saltVersion, raw, durationMs: Date.now() - started, python, ...(notes.length ? { notes } : {}) };
  }
}
