/** Run Salt Function in Container and Show Grains: one execution function through the run funnel, its return as a document. */
import * as vscode from 'vscode';
import type { CallRun, SaltTree } from '../../engine';
import { callInputProblem, parseCallInput } from './callInput';
import { folderFor, rootsFor, runSettings } from '../config';
import { refusal, type CommandFactory, type Ctx } from '../ctx';
import { activeSlsUri, chooseContainer, type ContainerOptions } from '../pick';
import { startRun } from '../runs';
import type { ContainerChoice } from '../targetContainer';

export interface CallCommandOptions extends ContainerOptions {
  /** What would be typed in the input box: `cmd.run 'ls -l /' cwd=/tmp`. */
  input?: string;
}

const lastCallKey = 'saltContainers.lastCall';

async function showCall(ctx: Ctx, run: CallRun, container: string): Promise<void> {
  ctx.lastRun = run;
  ctx.showNotes(run);
  if (run.errors.length) {
    ctx.notifyRunError(`${run.function} on ${container}`, run.errors[0]);
    return;
  }
  const content = typeof run.return === 'string' ? run.return : JSON.stringify(run.return, null, 2);
  await ctx.documents.show(`${container}/${run.function}.json`, `${content ?? 'null'}\n`);
}

const runFunction: CommandFactory = (ctx) => async (arg?: unknown, options?: CallCommandOptions) => {
  const refused = ctx.refuseUntrusted('Run Salt Function in Container');
  if (refused) return refused;
  const container = await chooseContainer(ctx, arg, options, activeSlsUri() ?? folderFor()?.uri);
  if (!container || 'refused' in container) return container;
  let input = options?.input;
  if (input === undefined) {
    input = await vscode.window.showInputBox({
      title: `Salt Containers: run a Salt function in ${container.name}`,
      prompt: 'module.function, then arguments; key=value is a keyword argument. Runs with salt-call --local.',
      placeHolder: "cmd.run 'ls -l /' cwd=/tmp",
      value: ctx.extension.workspaceState.get<string>(lastCallKey, 'test.version'),
      validateInput: callInputProblem,
    });
    if (input === undefined) return undefined;
  }
  const problem = callInputProblem(input);
  if (problem) {
    void vscode.window.showWarningMessage(`Salt Containers: ${problem}`);
    return refusal('no-target', problem);
  }
  await ctx.extension.workspaceState.update(lastCallKey, input);
  const call = parseCallInput(input);
  const roots = rootsFor(activeSlsUri() ?? folderFor()?.uri);
  return callInContainer(ctx, container, { ...call, title: `${call.fn} on ${container.name}`, logLine: input, roots, saltenv: runSettings().saltenv }, options?.signal);
};

/** Runs one execution function on a chosen container (the run funnel) and shows what it returned. */
function callInContainer(
  ctx: Ctx,
  container: ContainerChoice,
  call: { fn: string; args: string[]; kwargs: Record<string, string>; title: string; logLine: string; roots?: SaltTree; saltenv?: string },
  signal?: AbortSignal,
): Promise<CallRun | undefined> {
  return startRun(ctx, {
    title: call.title,
    logLine: `${call.logLine} on ${container.name}`,
    container,
    signal,
    run: (runner, control) => runner.call(container.name, call.fn, call.args, call.kwargs, call.roots, { ...control, saltenv: call.saltenv }),
    show: (run) => showCall(ctx, run, container.name),
  });
}

const showGrains: CommandFactory = (ctx) => async (arg?: unknown, options?: ContainerOptions) => {
  const container = await chooseContainer(ctx, arg, options, activeSlsUri() ?? folderFor()?.uri);
  if (!container || 'refused' in container) return container;
  // Custom grains in the workspace's tree are code: only a trusted workspace ships its tree.
  const roots = vscode.workspace.isTrusted ? rootsFor(folderFor()?.uri) : undefined;
  return callInContainer(ctx, container, { fn: 'grains.items', args: [], kwargs: {}, title: `grains of ${container.name}`, logLine: 'grains.items', roots }, options?.signal);
};

export const callCommands: Record<string, CommandFactory> = { runFunction, showGrains };
