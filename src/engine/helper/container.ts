/**
 * A short-lived helper container on the engine, for Salt's host-side work on a machine that cannot do
 * it (no Python, no apt): started from a helper image (pulled first, as `docker run` would), kept up by
 * `sleep`, given the host's package settings, driven by argv execs, and always removed (on success,
 * failure and cancel: the container goes, with every process in it). Its result leaves through the
 * archive API into the host cache, and is kept on the engine as a cache image (helper/cache.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { pack } from 'tar-stream';
import { HostWorkError, lastLines } from '../host';
import { EngineError, type DockerEngine, type PullOptions } from '../docker/engine';
import { extractTar } from './extract';
import { folderTar } from './folderTar';
import { carriedHostConfig, type HelperSettings } from './settings';

/** The label every helper container carries (its value says what for): a leftover is recognisable. */
export const HELPER_LABEL = 'salt-containers.helper';

export class HelperError extends HostWorkError {
  override name = 'HelperError';
}

export interface HelperOptions {
  engine: DockerEngine;
  /** What it is for, in names and messages: "salt-3008.4", "runtime-arm64". */
  purpose: string;
  image: string;
  /** Which setting or variable names the image (for the message when it cannot be had). */
  imageSetting: string;
  settings: HelperSettings;
  signal?: AbortSignal;
  progress?: (line: string) => void;
  onPull?: PullOptions['onProgress'];
  log?: (line: string) => void;
}

export class HelperContainer {
  private constructor(
    private readonly options: HelperOptions,
    readonly id: string,
  ) {}

  /**
   * Starts a helper, runs `work` with it, and removes it whatever happens: what the work returns, or
   * its error (a cancel is HelperError with `cancelled`).
   */
  static async use<T>(options: HelperOptions, work: (helper: HelperContainer) => Promise<T>): Promise<T> {
    const { engine, image, signal } = options;
    const cancelled = () => new HelperError(`${options.purpose} on the engine was cancelled`, 'Nothing was kept.', true);
    if (signal?.aborted) throw cancelled();
    try {
      await engine.ensureImage(image, { signal, onProgress: options.onPull, log: options.log });
    } catch (error) {
      if (error instanceof EngineError && error.kind === 'cancelled') throw cancelled();
      throw new HelperError(
        `the engine could not get the helper image ${image}: ${(error as Error).message}`,
        `Name an image the engine has or can pull with ${options.imageSetting}.`,
      );
    }
    const carried = carriedHostConfig();
    const id = await engine.createContainer(image, {
      name: `salt-containers-helper-${options.purpose.replace(/[^a-zA-Z0-9_.-]/g, '-')}-${randomBytes(4).toString('hex')}`,
      keepAlive: ['sleep', 'infinity'],
      labels: { [HELPER_LABEL]: options.purpose },
      env: carried.env,
      network: options.settings.network,
    });
    const helper = new HelperContainer(options, id);
    // A cancel removes the container at once: the program an exec runs dies with it.
    const onAbort = () => void engine.removeContainer(id, { force: true }).catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await engine.startContainer(id);
      if (carried.files.length) await helper.put('/', carried.files);
      return await work(helper);
    } catch (error) {
      if (signal?.aborted) throw cancelled();
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await engine.removeContainer(id, { force: true }).catch(() => undefined);
    }
  }

  /** Runs argv in the helper: its exit code and output (stdout, then stderr); each stdout line goes to onLine as it comes. */
  async exec(argv: string[], onLine?: (line: string) => void, cwd?: string): Promise<{ code: number | null; output: string; stdout: string }> {
    const { engine, signal } = this.options;
    this.options.log?.(`helper ${this.options.purpose}: ${argv.map((a) => (a.length > 80 ? `${a.slice(0, 40).split('\n')[0]}...` : a)).join(' ')}`);
    let stdout = '';
    let partial = '';
    const result = await engine.exec(this.id, argv, {
      signal,
      workingDir: cwd,
      env: ['PYTHONDONTWRITEBYTECODE=1', 'PIP_DISABLE_PIP_VERSION_CHECK=1', 'PYTHONWARNINGS=ignore', 'DEBIAN_FRONTEND=noninteractive'],
      // Attached so its output comes as it is written (pip's and apt's progress), not at the end.
      input: async (io) => {
        io.onStdout((chunk) => {
          stdout += chunk.toString('utf8');
          const lines = (partial + chunk.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) if (line.trim()) onLine?.(line.trim());
        });
        await io.ended;
      },
    });
    if (signal?.aborted) throw new HelperError(`${this.options.purpose} on the engine was cancelled`, 'Nothing was kept.', true);
    stdout += result.stdout;
    return { code: result.exitCode, output: `${stdout}\n${result.stderr}`, stdout };
  }

  /** Runs argv in the helper and returns its stdout; a non-zero exit is a HelperError naming `what`, with the program's last lines and `hint`. */
  async run(argv: string[], what: string, hint: string, onLine?: (line: string) => void): Promise<string> {
    const result = await this.exec(argv, onLine);
    if (result.code !== 0) throw new HelperError(`${what} failed in the helper container (${this.options.image}): ${lastLines(result.output)}`, hint);
    return result.stdout;
  }

  /** Writes files (absolute paths in the helper) with the directories they need. */
  async put(root: string, files: { path: string; content: Buffer; mode?: number }[]): Promise<void> {
    const tar = pack();
    const dirs = new Set<string>();
    for (const file of files) {
      const parts = file.path.replace(/^\/+/, '').split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    for (const dir of [...dirs].sort()) tar.entry({ name: dir, type: 'directory', mode: 0o755 });
    for (const file of files) tar.entry({ name: file.path.replace(/^\/+/, ''), mode: file.mode ?? 0o644 }, file.content);
    tar.finalize();
    await this.options.engine.putArchive(this.id, root, { pipe: (d) => tar.pipe(d), on: (e, l) => tar.on(e, l) });
  }

  /** Sends a folder of this machine to `dir` in the helper (its content; `dir` must exist). */
  async putFolder(localDir: string, dir: string): Promise<void> {
    await this.options.engine.putArchive(this.id, dir, folderTar(localDir));
  }

  /** Copies the helper's directory `path` into `localDir` (its content, not the directory itself). */
  async copyOut(path: string, localDir: string): Promise<void> {
    mkdirSync(localDir, { recursive: true });
    await extractTar(await this.options.engine.getArchive(this.id, path), localDir, { strip: 1 });
  }
}

