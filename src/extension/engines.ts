/**
 * The engines the extension talks to, named as Docker names them: the primary (the dockerHost or
 * dockerContext setting, else the docker CLI's own choice: DOCKER_HOST, DOCKER_CONTEXT, the current
 * context, else the first place an engine is), more addresses (additionalDockerHosts), Docker contexts
 * (contexts), and the places where an engine is (the desktops' sockets; Podman's when podman is on). One Salt runner per engine, all made on first use. The engine code
 * (dockerode and friends) is loaded on first use (runtime.ts), so activation pays nothing for it.
 * The list is made again when a setting that names engines changes, or the Docker config folder
 * does (`docker context use`, `docker context create`).
 */
import * as vscode from 'vscode';
import type { DockerEngine, ListedEngine, SaltRunnerApi, SaltSource } from '../engine';
import type * as Runtime from './runtime';
import { engineSelection, engineSettingNames, engineSettings, saltPython, saltWorkSettings, section } from './config';

export type RuntimeApi = typeof Runtime;

let runtime: Promise<RuntimeApi> | undefined;
/** The engine and the result mapping, loaded on first use (a separate file in the bundle: runtime.ts). */
export function loadRuntime(): Promise<RuntimeApi> {
  runtime ??= import('./runtime');
  return runtime;
}

/** The primary engine's key: listEngines always lists it first under this key. */
export const PRIMARY_ENGINE = '';

export interface EngineEntry {
  /** '' for the primary engine, else its name (a context's name or an address): the key commands and tree nodes carry. */
  key: string;
  engine: DockerEngine;
  /** A short name for people: 'default', the context's name, 'Podman', the address. */
  label: string;
  /** Where it is: the address. */
  description: string;
  /** How it was chosen, for the engine's tooltip. */
  tooltip: string;
}

/** Where a setting chose the primary engine, in the words of the settings rather than of the CLI's flags. */
function sourceOf(listed: ListedEngine): string {
  const source = listed.endpoint?.source ?? '';
  if (source === '--host') return `the ${section}.dockerHost setting`;
  if (source.startsWith('--context')) return `the ${section}.dockerContext setting`;
  return source;
}

export class Engines implements vscode.Disposable {
  private listing?: Promise<EngineEntry[]>;
  /** The engines of the last listing (for what must answer at once: the keys, whether there are several). */
  private listed: EngineEntry[] = [];
  /** Engines a command named that are not listed (e.g. a test's `engine` option). */
  private named = new Map<string, EngineEntry>();
  private runners = new Map<string, SaltRunnerApi>();
  /** One Salt source for every engine: its probe of the host Python and its thin are the same for all. */
  private source?: SaltSource;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the engines change (the views list again, watchers reconnect). */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [this.changed];
  private configWatcher?: { dir: string; disposable: vscode.Disposable };

  constructor() {
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (engineSettingNames.some((name) => event.affectsConfiguration(`${section}.${name}`))) this.reset();
        else if (['saltPython', 'saltOn', 'helpers'].some((name) => event.affectsConfiguration(`${section}.${name}`))) this.resetSalt();
      }),
    );
  }

  /** Lists the engines again (settings or contexts changed, or a Refresh). */
  reset(): void {
    this.listing = undefined;
    this.named.clear();
    this.runners.clear();
    this.changed.fire();
  }

  /** Forgets the Salt source (a new setting, a Salt just installed): the next run looks again. */
  resetSalt(): void {
    this.runners.clear();
    this.source = undefined;
  }

  /** Whether the last listing has more than one engine (the views group by engine then). */
  get several(): boolean {
    return this.listed.length > 1;
  }

  async all(): Promise<EngineEntry[]> {
    this.listing ??= this.list();
    return this.listing;
  }

  private async list(): Promise<EngineEntry[]> {
    const api = await loadRuntime();
    this.watchDockerConfig(api.dockerConfigDir());
    const settings = engineSettings();
    const listed = api.listEngines({ selection: engineSelection(settings), hosts: settings.additionalDockerHosts, contexts: settings.contexts, podman: settings.podman });
    this.listed = listed.map((l) => {
      const engine = new api.DockerEngine(l.endpoint ? { endpoint: l.endpoint } : { unusable: l.error });
      const source = sourceOf(l);
      return { key: l.key, engine, label: l.label, description: l.endpoint?.host ?? l.error?.message ?? '', tooltip: `${engine.address}${source ? `\nchosen by ${source}` : ''}${l.key === '' ? '\nruns go here unless a container of another engine is picked' : ''}` };
    });
    return this.listed;
  }

  /** `docker context use` and `docker context create` change files there: list again when they do. */
  private watchDockerConfig(dir: string): void {
    if (this.configWatcher?.dir === dir) return;
    this.configWatcher?.disposable.dispose();
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '{config.json,contexts/meta/*/meta.json}'));
    const changed = () => this.reset();
    this.configWatcher = { dir, disposable: vscode.Disposable.from(watcher, watcher.onDidChange(changed), watcher.onDidCreate(changed), watcher.onDidDelete(changed)) };
  }

  /** An engine by key: a listed one, else (a command's option naming another) that name resolved. */
  async get(key?: string): Promise<EngineEntry> {
    const entries = await this.all();
    const wanted = key === undefined || key === 'default' ? '' : key;
    const entry = entries.find((e) => e.key === wanted) ?? this.named.get(wanted);
    if (entry) return entry;
    const api = await loadRuntime();
    let engine: DockerEngine;
    try {
      engine = new api.DockerEngine({ endpoint: api.resolveEngineName(wanted) });
    } catch (error) {
      engine = new api.DockerEngine({ unusable: error as InstanceType<typeof api.EngineError> });
    }
    const named = { key: wanted, engine, label: wanted, description: engine.endpoint.host, tooltip: engine.address };
    this.named.set(wanted, named);
    return named;
  }

  async runner(key?: string): Promise<SaltRunnerApi> {
    const entry = await this.get(key);
    let runner = this.runners.get(entry.key);
    if (!runner) {
      const api = await loadRuntime();
      // Where this machine has no Python with Salt, the primary engine's helpers make it (first use).
      this.source ??= new api.SaltSource({ python: saltPython(), engine: (await this.get()).engine, ...saltWorkSettings() });
      runner = new api.SaltRunner(entry.engine, this.source);
      this.runners.set(entry.key, runner);
    }
    return runner;
  }

  dispose(): void {
    this.configWatcher?.disposable.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
