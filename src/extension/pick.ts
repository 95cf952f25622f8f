/**
 * The quick picks commands share, each skipped when the command's arguments already say: a running
 * container (the folder's target first, the last used remembered per workspace), the SLS to apply (the
 * Uri(s) given, the active editor, else the state tree's modules) and an image (the engine's, the
 * defaultBaseImage setting, or any reference typed in). `undefined` means the person dismissed one;
 * Refused says why there is nothing to pick.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as vscode from 'vscode';
import type { ContainerInfo, SaltTree } from '../engine';
import { moduleForFile } from '../sls/modules';
import { defaultBaseImage, folderFor, rootsFor } from './config';
import { refusal, type Ctx, type Refused } from './ctx';
import { PRIMARY_ENGINE } from './engines';
import { compareNames, errorWithHint, isImageRef, shortId } from './format';
import type { SlsToRun } from './runs';
import { applyTarget } from './targets';
import type { ContainerChoice } from './targetContainer';
import { isContainerNode } from './views/trees';

export interface ContainerOptions {
  /** Container name or id; skips the quick pick. */
  container?: string;
  /** The engine: '' or 'default' for the primary, else a listed engine's key or any name (a context's, an address). */
  engine?: string;
  /** Cancels a Salt run like the notification's Cancel button (salt-call killed, run cleaned up). */
  signal?: AbortSignal;
}

export interface RunOptions extends ContainerOptions {
  /** The .sls file or folder to apply when no Uri is passed first. */
  uri?: vscode.Uri;
}

const lastContainerKey = 'saltContainers.lastContainer';

// ---------------------------------------------------------------- containers

async function runningContainers(ctx: Ctx): Promise<{ engineKey: string; engineLabel: string; info: ContainerInfo }[]> {
  const all = await Promise.all(
    (await ctx.engines.all()).map(async (entry) => {
      try {
        const list = await entry.engine.listContainers();
        return list.filter((c) => c.state === 'running').map((info) => ({ engineKey: entry.key, engineLabel: entry.label, info }));
      } catch (error) {
        void vscode.window.showErrorMessage(`Salt Containers: ${errorWithHint(error)}`);
        return [];
      }
    }),
  );
  return all.flat();
}

/**
 * A running container: from the arguments, else the folder's target container (no question asked),
 * else a quick pick that remembers the last one per workspace.
 */
export async function chooseContainer(ctx: Ctx, arg: unknown, options: ContainerOptions | undefined, resource?: vscode.Uri): Promise<ContainerChoice | Refused | undefined> {
  let choice: ContainerChoice | undefined;
  if (options?.container) choice = { engineKey: options.engine ?? PRIMARY_ENGINE, name: options.container };
  else if (isContainerNode(arg)) choice = { engineKey: arg.engineKey, name: arg.info.name };
  if (choice) {
    await ctx.extension.workspaceState.update(lastContainerKey, choice);
    return choice;
  }
  const target = ctx.targets.get(resource);
  if (target) return target;
  return (await pickContainer(ctx, 'Container to run Salt in')) ?? undefined;
}

/** The quick pick of running containers (last used first); undefined when dismissed. */
export async function pickContainer(ctx: Ctx, placeHolder: string, extra: { label: string; description?: string; choice: ContainerChoice | null }[] = []): Promise<ContainerChoice | Refused | null | undefined> {
  const running = await runningContainers(ctx);
  if (running.length === 0 && extra.length === 0) {
    const message = 'No running container to apply to. Start one in the Containers view, or create one from an image.';
    void vscode.window.showWarningMessage(`Salt Containers: ${message}`, 'Create Container…').then((pick) => {
      if (pick) void vscode.commands.executeCommand('saltContainers.createContainer');
    });
    return refusal('no-container', message);
  }
  const last = ctx.extension.workspaceState.get<ContainerChoice>(lastContainerKey);
  const isLast = (c: (typeof running)[number]) => !!last && c.engineKey === last.engineKey && c.info.name === last.name;
  running.sort((a, b) => Number(isLast(b)) - Number(isLast(a)) || compareNames(a.info.name, b.info.name));
  const several = ctx.engines.several;
  const picked = await vscode.window.showQuickPick(
    [
      ...running.map((c) => ({
        label: c.info.name,
        description: [c.info.image, isLast(c) ? 'last used' : ''].filter(Boolean).join(' · '),
        detail: several ? c.engineLabel : undefined,
        choice: { engineKey: c.engineKey, name: c.info.name } as ContainerChoice | null,
      })),
      ...extra,
    ],
    { title: 'Salt Containers: pick a running container', placeHolder, matchOnDescription: true },
  );
  if (!picked) return undefined;
  if (picked.choice) await ctx.extension.workspaceState.update(lastContainerKey, picked.choice);
  return picked.choice;
}

export function containerFor(arg: unknown, options: ContainerOptions | undefined): ContainerChoice | undefined {
  if (options?.container) return { engineKey: options.engine ?? PRIMARY_ENGINE, name: options.container };
  if (isContainerNode(arg)) return { engineKey: arg.engineKey, name: arg.info.name };
  return undefined;
}

// ---------------------------------------------------------------- SLS

