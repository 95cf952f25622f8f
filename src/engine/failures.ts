/** Any failure of the engine, the Salt source or its install, as the run error people are shown. */
import { EngineError } from './docker/engine';
import { runErrorOf } from './docker/errors';
import { HostWorkError } from './host';
import type { RunError } from './results/model';
import { RuntimeBuildError } from './runtime/debian';
import { SaltInstallError } from './salt/install';
import { SaltSourceError } from './salt/source';

export function runErrorFrom(error: unknown): RunError {
  if (error instanceof EngineError) return runErrorOf(error);
  if (error instanceof RuntimeBuildError) return { kind: error.cancelled ? 'cancelled' : 'no-python', message: error.message, hint: error.hint };
  if (error instanceof SaltInstallError) return { kind: error.cancelled ? 'cancelled' : 'no-salt', message: error.message, hint: error.hint };
  if (error instanceof SaltSourceError) return { kind: error.missing ? 'no-salt' : 'salt-source', message: error.message, hint: error.hint };
  // A helper container's work on the engine (Salt or the runtime made there).
  if (error instanceof HostWorkError) return { kind: error.cancelled ? 'cancelled' : 'salt-source', message: error.message, hint: error.hint };
  return { kind: 'salt', message: error instanceof Error ? error.message : String(error) };
}
