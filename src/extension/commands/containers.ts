/** Containers: the folder's target, start, stop, restart, remove, and create from an image (pulled first when the engine lacks it). */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { DockerEngine } from '../../engine';
import type { CommandFactory, Ctx, Refused } from '../ctx';
import { loadRuntime, PRIMARY_ENGINE } from '../engines';
import { errorWithHint, suggestContainerName, validContainerName } from '../format';
import { chooseBaseImage, containerFor, pickContainer, type ContainerOptions } from '../pick';
import type { ContainerChoice } from '../targetContainer';
import { isContainerNode, isImageNode } from '../views/trees';

/** Picks the target container of the active file's folder (or of `resource`); `{ container: '' }` clears it. */
const selectTarget: CommandFactory = (ctx) => async (resource?: vscode.Uri, options?: ContainerOptions) => {
  const uri = resource instanceof vscode.Uri ? resource : vscode.window.activeTextEditor?.document.uri;
  let choice: ContainerChoice | null | undefined | Refused;
  if (options?.container !== undefined) choice = options.container ? { engineKey: options.engine ?? PRIMARY_ENGINE, name: options.container } : null;
  else choice = await pickContainer(ctx, 'Target container: runs of this folder go there without asking', [{ label: '$(close) No target', description: 'ask each time', choice: null }]);
  if (choice === undefined || (choice && 'refused' in choice)) return choice;
  await ctx.targets.set(uri, choice ?? undefined);
  return choice ?? null;
};

function lifecycle(action: 'start' | 'stop' | 'restart'): CommandFactory {
  const verbs = { start: 'Starting', stop: 'Stopping', restart: 'Restarting' };
  return (ctx) => async (arg?: unknown, options?: ContainerOptions) => {
    const target = containerFor(arg, options);
    if (!target) return false;
    const { engine } = await ctx.engines.get(target.engineKey);
    try {
      await vscode.window.withProgress({ location: { viewId: 'saltContainers.containers' }, title: `${verbs[action]} ${target.name}` }, async () => {
        if (action === 'start') await engine.startContainer(target.name);
        else if (action === 'stop') await engine.stopContainer(target.name);
        else await engine.restartContainer(target.name);
      });
      ctx.listChanged('containers');
      return true;
    } catch (error) {
      void vscode.window.showErrorMessage(`Salt Containers: ${action} ${target.name}: ${errorWithHint(error)}`);
      return false;
    }
  };
}

const removeContainer: CommandFactory = (ctx) => async (arg?: unknown, options?: ContainerOptions & { confirmed?: boolean }) => {
  const target = containerFor(arg, options);
  if (!target) return false;
  const running = isContainerNode(arg) ? arg.info.state === 'running' : true;
  if (!options?.confirmed) {
    const answer = await vscode.window.showWarningMessage(
      `Remove container ${target.name}?`,
      { modal: true, detail: `${running ? 'It is running and will be stopped. ' : ''}Whatever changed inside it is lost.` },
      'Remove',
    );
    if (answer !== 'Remove') return false;
  }
  try {
    const { engine } = await ctx.engines.get(target.engineKey);
    await engine.removeContainer(target.name, { force: true });
    ctx.listChanged('containers');
    return true;
  } catch (error) {
    void vscode.window.showErrorMessage(`Salt Containers: remove ${target.name}: ${errorWithHint(error)}`);
    return false;
  }
};

/** Keeps the container up for exec whatever its image runs, and stops at once on `docker stop`. */
export const keepAliveCommand = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

/**
 * The image on the engine: there already, or pulled under a notification with its layers and bytes
 * and Cancel, as `docker run` pulls an image it lacks. False when the pull was cancelled.
 */
async function ensureImageShown(ctx: Ctx, engine: DockerEngine, image: string, signal?: AbortSignal): Promise<boolean> {
  const runtime = await loadRuntime();
  try {
    await engine.inspectImage(image);
    return true;
  } catch (error) {
    if ((error as { kind?: string }).kind !== 'image-not-found' || !runtime.isPullable(image)) throw error;
  }
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Salt Containers: pulling ${image}`, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    if (signal?.aborted) abort.abort();
    signal?.addEventListener('abort', () => abort.abort(), { once: true });
    try {
      await engine.pullImage(image, { signal: abort.signal, onProgress: (pull) => progress.report({ message: runtime.describePull(pull) }), log: (line) => ctx.log(line) });
      ctx.listChanged('images');
      return true;
    } catch (error) {
      if ((error as { kind?: string }).kind !== 'cancelled') throw error;
      ctx.log(`pull of ${image} cancelled`);
      void vscode.window.showInformationMessage(`Salt Containers: the pull of ${image} was cancelled; nothing was created.`);
      return false;
    }
  });
}

const createContainer: CommandFactory = (ctx) => async (arg?: unknown, options?: { image?: string; name?: string; engine?: string; signal?: AbortSignal }) => {
  const engineKey = options?.engine ?? (isImageNode(arg) ? arg.engineKey : undefined);
  const image = options?.image ?? (isImageNode(arg) ? (arg.info.tags[0] ?? arg.info.id) : await chooseBaseImage(ctx, engineKey, undefined, 'Image to create a container from (any Linux image)'));
  if (!image) return undefined;
  const name =
    options?.name ??
    (await vscode.window.showInputBox({
      title: `Salt Containers: new container from ${image}`,
      prompt: 'Container name. It is kept alive (its command is replaced by a sleep loop) so Salt can run in it.',
      value: suggestContainerName(image, randomBytes(2).toString('hex')),
      validateInput: validContainerName,
    }));
  if (!name) return undefined;
  try {
    const { engine } = await ctx.engines.get(engineKey);
    if (!(await ensureImageShown(ctx, engine, image, options?.signal))) return undefined;
    const id = await engine.createContainer(image, { name, keepAlive: keepAliveCommand, labels: { 'salt-containers.created-by': 'vscode' } });
    await engine.startContainer(id);
    ctx.listChanged('containers');
    return { id, name };
  } catch (error) {
    void vscode.window.showErrorMessage(`Salt Containers: create ${name} from ${image}: ${errorWithHint(error)}`);
    return undefined;
  }
};

export const containerCommands: Record<string, CommandFactory> = {
  selectTarget,
  startContainer: lifecycle('start'),
  stopContainer: lifecycle('stop'),
  restartContainer: lifecycle('restart'),
  removeContainer,
  createContainer,
};
