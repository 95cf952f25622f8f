/**
 * `salt-containers watch --json` as a child process, for the tests and the benches that drive it: its
 * apply documents as they come (one per line), its stderr (notes), and Ctrl-C to end it; and the ways
 * editors and tools save a file.
 */
import { spawn } from 'node:child_process';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './containers';

export interface WatchDoc {
  retcode: number;
  states: { id: string; result: boolean; comment: string }[];
  errors: { kind: string; message: string }[];
}

export interface WatchProcess {
  /** The apply documents so far, in order. */
  readonly docs: WatchDoc[];
  /** What it wrote on stderr so far. */
  stderr(): string;
  /** Resolves once there are at least `count` documents (rejects after `ms`, or when the watch exits). */
  runs(count: number, ms?: number): Promise<WatchDoc[]>;
  /** Ctrl-C; resolves with the exit code. */
  stop(): Promise<number | null>;
  readonly pid: number;
}

export interface StartOptions {
  /** A command in front (`unshare ...`): it gets the Node binary and the CLI's arguments after its own. */
  wrap?: string[];
  /** Node's own options (`--expose-gc`). */
  nodeArgs?: string[];
}

/** Starts `watch ARGS --json` in `cwd`. */
export function startWatch(args: string[], cwd: string, { wrap = [], nodeArgs = [] }: StartOptions = {}): WatchProcess {
  const argv = [process.execPath, ...nodeArgs, join(REPO_ROOT, 'dist', 'cli.js'), 'watch', ...args, '--json'];
  const [command, ...rest] = [...wrap, ...argv];
  const child = spawn(command, rest, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const docs: WatchDoc[] = [];
  let stderr = '';
  let buffered = '';
  const listeners = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      resolve(code);
      for (const l of listeners) l();
    }),
  );
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      docs.push(JSON.parse(buffered.slice(0, nl)) as WatchDoc);
      buffered = buffered.slice(nl + 1);
    }
    for (const l of listeners) l();
  });
  return {
    docs,
    pid: child.pid!,
    stderr: () => stderr,
    runs: (count, ms = 60_000) =>
      new Promise<WatchDoc[]>((resolve, reject) => {
        const check = () => {
          if (docs.length >= count) done(() => resolve(docs));
          else if (child.exitCode !== null || child.signalCode !== null) done(() => reject(new Error(`watch exited after ${docs.length} runs, waiting for ${count}: ${stderr.slice(-2000)}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${ms} ms waiting for run ${count} (${docs.length} so far): ${stderr.slice(-2000)}`))), ms);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      }),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}

let temps = 0;
/** As sed -i, vim (backupcopy=no), JetBrains' safe write and formatters save: a new file renamed over the old one. */
export const renameOver = (path: string, text: string): void => {
  const temp = join(dirname(path), `sed${process.pid}x${temps++}`);
  writeFileSync(temp, text);
  renameSync(temp, path);
};
/** Written in place; twice, as an editor that writes, then fixes the file up, does. */
export const inPlace = (path: string, text: string): void => {
  writeFileSync(path, text);
  writeFileSync(path, text);
};
export const deleteAndRecreate = (path: string, text: string): void => {
  rmSync(path);
  writeFileSync(path, text);
};
/** The three in turn, as the soak and the bench save. */
export const SAVES = [inPlace, renameOver, deleteAndRecreate] as const;
