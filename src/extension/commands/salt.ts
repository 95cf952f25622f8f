/** Salt itself: install it on this machine, the releases by line, and what the engine keeps for Salt Containers (its cache). */
import * as vscode from 'vscode';
import { refusal, type CommandFactory } from '../ctx';
import { loadRuntime } from '../engines';
import { errorWithHint } from '../format';

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

/**
 * Installs Salt from PyPI into the cache (the pinned version unless options name one), with progress and
 * Cancel; the next run finds it. Returns where it is, or why nothing was installed.
 */
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
    ctx.listChanged('images');
    ctx.log(`engine cache: removed ${[...removed.images, ...removed.containers].join(', ') || 'nothing'}`);
    return removed;
  } catch (error) {
    void ctx.notifyError(errorWithHint(error));
    return undefined;
  }
};

export const saltCommands: Record<string, CommandFactory> = { installSalt, saltVersions, manageEngineCache };
