/**
 * Pulling an image the way `docker run` does when it lacks one: the reference read as Docker reads it
 * (`debian:12` is Docker Hub's library/debian), credentials from the Docker config as the docker CLI
 * keeps them (`auths`, a credential helper), the engine's progress events summed up as layers and
 * bytes, and its failures said as what they are (unknown host, refused, not found, unauthorized, rate
 * limits, TLS), each with what to do. The pull itself is the engine's (DockerEngine.pullImage): the
 * engine's machine talks to the registry, this one only sends the credentials.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHostProgram } from '../host';
import { dockerConfigDir } from './contexts';
import { EngineError } from './errors';

/** Docker Hub as references name it, and as the docker CLI keys its credentials. */
export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

export interface ImageRef {
  /** What was asked for, as given. */
  ref: string;
  /** `docker.io`, `ghcr.io`, `127.0.0.1:5000`, `localhost`. */
  registry: string;
  /** The repository in that registry: `library/debian`, `saltimages/salt-master-py3`. */
  repository: string;
  /** The repository as the engine's API takes it (`fromImage`): the reference without tag and digest. */
  name: string;
  tag?: string;
  digest?: string;
}

/**
 * A reference as Docker reads it: the first component is a registry when it has a dot or a port or is
 * `localhost`, else the image is on Docker Hub (one-component names under `library/`); no tag and no
 * digest means `latest`.
 */
export function parseImageRef(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? hubAlias(first) : DOCKER_HUB;
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  return { ref, registry, repository, name: rest, tag: tag ?? (digest ? undefined : 'latest'), digest };
}

/** Docker Hub's other names (what `docker login` and old configs use) are Docker Hub. */
function hubAlias(host: string): string {
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(host) ? DOCKER_HUB : host;
}

/** A registry for people: Docker Hub by its name, others by their address. */
export function registryLabel(registry: string): string {
  return registry === DOCKER_HUB ? 'Docker Hub (docker.io)' : registry;
}

/** An image ID (`sha256:...`, or its hex) names an image no registry can give. */
export function isPullable(ref: string): boolean {
  return !/^(sha256:)?[0-9a-f]{12,64}$/.test(ref.trim());
}

/** Credentials as the engine's API takes them (X-Registry-Auth). */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

