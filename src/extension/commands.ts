/**
 * Command factories: each takes the context and returns the handler. Every command also takes its
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
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as vscode from 'vscode';
import type { BuildRun, CallRun, ContainerInfo, DockerEngine, SaltTree, StateRun } from '../engine';
import { isUnder, moduleForFile } from '../sls/modules';
import { callInputProblem, parseCallInput } from './callInput';
import { defaultBaseImage, folderFor, rootsFor, runSettings, section } from './config';
import type { CommandFactory, Ctx, Refused } from './ctx';
import { compareNames, errorWithHint, imageLabel, isImageRef, shortId, suggestContainerName, validContainerName, validImageTag } from './format';
import { loadRuntime, PRIMARY_ENGINE } from './engines';
import { applyTarget } from './targets';
import type { ContainerChoice } from './targetContainer';
import { isContainerNode, isImageNode, nodeName, type ContainerNode, type ImageNode } from './views';

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

export interface CallCommandOptions extends ContainerOptions {
  /** What would be typed in the input box: `cmd.run 'ls -l /' cwd=/tmp`. */
  input?: string;
}

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

const lastContainerKey = 'saltContainers.lastContainer';
const lastCallKey = 'saltContainers.lastCall';

const refusal = (reason: Refused['reason'], message: string): Refused => ({ refused: true, reason, message });

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
async function chooseContainer(ctx: Ctx, arg: unknown, options: ContainerOptions | undefined, resource?: vscode.Uri): Promise<ContainerChoice | Refused | undefined> {
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
async function pickContainer(ctx: Ctx, placeHolder: string, extra: { label: string; description?: string; choice: ContainerChoice | null }[] = []): Promise<ContainerChoice | Refused | null | undefined> {
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

// ---------------------------------------------------------------- SLS targets

interface SlsTarget {
  resource: vscode.Uri;
  tree: SaltTree;
  mods: string[];
  highstate: boolean;
}

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

/** Saves open, modified files of the state and pillar trees: Salt reads them from disk. */
async function saveTree(tree: SaltTree): Promise<void> {
  const roots = [tree.stateRoot, tree.pillarRoot].filter((r): r is string => !!r);
  const dirty = vscode.workspace.textDocuments.filter((d) => d.isDirty && d.uri.scheme === 'file' && roots.some((r) => isUnder(r, d.uri.fsPath)));
  await Promise.all(dirty.map((d) => d.save()));
}

/** Which SLS to apply: the Uri(s) given, else the active .sls editor, else a quick pick of the tree's modules. */
export async function chooseSls(arg: unknown, extra: unknown, options: RunOptions | undefined, highstate: boolean): Promise<SlsTarget | Refused | undefined> {
  const uris: vscode.Uri[] = Array.isArray(extra) && extra.every((u) => u instanceof vscode.Uri) && extra.length > 0 ? extra : arg instanceof vscode.Uri ? [arg] : options?.uri ? [options.uri] : [];
  const resource = uris[0] ?? activeSlsUri() ?? folderFor()?.uri;
  const roots = rootsFor(resource);
  if (!resource || !roots) return refusal('no-target', 'Open a folder with a Salt state tree first.');
  const tree: SaltTree = { stateRoot: roots.stateRoot, pillarRoot: roots.pillarRoot };
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

// ---------------------------------------------------------------- apply

function applyCommand(mode: { test: boolean; highstate: boolean }): CommandFactory {
  const what = mode.highstate ? 'Apply Highstate' : mode.test ? 'Apply SLS in Test Mode' : 'Apply SLS to Container';
  return (ctx) =>
    async (arg?: unknown, extra?: unknown): Promise<StateRun | Refused | undefined> => {
      const refused = ctx.refuseUntrusted(what);
      if (refused) return refused;
      const options = (extra && !Array.isArray(extra) ? extra : undefined) as RunOptions | undefined;
      const target = await chooseSls(isContainerNode(arg) ? undefined : arg, extra, options, mode.highstate);
      if (!target || 'refused' in target) return target;
      const container = await chooseContainer(ctx, arg, options, target.resource);
      if (!container || 'refused' in container) return container;
      return runStates(ctx, { ...target, container, test: mode.test, signal: options?.signal });
    };
}

/** What one state run needs: the SLS (or one state of it), where, how. */
export interface StateRunRequest {
  resource: vscode.Uri;
  tree: SaltTree;
  mods: string[];
  highstate: boolean;
  /** One state of the module alone (state.sls_id). */
  stateId?: string;
  test: boolean;
  container: ContainerChoice;
  signal?: AbortSignal;
  /** Apply on save: progress in the status bar, the results panel updated but not brought forward. */
  quiet?: boolean;
}

/**
 * Runs states with progress and shows the run everywhere (inline, problems, panel, status bar). Runs on
 * the folder's target container go through its warm session. Every state run of the extension is this one.
 */
export async function runStates(ctx: Ctx, request: StateRunRequest): Promise<StateRun | undefined> {
  const { tree, container } = request;
  await saveTree(tree);
  const settings = runSettings(request.resource);
  const label = request.highstate ? 'highstate' : request.stateId !== undefined ? `${request.stateId} of ${request.mods[0]}` : request.mods.join(', ');
  const target = ctx.targets.get(request.resource);
  const warm = !!target && target.engineKey === container.engineKey && target.name === container.name;
  try {
    const runner = await ctx.runner(container);
    ctx.log(`--- ${new Date().toISOString()} ${request.test ? 'test ' : ''}${label} on ${container.name} (state root ${tree.stateRoot}${tree.pillarRoot ? `, pillar root ${tree.pillarRoot}` : ''}, saltenv ${settings.saltenv}${warm ? ', warm session' : ''})`);
    const title = `Salt Containers: ${request.test ? 'testing' : 'applying'} ${label} on ${container.name}`;
    const run = await ctx.track(container, () =>
      ctx.withRunProgress(
        title,
        (control) => {
          const applyOptions = { ...control, test: request.test, saltenv: settings.saltenv, warm };
          if (request.highstate) return runner.highstate(container.name, tree, applyOptions);
          if (request.stateId !== undefined) return runner.applyState(container.name, request.stateId, request.mods[0], tree, applyOptions);
          return runner.apply(container.name, request.mods, tree, applyOptions);
        },
        request.signal,
        request.quiet,
      ),
    );
    await ctx.showStateRun(run, tree.stateRoot, { reveal: !request.quiet, pillarRoot: tree.pillarRoot });
    return run;
  } catch (error) {
    // Runs report Salt and engine problems in `errors`; this is for anything else.
    ctx.log(`error: ${errorWithHint(error)}`);
    void ctx.notifyError(errorWithHint(error));
    return undefined;
  }
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
      return runStates(ctx, { resource, tree, mods: [target.module], highstate: false, stateId: id, test, container, signal: options?.signal });
    };
}

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

/** Shows what Salt renders an SLS file to for the target container, beside it (rendered.ts). */
const showRendered: CommandFactory = (ctx) => async (uri?: vscode.Uri, options?: ContainerOptions) => {
  const refused = ctx.refuseUntrusted('Show Rendered SLS');
  if (refused) return refused;
  const resource = uri ?? activeSlsUri();
  const roots = resource && rootsFor(resource);
  if (!resource || !roots) return refusal('no-target', 'Open an .sls file of the state tree first.');
  const target = applyTarget(roots.stateRoot, resource.fsPath, false);
  if (target.kind !== 'sls') return refusal('no-target', target.kind === 'none' ? target.problem : 'top.sls is rendered by the master, not as a module.');
  const container = await chooseContainer(ctx, undefined, options, resource);
  if (!container || 'refused' in container) return container;
  return ctx.rendered.show({ source: resource, module: target.module, tree: { stateRoot: roots.stateRoot, pillarRoot: roots.pillarRoot }, container }, options?.signal);
};

// ---------------------------------------------------------------- functions

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

/** Runs one execution function on a chosen container with progress and shows what it returned. */
async function callInContainer(
  ctx: Ctx,
  container: ContainerChoice,
  call: { fn: string; args: string[]; kwargs: Record<string, string>; title: string; logLine: string; roots?: SaltTree; saltenv?: string },
  signal?: AbortSignal,
): Promise<CallRun | undefined> {
  try {
    const runner = await ctx.engines.runner(container.engineKey);
    ctx.log(`--- ${new Date().toISOString()} ${call.logLine} on ${container.name}`);
    const run = await ctx.withRunProgress(`Salt Containers: ${call.title}`, (control) => runner.call(container.name, call.fn, call.args, call.kwargs, call.roots, { ...control, saltenv: call.saltenv }), signal);
    await showCall(ctx, run, container.name);
    return run;
  } catch (error) {
    void ctx.notifyError(errorWithHint(error));
    return undefined;
  }
}

const showGrains: CommandFactory = (ctx) => async (arg?: unknown, options?: ContainerOptions) => {
  const container = await chooseContainer(ctx, arg, options, activeSlsUri() ?? folderFor()?.uri);
  if (!container || 'refused' in container) return container;
  // Custom grains in the workspace's tree are code: only a trusted workspace ships its tree.
  const roots = vscode.workspace.isTrusted ? rootsFor(folderFor()?.uri) : undefined;
  return callInContainer(ctx, container, { fn: 'grains.items', args: [], kwargs: {}, title: `grains of ${container.name}`, logLine: 'grains.items', roots }, options?.signal);
};

// ---------------------------------------------------------------- build

const PULLED_WHEN_MISSING = 'not on the engine: pulled from its registry';

/**
 * An image: one of the engine's (the defaultBaseImage setting first, offered even when the engine
 * lacks it), or any reference typed in (`debian:12`); one the engine lacks is pulled when used.
 */
async function chooseBaseImage(ctx: Ctx, engineKey: string | undefined, resource: vscode.Uri | undefined, placeholder = 'Image to build from (any Linux image: it needs neither Salt nor Python)'): Promise<string | undefined> {
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
      ctx.images.refresh();
      return true;
    } catch (error) {
      if ((error as { kind?: string }).kind !== 'cancelled') throw error;
      ctx.log(`pull of ${image} cancelled`);
      void vscode.window.showInformationMessage(`Salt Containers: the pull of ${image} was cancelled; nothing was created.`);
      return false;
    }
  });
}

