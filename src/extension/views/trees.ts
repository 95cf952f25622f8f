/**
 * The Containers and Images views. Each lists from the engine(s) when VS Code asks (so: only while
 * visible), keeps one node object per item for as long as the item exists (stable TreeItem ids, so
 * selection and expansion survive a refresh), groups by engine only when several are listed (see
 * engines.ts: contexts, more addresses, the desktops' and Podman's sockets), and shows an engine that
 * cannot be used as one item that says why (unreachable, TLS, permissions, a missing context) and how
 * to fix it, with retry.
 */
import * as vscode from 'vscode';
import type { ContainerInfo, EngineError, ImageInfo } from '../../engine';
import type { EngineEntry, Engines } from '../engines';
import { containerContextValue, containerDetails, formatAge, formatSize, imageContextValue, imageDetails, imageLabel, shortId, sortContainers, sortImages } from '../format';
import { showDanglingImages } from '../config';

export interface EngineNode {
  kind: 'engine';
  engineKey: string;
  label: string;
  description: string;
  tooltip: string;
}
export interface ContainerNode {
  kind: 'container';
  engineKey: string;
  info: ContainerInfo;
}
export interface ImageNode {
  kind: 'image';
  engineKey: string;
  info: ImageInfo;
}
export interface MessageNode {
  kind: 'message';
  engineKey: string;
  label: string;
  description: string;
  tooltip: string;
  /** 'engineUnreachable' (retry inline) or 'engineError'. */
  contextValue: string;
}
export type ContainersTreeNode = EngineNode | ContainerNode | MessageNode;
export type ImagesTreeNode = EngineNode | ImageNode | MessageNode;

export function isContainerNode(value: unknown): value is ContainerNode {
  return typeof value === 'object' && value !== null && (value as ContainerNode).kind === 'container' && typeof (value as ContainerNode).info?.id === 'string';
}
export function isImageNode(value: unknown): value is ImageNode {
  return typeof value === 'object' && value !== null && (value as ImageNode).kind === 'image' && typeof (value as ImageNode).info?.id === 'string';
}

function markdownTable(rows: [string, string][]): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  for (const [key, value] of rows) {
    md.appendMarkdown(`**${key}:** `);
    md.appendText(value); // text, never markdown from the engine
    md.appendMarkdown('  \n');
  }
  return md;
}

function errorNode(entry: EngineEntry, error: unknown): MessageNode {
  const engineError = error as Partial<EngineError>;
  const message = engineError.message ?? String(error);
  const settings = 'The saltContainers.dockerHost and saltContainers.dockerContext settings override DOCKER_HOST and DOCKER_CONTEXT.';
  const fix = engineError.hint ? `\n\nHow to fix: ${engineError.hint}${engineError.kind?.startsWith('engine-') ? ` ${settings}` : ''}` : '';
  const labels: Partial<Record<string, string>> = {
    'engine-unreachable': 'Docker engine not reachable',
    'engine-tls': 'TLS with the engine failed',
    'engine-permission': 'No permission to use the engine',
    'engine-api-version': 'Engine API version mismatch',
    'engine-config': 'Engine cannot be used as named',
  };
  const label = (engineError.kind && labels[engineError.kind]) ?? 'Could not list from the Docker engine';
  return {
    kind: 'message',
    engineKey: entry.key,
    label,
    description: engineError.kind === 'engine-unreachable' ? `${entry.description}: click to retry` : message,
    tooltip: `${message}${fix}\n\nClick, or use the Retry action, once it is fixed.`,
    contextValue: engineError.kind === 'engine-unreachable' ? 'engineUnreachable' : 'engineError',
  };
}

/** What both views share: the engine grouping, node identity, change events, the retry item. */
abstract class EngineTree<Item extends ContainerNode | ImageNode> implements vscode.TreeDataProvider<EngineNode | Item | MessageNode> {
  protected readonly changed = new vscode.EventEmitter<EngineNode | Item | MessageNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** One node per container or image for as long as it exists: refreshes update its info in place. */
  private nodes = new Map<string, Item>();
  private engineNodes = new Map<string, EngineNode>();

  constructor(protected readonly engines: Engines) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  protected abstract list(entry: EngineEntry): Promise<Item['info'][]>;
  protected abstract makeNode(engineKey: string, info: Item['info']): Item;
  protected abstract item(node: Item): vscode.TreeItem;
  protected abstract itemKey(info: Item['info']): string;

