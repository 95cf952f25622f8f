/** State tests: the matrix (salt-containers.yml, kitchen.yml), its cells and phases, workers, JUnit. No vscode import. */
export * from './matrix';
export * from './kitchen';
export * from './load';
export * from './cells';
export * from './results';
export * from './engines';
export * from './salt';
export * from './cell';
export * from './run';
export * from './junit';
export * from './shard';
export * from './merge';
export * from './checks';
export * from './testinfra';
