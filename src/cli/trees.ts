/**
 * The state and pillar trees a CLI run is given, checked before anything runs: a --states that is not
 * a folder, or a --pillar that is neither a folder nor a file, is an error that says what the option
 * wants, and a pillar tree without top.sls is worth a note, since Salt then gives the minion no pillar
 * at all and says nothing.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StateRun } from '../engine/results/model';
import type { SaltRoots } from '../sls/roots';
import { relativeTo } from './format';

export class TreeError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const PILLAR_HINT = "--pillar takes a pillar tree (a folder with a top.sls and the modules it names) or one pillar file (a formula's pillar.example), which every minion is given.";

/** Throws TreeError for a tree option that names no folder; returns notes worth telling. */
export function checkTrees(tree: SaltRoots, given: { states?: string; pillar?: string }, cwd: string): string[] {
  const shown = (path: string) => relativeTo(cwd, path);
  if (given.states) {
    const hint = 'The state tree is the folder with top.sls and the SLS files (file_roots).';
    if (!existsSync(tree.stateRoot)) throw new TreeError(`--states ${shown(tree.stateRoot)}: no such folder`, hint);
    if (!statSync(tree.stateRoot).isDirectory()) throw new TreeError(`--states ${shown(tree.stateRoot)} is a file, not a folder`, hint);
  }
  if (given.pillar && tree.pillarRoot && !existsSync(tree.pillarRoot)) throw new TreeError(`--pillar ${shown(tree.pillarRoot)}: no such folder or file`, PILLAR_HINT);
  if (tree.pillarRoot && statSync(tree.pillarRoot).isDirectory() && !existsSync(join(tree.pillarRoot, 'top.sls'))) {
    return [`the pillar tree ${shown(tree.pillarRoot)} has no top.sls: Salt gives this minion no pillar from it`];
  }
  return [];
}

/**
 * Why a highstate ran nothing, when Salt says only "No Top file or master_tops data matches found.
 * Please see master log for details" (there is no master, and no log to see).
 */
export function emptyHighstateNote(run: StateRun, stateRoot: string, cwd: string, saltenv = 'base'): string | undefined {
  if (!run.highstate || !run.states.some((s) => s.function === 'no.None' && /No Top file/.test(s.comment))) return undefined;
  const minion = run.container?.name ?? 'this minion';
  if (!existsSync(join(stateRoot, 'top.sls'))) return `there is no top.sls in ${relativeTo(cwd, stateRoot)}: a highstate applies what top.sls gives the minion (${minion}); name modules with apply instead`;
  return `${relativeTo(cwd, join(stateRoot, 'top.sls'))} gives ${minion} nothing in saltenv ${saltenv}: the minion id is the container's name, so target it (or '*')`;
}
