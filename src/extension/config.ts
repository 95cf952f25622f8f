/**
 * The `saltContainers.*` settings, read per resource where they depend on the workspace folder
 * (roots, saltenv, commit on failure) and per window for the machine-level ones (engine, Salt).
 * These names are a contract users script against: see package.json `contributes.configuration`.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HelperSettings, SaltOn } from '../engine/helper/settings';
import type { PythonRuntimeSetting } from '../engine/runtime/choose';
import { findRoots, type SaltRoots } from '../sls/roots';

export const section = 'saltContainers';

export interface EngineSettings {
  /** The engine runs and the views use first, as an address; '' = Docker's own choice. Wins over dockerContext. */
  dockerHost: string;
  /** The Docker context runs and the views use first (as `docker --context`); '' = Docker's own choice. */
  dockerContext: string;
  /** More engines the views list, as addresses (grouped by engine when there are any). */
  additionalDockerHosts: string[];
  /** Docker contexts the views list as engines, by name; '*' = all of them. */
  contexts: string[];
  /** List Podman's sockets (rootful, rootless, a Podman machine's) as engines when they are present. */
  podman: boolean;
}

/** The settings that name engines: a change to any lists the engines again. */
export const engineSettingNames = ['dockerHost', 'dockerContext', 'additionalDockerHosts', 'contexts', 'podman'] as const;

function names(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((h): h is string => typeof h === 'string' && h.trim() !== '').map((h) => h.trim()) : [];
}

export function engineSettings(): EngineSettings {
  const config = vscode.workspace.getConfiguration(section);
  return {
    dockerHost: config.get<string>('dockerHost', '').trim(),
    dockerContext: config.get<string>('dockerContext', '').trim(),
    additionalDockerHosts: names(config.get('additionalDockerHosts', [])),
    contexts: names(config.get('contexts', [])),
    podman: config.get<boolean>('podman', true),
  };
}

/** The primary engine as the settings name it: dockerHost wins over dockerContext, as --host over --context. */
export function engineSelection(settings: EngineSettings = engineSettings()): { host?: string; context?: string } {
  return settings.dockerHost ? { host: settings.dockerHost } : { context: settings.dockerContext || undefined };
}

/**
 * Where Salt's host-side work is done and the helpers' images and network. Helpers start containers:
 * in Restricted Mode only the user's own settings count, not the workspace's.
 */
export function saltWorkSettings(): { saltOn: SaltOn; helpers: Partial<HelperSettings> } {
  const config = vscode.workspace.getConfiguration(section);
  const get = (name: string) => ((vscode.workspace.isTrusted ? config.get<string>(name) : config.inspect<string>(name)?.globalValue) ?? '').trim() || undefined;
  const saltOn = get('saltOn');
  return {
    saltOn: saltOn === 'host' || saltOn === 'engine' ? saltOn : 'auto',
    helpers: { pythonImage: get('helpers.pythonImage'), debianImage: get('helpers.debianImage'), network: get('helpers.network') },
  };
}

export function saltPython(): string | undefined {
  return vscode.workspace.getConfiguration(section).get<string>('saltPython', '').trim() || undefined;
}

export function showDanglingImages(): boolean {
  return vscode.workspace.getConfiguration(section).get<boolean>('showDanglingImages', false);
}

/** Flips showDanglingImages in the user's settings (the Images view's toggle). */
export async function toggleShowDanglingImages(): Promise<void> {
  await vscode.workspace.getConfiguration(section).update('showDanglingImages', !showDanglingImages(), vscode.ConfigurationTarget.Global);
}

export type ApplyOnSaveMode = 'off' | 'test' | 'apply';

export function applyOnSaveMode(resource?: vscode.Uri): ApplyOnSaveMode {
  const mode = vscode.workspace.getConfiguration(section, resource).get<string>('applyOnSave', 'off');
  return mode === 'test' || mode === 'apply' ? mode : 'off';
}