const buildImage: CommandFactory = (ctx) => async (arg?: unknown, options?: BuildCommandOptions) => {
  const refused = ctx.refuseUntrusted('Build Image from SLS');
  if (refused) return refused;
  const engineKey = options?.engine ?? (isImageNode(arg) ? arg.engineKey : undefined);
  let target: SlsTarget | Refused | undefined;
  if (options?.module) {
    const roots = rootsFor(options.uri ?? folderFor()?.uri);
    if (!roots) return refusal('no-target', 'Open a folder with a Salt state tree first.');
    target = { resource: options.uri ?? folderFor()!.uri, tree: { stateRoot: roots.stateRoot, pillarRoot: roots.pillarRoot }, mods: [options.module], highstate: false };
  } else {
    target = await chooseSls(isImageNode(arg) ? undefined : arg, undefined, { uri: options?.uri }, false);
  }
  if (!target || 'refused' in target) return target;
  if (target.highstate) return refusal('no-target', 'A build applies SLS modules, not the highstate: pick an .sls file.');
  const baseImage = options?.baseImage ?? (isImageNode(arg) ? imageLabel(arg.info) : undefined) ?? (await chooseBaseImage(ctx, engineKey, target.resource));
  if (!baseImage) return undefined;
  const tag =
    options?.tag ??
    (await vscode.window.showInputBox({
      title: `Salt Containers: tag for the image built from ${target.mods.join(', ')} on ${baseImage}`,
      value: `${target.mods[0].replace(/\./g, '-').toLowerCase()}:latest`,
      validateInput: validImageTag,
    }));
  if (!tag) return undefined;
  const problem = validImageTag(tag);
  if (problem) return refusal('no-target', problem);
  await saveTree(target.tree);
  const settings = runSettings(target.resource);
  try {
    const runner = await ctx.engines.runner(engineKey);
    ctx.log(`--- ${new Date().toISOString()} build ${tag} from ${baseImage} with ${target.mods.join(', ')}`);
    const run: BuildRun = await ctx.withRunProgress(`Salt Containers: building ${tag}`, (control) =>
      runner.build(target.mods, target.tree, { ...control, baseImage, tag, saltenv: settings.saltenv, commitOnFailure: settings.commitOnFailure }),
      options?.signal,
    );
    await ctx.showStateRun(run, target.tree.stateRoot, { pillarRoot: target.tree.pillarRoot });
    ctx.images.refresh();
    if (run.image && !run.image.failed) void vscode.window.showInformationMessage(`Salt Containers: built ${run.image.tag} (${shortId(run.image.id)}).`);
    return run;
  } catch (error) {
    void ctx.notifyError(errorWithHint(error));
    return undefined;
  }
};