  /** The engine's items, reusing each item's node so its identity holds across refreshes. */
  async itemsOf(entry: EngineEntry): Promise<(Item | MessageNode)[]> {
    let infos: Item['info'][];
    try {
      infos = await this.list(entry);
    } catch (error) {
      return [errorNode(entry, error)];
    }
    const seen = new Set<string>();
    const result = infos.map((info) => {
      const id = `${entry.key}|${this.itemKey(info)}`;
      seen.add(id);
      const cached = this.nodes.get(id);
      if (cached) {
        cached.info = info; // status text ("Up 5 seconds") moves on; the item is the same
        return cached;
      }
      const node = this.makeNode(entry.key, info);
      this.nodes.set(id, node);
      return node;
    });
    for (const id of this.nodes.keys()) if (id.startsWith(`${entry.key}|`) && !seen.has(id)) this.nodes.delete(id);
    return result;
  }

  async getChildren(element?: EngineNode | Item | MessageNode): Promise<(EngineNode | Item | MessageNode)[]> {
    if (!element) {
      const entries = await this.engines.all();
      if (entries.length === 1) return this.itemsOf(entries[0]);
      return entries.map((entry) => {
        // The same node object each time (the view keeps its expansion), with the listing's words.
        const shown = { label: entry.label, description: entry.description, tooltip: entry.tooltip };
        let node = this.engineNodes.get(entry.key);
        if (node) Object.assign(node, shown);
        else this.engineNodes.set(entry.key, (node = { kind: 'engine', engineKey: entry.key, ...shown }));
        return node;
      });
    }
    if (element.kind === 'engine') return this.itemsOf(await this.engines.get(element.engineKey));
    return [];
  }

  protected abstract tooltip(node: Item): vscode.MarkdownString;

  /** Tooltips are made when hovered, not for every item of the first paint. */
  resolveTreeItem(item: vscode.TreeItem, node: EngineNode | Item | MessageNode): vscode.TreeItem {
    if ((node.kind === 'container' || node.kind === 'image') && !item.tooltip) item.tooltip = this.tooltip(node as Item);
    return item;
  }

  getTreeItem(node: EngineNode | Item | MessageNode): vscode.TreeItem {
    if (node.kind === 'engine') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `engine|${node.engineKey}`;
      item.description = node.description === node.label ? undefined : node.description;
      item.tooltip = node.tooltip;
      item.iconPath = new vscode.ThemeIcon('server-environment');
      item.contextValue = 'engine';
      return item;
    }
    if (node.kind === 'message') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.id = `message|${node.engineKey}|${node.contextValue}`;
      item.description = node.description;
      item.tooltip = node.tooltip;
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
      item.contextValue = node.contextValue;
      item.command = { command: 'saltContainers.refresh', title: 'Retry' };
      return item;
    }
    return this.item(node as Item);
  }
}

export class ContainersTree extends EngineTree<ContainerNode> {
  protected list(entry: EngineEntry): Promise<ContainerInfo[]> {
    return entry.engine.listContainers().then(sortContainers);
  }
  protected makeNode(engineKey: string, info: ContainerInfo): ContainerNode {
    return { kind: 'container', engineKey, info };
  }
  protected itemKey(info: ContainerInfo): string {
    return info.id;
  }
  protected tooltip(node: ContainerNode): vscode.MarkdownString {
    return markdownTable(containerDetails(node.info));
  }
  protected item(node: ContainerNode): vscode.TreeItem {
    const c = node.info;
    const item = new vscode.TreeItem(c.name, vscode.TreeItemCollapsibleState.None);
    item.id = `container|${node.engineKey}|${c.id}`;
    item.description = `${c.image} · ${c.status || c.state}`;
    item.contextValue = containerContextValue(c.state);
    const running = c.state === 'running';
    item.iconPath = new vscode.ThemeIcon(running ? 'vm-running' : c.state === 'paused' ? 'debug-pause' : 'vm-outline', running ? new vscode.ThemeColor('testing.iconPassed') : undefined);
    return item;
  }
}

