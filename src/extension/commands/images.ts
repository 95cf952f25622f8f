/** Images: remove one, show or hide the dangling ones, and copy a container's or an image's ID. */
import * as vscode from 'vscode';
import { toggleShowDanglingImages } from '../config';
import type { CommandFactory } from '../ctx';
import { errorWithHint } from '../format';
import { isContainerNode, isImageNode, nodeName, type ContainerNode, type ImageNode } from '../views/trees';

const removeImage: CommandFactory = (ctx) => async (arg?: unknown, options?: { image?: string; engine?: string; confirmed?: boolean }) => {
  const reference = options?.image ?? (isImageNode(arg) ? (arg.info.tags[0] ?? arg.info.id) : undefined);
  if (!reference) return false;
  const engineKey = options?.engine ?? (isImageNode(arg) ? arg.engineKey : undefined);
  if (!options?.confirmed) {
    const others = isImageNode(arg) && arg.info.tags.length > 1 ? ` Only the tag goes: the image keeps its other tags (${arg.info.tags.slice(1).join(', ')}).` : '';
    const answer = await vscode.window.showWarningMessage(`Remove image ${reference}?`, { modal: true, detail: `Containers made from it must be removed first.${others}` }, 'Remove');
    if (answer !== 'Remove') return false;
  }
  try {
    const { engine } = await ctx.engines.get(engineKey);
    await engine.removeImage(reference);
    ctx.listChanged('images');
    return true;
  } catch (error) {
    void vscode.window.showErrorMessage(`Salt Containers: remove image ${reference}: ${errorWithHint(error)}`);
    return false;
  }
};

const copyId: CommandFactory = () => async (arg?: unknown) => {
  if (!isContainerNode(arg) && !isImageNode(arg)) return undefined;
  await vscode.env.clipboard.writeText(arg.info.id);
  vscode.window.setStatusBarMessage(`Copied the ID of ${nodeName(arg as ContainerNode | ImageNode)}`, 3000);
  return arg.info.id;
};

const toggleDanglingImages: CommandFactory = () => () => toggleShowDanglingImages();

export const imageCommands: Record<string, CommandFactory> = { removeImage, copyId, toggleDanglingImages };
