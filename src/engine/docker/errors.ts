/**
 * What an engine's failures are, in words: every error from dockerode (socket, TLS, HTTP status,
 * the engine's own message) becomes an EngineError whose kind says what happened and whose hint
 * says what to do. The shapes matched here were measured on Docker 20.10, Podman 4.3 and Node's TLS.
 */
import type { RunError } from '../results/model';

export type EngineErrorKind =
  /** Nothing answers at the address (no socket, refused, no route, unknown host, timeout). */
  | 'engine-unreachable'
  /** The socket or the engine refused us: file permissions, an authorization plugin. */
  | 'engine-permission'
  /** TLS did not work out: certificates, host names, or plain HTTP to a TLS engine (and the reverse). */
  | 'engine-tls'
  /** Our API version and the engine's do not meet (DOCKER_API_VERSION too new or too old). */
  | 'engine-api-version'
  /** The engine cannot be used as named: a missing context, unreadable TLS files, a bad address. */
  | 'engine-config'
  | 'container-not-found'
  | 'container-not-running'
  | 'image-not-found'
  /** A pull could not get to the registry from the engine: its name does not resolve, nothing listens, no route, no answer. */
  | 'registry-unreachable'
  /** The registry wants credentials, or refused the ones sent. */
  | 'registry-unauthorized'
  /** The registry's pull rate limit (Docker Hub's `toomanyrequests`). */
  | 'registry-rate-limited'
  /** TLS between the engine and the registry: an untrusted certificate, plain HTTP where TLS was expected. */
  | 'registry-tls'
  /** The caller's signal stopped the work (a pull). */
  | 'cancelled'
  | 'conflict'
  /** Anything else the engine reported, e.g. a container that could not be created or started. */
  | 'engine';

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

/** What was being done when the engine failed, for the message: a container or image it was about. */
export interface ErrorSubject {
  container?: string;
  image?: string;
  /** e.g. "start container 1a2b3c", "create a container from debian:12": the message says "could not ...". */
  doing?: string;
}

export function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error ? (error as { statusCode?: number }).statusCode : undefined;
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code?: unknown }).code !== undefined ? String((error as { code?: unknown }).code) : undefined;
}

/** The engine's own words: its JSON `message`, a plain-text body (dockerode hands it over as a Buffer), else the error's. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: unknown })?.json;
  if (json && typeof json === 'object') {
    if (typeof (json as { message?: unknown }).message === 'string') return (json as { message: string }).message;
    const bytes = Buffer.isBuffer(json) ? json : (json as { type?: string; data?: number[] }).type === 'Buffer' ? Buffer.from((json as { data: number[] }).data) : undefined;
    if (bytes?.length) return bytes.toString('utf8').trim();
  }
  if (typeof json === 'string' && json.trim()) return json.trim();
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^\(HTTP code \d+\) [\w ]+ - /, '').trim();
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ENOTSOCK']);

/** Node's codes for TLS failures (handshake alerts, verification, host names). */
function isTlsCode(code: string | undefined): boolean {
  return !!code && (/^ERR_SSL_|^ERR_TLS_|^EPROTO$/.test(code) || /CERT|UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/.test(code));
}