function slsFiles(stateRoot: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.') || name === 'node_modules' || name.startsWith('_')) continue;
      const path = join(dir, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(path, depth + 1);
      else if (name.endsWith('.sls') && path !== join(stateRoot, 'top.sls')) out.push(path);
    }
  };
  if (existsSync(stateRoot)) walk(stateRoot, 0);
  return out;
}

export function activeSlsUri(): vscode.Uri | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document && document.uri.scheme === 'file' && (document.languageId === 'sls' || document.uri.fsPath.endsWith('.sls')) ? document.uri : undefined;
}

/** Which SLS to apply: the Uri(s) given, else the active .sls editor, else a quick pick of the tree's modules. */
export async function chooseSls(arg: unknown, extra: unknown, options: RunOptions | undefined, highstate: boolean): Promise<SlsToRun | Refused | undefined> {
  const uris: vscode.Uri[] = Array.isArray(extra) && extra.every((u) => u instanceof vscode.Uri) && extra.length > 0 ? extra : arg instanceof vscode.Uri ? [arg] : options?.uri ? [options.uri] : [];
  const resource = uris[0] ?? activeSlsUri() ?? folderFor()?.uri;
  const roots = rootsFor(resource);
  if (!resource || !roots) return refusal('no-target', 'Open a folder with a Salt state tree first.');
  const tree: SaltTree = roots;
  if (highstate) return { resource, tree, mods: [], highstate: true };
  const candidates = uris.length ? uris : activeSlsUri() ? [activeSlsUri()!] : [];
  if (candidates.length) {
    const mods: string[] = [];
    for (const uri of candidates) {
      const isDirectory = statSync(uri.fsPath, { throwIfNoEntry: false })?.isDirectory() ?? false;
      const target = applyTarget(roots.stateRoot, uri.fsPath, isDirectory);
      if (target.kind === 'highstate') return { resource, tree, mods: [], highstate: true };
      if (target.kind === 'none') {
        void vscode.window.showWarningMessage(`Salt Containers: ${target.problem}`);
        return refusal('no-target', target.problem);
      }
      mods.push(target.module);
    }
    return { resource, tree, mods: [...new Set(mods)], highstate: false };
  }
  const modules = slsFiles(roots.stateRoot)
    .map((file) => ({ file, module: moduleForFile(roots.stateRoot, file) }))
    .filter((m): m is { file: string; module: string } => !!m.module)
    .sort((a, b) => compareNames(a.module, b.module));
  if (modules.length === 0) {
    const message = `No SLS files under the state root ${roots.stateRoot}. Set saltContainers.stateRoot if the state tree lives elsewhere.`;
    void vscode.window.showWarningMessage(`Salt Containers: ${message}`);
    return refusal('no-target', message);
  }
  const picked = await vscode.window.showQuickPick(
    modules.map((m) => ({ label: m.module, description: relative(roots.stateRoot, m.file) })),
    { title: 'Salt Containers: pick an SLS', placeHolder: 'SLS module to apply' },
  );
  return picked ? { resource, tree, mods: [picked.label], highstate: false } : undefined;
}

// ---------------------------------------------------------------- images

const PULLED_WHEN_MISSING = 'not on the engine: pulled from its registry';

/**
 * An image: one of the engine's (the defaultBaseImage setting first, offered even when the engine
 * lacks it), or any reference typed in (`debian:12`); one the engine lacks is pulled when used.
 */
export async function chooseBaseImage(ctx: Ctx, engineKey: string | undefined, resource: vscode.Uri | undefined, placeholder = 'Image to build from (any Linux image: it needs neither Salt nor Python)'): Promise<string | undefined> {
  const preferred = defaultBaseImage(resource);
  let images: vscode.QuickPickItem[] = [];
  try {
    const entry = await ctx.engines.get(engineKey);
    images = (await entry.engine.listImages()).filter((i) => !i.dangling).flatMap((i) => i.tags.map((tag) => ({ label: tag, description: shortId(i.id) })));
  } catch (error) {
    void vscode.window.showErrorMessage(`Salt Containers: ${errorWithHint(error)}`);
    return undefined;
  }
  images.sort((a, b) => Number(b.label === preferred) - Number(a.label === preferred) || compareNames(a.label, b.label));
  images = images.map((i) => ({ ...i, description: i.label === preferred ? `${i.description} · saltContainers.defaultBaseImage` : i.description }));
  if (preferred && !images.some((i) => i.label === preferred)) images.unshift({ label: preferred, description: `saltContainers.defaultBaseImage · ${PULLED_WHEN_MISSING}` });
  return pickOrTypeImage(images, `${placeholder}; or type any image, e.g. debian:12`);
}

/** A quick pick of images that also takes a reference typed in (offered as the first item). */
function pickOrTypeImage(images: vscode.QuickPickItem[], placeholder: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const pick = vscode.window.createQuickPick();
    pick.title = 'Salt Containers: image';
    pick.placeholder = placeholder;
    pick.matchOnDescription = true;
    pick.items = images;
    pick.onDidChangeValue((value) => {
      const typed = value.trim();
      const offer = typed && !images.some((i) => i.label === typed) && isImageRef(typed) ? [{ label: typed, description: PULLED_WHEN_MISSING, alwaysShow: true }] : [];
      pick.items = [...offer, ...images];
    });
    pick.onDidAccept(() => {
      resolve(pick.selectedItems[0]?.label);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}
