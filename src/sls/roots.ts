/**
 * Where a workspace keeps its state tree and pillar tree. One rule for the extension, the language server
 * and the CLI: explicit settings win; else a Salt formula's repository (FORMULA, kitchen.yml or
 * pillar.example at its root and its `<name>/init.sls`) is a state tree rooted at the repository, whatever
 * `<name>` is (`salt` too: the formula for Salt itself); else `salt/` (or `srv/salt/`) and `pillar/` (or
 * `srv/pillar/`) folders; else the folder itself (and no pillar).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { canonicalPath, isUnder, SKIPPED_DIRS } from './modules';

export interface SaltRoots {
  stateRoot: string;
  /** Undefined when the workspace has no pillar tree. */
  pillarRoot?: string;
}

const escaped = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Paths whose changes never matter to Salt: the folders a run never ships (SKIPPED_DIRS), and what
 * editors write beside a file while saving it (vim's swap files and its 4913 probe, backups~, Emacs'
 * #autosave# and .#locks, JetBrains' ___jb_tmp___, gedit's .goutputstream-*, Kate's .kate-swp).
 */
const IGNORED = new RegExp(
  `(^|/)(${[...SKIPPED_DIRS].map(escaped).join('|')})(/|$)|(~|\\.sw[a-p]|\\.sw[x-z]|\\.tmp|___jb_(tmp|old)___|\\.kate-swp)$|(^|/)(\\.#|#[^/]*#$|\\.goutputstream-)|(^|/)4913$`,
);

/** A change that never matters to a run (`watch`, the editor's reloads); `path` is relative to its tree, with forward slashes. */
export const isIgnoredChange = (path: string): boolean => IGNORED.test(path);

/** The root (a state or pillar tree, or the pillar file) a changed path belongs to, when the change can matter to a run. */
export function treeOfChange(roots: readonly string[], changed: string): string | undefined {
  const path = canonicalPath(changed); // a watcher's `C:\salt\top.sls` is in the root `c:\salt`
  const root = roots.find((r) => path === r || path.startsWith(r + sep));
  return root !== undefined && !isIgnoredChange(relative(root, path).split(sep).join('/')) ? root : undefined;
}

const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();

const FORMULA_MARKERS = ['FORMULA', 'kitchen.yml', '.kitchen.yml', 'pillar.example'];

/** The formula's own folder in a formula repository (`nginx` in nginx-formula), or undefined when `base` is not one. */
export function formulaName(base: string): string | undefined {
  if (!FORMULA_MARKERS.some((marker) => existsSync(join(base, marker)))) return undefined;
  let named: string | undefined;
  try {
    named = /^name:\s*['"]?([\w-]+)/m.exec(readFileSync(join(base, 'FORMULA'), 'utf8'))?.[1];
  } catch {
    // no FORMULA file: the repository's name says it
  }
  const candidates = [named, basename(base).replace(/-formula$/, '')];
  return candidates.find((name) => !!name && existsSync(join(base, name, 'init.sls')));
}

/** The roots, spelled as canonicalPath spells paths (a setting's `C:\salt` and an editor's `c:\salt` are one folder). */
export function findRoots(folder: string, explicit: { stateRoot?: string; pillarRoot?: string } = {}): SaltRoots {
  const base = canonicalPath(resolve(folder));
  let stateRoot: string;
  if (explicit.stateRoot) stateRoot = canonicalPath(resolve(base, explicit.stateRoot));
  else if (formulaName(base)) stateRoot = base;
  else if (isDir(join(base, 'salt'))) stateRoot = join(base, 'salt');
  else if (isDir(join(base, 'srv', 'salt'))) stateRoot = join(base, 'srv', 'salt');
  else stateRoot = base;
  let pillarRoot: string | undefined;
  if (explicit.pillarRoot) pillarRoot = canonicalPath(resolve(base, explicit.pillarRoot));
  else pillarRoot = [join(base, 'pillar'), join(base, 'srv', 'pillar')].find(isDir);
  return { stateRoot, pillarRoot };
}

/**
 * The folder whose trees hold `path`, for a command given a path rather than run at a workspace's root
 * (`check examples/salt/web` from the repository, `check .` inside a state tree), as git finds its
 * repository: the nearest folder from `path` up that findRoots recognises by a rule (a formula, `salt/`,
 * `srv/salt/`, `pillar/`; not the "the folder itself" fallback) that is `path` or whose state or pillar
 * tree holds `path`. Undefined when none does.
 */
export function enclosingSaltFolder(path: string): string | undefined {
  const target = canonicalPath(resolve(path));
  let folder = isDir(target) ? target : dirname(target);
  for (;;) {
    const recognised = formulaName(folder) || ['salt', join('srv', 'salt'), 'pillar', join('srv', 'pillar')].some((sub) => isDir(join(folder, sub)));
    if (recognised) {
      const { stateRoot, pillarRoot } = findRoots(folder);
      if (folder === target || isUnder(stateRoot, target) || (pillarRoot && isUnder(pillarRoot, target))) return folder;
    }
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}
