/** The engine's public surface: everything the CLI, the extension, the tests and the benchmarks use. */
export * from './docker/engine';
export * from './docker/errors';
export * from './docker/endpoint';
export * from './docker/contexts';
export * from './docker/pool';
export * from './docker/pull';
export * from './results/model';
export * from './runner';
export * from './salt/source';
export * from './salt/install';
export * from './salt/versions';
export * from './helper/settings';
export { listEngineCache, removeEngineCache, type EngineCacheEntry } from './helper/cache';
export * from './runtime';
export * from './build';
export * from './results/parse';
export * from './session/session';
export * from './results/changes';
