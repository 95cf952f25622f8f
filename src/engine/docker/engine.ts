/**
 * Docker engine access over dockerode: connect (DOCKER_HOST or the default socket), list, lifecycle,
 * exec with an argv array (never a shell string) and, when asked, a conversation on its stdin; archive
 * upload, commit, and a typed event stream.
 * Errors come out as EngineError with a kind and a message that says what to do.
 */
import Docker from 'dockerode';
import { type Duplex, PassThrough, Readable, Writable } from 'node:stream';

export type EngineErrorKind = 'engine-unreachable' | 'container-not-found' | 'container-not-running' | 'image-not-found' | 'conflict' | 'engine';

export class EngineError extends Error {
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export interface EngineOptions {
  /** A DOCKER_HOST-style address (unix:///path, tcp://host:port, ssh://user@host). Default: DOCKER_HOST or the local socket. */
  dockerHost?: string;
  /** Timeout of each API request in ms (not of exec or event streams). Default 15 s. */
  timeoutMs?: number;
}

export type ContainerState = 'running' | 'paused' | 'restarting' | 'created' | 'exited' | 'dead' | 'removing';

export interface ContainerInfo {
  id: string;
  /** Without the leading slash. */
  name: string;
  image: string;
  imageId: string;
  state: ContainerState;
  /** Docker's words, e.g. "Up 5 minutes". */
  status: string;
  /** Seconds since the epoch. */
  created: number;
  command: string;
  ports: string[];
  labels: Record<string, string>;
}

export interface ImageInfo {
  id: string;
  /** `repo:tag` names; empty for a dangling image. */
  tags: string[];
  size: number;
  /** Seconds since the epoch. */
  created: number;
  dangling: boolean;
  labels: Record<string, string>;
}

export interface ImageConfig {
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object> | null;
  Labels?: Record<string, string> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
}

export interface EngineEvent {
  type: string; // container, image, network, volume, ...
  action: string; // start, die, destroy, tag, delete, ...
  id: string;
  /** Seconds since the epoch. */
  time: number;
  attributes: Record<string, string>;
}

export interface ExecOptions {
  env?: string[];
  user?: string;
  workingDir?: string;
  signal?: AbortSignal;
  /**
   * Talks to the program on its stdin while it runs (the exec is attached to stdin only when set).
   * The exec ends when the program exits; an error thrown here comes back as ExecResult.inputError.
   */
  input?: (io: ExecInput) => Promise<void>;
}

/** The program's side of an exec with input: its greeting, and its stdin. */
export interface ExecInput {
  /** stdout's first line, or undefined when the program ended (or failed to start) before writing one. */
  firstLine(): Promise<string | undefined>;
  /** Writes to the program's stdin, waiting while the engine is behind. */
  write(chunk: Buffer | string): Promise<void>;
}

/** A tar stream to upload: a Node stream or tar-stream's (streamx) pack. */
export interface TarSource {
  pipe(destination: NodeJS.WritableStream): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface ExecResult {
  /** null when the exec never reported an exit (container stopped or removed under it). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** What options.input threw (e.g. stdin closed under it because the program died). */
  inputError?: Error;
}

/** Parses a DOCKER_HOST-style address into dockerode options. */
export function connectionOptions(dockerHost: string | undefined): Docker.DockerOptions {
  if (!dockerHost) return {};
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('/')) return { socketPath: dockerHost };
  const url = new URL(dockerHost.includes('://') ? dockerHost : `tcp://${dockerHost}`);
  if (url.protocol === 'ssh:') {
    return { protocol: 'ssh', host: url.hostname, port: url.port || 22, username: url.username || undefined } as Docker.DockerOptions;
  }
  const tls = process.env.DOCKER_TLS_VERIFY === '1' || url.port === '2376';
  return { protocol: tls ? 'https' : 'http', host: url.hostname, port: url.port || (tls ? 2376 : 2375) };
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error ? (error as { statusCode?: number }).statusCode : undefined;
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code?: unknown }).code) : undefined;
}

