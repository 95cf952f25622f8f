/**
 * Docker engine access over dockerode: connect (an engine named as Docker names it: see contexts.ts),
 * list, lifecycle, exec with an argv array (never a shell string) and, when asked, a conversation on
 * its stdin; archive upload, commit, image save/load, and a typed event stream. Docker and Podman's
 * Docker-compatible API both: where Podman differs (commit), the engine says which it is.
 * Errors come out as EngineError with a kind and a message that says what to do (errors.ts).
 */
import Docker from 'dockerode';
import { type Duplex, PassThrough, Readable, Writable } from 'node:stream';
import { resolveEngine, type EngineSelection } from './contexts';
import { describeEndpoint, dockerodeOptions, type EngineEndpoint } from './endpoint';
import { EngineError, engineMessage, statusOf, translateEngineError, type ErrorSubject } from './errors';
import { isPullable, parseImageRef, pullError, PullTracker, registryAuth, type PullEvent, type PullProgress } from './pull';

export { EngineError, type EngineErrorKind } from './errors';

export interface EngineOptions {
  /** The engine, resolved (contexts.ts: resolveEngine, resolveEngineName). Wins over the two below. */
  endpoint?: EngineEndpoint;
  /** A DOCKER_HOST-style address (unix:///path, tcp://host:port, ssh://user@host), as `--host`. */
  dockerHost?: string;
  /** A Docker context's name, as `--context`. Without any of these: the docker CLI's own choice. */
  context?: string;
  /** An engine whose naming failed (contexts.ts listEngines): every call throws this. */
  unusable?: EngineError;
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

export interface CreateOptions {
  name?: string;
  /** The entrypoint that keeps the container up (its Cmd is emptied). */
  keepAlive?: string[];
  labels?: Record<string, string>;
  /** Added to the image's environment (`NAME=value`). */
  env?: string[];
  stopSignal?: string;
  /** Mount point -> tmpfs options (`rw,exec`), as `--tmpfs` takes them. */
  tmpfs?: Record<string, string>;
  /** `host:container[:ro]` bind mounts. */
  binds?: string[];
  privileged?: boolean;
  /** Network mode: `host`, `none`, a network name; default the engine's. */
  network?: string;
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
  /**
   * Hands every later stdout chunk to `listener` as it comes, instead of keeping it for the result:
   * for a program that keeps talking (a warm session).
   */
  onStdout(listener: (chunk: Buffer) => void): void;
  /** Settles when the program's output ends: it exited, or the connection to it was lost. */
  readonly ended: Promise<void>;
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

export interface PullOptions {
  /** Cancels the pull: the request is closed, and the engine stops pulling (Docker and Podman both). */
  signal?: AbortSignal;
  /** The pull's progress: once at the start, at each layer's progress, once when done. */
  onProgress?: (progress: PullProgress) => void;
  /** Where the Docker config (credentials) and credential helpers are looked up: DOCKER_CONFIG, HOME, PATH. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The request and the credentials' source, for --debug and the output channel. */
  log?: (line: string) => void;
}

/** The JSON documents of a stream that has one per line (events, pull and load progress); lines that are not JSON are skipped. */
async function* jsonLines<T>(stream: Readable): AsyncGenerator<T> {
  let buffered = '';
  for await (const chunk of stream) {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line) continue;
      let parsed: T;
      try {
        parsed = JSON.parse(line) as T;
      } catch {
        continue;
      }
      yield parsed;
    }
  }
}

/** Which engine answers, from its version document: Podman's Docker API says so in its components. */
export interface EngineProduct {
  name: 'docker' | 'podman';
  version: string;
  apiVersion: string;
}

export class DockerEngine {
  readonly docker: Docker;
  /** The engine as resolved: its name, address, TLS, and how it was chosen. */
  readonly endpoint: EngineEndpoint;
  /** Where this engine is, for people: the address, with the context it came from. */
  readonly address: string;
  /** Why this engine cannot be used at all (a missing context, unreadable certificates): every call throws it. */
  private readonly unusable?: EngineError;
  private product?: Promise<EngineProduct>;
  private readonly connection: Docker.DockerOptions;
  private untimedClient?: Docker;

