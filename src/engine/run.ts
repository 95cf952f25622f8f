/**
 * One run of salt-call in a container: find the container's Python, inject (one upload for the run's
 * bundle, one for the cached thin), exec salt-call with an argv array and a clean environment, parse,
 * and clean up. The run's entry point removes its own directory on the way out; when it could not
 * (cancel, container stopped, the exec lost), the engine kills what is left and removes it here.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { bundleTar } from './bundle';
import { DockerEngine, EngineError, type TarSource } from './docker/engine';
import type { RawOutput, RunError } from './results/model';
import type { RunControl, SaltTree } from './runner';
import { CLEANUP, PROBE_PYTHON } from './salt/scripts';
import { SaltSource, SaltSourceError, type Thin } from './salt/source';

/** Where a container's Python is and what version it is; probed once per container. */
export interface ContainerPython {
  path: string;
  version: string;
}

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
}

/** The PATH salt-call sees: the usual system directories, nothing from the host or the image's env. */
const CLEAN_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PYTHON_CANDIDATES = ['python3', '/usr/libexec/platform-python', 'python'];
/** Root by uid: images without /etc/passwd cannot resolve the name. */
const ROOT = '0:0';

/** Thrown inside a run to end it with a RunError. */
class RunFailure extends Error {
  constructor(readonly error: RunError) {
    super(error.message);
  }
}

function asRunError(error: unknown): RunError {
  if (error instanceof RunFailure) return error.error;
  if (error instanceof EngineError) return { kind: error.kind === 'conflict' || error.kind === 'engine' ? 'salt' : error.kind, message: error.message, hint: error.hint };
  if (error instanceof SaltSourceError) return { kind: 'salt-source', message: error.message, hint: error.hint };
  return { kind: 'salt', message: error instanceof Error ? error.message : String(error) };
}

/** A tar stream of the thin without its __pycache__ entries (for a container Python other than the one they were compiled for). */
export function withoutBytecode(source: Readable): TarSource {
  const input = extract();
  const output = pack();
  input.on('entry', (header, stream, next) => {
    if (header.name.includes('__pycache__')) {
      stream.resume();
      stream.on('end', next);
    } else stream.pipe(output.entry(header, next));
  });
  input.on('finish', () => output.finalize());
  input.on('error', (error) => output.destroy(error));
  source.pipe(input);
  return output;
}

export class SaltCallRunner {
  private readonly pythons = new Map<string, ContainerPython>();

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
    let injectedDir: string | undefined;
    let cleaned = false;
    let raw: RawOutput | undefined;
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
      const image = details.Config.Image;
      const python = await this.findPython(container, image, log);
      checkCancel();

      control.onStage?.('injecting');
      const runDir = `/tmp/salt-containers.${randomBytes(8).toString('hex')}`;
      injectedDir = runDir;
      log(`PUT archive ${container.name}:/tmp (run bundle ${runDir})`);
      await this.engine.putArchive(container.id, '/tmp', bundleTar({ runDir, tree: spec.tree, minionId: container.name, saltenv: spec.saltenv ?? 'base' }));
      checkCancel();
      log(`PUT archive ${container.name}:${runDir} (Salt ${thin.saltVersion} thin, ${thin.files} files${python.version === thin.pythonVersion ? ', precompiled' : `, .pyc dropped: container has Python ${python.version}`})`);
      await this.engine.putArchive(container.id, runDir, this.thinStream(thin, python));
      checkCancel();