export interface RegistryAuth {
  credentials?: RegistryCredentials;
  /** Where they came from, for messages: `~/.docker/config.json`, `docker-credential-pass`. */
  source?: string;
  /** Why none could be had though the config names a way (a credential helper that failed). */
  problem?: string;
  /** The config file read (whether or not it had credentials for this registry). */
  configFile: string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** A config's key (`https://index.docker.io/v1/`, `http://host:5000`, `host:5000`) as the registry it is for. */
function keyRegistry(key: string): string {
  return hubAlias(key.replace(/^https?:\/\//, '').split('/')[0]);
}

/**
 * The credentials the docker CLI would send to `registry`: its credential helper (`credHelpers`, else
 * `credsStore`: `docker-credential-NAME get`), else the `auths` entry of config.json (DOCKER_CONFIG,
 * default ~/.docker). None when the config has none: the pull goes anonymous, as docker's does.
 */
export async function registryAuth(registry: string, options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<RegistryAuth> {
  const env = options.env ?? process.env;
  const configFile = join(dockerConfigDir(env), 'config.json');
  let config: DockerConfigFile;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8')) as DockerConfigFile;
  } catch {
    return { configFile }; // no config (or one the docker CLI could not read either): anonymous
  }
  const serveraddress = registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry;
  const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => keyRegistry(key) === registry)?.[1] ?? config.credsStore;
  let problem: string | undefined;
  if (helper) {
    const fromHelper = await credentialHelper(helper, serveraddress, env, options.signal);
    if (fromHelper.credentials) return { credentials: fromHelper.credentials, source: `docker-credential-${helper}`, configFile };
    problem = fromHelper.problem;
  }
  const entry = Object.entries(config.auths ?? {}).find(([key]) => keyRegistry(key) === registry)?.[1];
  const credentials = entry && entryCredentials(entry, serveraddress);
  return credentials ? { credentials, source: configFile, configFile, problem } : { configFile, problem };
}

function entryCredentials(entry: NonNullable<DockerConfigFile['auths']>[string], serveraddress: string): RegistryCredentials | undefined {
  if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password, serveraddress };
  return undefined;
}

/** `docker-credential-NAME get` with the server on stdin, as the docker CLI asks it; a helper that knows none is no problem. */
async function credentialHelper(name: string, serveraddress: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{ credentials?: RegistryCredentials; problem?: string }> {
  const program = `docker-credential-${name}`;
  // A helper may wait for a keyring to be unlocked: not for ever.
  const limit = AbortSignal.any([AbortSignal.timeout(20_000), ...(signal ? [signal] : [])]);
  try {
    const { code, stdout, output } = await runHostProgram(program, ['get'], { input: `${serveraddress}\n`, signal: limit, env: { PATH: env.PATH ?? '', HOME: env.HOME ?? '' } });
    if (code !== 0) {
      if (/credentials not found/i.test(output)) return {};
      return { problem: `${program} failed: ${output.trim().split('\n').pop() ?? `exit code ${code}`}` };
    }
    const answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
    if (!answer.Secret) return {};
    // The helpers' convention for an identity token (an OAuth refresh token) rather than a password.
    if (answer.Username === '<token>') return { credentials: { identitytoken: answer.Secret, serveraddress } };
    return { credentials: { username: answer.Username, password: answer.Secret, serveraddress } };
  } catch (error) {
    if (signal?.aborted) throw error;
    if ((error as { code?: string }).code === 'ENOENT') return { problem: `${program}, the credential helper the Docker config names, is not on PATH` };
    return { problem: limit.aborted ? `${program} did not answer within 20 s` : `${program} could not run: ${(error as Error).message}` };
  }
}

/** How far a pull is, summed over its layers. */
export interface PullProgress {
  image: string;
  registry: string;
  /** starting: asked, nothing heard yet; pulling: layers coming; done: the image is there. */
  phase: 'starting' | 'pulling' | 'done';
  layers: number;
  /** Layers downloaded (or already there). */
  layersDone: number;
  /** Bytes downloaded, of the layers whose size the engine said. */
  bytesDone: number;
  bytesTotal: number;
  durationMs: number;
  /** The manifest's digest, when the engine said it. */
  digest?: string;
}

/** One line of the engine's pull stream (Docker and Podman's compatible API). */
export interface PullEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/** Layer statuses past their download (Podman says only "Download complete"). */
const DOWNLOADED = /^(Download complete|Verifying Checksum|Extracting|Pull complete|Already exists)$/;

/** Sums a pull's events up into PullProgress. */
export class PullTracker {
  private readonly layers = new Map<string, { downloaded: boolean; current: number; total: number }>();
  private readonly started = Date.now();
  private digest?: string;
  private phase: PullProgress['phase'] = 'starting';

  constructor(
    private readonly image: string,
    private readonly registry: string,
  ) {}

  /** Takes one event; true when the progress changed. */
  feed(event: PullEvent): boolean {
    const status = event.status ?? '';
    const digest = /^Digest: (\S+)/.exec(status)?.[1];
    if (digest) {
      this.digest = digest;
      return false;
    }
    // Layer events carry the layer's short ID; Docker's first line carries the tag instead.
    if (!event.id || !/^[0-9a-f]{12}$/.test(event.id) || /^Pulling from /.test(status)) return false;
    this.phase = 'pulling';
    const known = this.layers.get(event.id);
    const layer = known ?? { downloaded: false, current: 0, total: 0 };
    this.layers.set(event.id, layer);
    if (status === 'Downloading') {
      layer.current = event.progressDetail?.current ?? layer.current;
      layer.total = event.progressDetail?.total ?? layer.total;
    } else if (DOWNLOADED.test(status) && !layer.downloaded) {
      layer.downloaded = true;
      layer.current = layer.total;
    } else return !known; // a layer first heard of counts
    return true;
  }

  finish(): PullProgress {
    this.phase = 'done';
    return this.snapshot();
  }

  snapshot(): PullProgress {
    let layersDone = 0;
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const layer of this.layers.values()) {
      if (layer.downloaded) layersDone++;
      bytesDone += layer.current;
      bytesTotal += layer.total;
    }
    return { image: this.image, registry: this.registry, phase: this.phase, layers: this.layers.size, layersDone, bytesDone, bytesTotal, durationMs: Date.now() - this.started, digest: this.digest };
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The progress for people: `pulling debian:12: 2 of 5 layers, 12.1 of 48.0 MB`. */
export function describePull(progress: PullProgress): string {
  const { image, layers, layersDone, bytesDone, bytesTotal } = progress;
  if (progress.phase === 'starting') return `pulling ${image} from ${registryLabel(progress.registry)}`;
  const bytes = bytesTotal > 0 ? `, ${progress.phase === 'done' ? megabytes(bytesTotal) : `${(bytesDone / 1e6).toFixed(1)} of ${megabytes(bytesTotal)}`}` : '';
  if (progress.phase === 'done') {
    // Docker says nothing of layers when it had them all (the same image under another name).
    const what = layers === 0 ? 'its layers were there already' : `${layers} layer${layers === 1 ? '' : 's'}${bytes}`;
    return `pulled ${image} in ${(progress.durationMs / 1000).toFixed(1)} s (${what})`;
  }
  return `pulling ${image}: ${layersDone} of ${layers} layer${layers === 1 ? '' : 's'}${bytes}`;
}

/**
 * A pull's progress as lines for a log or a terminal: its start, a line when a layer is done or a second
 * has passed, its end. `engine` names where it runs (a matrix's engines); pulls at once keep their own pace.
 */
export function pullLines(write: (line: string) => void, now: () => number = Date.now): (progress: PullProgress, engine?: string) => void {
  const shown = new Map<string, { at: number; layersDone: number }>();
  return (progress, engine) => {
    const key = `${engine ?? ''}\n${progress.image}`;
    const last = shown.get(key);
    const at = now();
    if (progress.phase === 'pulling' && last && last.layersDone === progress.layersDone && at - last.at < 1000) return;
    if (progress.phase === 'done') shown.delete(key);
    else shown.set(key, { at, layersDone: progress.layersDone });
    write(`${describePull(progress)}${engine ? ` (engine ${engine})` : ''}`);
  };
}

/** What the pull was, for its error: the image, the engine that pulled, the credentials it sent. */
export interface PullContext {
  image: ImageRef;
  /** The engine for people (DockerEngine.address). */
  where: string;
  auth: RegistryAuth;
}

/** The cause inside the engine's words: `lookup HOST on DNS: no such host`, `connect: connection refused`. */
function networkReason(message: string): string {
  return (/dial tcp(?: \S+)?: (.+)$/.exec(message)?.[1] ?? /"[^"]*": (.+)$/.exec(message)?.[1] ?? message).trim();
}

function loginHint(context: PullContext, refused: boolean): string {
  const { registry } = context.image;
  const login = `docker login${registry === DOCKER_HUB ? '' : ` ${registry}`}`;
  if (context.auth.problem) return `No credentials could be had: ${context.auth.problem}. Fix the helper, or log in with ${login}.`;
  if (refused && context.auth.credentials) return `The credentials for ${registry} from ${context.auth.source} were refused: log in again (${login}).`;
  return `Log in with ${login}: the credentials it keeps (config.json's auths, or the credential helper it names, in DOCKER_CONFIG or ~/.docker) go with every pull.`;
}

/**
 * The engine's words about a failed pull as an EngineError that says what happened (the kind) and what
 * to do. The shapes were measured on Docker 20.10 and Podman 4.3 against a distribution registry; Docker
 * Hub's own (rate limits, "pull access denied") are as its users report them.
 */
export function pullError(message: string, context: PullContext): EngineError {
  const { image, where } = context;
  const registry = registryLabel(image.registry);
  const text = message.replace(/^(Error response from daemon: )/, '').trim();
  if (/invalid reference format|invalid repository name|repository name must be lowercase/i.test(text)) {
    return new EngineError('engine', `${image.ref} is not a valid image reference (${text})`, 'An image is named [REGISTRY/]NAME[:TAG|@DIGEST], in lowercase: e.g. debian:12, ghcr.io/owner/image:1.');
  }
  if (/no matching manifest for|no image found in (image index|manifest list) for architecture/i.test(text)) {
    return new EngineError('image-not-found', `image ${image.ref} has no variant for the engine's platform (${text})`, 'Use an image built for that platform, or an engine of the image\'s architecture.');
  }
  if (/toomanyrequests|too many requests|rate limit/i.test(text)) {
    const hint =
      image.registry === DOCKER_HUB
        ? 'Docker Hub limits pulls per address, anonymous ones most: log in (docker login; its credentials are sent with the pull), wait for the limit\'s window to pass, or give the engine a mirror (registry-mirrors in its daemon.json).'
        : 'Wait and pull again, or log in: registries allow more to known users.';
    return new EngineError('registry-rate-limited', `${registry} refused to give ${image.ref}: too many requests (its pull rate limit)`, hint);
  }
  if (/manifest unknown|manifest for \S+ not found|not found: manifest|repository does not exist|name unknown|no such image|not found$/i.test(text)) {
    // Docker Hub says "pull access denied ... may require 'docker login'" both for a name that does not exist and for a private one.
    const maybePrivate = /may require 'docker login'|pull access denied/i.test(text);
    const what = image.digest ? `@${image.digest}` : `:${image.tag}`;
    return new EngineError(
      'image-not-found',
      `image ${image.ref} not found in ${registry}${maybePrivate ? ' (or it is private)' : ''}`,
      `Check the name and the tag: ${registry} has no ${image.repository}${what}.${maybePrivate ? ` ${loginHint(context, false)}` : ''}`,
    );
  }
  if (/unauthorized|authentication required|no basic auth credentials|incorrect username or password|\bdenied: |access (to the resource )?is denied|\bforbidden\b/i.test(text)) {
    const refused = !!context.auth.credentials;
    return new EngineError('registry-unauthorized', `${registry} refused to give ${image.ref}: ${refused ? 'the credentials sent were refused' : 'it needs credentials'} (${text})`, loginHint(context, refused));
  }
  const host = image.registry === DOCKER_HUB ? 'registry-1.docker.io' : image.registry;
  if (/no such host|server misbehaving|Temporary failure in name resolution/i.test(text)) {
    return new EngineError(
      'registry-unreachable',
      `cannot reach ${registry} from the engine at ${where}: its name does not resolve (${networkReason(text)})`,
      `The engine's machine pulls, so it needs a route to ${host}: check the image's name, that machine's DNS and network (dockerd takes a proxy from its own HTTPS_PROXY). Offline, give the engine the image yourself (docker load, or build it there).`,
    );
  }
  if (/connection refused|no route to host|network is unreachable|i\/o timeout|TLS handshake timeout|Client\.Timeout exceeded|context deadline exceeded|connection reset by peer|proxyconnect|unexpected EOF/i.test(text)) {
    const refused = /connection refused/i.test(text);
    return new EngineError(
      'registry-unreachable',
      `cannot reach ${registry} from the engine at ${where} (${networkReason(text)})`,
      refused
        ? `Nothing listens at ${host}: start the registry, or check its address and port in the image's name.`
        : `The engine's machine pulls, so it needs a route to ${host}: check that machine's network, firewall and proxy (dockerd takes one from its own HTTPS_PROXY), then pull again.`,
    );
  }
  if (/server gave HTTP response to HTTPS client/i.test(text)) {
    return new EngineError(
      'registry-tls',
      `${registry} speaks plain HTTP and the engine at ${where} wants TLS`,
      `Let the engine use plain HTTP there: Docker's daemon.json "insecure-registries": ["${image.registry}"] (127.0.0.0/8 is allowed already); Podman's registries.conf [[registry]] location = "${image.registry}" with insecure = true.`,
    );
  }
  if (/x509|certificate|tls:/i.test(text)) {
    return new EngineError(
      'registry-tls',
      `TLS with ${registry} failed on the engine at ${where} (${networkReason(text)})`,
      `The engine does not trust the registry's certificate: put its CA in /etc/docker/certs.d/${image.registry}/ca.crt (Podman: /etc/containers/certs.d/${image.registry}/ca.crt) on the engine's machine.`,
    );
  }
  if (/no space left/i.test(text)) return new EngineError('engine', `could not pull ${image.ref}: ${text}`, "The engine's disk is full: remove unused images and containers.");
  return new EngineError('engine', `could not pull ${image.ref}: ${text}`);
}
