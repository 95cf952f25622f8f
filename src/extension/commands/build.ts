/** Build Image from SLS: a base image, the SLS applied in a container made from it, committed (engine/build.ts through the run funnel). */
import * as vscode from 'vscode';
import type { BuildRun } from '../../engine';
import { folderFor, rootsFor, runSettings } from '../config';
import { refusal, type CommandFactory, type Refused } from '../ctx';
import { imageLabel, shortId, validImageTag } from '../format';
import { chooseBaseImage, chooseSls } from '../pick';
import { saveTree, startRun, type SlsToRun } from '../runs';
import { isImageNode } from '../views/trees';

export interface BuildCommandOptions {
  /** Cancels the build like the notification's Cancel button. */
  signal?: AbortSignal;
  baseImage?: string;
  /** Dotted SLS module; or `uri` of an .sls file. */
  module?: string;
  uri?: vscode.Uri;
  tag?: string;
  engine?: string;
}

const buildImage: CommandFactory = (ctx) => async (arg?: unknown, options?: BuildCommandOptions) => {
  const refused = ctx.refuseUntrusted('Build Image from SLS');
  if (refused) return refused;
  const engineKey = options?.engine ?? (isImageNode(arg) ? arg.engineKey : undefined);
  let sls: SlsToRun | Refused | undefined;
  if (options?.module) {
    const roots = rootsFor(options.uri ?? folderFor()?.uri);
    if (!roots) return refusal('no-target', 'Open a folder with a Salt state tree first.');
    sls = { resource: options.uri ?? folderFor()!.uri, tree: { stateRoot: roots.stateRoot, pillarRoot: roots.pillarRoot }, mods: [options.module], highstate: false };
  } else {
    sls = await chooseSls(isImageNode(arg) ? undefined : arg, undefined, { uri: options?.uri }, false);
  }
  if (!sls || 'refused' in sls) return sls;
  if (sls.highstate) return refusal('no-target', 'A build applies SLS modules, not the highstate: pick an .sls file.');
  const baseImage = options?.baseImage ?? (isImageNode(arg) ? imageLabel(arg.info) : undefined) ?? (await chooseBaseImage(ctx, engineKey, sls.resource));
  if (!baseImage) return undefined;
  const tag =
    options?.tag ??
    (await vscode.window.showInputBox({
      title: `Salt Containers: tag for the image built from ${sls.mods.join(', ')} on ${baseImage}`,
      value: `${sls.mods[0].replace(/\./g, '-').toLowerCase()}:latest`,
      validateInput: validImageTag,
    }));
  if (!tag) return undefined;
  const problem = validImageTag(tag);
  if (problem) return refusal('no-target', problem);
  await saveTree(sls.tree);
  const settings = runSettings(sls.resource);
  const { mods, tree } = sls;
  return startRun(ctx, {
    title: `building ${tag}`,
    logLine: `build ${tag} from ${baseImage} with ${mods.join(', ')}`,
    container: { engineKey },
    signal: options?.signal,
    run: (runner, control) => runner.build(mods, tree, { ...control, baseImage, tag, saltenv: settings.saltenv, commitOnFailure: settings.commitOnFailure }),
    show: async (run: BuildRun) => {
      await ctx.showStateRun(run, tree.stateRoot, { pillarRoot: tree.pillarRoot });
      ctx.listChanged('images');
      if (run.image && !run.image.failed) void vscode.window.showInformationMessage(`Salt Containers: built ${run.image.tag} (${shortId(run.image.id)}).`);
    },
  });
};

export const buildCommands: Record<string, CommandFactory> = { buildImage };