      control.onStage?.('running');
      const argv = [python.path, `${runDir}/run.py`, '-c', `${runDir}/conf`, '--local', '--retcode-passthrough', '--out', 'json', '-l', 'quiet', '--', ...spec.args];
      const env = [CLEAN_PATH, 'LANG=C.UTF-8', 'LC_ALL=C.UTF-8', 'HOME=/root', 'PYTHONDONTWRITEBYTECODE=1', 'PYTHONIOENCODING=utf-8'];
      log(`exec ${container.name}: ${JSON.stringify(argv)}`);
      // As root, like a minion: states install packages and manage services (they drop privileges with runas).
      const result = await this.engine.exec(container.id, argv, { env, user: ROOT, signal: control.signal });
      raw = { argv, stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
      log(`exit ${result.exitCode ?? '(none)'}; stdout ${result.stdout.length} bytes; stderr:\n${result.stderr.trimEnd()}`);
      log(`stdout:\n${result.stdout.trimEnd()}`);
      // run.py removed its directory unless it was killed or never finished.
      cleaned = !cancelled() && result.exitCode !== null && result.exitCode < 128;
      checkCancel();
      if (result.exitCode === null || result.exitCode >= 128) {
        const gone = await this.containerGone(container);
        if (gone) throw new RunFailure({ kind: 'container-gone', message: `Salt did not finish: container ${gone} while it ran`, hint: 'Keep the container running during the run.' });
      }
      return { container, saltVersion, raw, durationMs: Date.now() - started };
    } catch (error) {
      return { container, saltVersion, raw, error: asRunError(error), durationMs: Date.now() - started };
    } finally {
      if (injectedDir && !cleaned) {
        control.onStage?.('cleaning');
        await this.cleanup(container.id, injectedDir, log);
      }
    }
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
  private async cleanup(containerId: string, runDir: string, log: (line: string) => void): Promise<void> {
    const python = this.pythons.get(containerId);
    try {
      log(`cleanup ${runDir}`);
      const result = await this.engine.exec(containerId, [python?.path ?? 'python3', '-c', CLEANUP, runDir], { user: ROOT, env: [CLEAN_PATH] });
      if (!result.stdout.includes('removed')) log(`cleanup of ${runDir} did not finish: ${result.stdout}${result.stderr}`);
    } catch (error) {
      log(`cleanup of ${runDir} not possible: ${(error as Error).message}`);
    }
  }

  private thinStream(thin: Thin, python: ContainerPython): TarSource {
    if (python.version === thin.pythonVersion) return createReadStream(thin.bytecodeTarPath, { highWaterMark: 1 << 20 });
    return withoutBytecode(createReadStream(thin.tarPath, { highWaterMark: 1 << 20 }));
  }

  /** The container's Python (python3, platform-python, python), probed once per container. */
  private async findPython(container: { id: string; name: string }, image: string, log: (line: string) => void): Promise<ContainerPython> {
    const containerId = container.id;
    const known = this.pythons.get(containerId);
    if (known) return known;
    for (const path of PYTHON_CANDIDATES) {
      const result = await this.engine.exec(containerId, [path, '-c', PROBE_PYTHON], { env: [CLEAN_PATH], user: ROOT });
      const version = result.stdout.trim();
      log(`probe ${path}: exit ${result.exitCode} ${version}${result.stderr.trim()}`);
      if (result.exitCode === 0 && /^\d+\.\d+$/.test(version)) {
        const python = { path, version };
        if (+version.split('.')[0] < 3) continue;
        this.pythons.set(containerId, python);
        return python;
      }
      // Only "no such program" means this candidate is absent; anything else (the container stopping
      // under us, the runtime failing) must not be reported as a missing Python.
      if (!/executable file not found|no such file or directory/i.test(`${result.stdout}${result.stderr}`) && result.exitCode !== 127) {
        const gone = await this.containerGone(container);
        if (gone) throw new RunFailure({ kind: 'container-not-running', message: `container ${gone}`, hint: 'Start the container first.' });
        throw new RunFailure({ kind: 'salt', message: `could not run ${path} in the container: ${(result.stderr || result.stdout).trim() || `exit ${result.exitCode}`}` });
      }
    }
    throw new RunFailure({
      kind: 'no-python',
      message: `image ${image} has no Python 3: Salt needs python3 in the image`,
      hint: 'Use an image with python3 installed (e.g. add `RUN apt-get install -y python3` to its Dockerfile).',
    });
  }
}
