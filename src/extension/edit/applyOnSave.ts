/**
 * Apply on save (`saltContainers.applyOnSave`: off | test | apply): saving an SLS, or a file one uses
 * (map.jinja, a salt:// file, pillar, a custom module), runs its module again on the folder's target
 * container, results inline. Saves are debounced; while a run on that target is in progress the next
 * one waits, and saves meanwhile join it (one run queued, not one per save).
 */
import { relative, sep } from 'node:path';
import * as vscode from 'vscode';
import type { SaltTree } from '../../engine';
import { isPillarDataFile, isUnder, moduleForFile } from '../../sls/modules';
import { applyOnSaveMode, folderFor, rootsFor } from '../config';
import type { Ctx } from '../ctx';
import { loadRuntime } from '../engines';
import { runStates, type SlsToRun } from '../runs';

const inside = (root: string | undefined, file: string) => !!root && isUnder(root, file);

export class ApplyOnSave implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Per folder, what its saves run next: the SLS they asked for, in the mode of the last save. */
  private readonly pending = new Map<string, { sls: SlsToRun; test: boolean }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly flushing = new Set<string>();
  private told = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly debounceMs = 300,
  ) {
    this.subscriptions.push(vscode.workspace.onDidSaveTextDocument((document) => void this.saved(document)));
  }

  private async saved(document: vscode.TextDocument): Promise<void> {
    if (document.uri.scheme !== 'file' || !vscode.workspace.isTrusted) return;
    const mode = applyOnSaveMode(document.uri);
    if (mode === 'off') return;
    const roots = rootsFor(document.uri);
    const file = document.uri.fsPath;
    if (!roots || !(inside(roots.stateRoot, file) || inside(roots.pillarRoot, file))) return;
    if (!this.ctx.targets.get(document.uri)) {
      if (!this.told) {
        this.told = true;
        void vscode.window.showInformationMessage('Salt Containers: apply on save runs on the target container. Pick one in the status bar.', 'Pick Target').then((choice) => {
          if (choice) void vscode.commands.executeCommand('saltContainers.selectTarget', document.uri);
        });
      }
      return;
    }
    const tree: SaltTree = roots;
    const sls = await this.slsFor(document.uri, tree);
    if (!sls) {
      this.ctx.log(`apply on save: ${file} is used by no SLS module that ran or that names it; nothing to run`);
      return;
    }
    const key = folderFor(document.uri)?.uri.toString() ?? tree.stateRoot;
    // Saves before the run join it: the first save's file and trees, every module asked for, the
    // highstate if one asked.
    const entry = this.pending.get(key);
    if (entry) {
      entry.sls.mods = [...new Set([...entry.sls.mods, ...sls.mods])];
      entry.sls.highstate ||= sls.highstate;
      entry.test = mode === 'test';
    } else this.pending.set(key, { sls, test: mode === 'test' });
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => void this.flush(key), this.debounceMs),
    );
  }

  /**
   * What a save runs again: the last run of this state tree when it used the file (or the file is not
   * an SLS module), else the saved module itself; for a file no run used yet, the modules that name it.
   */
  private async slsFor(resource: vscode.Uri, tree: SaltTree): Promise<SlsToRun | undefined> {
    const file = resource.fsPath;
    const last = this.ctx.lastStateRuns.get(tree.stateRoot);
    const ofPillar = inside(tree.pillarRoot, file);
    // Pillar data kept in the state tree that is not the run's pillar (a kitchen suite's
    // test/salt/pillar/) is no run's: nothing to apply.
    if (!ofPillar && isPillarDataFile(tree.stateRoot, file)) return undefined;
    // A pillar file is no state module, also where the pillar tree is inside the state tree.
    const module = inside(tree.stateRoot, file) && !ofPillar ? moduleForFile(tree.stateRoot, file) : undefined;
    if (last && (!module || last.files.includes(file))) return { resource, tree, mods: [...last.run.mods], highstate: last.run.highstate };
    if (module) return { resource, tree, mods: [module], highstate: false };
    if (!inside(tree.stateRoot, file)) return undefined;
    // map.jinja, a salt:// file, a custom module that no run used yet: the modules that name it.
    const path = relative(tree.stateRoot, file).split(sep).join('/');
    const { StateTree } = await loadRuntime();
    const users = new StateTree(tree.stateRoot)
      .all()
      .filter((f) => f.module && (f.parsed.jinjaImports.some((i) => i.path === path) || f.parsed.saltUrls.some((u) => u.path === path)))
      .map((f) => f.module!);
    return users.length ? { resource, tree, mods: [...new Set(users)], highstate: false } : undefined;
  }

  private async flush(key: string): Promise<void> {
    if (this.flushing.has(key)) return; // the running flush takes what is pending when it is done
    this.flushing.add(key);
    try {
      for (let entry = this.pending.get(key); entry; entry = this.pending.get(key)) {
        const target = this.ctx.targets.get(entry.sls.resource);
        if (!target) return;
        await this.ctx.idle(target);
        this.pending.delete(key);
        await runStates(this.ctx, entry.sls, { container: target, test: entry.test, quiet: true });
      }
    } finally {
      this.flushing.delete(key);
    }
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }
}
