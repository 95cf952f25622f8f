// What the extension-host tests share: the extension's API, waiting for what the extension does on its
// own time (a save's run, a render, a CodeLens), and a module of their own in the example state tree.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { SaltContainersApi } from '../../src/extension/main';

export async function api(): Promise<SaltContainersApi> {
  return vscode.extensions.getExtension<SaltContainersApi>('salt-containers.salt-containers')!.activate();
}

/** The first truthy value `check` gives, polled every 100 ms; fails after `ms` naming `what`. */
export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const value = await check();
    if (value) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A module `prefix_RANDOM` written into the example state tree (its init.sls holds `text`), for one
 * describe's `before`; `remove` (its `after`) turns apply on save off, closes the editors and removes the
 * module and the workspace settings folder a test's setting update made where there was none.
 */
export async function fixtureModule(prefix: string, text: string): Promise<{ module: string; dir: string; file: string; remove(): Promise<void> }> {
  const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
  const settingsDir = join(folder, '.vscode');
  const hadSettings = existsSync(settingsDir);
  const module = `${prefix}_${randomBytes(3).toString('hex')}`;
  const dir = join(folder, 'salt', module);
  mkdirSync(dir);
  const file = join(dir, 'init.sls');
  writeFileSync(file, text);
  await api();
  return {
    module,
    dir,
    file,
    async remove() {
      await vscode.workspace.getConfiguration('saltContainers').update('applyOnSave', undefined, vscode.ConfigurationTarget.Workspace);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(dir, { recursive: true, force: true });
      if (!hadSettings) rmSync(settingsDir, { recursive: true, force: true });
    },
  };
}
