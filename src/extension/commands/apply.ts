/**
 * Apply: an SLS (or several, or a folder), the highstate, one state alone (CodeLens), each in test mode
 * too, through runs.ts's runStates.
 */
import * as vscode from 'vscode';
import type { SaltTree, StateRun } from '../../engine';
import { rootsFor } from '../config';
import { refusal, type CommandFactory, type Refused } from '../ctx';
import { activeSlsUri, chooseContainer, chooseSls, type ContainerOptions, type RunOptions } from '../pick';
import { runStates } from '../runs';
import { applyTarget } from '../targets';
import { isContainerNode } from '../views/trees';

function applyCommand(mode: { test: boolean; highstate: boolean }): CommandFactory {
  const what = mode.highstate ? 'Apply Highstate' : mode.test ? 'Apply SLS in Test Mode' : 'Apply SLS to Container';
  return (ctx) =>
    async (arg?: unknown, extra?: unknown): Promise<StateRun | Refused | undefined> => {
      const refused = ctx.refuseUntrusted(what);
      if (refused) return refused;
      const options = (extra && !Array.isArray(extra) ? extra : undefined) as RunOptions | undefined;
      const sls = await chooseSls(isContainerNode(arg) ? undefined : arg, extra, options, mode.highstate);
      if (!sls || 'refused' in sls) return sls;
      const container = await chooseContainer(ctx, arg, options, sls.resource);
      if (!container || 'refused' in container) return container;
      return runStates(ctx, sls, { container, test: mode.test, signal: options?.signal });
    };
}

/**
 * One state alone, from its CodeLens: applyState(uri, id, options?) and applyStateTest(uri, id, options?)
 * run `state.sls_id ID mods=MODULE` for the module of the file at uri.
 */
function applyStateCommand(test: boolean): CommandFactory {
  return (ctx) =>
    async (uri?: vscode.Uri, id?: string, options?: ContainerOptions): Promise<StateRun | Refused | undefined> => {
      const refused = ctx.refuseUntrusted(test ? 'Test State' : 'Apply State');
      if (refused) return refused;
      const resource = uri ?? activeSlsUri();
      const roots = resource && rootsFor(resource);
      if (!resource || !roots || !id) return refusal('no-target', 'Name a state ID in an .sls file of the state tree.');
      const target = applyTarget(roots.stateRoot, resource.fsPath, false);
      if (target.kind !== 'sls') return refusal('no-target', target.kind === 'none' ? target.problem : 'top.sls has no states to apply alone.');
      const container = await chooseContainer(ctx, undefined, options, resource);
      if (!container || 'refused' in container) return container;
      const tree: SaltTree = { stateRoot: roots.stateRoot, pillarRoot: roots.pillarRoot };
      return runStates(ctx, { resource, tree, mods: [target.module], highstate: false }, { container, test, stateId: id, signal: options?.signal });
    };
}

export const applyCommands: Record<string, CommandFactory> = {
  applySls: applyCommand({ test: false, highstate: false }),
  applySlsTest: applyCommand({ test: true, highstate: false }),
  applyHighstate: applyCommand({ test: false, highstate: true }),
  applyState: applyStateCommand(false),
  applyStateTest: applyStateCommand(true),
};
