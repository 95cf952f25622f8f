/**
 * Where an engine is and how to talk to it: an address as DOCKER_HOST spells it (unix://, tcp://,
 * ssh://, or a bare host:port), with TLS material or SSH keys, made into dockerode options. Every
 * connection option is given (docker-modem merges what DOCKER_HOST says into whatever it is handed,
 * which would send an engine named otherwise to DOCKER_HOST; engine.ts also hides DOCKER_HOST from it).
 */
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { EngineError } from './errors';

export interface EngineTls {
  /** Check the engine's certificate (against `ca`, else the system's CAs) and its host name. */
  verify: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** The folder the files came from, for messages. */
  dir?: string;
}

export interface EngineEndpoint {
  /** What it was asked by: 'default', a context's name, or the address itself. */
  name: string;
  /** The address as DOCKER_HOST spells it: unix:///path, tcp://host:port, ssh://user@host:port. */
  host: string;
  /** TLS for a tcp:// address; absent means plain HTTP. */
  tls?: EngineTls;
  /** The Docker context it came from. */
  context?: string;
  /** How it was chosen, for people: '--host', 'DOCKER_HOST', 'DOCKER_CONTEXT', 'the current context', ... */
  source: string;
  /** An API version to speak (DOCKER_API_VERSION), e.g. '1.41'; else the engine's own. */
  apiVersion?: string;
  /** When nothing named the engine: every place looked at for one, in order (an unreachable engine's hint names them). */
  looked?: string[];
}

export interface Address {
  scheme: 'unix' | 'tcp' | 'ssh' | 'npipe';
  /** unix and npipe */
  path?: string;
  hostname?: string;
  port?: number;
  user?: string;
}

/** The socket Docker uses when nothing names another engine. */
export const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';

/** Parses an address as DOCKER_HOST spells it; a bare `host:port` is tcp, a bare path a socket. */
export function parseAddress(address: string): Address {
  const text = address.trim();
  if (text.startsWith('/')) return { scheme: 'unix', path: text };
  if (text.startsWith('unix://')) return { scheme: 'unix', path: text.slice('unix://'.length) || '/var/run/docker.sock' };
  if (text.startsWith('npipe://')) return { scheme: 'npipe', path: text.slice('npipe://'.length) || '//./pipe/docker_engine' };
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `tcp://${text}`);
  } catch {
    throw new EngineError('engine-config', `${address} is not an engine address`, 'Write it as DOCKER_HOST does: unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host.');
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme === 'http' || scheme === 'https' || scheme === 'tcp') return { scheme: 'tcp', hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : undefined };
  if (scheme === 'ssh') return { scheme: 'ssh', hostname: url.hostname, port: url.port ? Number(url.port) : undefined, user: url.username ? decodeURIComponent(url.username) : undefined };
  throw new EngineError('engine-config', `${address}: the ${scheme}:// scheme is not one an engine speaks`, 'Use unix://, tcp:// or ssh://.');
}

/** The engine for people: the context's name and the address, or the address. */
export function describeEndpoint(endpoint: EngineEndpoint): string {
  return endpoint.context ? `${endpoint.host} (context ${endpoint.context})` : endpoint.host;
}

/** Whether two endpoints reach the same engine the same way (the views list each once). */
export function sameEndpoint(a: EngineEndpoint, b: EngineEndpoint): boolean {
  const key = (e: EngineEndpoint) => {
    const address = parseAddress(e.host);
    const where = address.scheme === 'unix' || address.scheme === 'npipe' ? `${address.scheme}:${address.path}` : `${address.scheme}:${address.user ?? ''}@${address.hostname}:${address.port ?? ''}`;
    return `${where}|${e.tls ? `${e.tls.verify}|${e.tls.dir ?? ''}|${e.tls.cert?.length ?? 0}` : 'plain'}`;
  };
  return key(a) === key(b);
}

function readIfThere(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EngineError('engine-config', `cannot read ${path}: ${(error as Error).message}`, 'Make the TLS files readable for this user.');
  }
}

/** ca.pem, cert.pem and key.pem from a folder (each optional; a certificate needs its key). */
export function readTlsDir(dir: string, verify: boolean): EngineTls {
  const tls: EngineTls = { verify, dir, ca: readIfThere(join(dir, 'ca.pem')), cert: readIfThere(join(dir, 'cert.pem')), key: readIfThere(join(dir, 'key.pem')) };
  if (!!tls.cert !== !!tls.key) {
    throw new EngineError('engine-config', `${dir} has ${tls.cert ? 'cert.pem but no key.pem' : 'key.pem but no cert.pem'}`, 'A client certificate needs both cert.pem and key.pem.');
  }
  return tls;
}

/** A variable counts as set the way the docker CLI reads it: non-empty (and, here, not 0 or false). */
function isSet(value: string | undefined): boolean {
  return !!value && !/^(0|false)$/i.test(value);
}

