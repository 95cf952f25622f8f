/**
 * Where cells run: an EngineProvider hands each cell an engine when it starts and takes it back when
 * it ends. The default is the one engine the front door uses; the engine scheduler (src/engine/docker:
 * names from `engines:`, the engine with the fewest running cells that has or can be given the image)
 * is another provider, passed to runMatrix in its place.
 */
import { EngineError, type DockerEngine } from '../engine/docker/engine';
import type { EnginePool } from '../engine/docker/pool';
import type { RunError } from '../engine/results/model';
import type { CellSpec } from './cells';

export interface EngineLease {
  engine: DockerEngine;
  /** How the cell reports it: the `engines:` name (`default`, a context, a DOCKER_HOST). */
  name: string;
  /** The cell is done with it (its container removed or kept). */
  release(): void;
}

/** An engine a matrix names, as the run reports it. */
export interface EngineReport {
  name: string;
  address?: string;
  reachable: boolean;
  /** Why it is not (at the start, or since a cell lost it). */
  message?: string;
}

export interface EngineProvider {
  /** The engine for this cell; may wait for room (a scheduler's limit), ends early on abort. */
  acquire(cell: CellSpec, signal?: AbortSignal): Promise<EngineLease>;
  /**
   * The lease's engine stopped answering under the cell: true when the provider left it out and the
   * cell may start again elsewhere.
   */
  lost?(lease: EngineLease, error: RunError): boolean;
  /** The engines it spreads over, reachable or not, for the run's report. */
  engines?(): EngineReport[];
}

/** Every cell on one engine; an image it lacks is pulled first (the pool does the same for several engines). */
export function singleEngine(engine: DockerEngine, name = 'default'): EngineProvider {
  return {
    acquire: async (cell, signal) => {
      await engine.ensureImage(cell.image.image, { signal });
      return { engine, name, release: () => undefined };
    },
  };
}

/**
 * Cells spread over the engines a matrix names (the pool: fewest running cells, has or can be given
 * the image); an engine that stops answering under a cell is left out and the cell goes elsewhere.
 */
export function spreadOver(pool: EnginePool): EngineProvider {
  return {
    acquire: (cell, signal) => pool.place(cell.image.image, { signal }),
    lost: (lease, error) => {
      pool.markUnreachable(lease.name, new EngineError('engine-unreachable', error.message, error.hint));
      return pool.engines.length > 0;
    },
    engines: () => [
      ...pool.engines.map((e) => ({ name: e.name, address: e.engine.address, reachable: true })),
      ...pool.unreachable.map((u) => ({ name: u.name, address: u.address, reachable: false, message: u.error.message })),
    ],
  };
}
