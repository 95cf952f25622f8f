/**
 * A test run: the selected cells on N workers (default: one per core), each cell on the engine its
 * provider gives and the Salt version it names; live events for progress; cancel (signal) stops
 * every cell and removes its container. Never throws for a cell's problems: they are its results.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { DockerEngine } from '../engine/docker/engine';
import { SaltRunner, type SaltRunnerApi } from '../engine/runner';
import type { SaltSource } from '../engine/salt/source';
import type { RunError } from '../engine/results/model';
import { cellError, lostEngineError, runCell, type CellEvents } from './cell';
import { DEFAULT_SALT, type CellSpec } from './cells';
import type { EngineLease, EngineProvider } from './engines';
import type { Matrix } from './matrix';
import { pillarTree, type PillarTree } from './pillar';
import { retcodeOfCells, skippedPhase, type CellResult, type MatrixRun } from './results';
import type { SaltVersions } from './salt';

export interface TestEvents extends CellEvents {
  cellStarted?(cell: CellSpec): void;
  /** The cell's engine stopped answering under it (`lost`: the result there): it starts again on another. */
  cellRestarted?(cell: CellSpec, lost: CellResult): void;
  cellFinished?(result: CellResult): void;
}

export interface MatrixRunOptions {
  cells: CellSpec[];
  provider: EngineProvider;
  salt: SaltVersions;
  /** Default: the number of cores. */
  workers?: number;
  /** Keep failed cells' containers (named in the results). */
  keep?: boolean;
  signal?: AbortSignal;
  events?: TestEvents;
  log?: (line: string) => void;
  /** Labels every container of this run (io.salt-containers.test-run); default random. */
  runId?: string;
  /** Every container this run made, as soon as it exists (a caller's second Ctrl-C removes them). */
  onContainer?: (id: string, name: string, engine: DockerEngine) => void;
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** A cell that never got to run its phases. */
function notRun(cell: CellSpec, engine: string, error: RunError): CellResult {
  return {
    cell,
    key: cell.key,
    suite: cell.suite.name,
    image: cell.image.image,
    salt: cell.salt ?? DEFAULT_SALT,
    engine,
    passed: error.kind === 'cancelled' ? null : false,
    phases: cell.phases.map((phase) => skippedPhase(phase, error.kind === 'cancelled' ? 'cancelled' : 'the cell could not start')),
    errors: [error],
    durationMs: 0,
  };
}

export async function runMatrix(matrix: Matrix, options: MatrixRunOptions): Promise<MatrixRun> {
  const started = Date.now();
  const runId = options.runId ?? randomBytes(6).toString('hex');
  const events = options.events ?? {};
  const cancelled = () => options.signal?.aborted === true;
  // One runner per engine and Salt source: it caches what it learnt about images (their Python).
  const runners = new Map<DockerEngine, Map<SaltSource, SaltRunnerApi>>();
  const runnerFor = (engine: DockerEngine, source: SaltSource) => {
    const bySource = runners.get(engine) ?? new Map<SaltSource, SaltRunnerApi>();
    runners.set(engine, bySource);
    let runner = bySource.get(source);
    if (!runner) bySource.set(source, (runner = new SaltRunner(engine, source)));
    return runner;
  };
  // Pillar trees are made once per suite, before any cell starts, and removed at the end.
  const pillars = new Map<string, PillarTree | RunError>();
  for (const suite of new Set(options.cells.map((c) => c.suite))) {
    try {
      pillars.set(suite.name, pillarTree(suite.pillar, matrix.pillarRoot, suite.name));
    } catch (error) {
      pillars.set(suite.name, { kind: 'salt', message: (error as Error).message, hint: `Fix the pillar of suite ${suite.name} in ${matrix.file}.` });
    }
  }

  const one = async (cell: CellSpec): Promise<CellResult> => {
    if (cancelled()) return notRun(cell, 'default', { kind: 'cancelled', message: 'cancelled before the cell started' });
    const pillar = pillars.get(cell.suite.name)!;
    if (!('dispose' in pillar)) return notRun(cell, 'default', pillar);
    events.cellStarted?.(cell);
    // A cell whose engine stops answering before it could say more starts again on another, if any.
    for (;;) {
      let lease;
      try {
        lease = await options.provider.acquire(cell, options.signal);
      } catch (error) {
        return notRun(cell, 'default', cellError(error));
      }
      let result: CellResult;
      try {
        result = await runOn(cell, lease, pillar.root);
      } finally {
        lease.release();
      }
      const lost = lostEngineError(result.errors, result.phases);
      if (!lost || cancelled()) return result;
      // What the cell left there (its container, when the engine did not answer for its removal) goes
      // with the engine's report: the engine is out of this run, the container is not the cell's result.
      const left = result.errors.filter((e) => e !== lost).map((e) => e.message);
      const reason: RunError = { ...lost, message: [`${lost.message} (under cell ${cell.key})`, ...left].join('; ') };
      if (!options.provider.lost?.(lease, reason)) return result;
      options.log?.(`${cell.key}: engine ${lease.name} stopped answering (${lost.message}); starting the cell elsewhere`);
      events.cellRestarted?.(cell, result);
    }
  };

  const runOn = async (cell: CellSpec, lease: EngineLease, pillarRoot: string | undefined): Promise<CellResult> => {
    let source: SaltSource;
    let saltVersion: string;
    try {
      source = await options.salt.source(cell.salt, options.signal);
      saltVersion = (await source.info()).saltVersion;
      // The thin is made once per Salt (seconds, on first use): before the container, not in converge's time.
      await source.thin();
    } catch (error) {
      return notRun(cell, lease.name, cellError(error));
    }
    return runCell(cell, {
      engine: lease.engine,
      engineName: lease.name,
      runner: runnerFor(lease.engine, source),
      saltVersion,
      tree: { stateRoot: matrix.stateRoot, pillarRoot, ...(cell.suite.formulas ? { formulas: cell.suite.formulas } : {}) },
      saltenv: matrix.saltenv,
      cacheDir: source.cacheDir,
      runId,
      matrixFile: matrix.file,
      keep: options.keep ?? false,
      signal: options.signal,
      events,
      log: options.log,
      onContainer: (id, name) => options.onContainer?.(id, name, lease.engine),
    });
  };

  const results: CellResult[] = new Array(options.cells.length);
  let next = 0;
  const worker = async () => {
    while (next < options.cells.length) {
      const index = next++;
      const result = await one(options.cells[index]);
      results[index] = result;
      events.cellFinished?.(result);
    }
  };
  try {
    const workers = Math.max(1, Math.min(options.workers ?? defaultWorkers(), options.cells.length));
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    for (const pillar of pillars.values()) if ('dispose' in pillar) pillar.dispose();
  }
  return { matrix, cells: results, retcode: retcodeOfCells(results), durationMs: Date.now() - started, cancelled: cancelled(), engines: options.provider.engines?.() };
}