/** The hint for a TLS failure, from Node's code and the alert the engine sent. */
function tlsHint(code: string | undefined, message: string): string {
  const material = 'DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) or the context\'s TLS material';
  if (/BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|HANDSHAKE_FAILURE/i.test(`${code} ${message}`)) {
    return `The engine wants a client certificate it trusts: ${material} needs a cert.pem and key.pem signed by the engine's CA.`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'The engine\'s certificate is not made for this host name: connect with a name or IP address the certificate lists.';
  if (/EXPIRED|NOT_YET_VALID/.test(code ?? '')) return 'A certificate is out of its validity period (the engine\'s or yours): renew it.';
  if (/WRONG_VERSION_NUMBER|EPROTO|PACKET_LENGTH_TOO_LONG/i.test(`${code} ${message}`)) {
    return 'The engine at this address does not speak TLS: unset DOCKER_TLS_VERIFY (or use its TLS port, usually 2376).';
  }
  return `The engine's certificate is not signed by a CA we trust: put the engine's CA as ca.pem in ${material}.`;
}

/**
 * The hint for an unreachable engine, by how it failed. `looked`: the places looked at for one
 * when nothing named it (places.ts), each named, since the user named none of them.
 */
function unreachableHint(code: string | undefined, address: string, looked?: string[]): string {
  const pick = 'or pick another engine (--host, --context, DOCKER_HOST, DOCKER_CONTEXT)';
  if (looked?.length) {
    const outcome = code === 'ENOENT' ? 'no engine is at any of them' : `the engine at ${address.replace(/^(unix|npipe):\/\//, '')} is there but does not answer`;
    return `DOCKER_HOST is unset and no Docker context names an engine, so these places were looked at, in order: ${looked.join(', ')}; ${outcome}. Start your engine (Docker Desktop, Colima, OrbStack, Rancher Desktop, dockerd, Podman), ${pick}.`;
  }
  if (code === 'ENOENT') return `No socket at ${address.replace(/^unix:\/\//, '')}: start the engine (dockerd, or \`podman system service\` for Podman), ${pick}.`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `The host name does not resolve: check the address, ${pick}.`;
  if (code === 'ECONNREFUSED') return `Nothing listens there: start the engine, check the address and port, ${pick}.`;
  if (address.startsWith('ssh://')) return `The host must run sshd and have the docker CLI on its PATH (we run \`docker system dial-stdio\` there), ${pick}.`;
  return `Start the engine, ${pick}.`;
}

/**
 * Turns whatever dockerode threw into an EngineError that says what happened, where, and what to do.
 * `where` is the engine for people (see EngineEndpoint's description); `subject` what the call was about;
 * `looked` the places looked at when nothing named the engine (EngineEndpoint.looked).
 */
export function translateEngineError(error: unknown, where: string, subject: ErrorSubject = {}, looked?: string[]): EngineError {
  if (error instanceof EngineError) return error;
  const code = codeOf(error);
  const status = statusOf(error);
  const message = engineMessage(error);
  const doing = subject.doing ? `could not ${subject.doing}: ` : '';

  if (status === undefined && /^Host denied \(verification failed\)/.test(message)) {
    return new EngineError(
      'engine-permission',
      `${doing}the SSH host key of ${where} is not one ~/.ssh/known_hosts names`,
      'Connect once with ssh (`ssh -p PORT USER@HOST`) and accept the host\'s key if it is the right one: like the docker CLI, we only talk to hosts ssh knows.',
    );
  }
  if (status === undefined && /All configured authentication methods failed|Encrypted private OpenSSH key detected|Cannot parse privateKey/.test(message)) {
    return new EngineError(
      'engine-permission',
      `${doing}could not log in to ${where}: ${message}`,
      'Load your key into ssh-agent (SSH_AUTH_SOCK), or keep an unencrypted key at ~/.ssh/id_ed25519 (id_ecdsa, id_rsa) that the host\'s authorized_keys lists.',
    );
  }
  if (status === undefined && code === 'EACCES') {
    return new EngineError(
      'engine-permission',
      `${doing}permission denied opening the engine's socket at ${where}`,
      'Add your user to the group that owns the socket (docker), use a socket you may open (rootless Podman: $XDG_RUNTIME_DIR/podman/podman.sock), or pick another engine.',
    );
  }
  if (status === undefined && isTlsCode(code)) {
    const reason = (error as { reason?: string }).reason ?? message.split('\n')[0];
    return new EngineError('engine-tls', `${doing}TLS with the engine at ${where} failed: ${reason}${code ? ` (${code})` : ''}`, tlsHint(code, message));
  }
  if (status === undefined && code && UNREACHABLE.has(code)) {
    return new EngineError('engine-unreachable', `Docker engine at ${where} is not reachable (${code})`, unreachableHint(code, where, looked));
  }
  if (status === undefined && /timeout/i.test(message)) {
    return new EngineError('engine-unreachable', `Docker engine at ${where} did not answer in time (${message})`, unreachableHint(undefined, where, looked));
  }
  if (status === 400 && /HTTP request to an HTTPS server/i.test(message)) {
    return new EngineError(
      'engine-tls',
      `${doing}the engine at ${where} speaks TLS and we did not`,
      'Set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the folder with ca.pem, cert.pem and key.pem, or use a context made with `docker context create NAME --docker host=...,ca=...,cert=...,key=...`.',
    );
  }
  const version = /client version (\S+) is too (new|old)\. (?:Maximum|Minimum) supported API version is ([\d.]+)/i.exec(message);
  if (version) {
    const [, ours, which, theirs] = version;
    return new EngineError(
      'engine-api-version',
      `the engine at ${where} does not speak API version ${ours} (it supports ${which === 'new' ? 'up to' : 'from'} ${theirs})`,
      which === 'new' ? `Set DOCKER_API_VERSION to ${theirs} or lower, or unset it (the engine's own version is used then).` : `Set DOCKER_API_VERSION to ${theirs} or higher, or unset it.`,
    );
  }
  if (status === 401 || status === 403) {
    return new EngineError('engine-permission', `${doing}the engine at ${where} refused: ${message}`, 'The engine (or an authorization plugin in front of it) does not allow this for you: ask whoever runs it.');
  }
  if (status === 404 && subject.container) return new EngineError('container-not-found', `container ${subject.container} not found`, 'Pick a container from the list of existing ones.');
  if (status === 404 && subject.image) return new EngineError('image-not-found', `image ${subject.image} not found`, 'Check the name: `docker images` lists what the engine has (runs and builds pull an image it lacks from its registry).');
  // Docker answers 409 "is not running"; Podman 500 "container state improper".
  if ((status === 409 && /not running|is paused|is restarting/i.test(message)) || /container state improper/i.test(message)) {
    return new EngineError('container-not-running', `container ${subject.container ?? ''} is not running`.replace('  ', ' '), 'Start the container first.');
  }
  if (status === 409) return new EngineError('conflict', message);
  return new EngineError('engine', `${doing}${message}`, engineHint(message));
}

/**
 * What engines say when a container's command is not in its image: Docker `exec: "sleep": executable
 * file not found in $PATH`, or for a path `exec: "/lib/systemd/systemd": stat /lib/systemd/systemd: no
 * such file or directory`; Podman `exec: sleep: no such file or directory`.
 */
export const MISSING_COMMAND = /executable file not found|exec: \S+:(?: stat \S+:)? no such file or directory|no such file or directory.*exec|command not found/i;

/** Hints for what the engine says when a container cannot be created or started. */
function engineHint(message: string): string | undefined {
  if (/error setting rlimit|setrlimit/i.test(message)) {
    return "The engine's default ulimits exceed this machine's hard limits (`ulimit -Hn`, `ulimit -Hu`). For Podman, lower them in containers.conf: [containers] default_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"] (CONTAINERS_CONF names the file).";
  }
  if (MISSING_COMMAND.test(message)) return 'The command is not in the image: use an image that has it.';
  if (/permission denied|operation not permitted/i.test(message)) return 'The engine lacks a privilege it needs for this (a rootless engine, a restricted machine): see its log.';
  if (/no space left/i.test(message)) return "The engine's disk is full: remove unused images and containers.";
  return undefined;
}

/** An engine failure as a run reports it: the kinds runs know keep their name, a pull's are 'registry', the rest 'engine'. */
export function runErrorOf(error: EngineError): RunError {
  const kept = ['engine-unreachable', 'container-not-found', 'container-not-running', 'image-not-found', 'cancelled'] as const;
  const kind = (kept as readonly string[]).includes(error.kind) ? (error.kind as (typeof kept)[number]) : error.kind.startsWith('registry-') ? 'registry' : 'engine';
  return { kind, message: error.message, hint: error.hint };
}
