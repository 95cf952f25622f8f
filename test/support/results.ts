/** Results made by hand for the pure tests: a state result and a state run, with what a test changes. */
import type { StateResult, StateRun } from '../../src/engine';

export const stateResult = (over: Partial<StateResult>): StateResult => ({
  id: 'x',
  sls: 'web',
  function: 'file.managed',
  name: '/x',
  result: true,
  comment: '',
  changes: {},
  durationMs: 1,
  runNum: 0,
  tag: 'file_|-x_|-/x_|-managed',
  ...over,
});

export const stateRun = (over: Partial<StateRun>): StateRun => ({ kind: 'state', mods: ['web'], highstate: false, test: false, states: [], retcode: 0, errors: [], durationMs: 1200, ...over });