export class ImagesTree extends EngineTree<ImageNode> {
  protected list(entry: EngineEntry): Promise<ImageInfo[]> {
    const dangling = showDanglingImages();
    return entry.engine.listImages().then((list) => sortImages(dangling ? list : list.filter((i) => !i.dangling)));
  }
  protected makeNode(engineKey: string, info: ImageInfo): ImageNode {
    return { kind: 'image', engineKey, info };
  }
  protected itemKey(info: ImageInfo): string {
    return info.id;
  }
  protected tooltip(node: ImageNode): vscode.MarkdownString {
    return markdownTable(imageDetails(node.info));
  }
  protected item(node: ImageNode): vscode.TreeItem {
    const image = node.info;
    const item = new vscode.TreeItem(imageLabel(image), vscode.TreeItemCollapsibleState.None);
    item.id = `image|${node.engineKey}|${image.id}`;
    item.description = `${formatSize(image.size)} · ${formatAge(image.created)}${image.tags.length > 1 ? ` · +${image.tags.length - 1} tags` : ''}`;
    item.contextValue = imageContextValue(image);
    item.iconPath = new vscode.ThemeIcon(image.dangling ? 'circle-slash' : 'package');
    return item;
  }
}

/** A short description of a node for messages: the container's name, the image's tag or id. */
export function nodeName(node: ContainerNode | ImageNode): string {
  return node.kind === 'container' ? node.info.name : node.info.tags[0] ?? shortId(node.info.id);
}

// Podman's Docker API says `remove` for destroy and `loadfromarchive` for load (measured on Podman 4.3).
const containerActions = new Set(['create', 'start', 'restart', 'die', 'stop', 'kill', 'destroy', 'remove', 'rename', 'pause', 'unpause', 'update', 'oom']);
const imageActions = new Set(['tag', 'untag', 'delete', 'import', 'load', 'loadfromarchive', 'pull', 'prune', 'build']);

/**
 * Follows each engine's event stream while at least one view is visible (never while both are
 * hidden), and refreshes the affected view after a quiet moment. Exec events (every Salt run makes
 * dozens) are ignored. A broken stream shows in the views as the unreachable item; no toasts.
 */
export class EngineWatcher implements vscode.Disposable {
  private controllers = new Map<string, AbortController>();
  private timers = new Map<'containers' | 'images', NodeJS.Timeout>();
  private visible = { containers: false, images: false };
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly engines: Engines,
    private readonly containers: ContainersTree,
    private readonly images: ImagesTree,
    private readonly debounceMs = 300,
  ) {
    this.subscriptions.push(
      engines.onDidChange(() => {
        this.stop();
        this.update();
        this.containers.refresh();
        this.images.refresh();
      }),
    );
  }

  /** Called by the views' visibility events. */
  setVisible(view: 'containers' | 'images', visible: boolean): void {
    const was = this.visible[view];
    this.visible[view] = visible;
    // Nothing was followed while hidden: list again when the view comes back.
    if (visible && !was) (view === 'containers' ? this.containers : this.images).refresh();
    this.update();
  }

  private update(): void {
    const anyVisible = this.visible.containers || this.visible.images;
    if (!anyVisible) return this.stop();
    void this.engines.all().then(
      (entries) => {
        if (!(this.visible.containers || this.visible.images)) return;
        for (const entry of entries) if (!this.controllers.has(entry.key)) void this.follow(entry.key);
      },
      () => undefined, // the views show why
    );
  }

  private async follow(key: string): Promise<void> {
    const controller = new AbortController();
    this.controllers.set(key, controller);
    try {
      const entry = await this.engines.get(key);
      for await (const event of entry.engine.events(controller.signal)) {
        if (event.type === 'container' && containerActions.has(event.action)) {
          this.schedule('containers');
          // A container's image can become dangling or in use; commits make images.
          if (event.action === 'destroy' || event.action === 'remove') this.schedule('images');
        } else if (event.type === 'container' && event.action === 'commit') this.schedule('images');
        else if (event.type === 'image' && imageActions.has(event.action)) this.schedule('images');
      }
    } catch {
      // The engine went away: the views say so with their retry item (below); no toast.
    } finally {
      if (this.controllers.get(key) === controller) this.controllers.delete(key);
      if (!controller.signal.aborted) {
        this.schedule('containers');
        this.schedule('images');
      }
    }
  }

  private schedule(view: 'containers' | 'images'): void {
    if (!this.visible[view]) return;
    clearTimeout(this.timers.get(view));
    this.timers.set(
      view,
      setTimeout(() => {
        this.timers.delete(view);
        (view === 'containers' ? this.containers : this.images).refresh();
      }, this.debounceMs),
    );
  }

  private stop(): void {
    for (const controller of this.controllers.values()) controller.abort();
    this.controllers.clear();
  }

  dispose(): void {
    this.stop();
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const s of this.subscriptions) s.dispose();
  }
}
