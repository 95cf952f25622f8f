/**
 * `salt-containers watch`: applies at once, then again after each change under the state and pillar
 * trees (or to the pillar file), through the container's warm session. Changes are debounced: an
 * editor's save, a git checkout or a formatter over many files is one run. A change during a run makes
 * one more run after it, not one per event. What the watcher cannot watch, and a tree that is removed,
 * are told (onNote), never passed over in silence. Ends when `signal` aborts (Ctrl-C): the run in
 * progress is cancelled, and the caller ends the session.
 *
 * Files are watched with chokidar, not Node's recursive fs.watch: on Linux that one stops reporting a
 * file once it is replaced by a rename (sed -i, vim, JetBrains' safe write, most formatters), so saves
 * after the first were missed without a word.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { watch as watchFiles } from 'chokidar';
import type { ApplyOptions, SaltRunnerApi, SaltTree, StateRun } from '../engine';
import { treeOfChange } from '../sls/roots';

/** The warm session ends after this long without a change (the watch goes on: the next change starts one). */
export const WATCH_SESSION_IDLE_MS = 10 * 60_000;

/** Quiet time after the last change before a run starts. */
export const WATCH_DEBOUNCE_MS = 150;

/** Errors of the watcher that come together (one per folder past the system's limit) are told as one note. */
const NOTE_BATCH_MS = 100;

export interface WatchOptions extends ApplyOptions {
  /** Ends the watch (Ctrl-C). */
  signal: AbortSignal;
  /** Each run's result, as it comes; `changed` are the paths that started it (empty for the first run). */
  onRun: (run: StateRun, changed: string[]) => void;
  /** What the watch must tell besides runs: paths it cannot watch, a tree removed (no run until it is back). */
  onNote?: (note: string) => void;
  /** How a path is shown in a note (the CLI: relative to the working directory). */
  show?: (path: string) => string;
  debounceMs?: number;
}

/** Why a path could not be watched, and what to do about it. */
function unwatchedNote(code: string | undefined, paths: string[], message: string, show: (path: string) => string): string {
  const what = paths.length === 1 ? show(paths[0]) : `${paths.length} folders and files (${paths.slice(0, 3).map(show).join(', ')}${paths.length > 3 ? ', ...' : ''})`;
  if (code === 'ENOSPC' || code === 'EMFILE') {
    return `cannot watch ${what}: the system's limit of file watches is reached (${code}); changes there are not seen. Raise it (sudo sysctl fs.inotify.max_user_watches=524288) and start the watch again`;
  }
  return `cannot watch ${what}: ${message}; changes there are not seen`;
}

/** Runs until the signal aborts; resolves with the last run (undefined when none finished). */
export async function watchApply(runner: SaltRunnerApi, container: string, mods: string[], tree: SaltTree, options: WatchOptions): Promise<StateRun | undefined> {
  const { signal, onRun, onNote = () => undefined, show = (path: string) => path, debounceMs = WATCH_DEBOUNCE_MS, ...apply } = options;
  const roots = [tree.stateRoot, tree.pillarRoot].filter((r): r is string => !!r).map((r) => resolve(r));
  // Each tree is watched through its parent folder, everything else there ignored: a tree (or pillar
  // file) removed and made again, as a checkout may do, is watched again, which a watch of it would not be.
  const parents = new Set(roots.map((root) => dirname(root)));
  const ignored = (path: string) => !parents.has(path) && !treeOfChange(roots, path);

  let last: StateRun | undefined;
  let changed = new Set<string>();
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** The quiet time after the last change has passed: run now. */
  let due = false;
  const onChange = (path: string) => {
    if (!treeOfChange(roots, path)) return; // a parent folder itself
    changed.add(path);
    due = false;
    clearTimeout(timer);
    timer = setTimeout(() => {
      due = true;
      wake?.();
    }, debounceMs);
  };

  let failed: { code?: string; message: string; path: string }[] = [];
  let noteTimer: NodeJS.Timeout | undefined;
  const onError = (error: unknown) => {
    const e = error as NodeJS.ErrnoException;
    failed.push({ code: e.code, message: e.message, path: e.path ?? '' });
    noteTimer ??= setTimeout(() => {
      noteTimer = undefined;
      const byCode = new Map<string, typeof failed>();
      for (const f of failed) byCode.set(f.code ?? f.message, [...(byCode.get(f.code ?? f.message) ?? []), f]);
      failed = [];
      for (const group of byCode.values()) onNote(unwatchedNote(group[0].code, group.map((f) => resolve(f.path)), group[0].message, show));
    }, NOTE_BATCH_MS);
  };

  const watcher = watchFiles([...parents], { ignored, ignoreInitial: true, followSymlinks: true });
  watcher.on('all', (_event, path) => onChange(resolve(path)));
  watcher.on('error', onError);
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  /** Roots told as removed, so that a second change while one is gone says nothing new. */
  const told = new Set<string>();
  try {
    let cause: string[] = [];
    while (!signal.aborted) {
      const run = await runner.apply(container, mods, tree, { ...apply, signal, warm: true });
      if (signal.aborted) break;
      last = run;
      onRun(run, cause);
      await Promise.race([ready, stopped]);
      // Wait for changes (those during the run count: they make the next run at once, after the quiet
      // time). A tree that is gone runs nothing: it is told once, and the run waits for it to be back.
      for (;;) {
        if (!due) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), stopped]);
        wake = undefined;
        due = false;
        if (signal.aborted) break;
        const gone = roots.filter((root) => !existsSync(root));
        for (const root of gone.filter((r) => !told.has(r))) onNote(`${show(root)} was removed: the next run waits until it is back`);
        told.clear();
        for (const root of gone) told.add(root);
        if (!gone.length) break;
      }
      cause = [...changed].sort();
      changed = new Set();
    }
  } finally {
    clearTimeout(timer);
    clearTimeout(noteTimer);
    await watcher.close();
  }
  return last;
}