export function codeLensEnabled(resource?: vscode.Uri): boolean {
  return vscode.workspace.getConfiguration(section, resource).get<boolean>('codeLens', true);
}

/** The live render of unsaved edits by the folder's target container (saltContainers.liveRender). */
export function liveRenderEnabled(resource?: vscode.Uri): boolean {
  return vscode.workspace.getConfiguration(section, resource).get<boolean>('liveRender', true);
}

export function inlineResultsEnabled(resource?: vscode.Uri): boolean {
  return vscode.workspace.getConfiguration(section, resource).get<boolean>('inlineResults', true);
}

/** How long a warm session may sit without a run (saltContainers.sessionIdleTimeout, minutes), in ms. */
export function sessionIdleTimeoutMs(): number {
  const minutes = vscode.workspace.getConfiguration(section).get<number>('sessionIdleTimeout', 10);
  return Math.max(0, Number.isFinite(minutes) ? minutes : 10) * 60_000;
}

/** The folder's target container as the targetContainer setting names it; '' when none. */
export function targetContainerSetting(folder: vscode.Uri): string {
  return vscode.workspace.getConfiguration(section, folder).get<string>('targetContainer', '').trim();
}

/**
 * What the language server is told: the Python that makes the catalogue (in Restricted Mode only the
 * user's own setting counts, not the workspace's) and the state root.
 */
export function languageSettings(): { saltPython?: string; stateRoot?: string } {
  const config = vscode.workspace.getConfiguration(section);
  const saltPython = vscode.workspace.isTrusted ? config.get<string>('saltPython') : config.inspect<string>('saltPython')?.globalValue;
  return { saltPython: saltPython || undefined, stateRoot: config.get<string>('stateRoot') || undefined };
}

export function defaultBaseImage(resource?: vscode.Uri): string | undefined {
  return vscode.workspace.getConfiguration(section, resource).get<string>('defaultBaseImage', '').trim() || undefined;
}

export interface RunSettings {
  saltenv: string;
  commitOnFailure: boolean;
  /** Which Python runs Salt in containers (saltContainers.pythonRuntime). */
  python: PythonRuntimeSetting;
}

export function runSettings(resource?: vscode.Uri): RunSettings {
  const config = vscode.workspace.getConfiguration(section, resource);
  const python = config.get<string>('pythonRuntime', 'auto');
  return {
    saltenv: config.get<string>('saltenv', 'base').trim() || 'base',
    commitOnFailure: config.get<boolean>('commitOnFailure', false),
    python: python === 'container' || python === 'bundled' ? python : 'auto',
  };
}

/** The workspace folder a resource belongs to, else the first folder. */
export function folderFor(resource?: vscode.Uri): vscode.WorkspaceFolder | undefined {
  return (resource && vscode.workspace.getWorkspaceFolder(resource)) || vscode.workspace.workspaceFolders?.[0];
}

/**
 * The state and pillar roots for a resource: the settings (relative to its workspace folder) win,
 * else findRoots' rule (salt/ and pillar/ folders, srv/salt, or the folder itself).
 */
export function rootsFor(resource?: vscode.Uri): SaltRoots | undefined {
  const folder = folderFor(resource);
  const base = folder?.uri.fsPath ?? (resource?.scheme === 'file' ? path.dirname(resource.fsPath) : undefined);
  if (!base) return undefined;
  return findRoots(base, treeSettings(resource ?? folder?.uri));
}

/** saltContainers.stateRoot and pillarRoot as written (relative to the workspace folder); unset: undefined. */
export function treeSettings(resource?: vscode.Uri): { stateRoot?: string; pillarRoot?: string } {
  const config = vscode.workspace.getConfiguration(section, resource);
  return { stateRoot: config.get<string>('stateRoot', '').trim() || undefined, pillarRoot: config.get<string>('pillarRoot', '').trim() || undefined };
}
