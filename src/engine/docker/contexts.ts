/**
 * Engines named the way Docker users name them. `resolveEngine` follows the docker CLI's order:
 * --host, --context, DOCKER_HOST, DOCKER_CONTEXT, the current context (`docker context use`, in
 * config.json), else the first place an engine is (places.ts: the local socket, the desktops'). Contexts live in the Docker config folder (DOCKER_CONFIG,
 * default ~/.docker): contexts/meta/<sha256 of the name>/meta.json holds the endpoint, and
 * contexts/tls/<sha256>/docker/ its ca.pem, cert.pem and key.pem. Also: the engines a machine offers
 * (its contexts, the places where an engine is), for the views. Pure file reading: no engine calls.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { apiVersionFromEnv, DEFAULT_SOCKET, parseAddress, readTlsDir, sameEndpoint, tlsFromEnv, type EngineEndpoint } from './endpoint';
import { EngineError } from './errors';
import { discoverEngine, localMachine, presentPlaces, type LocalMachine } from './places';

/** How the caller names the engine (the CLI's --host and --context, the extension's settings). */
export interface EngineSelection {
  /** An address as DOCKER_HOST spells it: wins over everything, as `docker --host`. */
  host?: string;
  /** A context's name, as `docker --context` ('default': DOCKER_HOST or the local socket). */
  context?: string;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** The Docker config folder; default DOCKER_CONFIG, else ~/.docker. */
  configDir?: string;
  /** Where to look for engines when nothing names one (default this machine, with `env`). */
  machine?: Partial<LocalMachine>;
}

export interface DockerContext {
  name: string;
  description?: string;
  /** The endpoint's address. */
  host: string;
  skipTlsVerify: boolean;
  /** The context's TLS folder, when it has one. */
  tlsDir?: string;
}

/** The Docker config folder: DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

/** Docker's rule for context names; anything else (with `:` or `/`) is an address. */
const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/;

/** Whether a name is an address (unix://, tcp://, ssh://, host:port, /path) rather than a context's name. */
export function isAddress(name: string): boolean {
  return name.includes('://') || name.startsWith('/') || !CONTEXT_NAME.test(name);
}

