/**
 * What "apply" means for a file or folder in the explorer: an SLS module (web/init.sls and the web
 * folder give `web`, a/b.sls gives `a.b`), or a highstate (top.sls, the state root itself). Pure (no
 * vscode import); the module naming itself is src/sls/modules.ts.
 */
import { existsSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { moduleForFile } from '../sls/modules';

export type ApplyTarget = { kind: 'sls'; module: string } | { kind: 'highstate' } | { kind: 'none'; problem: string };

export function applyTarget(stateRoot: string, path: string, isDirectory: boolean): ApplyTarget {
  const root = resolve(stateRoot);
  const full = resolve(path);
  const rel = relative(root, full);
  const outside = rel.startsWith('..') || resolve(root, rel) !== full;
  if (outside) return { kind: 'none', problem: `${basename(full)} is not under the state root ${root}. Set saltContainers.stateRoot if your state tree lives elsewhere.` };
  if (isDirectory) {
    if (rel === '') return { kind: 'highstate' };
    const init = join(full, 'init.sls');
    const module = existsSync(init) ? moduleForFile(root, init) : undefined;
    return module ? { kind: 'sls', module } : { kind: 'none', problem: `The folder ${rel} has no init.sls, so it is not an SLS module. Apply one of its .sls files instead.` };
  }
  if (rel === 'top.sls') return { kind: 'highstate' };
  const module = moduleForFile(root, full);
  return module ? { kind: 'sls', module } : { kind: 'none', problem: `${rel} is not an SLS module (an .sls file whose path has no dots in folder names).` };
}
