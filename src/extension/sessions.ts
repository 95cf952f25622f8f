/**
 * The extension's warm sessions (engine/session): runs on a folder's target container go through one
 * Salt kept warm in it. The owner gives every runner its sessions, and ends them when the target
 * changes, when the window closes (deactivate waits for it), and after `saltContainers.sessionIdleTimeout`
 * minutes without a run (the sessions' own timer); the engine ends them when the container stops.
 */
import * as vscode from 'vscode';
import type { SaltRunnerApi, SessionEnd, WarmSessions } from '../engine';
import { section, sessionIdleTimeoutMs } from './config';
import { loadRuntime } from './engines';
import type { TargetContainers } from './targetContainer';

/** What the sessions did, for tests through the extension's API. */
export interface SessionEvent {
  container: string;
  session: string;
  reason: SessionEnd;
}

export class Sessions implements vscode.Disposable {
  /** The sessions of each engine's current runner (by engine key). */
  private readonly byEngine = new Map<string, WarmSessions>();
  private readonly options = { idleTimeoutMs: sessionIdleTimeoutMs(), log: (line: string) => this.log(line) };
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Sessions that ended, and why (newest last). */
  readonly ended: SessionEvent[] = [];

  constructor(
    targets: TargetContainers,
    private readonly log: (line: string) => void,
  ) {
    this.subscriptions.push(
      targets.onDidChange(({ before }) => {
        if (before && !targets.all().some((t) => t.name === before.name && t.engineKey === before.engineKey)) void this.end(before.name, 'target-changed');
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${section}.sessionIdleTimeout`)) this.options.idleTimeoutMs = sessionIdleTimeoutMs();
      }),
    );
  }

  /**
   * Gives the runner its warm sessions (once). An engine's runner is made anew when settings change:
   * the sessions of the one it replaces end, so a container never has two.
   */
  async attach(runner: SaltRunnerApi, engineKey: string): Promise<void> {
    if (runner.warm) return;
    const { WarmSessions } = await loadRuntime();
    if (runner.warm) return;
    const sessions = new WarmSessions(runner.launcher, this.options);
    sessions.onEnd((session, reason) => this.ended.push({ container: session.container.name, session: session.name, reason }));
    runner.warm = sessions;
    const replaced = this.byEngine.get(engineKey);
    this.byEngine.set(engineKey, sessions);
    await replaced?.dispose();
  }

  /** Ends the session in a container on every engine (its target changed). */
  async end(container: string, reason: SessionEnd): Promise<void> {
    await Promise.all([...this.byEngine.values()].map((s) => s.end(container, reason)));
  }

  /** Ends every session: the window closes. */
  async endAll(): Promise<void> {
    await Promise.all([...this.byEngine.values()].map((s) => s.dispose()));
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
    void this.endAll();
  }
}