  constructor(options: EngineOptions = {}) {
    let endpoint = options.endpoint;
    this.unusable = options.unusable;
    try {
      if (!this.unusable) endpoint ??= resolveEngine({ host: options.dockerHost, context: options.context } satisfies EngineSelection);
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      this.unusable = error;
    }
    endpoint ??= { name: options.context ?? options.dockerHost ?? 'default', host: options.dockerHost ?? options.context ?? 'default', context: options.context, source: 'unusable' };
    this.endpoint = endpoint;
    this.address = describeEndpoint(endpoint);
    const connection = this.unusable ? { socketPath: '/nonexistent' } : dockerodeOptions(endpoint);
    this.connection = connection;
    // Over ssh the request's socket is an ssh2 channel, which has no setTimeout: docker-modem's timeout would crash it.
    const timeout = connection.protocol === 'ssh' ? {} : { timeout: options.timeoutMs ?? 15_000 };
    this.docker = withoutDockerHost(() => new Docker({ ...connection, ...timeout }));
  }

  /**
   * A client without the request timeout, for a pull: the engine may be silent longer than that while
   * it reaches a slow registry, and a timeout would be said as the engine not answering.
   */
  private get untimed(): Docker {
    this.untimedClient ??= withoutDockerHost(() => new Docker(this.connection));
    return this.untimedClient;
  }

  /** Turns dockerode's errors into EngineErrors that say what happened and what to do. */
  translate(error: unknown, subject?: ErrorSubject): EngineError {
    return translateEngineError(error, this.address, subject, this.endpoint.looked);
  }

  private async call<T>(subject: ErrorSubject | undefined, fn: () => Promise<T>): Promise<T> {
    if (this.unusable) throw this.unusable;
    try {
      return await fn();
    } catch (error) {
      throw this.translate(error, subject);
    }
  }

  /** Returns the engine's version; throws EngineError('engine-unreachable') when it does not answer. */
  async ping(): Promise<string> {
    return (await this.identify()).version;
  }