function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: string } })?.json;
  if (json && typeof json.message === 'string') return json.message;
  return error instanceof Error ? error.message : String(error);
}

/** Resolves with the first line of a byte stream, or undefined when it ends without one. */
class FirstLine {
  readonly line: Promise<string | undefined>;
  private resolve!: (line: string | undefined) => void;
  private seen: Buffer[] = [];
  private done = false;

  constructor() {
    this.line = new Promise((resolve) => (this.resolve = resolve));
  }

  feed(chunk: Buffer): void {
    if (this.done) return;
    const newline = chunk.indexOf(10);
    if (newline < 0) {
      this.seen.push(chunk);
      return;
    }
    this.done = true;
    this.resolve(Buffer.concat([...this.seen, chunk.subarray(0, newline)]).toString('utf8'));
    this.seen = [];
  }

  end(): void {
    if (!this.done) this.resolve(undefined);
    this.done = true;
  }
}

/** Writes with backpressure; fails when the stream closes instead of draining. */
function writeTo(stream: Duplex, chunk: Buffer | string): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.reject(new Error('stdin is closed'));
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(new Error('stdin closed before the program read it all'));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
    stream.on('error', settle);
  });
}

export class DockerEngine {
  readonly docker: Docker;
  /** Where this engine is, for people: the DOCKER_HOST value or the socket. */
  readonly address: string;

  constructor(options: EngineOptions = {}) {
    const dockerHost = options.dockerHost ?? process.env.DOCKER_HOST;
    this.address = dockerHost || '/var/run/docker.sock';
    this.docker = new Docker({ ...connectionOptions(options.dockerHost), timeout: options.timeoutMs ?? 15_000 });
  }

  /** Turns dockerode's errors into EngineErrors that say what to do. */
  translate(error: unknown, subject?: { container?: string; image?: string }): Error {
    if (error instanceof EngineError) return error;
    const code = codeOf(error);
    if (code && ['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'].includes(code) || /timeout/i.test(engineMessage(error)) && statusOf(error) === undefined) {
      return new EngineError(
        'engine-unreachable',
        `Docker engine at ${this.address} is not reachable (${code ?? engineMessage(error)})`,
        code === 'EACCES' ? 'Add your user to the docker group, or set DOCKER_HOST to an engine you can use.' : 'Start Docker, or set DOCKER_HOST to a running engine.',
      );
    }
    const status = statusOf(error);
    const message = engineMessage(error);
    if (status === 404 && subject?.container) return new EngineError('container-not-found', `container ${subject.container} not found`, 'Pick a container from the list of existing ones.');
    if (status === 404 && subject?.image) return new EngineError('image-not-found', `image ${subject.image} not found`, 'Build or load the image first: nothing can be pulled here automatically.');
    if (status === 409 && /not running|is paused|is restarting/i.test(message)) return new EngineError('container-not-running', `container ${subject?.container ?? ''} is not running`.replace('  ', ' '), 'Start the container first.');
    if (status === 409) return new EngineError('conflict', message);
    return new EngineError('engine', message);
  }

