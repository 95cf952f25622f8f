/**
 * `salt-containers watch`: applies at once, then again after each change under the state and pillar
 * trees (or to the pillar file) (debounced: an editor's save is several events), through the container's warm session. A change
 * during a run makes one more run after it, not one per event. Ends when `signal` aborts (Ctrl-C): the
 * run in progress is cancelled, and the caller ends the session.
 */
import { statSync, watch as watchFs, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ApplyOptions, SaltRunnerApi, SaltTree, StateRun } from '../engine';

/** The warm session ends after this long without a change (the watch goes on: the next change starts one). */
export const WATCH_SESSION_IDLE_MS = 10 * 60_000;

/** Quiet time after the last change before a run starts. */
export const WATCH_DEBOUNCE_MS = 150;

/**
 * Paths whose changes never matter to Salt: version control, and what editors write beside a file
 * while saving it (vim's swap files and its 4913 probe, backups~, Emacs' #autosave# and .#locks,
 * JetBrains' ___jb_tmp___, gedit's .goutputstream-*, Kate's .kate-swp).
 */
const IGNORED =
  /(^|\/)(\.git|\.hg|\.svn|node_modules|__pycache__)(\/|$)|(~|\.sw[a-p]|\.sw[x-z]|\.tmp|___jb_(tmp|old)___|\.kate-swp)$|(^|\/)(\.#|#[^/]*#$|\.goutputstream-)|(^|\/)4913$/;

export const isIgnoredChange = (path: string): boolean => IGNORED.test(path);

export interface WatchOptions extends ApplyOptions {
  /** Ends the watch (Ctrl-C). */
  signal: AbortSignal;
  /** Each run's result, as it comes; `changed` are the paths that started it (empty for the first run). */
  onRun: (run: StateRun, changed: string[]) => void;
  debounceMs?: number;
}

/**
 * A tree's watcher. A pillar file is watched through its folder: an editor that saves by renaming a new
 * file over the old one would end a watch of the file itself.
 */
const watchRoot = (onChange: (root: string) => (event: string, name: string | Buffer | null) => void) => (root: string): FSWatcher => {
  if (!statSync(root).isFile()) return watchFs(root, { recursive: true }, onChange(root));
  const folder = dirname(root);
  const report = onChange(folder);
  return watchFs(folder, (event, name) => {
    if (name?.toString() === basename(root)) report(event, name);
  });
};

/** Runs until the signal aborts; resolves with the last run (undefined when none finished). */
export async function watchApply(runner: SaltRunnerApi, container: string, mods: string[], tree: SaltTree, options: WatchOptions): Promise<StateRun | undefined> {
  const { signal, onRun, debounceMs = WATCH_DEBOUNCE_MS, ...apply } = options;
  let last: StateRun | undefined;
  let changed = new Set<string>();
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** The quiet time after the last change has passed: run now. */
  let due = false;
  const onChange = (root: string) => (_event: string, name: string | Buffer | null) => {
    const path = name ? `${root}/${name.toString()}` : root;
    if (isIgnoredChange(path)) return;
    changed.add(path);
    due = false;
    clearTimeout(timer);
    timer = setTimeout(() => {
      due = true;
      wake?.();
    }, debounceMs);
  };
  const watchers: FSWatcher[] = [tree.stateRoot, tree.pillarRoot].filter((r): r is string => !!r).map(watchRoot(onChange));
  const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  try {
    let cause: string[] = [];
    while (!signal.aborted) {
      const run = await runner.apply(container, mods, tree, { ...apply, signal, warm: true });
      if (signal.aborted) break;
      last = run;
      onRun(run, cause);
      // Wait for changes (those during the run count: they make the next run at once, after the quiet time).
      if (!due) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), stopped]);
      wake = undefined;
      due = false;
      cause = [...changed].sort();
      changed = new Set();
    }
  } finally {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  }
  return last;
}
