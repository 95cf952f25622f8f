/**
 * `salt-containers test`: the matrix of the current folder (or --matrix), its cells on N workers,
 * progress on stderr, the report (or --json) on stdout, JUnit on request. Ctrl-C (or SIGTERM) stops
 * every cell and removes its container; a second one removes them at once and quits.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DockerEngine } from '../engine/docker/engine';
import type { SaltSource } from '../engine/salt/source';
import { EnginePool } from '../engine/docker/pool';
import { pullLines } from '../engine/docker/pull';
import type { EngineSelection } from '../engine/docker/contexts';
import { defaultWorkers, findMatrixFile, junitXml, loadMatrix, readTimings, runMatrix, SaltVersions, selectCells, shardCells, spreadOver, type CellSpec, type MatrixRun, type Timings } from '../testing';
import type { CliCommand } from './args';
import { relativeTo, type Style } from './format';
import { cellListJson, formatTestRun, noteLine, progress, testJson } from './testFormat';

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
  const timings = command.timings ? readTimingsFile(resolve(cwd, command.timings)) : undefined;
  // A shard is a part of the filtered cells: the same on every machine (shard.ts).
  const part = (all: CellSpec[]) => (command.shard ? shardCells(all, command.shard, timings) : all);
  const all = selectCells(matrix, filter);
  if (all.length === 0) throw new TestUsageError(`no cells to run in ${file}`, 'Check the suites\' includes/excludes and the filters given.');
  let cells = part(all);
  if (command.list) {
    context.write(command.json ? JSON.stringify(cellListJson(matrix, cells, command.shard), null, 2) : cells.map((c) => c.key).join('\n'));
    return 0;
  }
  for (const note of matrix.notes) err(noteLine(note, file, cwd, style));
  if (cells.length === 0) {
    // More shards than cells: this one has nothing to do, and says so in every report asked for.
    err(`salt-containers test: shard ${command.shard!.index}/${command.shard!.count} has no cells (${all.length} in all)`);
    return writeReports({ matrix, cells: [], retcode: 0, durationMs: 0, cancelled: false, engines: [] }, command, context, cwd);
  }
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
      cells = part(selectCells(matrix, filter, configured?.saltVersion));
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
    return writeReports(run, command, context, cwd);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

/** The report on stdout (or --json), JUnit on request; the run's exit code, 1 when the JUnit file could not be written. */
function writeReports(run: MatrixRun, command: CliCommand, context: TestVerbContext, cwd: string): number {
  context.write(command.json ? JSON.stringify(testJson(run), null, 2) : formatTestRun(run, { cwd, style: context.style }));
  if (command.junit) {
    try {
      writeFileSync(resolve(cwd, command.junit), junitXml(run));
    } catch (error) {
      process.stderr.write(`salt-containers: could not write the JUnit file ${command.junit}: ${(error as Error).message}\n`);
      return 1;
    }
  }
  return run.retcode;
}

/** --timings FILE: an earlier run's --json report (or a merged one). */
function readTimingsFile(file: string): Timings {
  try {
    return readTimings(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new TestUsageError(`cannot read the timings ${file}: ${(error as Error).message}`, 'Give an earlier run\'s report: salt-containers test --json > FILE (or report merge --json).');
  }
}
