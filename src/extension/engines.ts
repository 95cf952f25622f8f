/**
 * The Docker engines the extension talks to (the `dockerHost` setting, plus `additionalDockerHosts`)
 * and one Salt runner per engine, all made on first use. The engine code (dockerode and friends) is
 * loaded on first use (runtime.ts) so activation pays nothing for it until a view shows or a command runs.
 */
import * as vscode from 'vscode';
import type { DockerEngine, SaltRunnerApi, SaltSource } from '../engine';
import type * as Runtime from './runtime';
import { engineSettings, saltPython, section } from './config';

export type RuntimeApi = typeof Runtime;

let runtime: Promise<RuntimeApi> | undefined;
/** The engine and the result mapping, loaded on first use (a separate file in the bundle: runtime.ts). */
export function loadRuntime(): Promise<RuntimeApi> {
  runtime ??= import('./runtime');
  return runtime;
}

export interface EngineEntry {
  /** The setting's value ('' = DOCKER_HOST or the local socket): the key commands and tree nodes carry. */
  key: string;
  engine: DockerEngine;
  /** Where it is, for people. */
  label: string;
}

export class Engines implements vscode.Disposable {
  private entries = new Map<string, EngineEntry>();
  private runners = new Map<string, SaltRunnerApi>();
  /** One Salt source for every engine: its probe of the host Python and its thin are the same for all. */
  private source?: SaltSource;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the engine settings change (the views list again, watchers reconnect). */
  readonly onDidChange = this.changed.event;
  private readonly listener: vscode.Disposable;

  constructor() {
    this.listener = vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${section}.dockerHost`) || event.affectsConfiguration(`${section}.additionalDockerHosts`)) {
        this.entries.clear();
        this.runners.clear();
        this.changed.fire();
      } else if (event.affectsConfiguration(`${section}.saltPython`)) {
        this.resetSalt();
      }
    });
  }

  /** Forgets the Salt source (a new setting, a Salt just installed): the next run looks again. */
  resetSalt(): void {
    this.runners.clear();
    this.source = undefined;
  }

  /** The configured engine keys: the primary first. */
  keys(): string[] {
    const settings = engineSettings();
    return [...new Set([settings.dockerHost, ...settings.additionalDockerHosts])];
  }

  get several(): boolean {
    return this.keys().length > 1;
  }

  async get(key?: string): Promise<EngineEntry> {
    const wanted = key ?? this.keys()[0];
    let entry = this.entries.get(wanted);
    if (!entry) {
      const api = await loadRuntime();
      const engine = new api.DockerEngine({ dockerHost: wanted || undefined });
      entry = { key: wanted, engine, label: engine.address };
      this.entries.set(wanted, entry);
    }
    return entry;
  }

  async all(): Promise<EngineEntry[]> {
    return Promise.all(this.keys().map((key) => this.get(key)));
  }

  async runner(key?: string): Promise<SaltRunnerApi> {
    const entry = await this.get(key);
    let runner = this.runners.get(entry.key);
    if (!runner) {
      const api = await loadRuntime();
      this.source ??= new api.SaltSource({ python: saltPython() });
      runner = new api.SaltRunner(entry.engine, this.source);
      this.runners.set(entry.key, runner);
    }
    return runner;
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