  /** Docker or Podman, its version and API version (asked once). */
  identify(): Promise<EngineProduct> {
    this.product ??= this.call(undefined, () => this.docker.version()).then(
      (version) => ({
        name: (version.Components ?? []).some((c) => /podman/i.test(c.Name)) ? 'podman' : 'docker',
        version: version.Version,
        apiVersion: version.ApiVersion,
      }),
      (error: unknown) => {
        this.product = undefined; // ask again next time: the engine may come up
        throw error;
      },
    );
    return this.product;
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
   * Pulls `ref` from its registry (POST /images/create, which Podman's compatible API answers too) with
   * the credentials the Docker config has for it, reporting progress; resolves with the last progress
   * when the engine has the image. Throws EngineError: 'cancelled' when the signal aborts, the
   * registry's failures as what they are (pull.ts: pullError), the engine's own as for any call.
   */
  async pullImage(ref: string, options: PullOptions = {}): Promise<PullProgress> {
    if (this.unusable) throw this.unusable;
    const image = parseImageRef(ref);
    const cancelled = () => new EngineError('cancelled', `the pull of ${ref} was cancelled`);
    if (options.signal?.aborted) throw cancelled();
    const auth = await registryAuth(image.registry, { env: options.env, signal: options.signal }).catch((error: unknown) => {
      throw options.signal?.aborted ? cancelled() : error;
    });
    const tag = image.digest ?? image.tag;
    options.log?.(`pull ${ref} on ${this.address}: fromImage=${image.name} tag=${tag}, ${auth.credentials ? `credentials from ${auth.source}` : 'no credentials'}${auth.problem ? ` (${auth.problem})` : ''}`);
    const tracker = new PullTracker(ref, image.registry);
    options.onProgress?.(tracker.snapshot());
    let failure: string | undefined;
    try {
      const stream = (await this.untimed.createImage(auth.credentials, { fromImage: image.name, tag, abortSignal: options.signal })) as Readable;
      try {
        // The engine reports a failed pull in the stream (Podman always, Docker once it has begun), not in the status.
        for await (const event of jsonLines<PullEvent>(stream)) {
          if (event.error || event.errorDetail?.message) {
            failure = event.errorDetail?.message ?? event.error;
            break;
          }
          if (tracker.feed(event)) options.onProgress?.(tracker.snapshot());
        }
      } finally {
        stream.destroy();
      }
    } catch (error) {
      if (options.signal?.aborted) throw cancelled();
      // No status: the engine itself did not answer (or the connection to it broke).
      if (statusOf(error) === undefined) throw this.translate(error, { doing: `pull ${ref}` });
      failure = engineMessage(error);
    }
    if (options.signal?.aborted) throw cancelled();
    if (failure !== undefined) throw pullError(failure, { image, where: this.address, auth });
    const done = tracker.finish();
    options.log?.(`pull ${ref}: done in ${done.durationMs} ms (${done.layers} layers, ${done.bytesTotal} bytes${done.digest ? `, ${done.digest}` : ''})`);
    options.onProgress?.(done);
    return done;
  }

  /**
   * The image, pulled first when the engine lacks it and a registry could give it, as `docker run`
   * does; `pulled` says that it was. An image ID the engine lacks stays not found.
   */
  async ensureImage(ref: string, options: PullOptions = {}): Promise<{ info: Docker.ImageInspectInfo; pulled?: PullProgress }> {
    try {
      return { info: await this.inspectImage(ref) };
    } catch (error) {
      if (!(error instanceof EngineError) || error.kind !== 'image-not-found' || !isPullable(ref)) throw error;
    }
    const pulled = await this.pullImage(ref, options);
    return { info: await this.inspectImage(ref), pulled };
  }

  /**
   * Creates a container from an image. With keepAlive its entrypoint is replaced by one that sleeps
   * forever, so the container stays up for exec whatever the image's own command does.
   */
  async createContainer(image: string, options: CreateOptions = {}): Promise<string> {
    const container = await this.call({ image, doing: `create a container from ${image}` }, () =>
      this.docker.createContainer({
        Image: image,
        name: options.name,
        Labels: options.labels,
        ...(options.keepAlive ? { Entrypoint: options.keepAlive, Cmd: [] } : {}),
        ...(options.env ? { Env: options.env } : {}),
        ...(options.stopSignal ? { StopSignal: options.stopSignal } : {}),
        Tty: false,
        OpenStdin: false,
        HostConfig: {
          Init: false,
          ...(options.tmpfs ? { Tmpfs: options.tmpfs } : {}),
          ...(options.binds ? { Binds: options.binds } : {}),
          ...(options.privileged ? { Privileged: true } : {}),
          ...(options.network ? { NetworkMode: options.network } : {}),
        },
      }),
    );
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call({ container: id, doing: `start container ${shortId(id)}` }, async () => {
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
    let listener: ((chunk: Buffer) => void) | undefined;
    const sink = (chunks: Buffer[], watch?: FirstLine) =>
      new Writable({
        write: (chunk: Buffer, _enc, done) => {
          watch?.feed(chunk);
          if (watch && listener) listener(chunk);
          else chunks.push(chunk);
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
    const io: ExecInput = {
      firstLine: () => firstLine.line,
      write: (chunk) => writeTo(stream, chunk),
      onStdout: (next) => {
        listener = next;
        for (const chunk of stdout.splice(0)) next(chunk);
      },
      ended,
    };
    const fed = options.input?.(io).catch((error: unknown) => {
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
   * The container's `path` as a tar stream (GET /containers/ID/archive; the container need not be
   * running): a directory comes as its own name with everything under it.
   */
  async getArchive(containerId: string, path: string): Promise<Readable> {
    return this.call({ container: containerId }, () => this.docker.getContainer(containerId).getArchive({ path }) as Promise<Readable>);
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
   * are null from the container's own config: pass every field to keep, and [] for "none". Podman
   * ignores a config in the body (podman#13770): it gets the same config as Dockerfile instructions.
   */
  async commit(containerId: string, repoTag: string, config: ImageConfig, comment?: string): Promise<string> {
    const colon = repoTag.lastIndexOf(':');
    const hasTag = colon > repoTag.lastIndexOf('/');
    const repo = hasTag ? repoTag.slice(0, colon) : repoTag;
    const tag = hasTag ? repoTag.slice(colon + 1) : 'latest';
    const podman = (await this.identify()).name === 'podman';
    // docker-modem sends `_query` as the query string and `_body` as the JSON body (the image config).
    const query = { container: containerId, repo, tag, comment, pause: true, ...(podman ? { changes: commitChanges(config) } : {}) };
    const result = await this.call({ container: containerId }, () => this.docker.getContainer(containerId).commit({ _query: query, _body: config }) as Promise<{ Id: string }>);
    return result.Id;
  }

  /** The image as a `docker save` tar stream (for loadImage on another engine). */
  async saveImage(idOrTag: string): Promise<Readable> {
    return this.call({ image: idOrTag }, () => this.docker.getImage(idOrTag).get() as Promise<Readable>);
  }

  /** Loads a `docker save` tar stream; resolves when the engine has taken all of it. */
  async loadImage(tar: Readable, signal?: AbortSignal): Promise<void> {
    await this.call({ doing: 'load an image' }, async () => {
      const onAbort = () => tar.destroy(new Error('cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const response = (await this.docker.loadImage(tar, { quiet: true })) as unknown as Readable;
        // The engine reports a failed load in the stream, not in the status.
        let failure: string | undefined;
        for await (const line of jsonLines<{ error?: string }>(response)) failure ??= line.error;
        if (failure) throw new EngineError('engine', `could not load the image: ${failure}`);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  /** The engine's event stream as typed events, until `signal` aborts or the stream ends. */
  async *events(signal: AbortSignal): AsyncGenerator<EngineEvent> {
    const stream = (await this.call(undefined, () => this.docker.getEvents({}))) as unknown as Readable;
    const onAbort = () => stream.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const raw of jsonLines<{ Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; time?: number }>(stream)) {
        yield { type: raw.Type ?? '', action: raw.Action ?? '', id: raw.Actor?.ID ?? '', time: raw.time ?? 0, attributes: raw.Actor?.Attributes ?? {} };
      }
    } catch (error) {
      if (!signal.aborted) throw this.translate(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      stream.destroy();
    }
  }
}

/**
 * docker-modem reads DOCKER_HOST (and, for tcp, DOCKER_CERT_PATH's files) whatever it is handed, and
 * throws when they cannot be read: the endpoint has decided already, so it must not look.
 */
function withoutDockerHost<T>(make: () => T): T {
  const saved = process.env.DOCKER_HOST;
  delete process.env.DOCKER_HOST;
  try {
    return make();
  } finally {
    if (saved !== undefined) process.env.DOCKER_HOST = saved;
  }
}

function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}

/**
 * An image config as the Dockerfile instructions Podman's commit takes (`changes`): each value quoted,
 * which Podman strips again (measured on Podman 4.3: it keeps everything after KEY= as the value).
 */
export function commitChanges(config: ImageConfig): string[] {
  const quote = (value: string) => `"${value}"`;
  const changes: string[] = [];
  if (config.Cmd) changes.push(`CMD ${JSON.stringify(config.Cmd)}`);
  if (config.Entrypoint) changes.push(`ENTRYPOINT ${JSON.stringify(config.Entrypoint)}`);
  for (const variable of config.Env ?? []) {
    const equals = variable.indexOf('=');
    if (equals > 0) changes.push(`ENV ${variable.slice(0, equals)}=${quote(variable.slice(equals + 1))}`);
  }
  if (config.WorkingDir) changes.push(`WORKDIR ${config.WorkingDir}`);
  if (config.User) changes.push(`USER ${config.User}`);
  for (const port of Object.keys(config.ExposedPorts ?? {})) changes.push(`EXPOSE ${port}`);
  const volumes = Object.keys(config.Volumes ?? {});
  if (volumes.length) changes.push(`VOLUME ${JSON.stringify(volumes)}`);
  for (const [key, value] of Object.entries(config.Labels ?? {})) changes.push(`LABEL ${key}=${quote(value)}`);
  if (config.StopSignal) changes.push(`STOPSIGNAL ${config.StopSignal}`);
  return changes;
}