// ---------------------------------------------------------------- view actions

function containerFor(arg: unknown, options: ContainerOptions | undefined): ContainerChoice | undefined {
  if (options?.container) return { engineKey: options.engine ?? PRIMARY_ENGINE, name: options.container };
  if (isContainerNode(arg)) return { engineKey: arg.engineKey, name: arg.info.name };
  return undefined;
}

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
      ctx.containers.refresh();
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
    ctx.containers.refresh();
    return true;
  } catch (error) {
    void vscode.window.showErrorMessage(`Salt Containers: remove ${target.name}: ${errorWithHint(error)}`);
    return false;
  }
};

/** Keeps the container up for exec whatever its image runs, and stops at once on `docker stop`. */
export const keepAliveCommand = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

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
    ctx.containers.refresh();
    return { id, name };
  } catch (error) {
    void vscode.window.showErrorMessage(`Salt Containers: create ${name} from ${image}: ${errorWithHint(error)}`);
    return undefined;
  }
};

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
    ctx.images.refresh();
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

/** Lists the engines again (a Podman socket just started, a context made), then what each holds. */
const refresh: CommandFactory = (ctx) => () => {
  ctx.engines.reset(); // the watcher follows the new list and refreshes both views
};

const showResults: CommandFactory = (ctx) => () => {
  if (!ctx.results.reveal()) void vscode.window.showInformationMessage('Salt Containers: no results yet. Apply an SLS to a container first.');
};

