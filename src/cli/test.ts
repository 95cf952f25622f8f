/**
 * `salt-containers test`: the matrix of the current folder (or --matrix), its cells on N workers,
 * progress on stderr, the report (or --json) on stdout, JUnit on request. Ctrl-C (or SIGTERM) stops
 * every cell and removes its container; a second one removes them at once and quits.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DockerEngine } from '../engine/docker/engine';
import type { SaltSource } from '../engine/salt/source';
import { EnginePool } from '../engine/docker/pool';
import { pullLines } from '../engine/docker/pull';
import type { EngineSelection } from '../engine/docker/contexts';
import { defaultWorkers, findMatrixFile, junitXml, loadMatrix, runMatrix, SaltVersions, selectCells, spreadOver } from '../testing';
import type { CliCommand } from './args';
import { relativeTo, type Style } from './format';
import { formatTestRun, noteLine, progress, testJson } from './testFormat';

export interface TestVerbContext {
  /** What `default` is in the matrix's engines: this command's --host or --context, else Docker's own choice. */
  selection: EngineSelection;
  /** The configured Salt: cells of a matrix that names no Salt version use it. */
  source: SaltSource;
  /** Offers to install the pinned Salt when there is none (the CLI's --install-salt). */
  offerSalt(signal: AbortSignal): Promise<void>;
  write(text: string): void;
  style: Style;
  log?: (line: string) => void;
}

/** Errors the CLI prints with their hint (main.ts's catch). */
class TestUsageError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export async function testVerb(command: CliCommand, context: TestVerbContext): Promise<number> {
  const cwd = process.cwd();
  const { style } = context;
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const file = command.matrix ? resolve(cwd, command.matrix) : findMatrixFile(cwd);
  if (!file) throw new TestUsageError(`no salt-containers.yml or kitchen.yml in ${cwd}`, 'Write a salt-containers.yml (images, suites: see the README) or name one with --matrix FILE.');
  const matrix = loadMatrix(file);
  const filter = { suites: command.suites, images: command.images, salt: command.saltVersions };
  let cells = selectCells(matrix, filter);
  if (cells.length === 0) throw new TestUsageError(`no cells to run in ${file}`, 'Check the suites\' includes/excludes and the filters given.');
  for (const note of matrix.notes) err(noteLine(note, file, cwd, style));
  // The engines the matrix names (`default`: the one this command would use, --host or --context); an
  // image none of them has is pulled, its progress on stderr.
  const pool = await EnginePool.open(matrix.engines, { selection: context.selection, log: context.log, onPull: pullLines((line) => err(`… ${line}`)) });
  for (const lost of pool.unreachable) err(style.yellow(`note: engine ${lost.name}${lost.address ? ` (${lost.address})` : ''} is left out: ${lost.error.message}`));
  if (pool.engines.length === 0) throw new TestUsageError(`none of the engines answers (${matrix.engines.join(', ')})`, pool.unreachable[0]?.error.hint ?? 'Start one of them.');

  // Ctrl-C or SIGTERM: every cell stops and its container goes; again: the containers go now, and we quit.
  const controller = new AbortController();
  const containers = new Map<string, { name: string; engine: DockerEngine }>();
  let interrupts = 0;
  const interrupt = () => {
    if (++interrupts > 1) {
      err(`removing ${containers.size} container(s) and quitting`);
      void Promise.allSettled([...containers].map(([id, c]) => c.engine.removeContainer(id, { force: true }))).then(() => process.exit(130));
      return;
    }
    err('cancelling: stopping every cell and removing its container (Ctrl-C again to remove them now and quit)');
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    if (cells.some((c) => c.salt === undefined)) {
      await context.offerSalt(controller.signal);
      // Cells of the configured Salt are named by its version (a missing Salt is each cell's error).
      const configured = await context.source.info().catch(() => undefined);
      cells = selectCells(matrix, filter, configured?.saltVersion);
    }
    const workers = command.workers ?? defaultWorkers();
    const used = Math.min(workers, cells.length);
    err(style.bold(`salt-containers test: ${cells.length} cell${cells.length === 1 ? '' : 's'} from ${relativeTo(cwd, file)} on ${used} worker${used === 1 ? '' : 's'}`));
    let done = 0;
    const run = await runMatrix(matrix, {
      cells,
      provider: spreadOver(pool),
      salt: new SaltVersions({ configured: context.source, onProgress: (version, line) => err(`… Salt ${version}: ${line}`), log: context.log }),
      workers,
      keep: command.keep,
      signal: controller.signal,
      log: context.log,
      events: {
        step: (cell, step) => err(progress.step(cell, step)),
        phaseFinished: (cell, phase) => err(progress.phase(cell, phase, style)),
        cellRestarted: (cell, lost) => err(progress.restarted(cell, lost, style)),
        cellFinished: (cell) => err(progress.cell(cell, ++done, cells.length, style)),
      },
      onContainer: (id, name, engine) => containers.set(id, { name, engine }),
    });
    context.write(command.json ? JSON.stringify(testJson(run), null, 2) : formatTestRun(run, { cwd, style }));
    if (command.junit) {
      try {
        writeFileSync(resolve(cwd, command.junit), junitXml(run));
      } catch (error) {
        err(`salt-containers: could not write the JUnit file ${command.junit}: ${(error as Error).message}`);
        return 1;
      }
    }
    return run.retcode;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
