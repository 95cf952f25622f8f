/**
 * What the engine benches share: the containers they make (removed when the bench ends, however it
 * ends), the CLI as they drive it (a cold apply as a person types it: a new process, a new salt-call;
 * saved edits through `watch`, timed from the save to the run's apply document), medians.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine } from '../src/engine';
import { inPlace, startWatch, type WatchProcess } from '../test/support/watch';

export const engine = new DockerEngine();
export const IMAGE = 'salt-containers-test:py3';
const containers: string[] = [];

/** A running container of `image`, removed when the bench ends. */
export async function newContainer(image = IMAGE): Promise<string> {
  const id = await engine.createContainer(image, { keepAlive: ['sleep', 'infinity'], labels: { 'io.salt-containers.bench': '1' } });
  await engine.startContainer(id);
  containers.push(id);
  return id;
}

/** Runs a bench's main: an error is printed and fails the process; the containers go either way. */
export function runBench(main: () => Promise<void>): void {
  main()
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(async () => {
      for (const id of containers) await engine.removeContainer(id, { force: true }).catch(() => undefined);
    });
}

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A cold CLI apply of `sls` from the state tree `states`. */
export function cliApply(container: string, states: string, sls: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [CLI, 'apply', sls, '--container', container, '--states', states, '--json'], { maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`cli apply failed: ${stdout.slice(-300)} ${stderr.slice(-300)}`)) : resolve(),
    ),
  );
}

export interface WatchEditsOptions {
  /** How each edit is saved (edit number, file, text); in place by default. */
  save?: (edit: number, file: string, text: string) => void;
  /** Pause before each edit, so that no run of the last one is still finishing. */
  gapMs?: number;
  /** Called after each edit's run, with the watch process (memory samples). */
  after?: (edit: number, watch: WatchProcess) => void | Promise<void>;
  /** Node's own options for the watch process. */
  nodeArgs?: string[];
}

/** `watch SLS` on the tree `states`: `edits` saved edits of SLS.sls, each one run; the time from each save to its apply document. */
export async function watchEdits(container: string, states: string, sls: string, edits: number, options: WatchEditsOptions = {}): Promise<number[]> {
  const { save = (_edit: number, file: string, text: string) => inPlace(file, text), gapMs = 300, after, nodeArgs } = options;
  const file = join(states, `${sls}.sls`);
  const base = readFileSync(file, 'utf8');
  const watch = startWatch([sls, '--container', container, '--states', states], states, { nodeArgs });
  const times: number[] = [];
  try {
    const [first] = await watch.runs(1, 120_000);
    if (first.retcode !== 0) throw new Error(`watch's first apply failed: ${watch.stderr().slice(-500)}`);
    for (let i = 1; i <= edits; i++) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      const start = performance.now();
      save(i, file, `${base}# edit ${i}\n`);
      const docs = await watch.runs(i + 1, 60_000);
      times.push(performance.now() - start);
      if (docs.length !== i + 1) throw new Error(`edit ${i} made ${docs.length - i} runs`);
      if (docs[i].retcode !== 0) throw new Error(`watch's apply after edit ${i} failed: ${JSON.stringify(docs[i].errors)}`);
      await after?.(i, watch);
    }
  } finally {
    await watch.stop();
  }
  return times;
}