  private async call<T>(subject: { container?: string; image?: string } | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.translate(error, subject);
    }
  }

  /** Returns the engine's version; throws EngineError('engine-unreachable') when it does not answer. */
  async ping(): Promise<string> {
    const version = await this.call(undefined, () => this.docker.version());
    return version.Version;
  }

  async listContainers(): Promise<ContainerInfo[]> {
    const list = await this.call(undefined, () => this.docker.listContainers({ all: true }));
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''),
      image: c.Image,
      imageId: c.ImageID,
      state: c.State as ContainerState,
      status: c.Status,
      created: c.Created,
      command: c.Command,
      ports: (c.Ports ?? []).map((p) => (p.PublicPort ? `${p.IP ?? ''}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)),
      labels: c.Labels ?? {},
    }));
  }

  async listImages(): Promise<ImageInfo[]> {
    const list = await this.call(undefined, () => this.docker.listImages({ all: false }));
    return list.map((i) => {
      const tags = (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
      return { id: i.Id, tags, size: i.Size, created: i.Created, dangling: tags.length === 0, labels: i.Labels ?? {} };
    });
  }

  async inspectContainer(idOrName: string): Promise<Docker.ContainerInspectInfo> {
    return this.call({ container: idOrName }, () => this.docker.getContainer(idOrName).inspect());
  }

  async inspectImage(idOrTag: string): Promise<Docker.ImageInspectInfo> {
    return this.call({ image: idOrTag }, () => this.docker.getImage(idOrTag).inspect());
  }

  /**
   * Creates a container from an image. With keepAlive its entrypoint is replaced by one that sleeps
   * forever, so the container stays up for exec whatever the image's own command does.
   */
  async createContainer(image: string, options: { name?: string; keepAlive?: string[]; labels?: Record<string, string> } = {}): Promise<string> {
    const container = await this.call({ image }, () =>
      this.docker.createContainer({
        Image: image,
        name: options.name,
        Labels: options.labels,
        ...(options.keepAlive ? { Entrypoint: options.keepAlive, Cmd: [] } : {}),
        Tty: false,
        OpenStdin: false,
        HostConfig: { Init: false },
      }),
    );
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call({ container: id }, async () => {
      try {
        await this.docker.getContainer(id).start();
      } catch (error) {
        if (statusOf(error) !== 304) throw error; // already started
      }
    });
  }

  async stopContainer(id: string, timeoutSeconds = 10): Promise<void> {
    await this.call({ container: id }, async () => {
      try {
        await this.docker.getContainer(id).stop({ t: timeoutSeconds });
      } catch (error) {
        if (statusOf(error) !== 304) throw error; // already stopped
      }
    });
  }

  async restartContainer(id: string): Promise<void> {
    await this.call({ container: id }, () => this.docker.getContainer(id).restart({ t: 10 }));
  }

  async removeContainer(id: string, options: { force?: boolean } = {}): Promise<void> {
    await this.call({ container: id }, () => this.docker.getContainer(id).remove({ force: options.force ?? false, v: true }));
  }

  async removeImage(idOrTag: string, options: { force?: boolean } = {}): Promise<void> {
    await this.call({ image: idOrTag }, () => this.docker.getImage(idOrTag).remove({ force: options.force ?? false }));
  }

  /** Runs argv in the container (no shell), demultiplexing stdout and stderr; the exit code comes from exec inspect. */
  async exec(containerId: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const container = this.docker.getContainer(containerId);
    const withInput = options.input !== undefined;
    const exec = await this.call({ container: containerId }, () =>
      container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: withInput, Tty: false, Env: options.env, User: options.user, WorkingDir: options.workingDir }),
    );
    const stream = (await this.call({ container: containerId }, () => exec.start({ hijack: true, stdin: withInput }))) as Duplex;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const firstLine = new FirstLine();
    const sink = (chunks: Buffer[], watch?: FirstLine) =>
      new Writable({
        write: (chunk: Buffer, _enc, done) => {
          chunks.push(chunk);
          watch?.feed(chunk);
          done();
        },
      });
    let inputError: Error | undefined;
    const ended = new Promise<void>((resolve) => {
      const abort = () => {
        // The process goes on in the container until the caller kills it; we stop listening.
        stream.destroy();
        resolve();
      };
      if (options.signal?.aborted) return abort();
      options.signal?.addEventListener('abort', abort, { once: true });
      this.docker.modem.demuxStream(stream, sink(stdout, firstLine), sink(stderr));
      const finish = () => {
        options.signal?.removeEventListener('abort', abort);
        resolve();
      };
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    }).then(() => firstLine.end());
    const fed = options.input?.({ firstLine: () => firstLine.line, write: (chunk) => writeTo(stream, chunk) }).catch((error: unknown) => {
      inputError = error instanceof Error ? error : new Error(String(error));
    });
    await ended;
    stream.destroy(); // our half of the connection: with stdin attached it stays open until closed
    await fed;
    let exitCode: number | null = null;
    try {
      const info = await exec.inspect();
      exitCode = info.Running ? null : info.ExitCode;
    } catch {
      exitCode = null; // the container went away under the exec
    }
    return { exitCode, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), inputError };
  }

  /** The container's filesystem changes against its image, as `docker diff` prints them ("A /path"), sorted. */
  async diff(containerId: string): Promise<string[]> {
    const changes = await this.call({ container: containerId }, () => this.docker.getContainer(containerId).changes());
    // The engine answers `null` for no changes, which dockerode hands back as an unparsed buffer.
    if (!Array.isArray(changes)) return [];
    return (changes as { Kind: number; Path: string }[]).map((c) => `${'CAD'[c.Kind]} ${c.Path}`).sort();
  }

  /** Uploads a tar stream and lets the engine unpack it under `dir` (which must exist). */
  async putArchive(containerId: string, dir: string, tar: TarSource): Promise<void> {
    await this.call({ container: containerId }, async () => {
      // dockerode accepts a stream; a PassThrough keeps backpressure and surfaces errors from `tar`.
      const body = new PassThrough();
      tar.on('error', (error) => body.destroy(error));
      tar.pipe(body);
      const response = await this.docker.getContainer(containerId).putArchive(body, { path: dir });
      // dockerode resolves with the response stream for some transports; drain it.
      if (response && typeof (response as NodeJS.ReadableStream).resume === 'function') (response as NodeJS.ReadableStream).resume();
    });
  }

  /**
   * What the container's filesystem has at `path`, as the engine sees it (HEAD /containers/ID/archive:
   * nothing runs in the container), or undefined when nothing is there.
   */
  async statPath(containerId: string, path: string): Promise<{ name: string; size: number; isDirectory: boolean; linkTarget: string } | undefined> {
    try {
      const response = (await this.docker.getContainer(containerId).infoArchive({ path })) as NodeJS.ReadableStream & { headers?: Record<string, string> };
      response.resume();
      const stat = JSON.parse(Buffer.from(response.headers?.['x-docker-container-path-stat'] ?? '', 'base64').toString('utf8') || '{}') as { name?: string; size?: number; mode?: number; linkTarget?: string };
      // Go's os.FileMode: the directory bit is the top one.
      return { name: stat.name ?? '', size: stat.size ?? 0, isDirectory: ((stat.mode ?? 0) & 0x80000000) !== 0, linkTarget: stat.linkTarget ?? '' };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.translate(error, { container: containerId });
    }
  }

  /**
   * Commits a container to repo:tag with `config` as the image config. The engine fills fields that
   * are null from the container's own config: pass every field to keep, and [] for "none".
   */
  async commit(containerId: string, repoTag: string, config: ImageConfig, comment?: string): Promise<string> {
    const colon = repoTag.lastIndexOf(':');
    const hasTag = colon > repoTag.lastIndexOf('/');
    const repo = hasTag ? repoTag.slice(0, colon) : repoTag;
    const tag = hasTag ? repoTag.slice(colon + 1) : 'latest';
    // docker-modem sends `_query` as the query string and `_body` as the JSON body (the image config).
    const options = { _query: { container: containerId, repo, tag, comment, pause: true }, _body: config };
    const result = await this.call({ container: containerId }, () => this.docker.getContainer(containerId).commit(options) as Promise<{ Id: string }>);
    return result.Id;
  }

  /** The engine's event stream as typed events, until `signal` aborts or the stream ends. */
  async *events(signal: AbortSignal): AsyncGenerator<EngineEvent> {
    const stream = (await this.call(undefined, () => this.docker.getEvents({}))) as unknown as Readable;
    const onAbort = () => stream.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let buffered = '';
      for await (const chunk of stream) {
        buffered += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          const raw = JSON.parse(line) as { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; time?: number };
          yield { type: raw.Type ?? '', action: raw.Action ?? '', id: raw.Actor?.ID ?? '', time: raw.time ?? 0, attributes: raw.Actor?.Attributes ?? {} };
        }
      }
    } catch (error) {
      if (!signal.aborted) throw this.translate(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      stream.destroy();
    }
  }
}