/**
 * TLS for a tcp address named by DOCKER_HOST or --host, from the environment as the docker CLI reads it:
 * DOCKER_TLS_VERIFY (verify), DOCKER_TLS (TLS without verifying), DOCKER_CERT_PATH (default: the
 * Docker config folder). Port 2376 means TLS too, as docker-modem has it.
 */
export function tlsFromEnv(address: Address, env: NodeJS.ProcessEnv, configDir: string): EngineTls | undefined {
  if (address.scheme !== 'tcp') return undefined;
  const verify = isSet(env.DOCKER_TLS_VERIFY);
  if (!verify && !isSet(env.DOCKER_TLS) && address.port !== 2376) return undefined;
  const dir = env.DOCKER_CERT_PATH || configDir;
  if (env.DOCKER_CERT_PATH && !existsSync(dir)) {
    throw new EngineError('engine-config', `DOCKER_CERT_PATH ${dir} does not exist`, 'Point DOCKER_CERT_PATH at the folder with ca.pem, cert.pem and key.pem.');
  }
  return readTlsDir(dir, verify || !isSet(env.DOCKER_TLS));
}

/** DOCKER_API_VERSION as dockerode wants it ('v1.41'), checked. */
export function apiVersionFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.DOCKER_API_VERSION?.trim();
  if (!value) return undefined;
  if (!/^v?\d+\.\d+$/.test(value)) throw new EngineError('engine-config', `DOCKER_API_VERSION=${value} is not an API version`, 'Write it as 1.41, or unset it.');
  return value.replace(/^v/, '');
}

/**
 * Host keys ~/.ssh/known_hosts holds for host (and port): plain, `[host]:port` and hashed (`|1|salt|hash`)
 * names, `*` and `?` patterns; negated patterns and @revoked / @cert-authority lines are skipped.
 */
export function knownHostKeys(knownHosts: string, hostname: string, port = 22): Buffer[] {
  const name = port === 22 ? hostname : `[${hostname}]:${port}`;
  const keys: Buffer[] = [];
  for (const raw of knownHosts.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [patterns, , key] = line.split(/\s+/);
    if (!key) continue;
    const matches = patterns.split(',').some((pattern) => {
      if (pattern.startsWith('|1|')) {
        const [, , salt, hash] = pattern.split('|');
        return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
      }
      if (pattern.startsWith('!')) return false;
      const glob = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
      return glob.test(name);
    });
    if (matches) keys.push(Buffer.from(key, 'base64'));
  }
  return keys;
}

/** ssh2's options for an ssh:// engine: the agent, else the first default key; the host key must be known. */
function sshOptions(address: Address, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const home = env.HOME || homedir();
  const knownHostsFile = join(home, '.ssh', 'known_hosts');
  const knownHosts = existsSync(knownHostsFile) ? readFileSync(knownHostsFile, 'utf8') : '';
  const keys = knownHostKeys(knownHosts, address.hostname ?? '', address.port ?? 22);
  const keyFile = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(home, '.ssh', name)).find((path) => existsSync(path));
  return {
    agent: env.SSH_AUTH_SOCK || undefined,
    privateKey: !env.SSH_AUTH_SOCK && keyFile ? readFileSync(keyFile) : undefined,
    // The docker CLI goes through ssh, which refuses hosts it does not know: so do we.
    hostVerifier: (key: Buffer) => keys.some((known) => known.equals(key)),
  };
}

/** dockerode's options for an endpoint, every connection field set (so nothing comes from DOCKER_HOST). */
export function dockerodeOptions(endpoint: EngineEndpoint, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions {
  const address = parseAddress(endpoint.host);
  const none = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, ca: undefined, cert: undefined, key: undefined, username: undefined, sshOptions: undefined };
  const version = endpoint.apiVersion ? { version: `v${endpoint.apiVersion}` } : {};
  if (address.scheme === 'unix' || address.scheme === 'npipe') return { ...none, ...version, socketPath: address.path };
  if (address.scheme === 'ssh') {
    return { ...none, ...version, protocol: 'ssh', host: address.hostname, port: address.port ?? 22, username: address.user ?? userInfo().username, sshOptions: sshOptions(address, env) } as Docker.DockerOptions;
  }
  const tls = endpoint.tls;
  // docker-modem hands ca/cert/key to each request; not verifying takes an agent (its options win over the request's).
  const https = tls ? { protocol: 'https' as const, ca: tls.ca, cert: tls.cert, key: tls.key, ...(tls.verify ? {} : { agent: new Agent({ rejectUnauthorized: false }) }) } : { protocol: 'http' as const };
  return { ...none, ...version, host: address.hostname, port: address.port ?? (tls ? 2376 : 2375), ...https } as Docker.DockerOptions;
}
