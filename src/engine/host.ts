/**
 * Programs the engine runs on this machine for installs and builds (pip, apt-get, dpkg-deb, patchelf,
 * a host Python): argv arrays, never a shell; an environment we chose; each in its own process group,
 * so a cancel stops what it started too.
 */
import { spawn } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Writes a file whole or not at all (a reader never sees half of it). */
export function writeFileAtomic(path: string, content: string): void {
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, content);
  renameSync(partial, path);
}

/**
 * The environment for installs this program starts: ours less what a calling npm adds about itself
 * (npm_config_user_agent names npm's Node; node_modules/.bin on PATH shadows the machine's tools).
 * scripts/lib/common.sh applies the same rule to the set-up scripts.
 */
export function installEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (/^(npm_|NPM_)/.test(name) || ['INIT_CWD', 'NODE', 'COLOR'].includes(name)) continue;
    clean[name] = value;
  }
  clean.PATH = (env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => entry && !entry.endsWith('/node_modules/.bin') && !entry.endsWith('/node-gyp-bin'))
    .join(delimiter);
  return clean;
}

/** Work on this machine (an install, a build) that failed or was cancelled: what happened, and what to do. */
export class HostWorkError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly cancelled = false,
  ) {
    super(message);
    this.name = 'HostWorkError';
  }
}

/** A host program was stopped by its caller's signal. */
export class HostProgramCancelled extends Error {
  constructor(command: string) {
    super(`${command} was cancelled`);
    this.name = 'HostProgramCancelled';
  }
}

export interface HostProgramOptions {
  signal?: AbortSignal;
  /** Each non-empty line of stdout, trimmed, as it comes. */
  onLine?: (line: string) => void;
  cwd?: string;
  /** Added to installEnv(). */
  env?: Record<string, string>;
  /** Written to the program's stdin, which is closed after (at once without it). */
  input?: string;
}

/**
 * Runs a program to its end and resolves with its exit code and output (stdout and stderr, in order);
 * rejects with HostProgramCancelled when the signal aborts (the program's whole group is killed), or
 * with the spawn error when it could not start (ENOENT: not installed). `stdout` is stdout alone.
 */
export function runHostProgram(command: string, args: string[], options: HostProgramOptions = {}): Promise<{ code: number | null; output: string; stdout: string }> {
  const { signal, onLine } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new HostProgramCancelled(command));
    const child = spawn(command, args, { env: { ...installEnv(), ...options.env }, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    child.stdin.on('error', () => undefined); // a program that exits without reading: its result says so
    child.stdin.end(options.input ?? '');
    let output = '';
    let stdout = '';
    let partial = '';
    const onData = (chunk: Buffer) => {
      output += chunk;
      stdout += chunk;
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine?.(line.trim());
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const abort = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (error) => {
      signal?.removeEventListener('abort', abort);
      reject(error);
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', abort);
      if (signal?.aborted) reject(new HostProgramCancelled(command));
      else resolve({ code, output, stdout });
    });
  });
}

/** The last lines of a program's output, joined for one message. */
export function lastLines(output: string, count = 3): string {
  return output.trim().split('\n').slice(-count).join(' / ');
}

/** Whether a program of that name is on PATH (a file there; on Windows with one of PATHEXT's endings). */
export function onPath(program: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const endings = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  return (env.PATH ?? '').split(delimiter).some((dir) => dir && endings.some((ending) => existsSync(join(dir, program + ending))));
}
