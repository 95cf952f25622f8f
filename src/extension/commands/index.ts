/**
 * The command table: every command id (after `saltContainers.`) and its factory, which takes the context
 * and returns the handler; one file per noun beside this one. Every command also takes its
 * inputs as arguments, so tests and other extensions can run it without any UI:
 *
 *   applySls(uri?: Uri | ContainerNode, options?: RunOptions | Uri[])        -> StateRun | Refused | undefined
 *     (RunOptions: { container?, engine?, uri?, signal?: AbortSignal }; Uri[] is the explorer's selection)
 *   applySlsTest(uri?, options?)                                             -> StateRun | Refused | undefined
 *   applyHighstate(uri?: Uri | ContainerNode, options?: RunOptions)          -> StateRun | Refused | undefined
 *   applyState(uri: Uri, id: string, options?: ContainerOptions)            -> StateRun | Refused | undefined
 *   applyStateTest(uri: Uri, id: string, options?: ContainerOptions)        -> StateRun | Refused | undefined
 *   selectTarget(uri?: Uri, options?: { container?, engine? })               -> ContainerChoice | null | Refused | undefined
 *     (container '' clears the folder's target; null: no target)
 *   showRendered(uri?: Uri, options?: ContainerOptions)                      -> RenderRun | Refused | undefined
 *   runFunction(node?: ContainerNode, options?: CallCommandOptions)          -> CallRun | Refused | undefined
 *   showGrains(node?: ContainerNode, options?: ContainerOptions)             -> CallRun | Refused | undefined
 *   buildImage(arg?: Uri | ImageNode, options?: BuildCommandOptions)         -> BuildRun | Refused | undefined
 *   createContainer(node?: ImageNode, options?: { image?, name?, engine?, signal? }) -> { id, name } | undefined
 *     (an image the engine lacks is pulled first, with progress and Cancel; signal cancels the pull)
 *   start/stop/restartContainer(node?: ContainerNode, options?: ContainerOptions) -> boolean
 *   removeContainer(node?, options?: ContainerOptions & { confirmed?: boolean }) -> boolean
 *   removeImage(node?: ImageNode, options?: { image?, engine?, confirmed?: boolean }) -> boolean
 *   copyId(node: ContainerNode | ImageNode) -> string
 *   installSalt(options?: { version?, signal? })                             -> { version, python } | Refused | undefined
 *   saltVersions(options?: { version? })                                   -> the version picked (installed when not cached) | undefined
 *   manageEngineCache(options?: { remove?: string[] | 'all', engine? })   -> { images, containers } removed | undefined
 *   showResults(), refresh(), toggleDanglingImages()
 *
 * `undefined` means the person dismissed a prompt; Refused says why nothing ran.
 */
import * as vscode from 'vscode';
import type { CommandFactory } from '../ctx';
import { applyCommands } from './apply';
import { buildCommands } from './build';
import { callCommands } from './call';
import { containerCommands } from './containers';
import { imageCommands } from './images';
import { saltCommands } from './salt';

/** Lists the engines again (a Podman socket just started, a context made), then what each holds. */
const refresh: CommandFactory = (ctx) => () => {
  ctx.engines.reset(); // the watcher follows the new list and refreshes both views
};

const showResults: CommandFactory = (ctx) => () => {
  if (!ctx.results.reveal()) void vscode.window.showInformationMessage('Salt Containers: no results yet. Apply an SLS to a container first.');
};

export const commandFactories: Record<string, CommandFactory> = {
  ...applyCommands,
  ...callCommands,
  ...buildCommands,
  ...containerCommands,
  ...imageCommands,
  ...saltCommands,
  showResults,
  refresh,
};