/**
 * Installs Salt from PyPI into the cache (the pinned version unless options name one), with progress and
 * Cancel; the next run finds it. Returns where it is, or why nothing was installed.
 */
/**
 * The Salt releases the package index serves, in a quick pick grouped by line with each line's
 * support and what the cache holds (as `salt-containers salt versions`); the one picked (or named:
 * `version`, a release, a line or latest) is installed into the cache unless it is there.
 */
const saltVersions: CommandFactory = (ctx) => async (options?: { version?: string }) => {
  const runtime = await loadRuntime();
  const cacheDir = runtime.defaultCacheDir();
  let version = options?.version;
  if (!version) {
    const lines = vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: "Salt Containers: Salt's releases" }, async () => {
      const { releases } = await runtime.saltReleases({ cacheDir, log: (line) => ctx.log(line) });
      return runtime.groupByLine(releases, runtime.cachedSaltVersions(cacheDir), runtime.uninstallable(cacheDir));
    });
    const items = lines.then((found) =>
      found.flatMap((line): (vscode.QuickPickItem & { version?: string })[] => {
        const releases = line.releases.filter((r) => !r.prerelease && !r.yanked);
        if (!releases.length) return [];
        const support = line.status === 'end of life' ? `end of life${line.until ? ` since ${line.until}` : ''}` : `${line.status}${line.until ? ` until ${line.until}` : ''}`;
        return [
          { label: `${line.line}: ${support}`, kind: vscode.QuickPickItemKind.Separator },
          { label: `$(arrow-up) ${line.line}`, description: 'the newest of this line that installs here', version: String(line.line) },
          ...releases.map((r) => ({
            label: `${r.cached.length ? '$(check) ' : ''}${r.version}`,
            description: [r.date, r.cached.length ? `cached (${r.cached.join(', ')})` : ''].filter(Boolean).join('  '),
            detail: r.uninstallable ? `does not install here: ${r.uninstallable}` : undefined,
            version: r.version,
          })),
        ];
      }),
    );
    try {
      version = (await vscode.window.showQuickPick(items, { title: 'Salt Containers: Salt versions', placeHolder: 'A release, or a line (its newest that installs here)', matchOnDescription: true }))?.version;
    } catch (error) {
      void vscode.window.showErrorMessage(`Salt Containers: could not list Salt's releases: ${(error as Error).message}`);
      return undefined;
    }
    if (!version) return undefined;
  }
  const held = runtime.installedSalt(cacheDir, version);
  if (held?.version === version) {
    void vscode.window.showInformationMessage(`Salt Containers: Salt ${held.version} is in the cache (${held.python}).`);
    return held.version;
  }
  const installed = (await vscode.commands.executeCommand('saltContainers.installSalt', { version })) as { version?: string } | undefined;
  return installed?.version;
};