function contextId(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

function readContext(configDir: string, id: string): DockerContext | undefined {
  const metaFile = join(configDir, 'contexts', 'meta', id, 'meta.json');
  let meta: { Name?: string; Metadata?: { Description?: string }; Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EngineError('engine-config', `cannot read the Docker context in ${metaFile}: ${(error as Error).message}`, 'Remove or recreate it with `docker context rm` / `docker context create`.');
  }
  const docker = meta.Endpoints?.docker;
  if (!meta.Name || !docker?.Host) return undefined; // a context for something else (e.g. Kubernetes only)
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  return { name: meta.Name, description: meta.Metadata?.Description, host: docker.Host, skipTlsVerify: docker.SkipTLSVerify === true, tlsDir: existsSync(tlsDir) ? tlsDir : undefined };
}

/** The contexts in the config folder (not `default`, which is DOCKER_HOST's), sorted by name. */
export function listContexts(configDir: string): DockerContext[] {
  const metaDir = join(configDir, 'contexts', 'meta');
  let ids: string[];
  try {
    ids = readdirSync(metaDir);
  } catch {
    return [];
  }
  return ids
    .map((id) => readContext(configDir, id))
    .filter((c): c is DockerContext => c !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The current context config.json names (`docker context use`), or undefined. */
export function currentContext(configDir: string): string | undefined {
  const file = join(configDir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const name = (JSON.parse(text) as { currentContext?: unknown }).currentContext;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch (error) {
    throw new EngineError('engine-config', `${file} is not valid JSON: ${(error as Error).message}`, 'Fix or remove the file (the docker CLI reads it too).');
  }
}

/** The machine to look for engines on, with the environment the caller gives. */
function machineOf(options: ResolveOptions, env: NodeJS.ProcessEnv): LocalMachine {
  return localMachine({ env, ...options.machine });
}

/** The `default` context: DOCKER_HOST (with the TLS variables), else the first place an engine is. */
function defaultEndpoint(name: string, env: NodeJS.ProcessEnv, configDir: string, machine: LocalMachine): EngineEndpoint {
  const host = env.DOCKER_HOST?.trim();
  if (!host) {
    const { place, looked } = discoverEngine(machine);
    return { name, host: place.host, source: place.source, apiVersion: apiVersionFromEnv(env), looked };
  }
  return { name, host, tls: tlsFromEnv(parseAddress(host), env, configDir), source: 'DOCKER_HOST', apiVersion: apiVersionFromEnv(env) };
}

/** A context's endpoint, with its TLS material. */
export function contextEndpoint(name: string, source: string, options: ResolveOptions = {}): EngineEndpoint {
  const env = options.env ?? process.env;
  const configDir = options.configDir ?? dockerConfigDir(env);
  if (name === 'default') {
    const endpoint = defaultEndpoint(name, env, configDir, machineOf(options, env));
    return { ...endpoint, context: 'default', source: `${source}: the default context (${endpoint.source})` };
  }
  const context = readContext(configDir, contextId(name));
  if (!context) {
    throw new EngineError('engine-config', `Docker context ${name} not found in ${join(configDir, 'contexts')}`, '`docker context ls` lists the contexts; DOCKER_CONFIG says which folder holds them (default ~/.docker).');
  }
  const address = parseAddress(context.host);
  const useTls = address.scheme === 'tcp' && (context.tlsDir !== undefined || context.skipTlsVerify);
  const tls = useTls ? (context.tlsDir ? readTlsDir(context.tlsDir, !context.skipTlsVerify) : { verify: false }) : undefined;
  return { name, host: context.host, tls, context: name, source, apiVersion: apiVersionFromEnv(env) };
}

/** An address given as such (--host, a setting), with TLS from the environment as the docker CLI does. */
export function addressEndpoint(host: string, source: string, options: ResolveOptions = {}): EngineEndpoint {
  const env = options.env ?? process.env;
  return { name: host, host, tls: tlsFromEnv(parseAddress(host), env, options.configDir ?? dockerConfigDir(env)), source, apiVersion: apiVersionFromEnv(env) };
}

/**
 * The engine the docker CLI would use for this selection and environment. Throws EngineError
 * ('engine-config') for a context that does not exist, TLS files that cannot be read, a bad address.
 */
export function resolveEngine(selection: EngineSelection = {}, options: ResolveOptions = {}): EngineEndpoint {
  const env = options.env ?? process.env;
  const configDir = options.configDir ?? dockerConfigDir(env);
  const opts = { ...options, env, configDir };
  if (selection.host && selection.context) {
    throw new EngineError('engine-config', 'conflicting options: both a host and a context name the engine', 'Give one of --host and --context (or of the dockerHost and dockerContext settings).');
  }
  if (selection.host) return addressEndpoint(selection.host, '--host', opts);
  if (selection.context) return contextEndpoint(selection.context, '--context', opts);
  if (env.DOCKER_HOST?.trim()) return defaultEndpoint('default', env, configDir, machineOf(options, env));
  if (env.DOCKER_CONTEXT?.trim()) return contextEndpoint(env.DOCKER_CONTEXT.trim(), 'DOCKER_CONTEXT', opts);
  const current = currentContext(configDir);
  if (current) return contextEndpoint(current, `the current context (${join(configDir, 'config.json')})`, opts);
  return defaultEndpoint('default', env, configDir, machineOf(options, env));
}

/**
 * An engine by name, as a matrix file or the views name them: `default` is the engine the selection
 * gives (what the CLI would use), an address (unix://, tcp://, ssh://, host:port, /path) is that
 * address, anything else a context's name.
 */
export function resolveEngineName(name: string, selection: EngineSelection = {}, options: ResolveOptions = {}): EngineEndpoint {
  if (name === 'default') return { ...resolveEngine(selection, options), name };
  if (isAddress(name)) return addressEndpoint(name, 'address', options);
  return contextEndpoint(name, 'context', options);
}

/** What the views list: the primary engine, more addresses, contexts (by name or `*`), the places where an engine is. */
export interface EngineListing {
  selection?: EngineSelection;
  /** More addresses (the additionalDockerHosts setting). */
  hosts?: string[];
  /** Context names to list, or ['*'] for all of them (`default` included). */
  contexts?: string[];
  /** List Podman's places (sockets, a Podman machine's) that are there; the desktops' are listed whatever this says. */
  podman?: boolean;
}

export interface ListedEngine {
  /** '' for the primary engine, else its name: a context's name or an address. */
  key: string;
  /** A short name for people ('default', the context's name, 'Docker Desktop', 'Podman', the address). */
  label: string;
  endpoint?: EngineEndpoint;
  /** Why it cannot be used (a missing context, unreadable TLS files): the views show it. */
  error?: EngineError;
}

/**
 * The engines to list, the primary first, each once: an engine reached the same way through two
 * names (the current context and `default`, a Podman socket that DOCKER_HOST names) shows once.
 * The local socket is the `default` context's, listed through `contexts`, not as a place.
 */
export function listEngines(listing: EngineListing, options: ResolveOptions = {}): ListedEngine[] {
  const env = options.env ?? process.env;
  const configDir = options.configDir ?? dockerConfigDir(env);
  const opts = { ...options, env, configDir };
  const attempt = (key: string, label: string, resolve: () => EngineEndpoint): ListedEngine => {
    try {
      return { key, label, endpoint: resolve() };
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      return { key, label, error };
    }
  };
  const primary = attempt('', 'default', () => resolveEngine(listing.selection, opts));
  if (primary.endpoint?.context && primary.endpoint.context !== 'default') primary.label = primary.endpoint.context;
  const listed: ListedEngine[] = [primary];
  for (const host of listing.hosts ?? []) listed.push(attempt(host, host, () => addressEndpoint(host, 'saltContainers.additionalDockerHosts', opts)));
  const wanted = listing.contexts ?? [];
  const names = wanted.includes('*') ? ['default', ...listContexts(configDir).map((c) => c.name)] : wanted;
  for (const name of names) listed.push(attempt(name, name, () => contextEndpoint(name, 'context', opts)));
  const places = presentPlaces(machineOf(options, env)).filter((place) => place.host !== DEFAULT_SOCKET && (listing.podman || !place.podman));
  for (const place of places) listed.push({ key: place.host, label: place.label, endpoint: { name: place.host, host: place.host, source: place.source } });
  const result: ListedEngine[] = [];
  for (const entry of listed) {
    const twin = result.find((r) => r.key === entry.key || (r.endpoint && entry.endpoint && sameEndpoint(r.endpoint, entry.endpoint)));
    if (!twin) result.push(entry);
  }
  return result;
}
