/**
 * Where cells run: an EngineProvider hands each cell an engine when it starts and takes it back when
 * it ends. The default is the one engine the front door uses; the engine scheduler (src/engine/docker:
 * names from `engines:`, the engine with the fewest running cells that has or can be given the image)
 * is another provider, passed to runMatrix in its place.
 */
import type { DockerEngine } from '../engine/docker/engine';
import type { CellSpec } from './cells';

export interface EngineLease {
  engine: DockerEngine;
  /** How the cell reports it: the `engines:` name (`default`, a context, a DOCKER_HOST). */
  name: string;
  /** The cell is done with it (its container removed or kept). */
  release(): void;
}

export interface EngineProvider {
  /** The engine for this cell; may wait for room (a scheduler's limit), ends early on abort. */
  acquire(cell: CellSpec, signal?: AbortSignal): Promise<EngineLease>;
}

/** Every cell on one engine. */
export function singleEngine(engine: DockerEngine, name = 'default'): EngineProvider {
  return { acquire: async () => ({ engine, name, release: () => undefined }) };
}
