/**
 * The state and pillar trees a CLI run is given, checked before anything runs: a --states or --pillar
 * that is not a folder is an error that says what the option wants (a formula's pillar.example is a
 * file, not a pillar tree), and a pillar tree without top.sls is worth a note, since Salt then gives
 * the minion no pillar at all and says nothing.
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

const PILLAR_HINT =
  "A pillar tree is a folder with a top.sls and the modules it names. For a formula's pillar.example: mkdir pillar, copy it to pillar/NAME.sls, and write pillar/top.sls as: base: {'*': [NAME]}.";

/** Throws TreeError for a tree option that names no folder; returns notes worth telling. */
export function checkTrees(tree: SaltRoots, given: { states?: string; pillar?: string }, cwd: string): string[] {
  const shown = (path: string) => relativeTo(cwd, path);
  const folder = (option: string, path: string, hint: string) => {
    if (!existsSync(path)) throw new TreeError(`${option} ${shown(path)}: no such folder`, hint);
    if (!statSync(path).isDirectory()) throw new TreeError(`${option} ${shown(path)} is a file, not a folder`, hint);
  };
  if (given.states) folder('--states', tree.stateRoot, 'The state tree is the folder with top.sls and the SLS files (file_roots).');
  if (given.pillar && tree.pillarRoot) folder('--pillar', tree.pillarRoot, PILLAR_HINT);
  if (tree.pillarRoot && !existsSync(join(tree.pillarRoot, 'top.sls'))) {
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
