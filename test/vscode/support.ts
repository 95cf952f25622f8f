// What the extension-host tests share: the extension's API, and waiting for what the extension does
// on its own time (a save's run, a render, a CodeLens).
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