const installSalt: CommandFactory = (ctx) => async (options?: { version?: string; signal?: AbortSignal }) => {
  const runtime = await loadRuntime();
  const version = options?.version ?? runtime.PINNED_SALT_VERSION;
  try {
    const installed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Salt Containers: installing Salt ${version}`, cancellable: true }, (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      options?.signal?.addEventListener('abort', () => abort.abort(), { once: true });
      if (options?.signal?.aborted) abort.abort();
      return runtime.installSalt({
        version,
        cacheDir: runtime.defaultCacheDir(),
        signal: abort.signal,
        onProgress: (line) => {
          ctx.log(`install Salt ${version}: ${line}`);
          progress.report({ message: line });
        },
      });
    });
    ctx.engines.resetSalt();
    void vscode.window.showInformationMessage(`Salt Containers: Salt ${installed.version} is installed (${installed.python}). Run the command again.`);
    if (vscode.workspace.textDocuments.some((d) => d.languageId === 'sls')) void vscode.commands.executeCommand('saltContainers.refreshStateCatalogue');
    return installed;
  } catch (error) {
    const e = error as Error & { hint?: string; cancelled?: boolean };
    if (e.cancelled) return refusal('cancelled', e.message);
    void ctx.notifyError(errorWithHint(error));
    return undefined;
  }
};

/**
 * What helper containers made and the engine keeps (Salt per version, the runtime per architecture):
 * a pick list to remove some or all (with helper containers left behind); `remove` skips the list.
 */
const manageEngineCache: CommandFactory = (ctx) => async (options?: { remove?: string[] | 'all'; engine?: string }) => {
  const runtime = await loadRuntime();
  try {
    const { engine } = await ctx.engines.get(options?.engine);
    let remove = options?.remove;
    if (!remove) {
      const entries = await runtime.listEngineCache(engine);
      if (!entries.length) {
        void vscode.window.showInformationMessage('Salt Containers: the engine keeps nothing for Salt Containers.');
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(
        entries.map((e) => ({ label: e.tag, description: `${e.kind}, ${(e.size / 1e6).toFixed(0)} MB`, picked: false })),
        { canPickMany: true, title: "The engine's cache: pick what to remove (it is made again when needed)" },
      );
      if (!picked?.length) return undefined;
      remove = picked.map((p) => p.label);
    }
    const removed = await runtime.removeEngineCache(engine, remove === 'all' ? undefined : remove);
    ctx.images.refresh();
    ctx.log(`engine cache: removed ${[...removed.images, ...removed.containers].join(', ') || 'nothing'}`);
    return removed;
  } catch (error) {
    void ctx.notifyError(errorWithHint(error));
    return undefined;
  }
};

const toggleDanglingImages: CommandFactory = () => async () => {
  const config = vscode.workspace.getConfiguration(section);
  await config.update('showDanglingImages', !config.get<boolean>('showDanglingImages', false), vscode.ConfigurationTarget.Global);
};

export const commandFactories: Record<string, CommandFactory> = {
  applySls: applyCommand({ test: false, highstate: false }),
  applySlsTest: applyCommand({ test: true, highstate: false }),
  applyHighstate: applyCommand({ test: false, highstate: true }),
  applyState: applyStateCommand(false),
  applyStateTest: applyStateCommand(true),
  selectTarget,
  showRendered,
  runFunction,
  showGrains,
  buildImage,
  showResults,
  refresh,
  startContainer: lifecycle('start'),
  stopContainer: lifecycle('stop'),
  restartContainer: lifecycle('restart'),
  removeContainer,
  createContainer,
  removeImage,
  copyId,
  toggleDanglingImages,
  installSalt,
  saltVersions,
  manageEngineCache,
};
