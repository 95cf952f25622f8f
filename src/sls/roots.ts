/**
 * Where a workspace keeps its state tree and pillar tree. One rule for the extension and the CLI:
 * explicit settings win; else `salt/` and `pillar/` folders; else the folder that holds top.sls;
 * else the folder itself (and no pillar).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface SaltRoots {
  stateRoot: string;
  /** Undefined when the workspace has no pillar tree. */
  pillarRoot?: string;
}

const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();

export function findRoots(folder: string, explicit: { stateRoot?: string; pillarRoot?: string } = {}): SaltRoots {
  const base = resolve(folder);
  let stateRoot: string;
  if (explicit.stateRoot) stateRoot = resolve(base, explicit.stateRoot);
  else if (isDir(join(base, 'salt'))) stateRoot = join(base, 'salt');
  else if (isDir(join(base, 'srv', 'salt'))) stateRoot = join(base, 'srv', 'salt');
  else stateRoot = base;
  let pillarRoot: string | undefined;
  if (explicit.pillarRoot) pillarRoot = resolve(base, explicit.pillarRoot);
  else pillarRoot = [join(base, 'pillar'), join(base, 'srv', 'pillar')].find(isDir);
  return { stateRoot, pillarRoot };
}
