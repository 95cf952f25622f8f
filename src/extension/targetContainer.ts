/**
 * The target container of each workspace folder: the container the edit loop runs in (commands use it
 * without asking, apply on save and the CodeLens run there, the warm session lives there). Chosen from
 * the status-bar item (or `saltContainers.selectTarget`), remembered per folder in the workspace state;
 * the `saltContainers.targetContainer` setting gives a folder a default.
 */
import * as vscode from 'vscode';
import { folderFor, section, targetContainerSetting } from './config';
import { PRIMARY_ENGINE } from './engines';

export interface ContainerChoice {
  engineKey: string;
  name: string;
}

const stateKey = 'saltContainers.targets';

export class TargetContainers implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<{ folder: string; before?: ContainerChoice; after?: ContainerChoice }>();
  /** Fires when a folder's target changes (its warm session ends). */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly state: vscode.Memento) {
    this.item = vscode.window.createStatusBarItem('saltContainers.target', vscode.StatusBarAlignment.Left, 11);
    this.item.name = 'Salt Containers: target container';
    this.item.command = 'saltContainers.selectTarget';
    this.subscriptions.push(
      this.item,
      this.changed,
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${section}.targetContainer`)) this.refresh();
      }),
    );
    this.refresh();
  }

  private stored(): Record<string, ContainerChoice | null> {
    return this.state.get<Record<string, ContainerChoice | null>>(stateKey, {});
  }

  /** The folder's target: the one picked (null = picked "none"), else the setting, else undefined. */
  get(resource?: vscode.Uri): ContainerChoice | undefined {
    const folder = folderFor(resource);
    if (!folder) return undefined;
    const picked = this.stored()[folder.uri.toString()];
    if (picked !== undefined) return picked ?? undefined;
    const name = targetContainerSetting(folder.uri);
    return name ? { engineKey: PRIMARY_ENGINE, name } : undefined;
  }

  async set(resource: vscode.Uri | undefined, choice: ContainerChoice | undefined): Promise<void> {
    const folder = folderFor(resource);
    if (!folder) return;
    const before = this.get(folder.uri);
    await this.state.update(stateKey, { ...this.stored(), [folder.uri.toString()]: choice ?? null });
    this.refresh();
    if (before?.name !== choice?.name || before?.engineKey !== choice?.engineKey) this.changed.fire({ folder: folder.uri.toString(), before, after: choice });
  }

  /** Every folder's target, for the ends of warm sessions that no folder uses any more. */
  all(): ContainerChoice[] {
    return (vscode.workspace.workspaceFolders ?? []).map((f) => this.get(f.uri)).filter((c): c is ContainerChoice => !!c);
  }

  refresh(): void {
    const folder = folderFor(vscode.window.activeTextEditor?.document.uri);
    if (!folder) {
      this.item.hide();
      return;
    }
    const target = this.get(folder.uri);
    const several = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    this.item.text = target ? `$(vm) ${target.name}` : '$(vm) No target';
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(
      target
        ? `Salt Containers: runs of ${several ? folder.name : 'this workspace'} go to ${target.name} without asking (apply on save and CodeLens too). Click to change.`
        : `Salt Containers: no target container for ${several ? folder.name : 'this workspace'}. Click to pick one: runs then go there without asking.`,
    );
    this.item.tooltip = tooltip;
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }
}
