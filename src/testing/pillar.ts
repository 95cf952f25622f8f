/**
 * A suite's pillar tree on disk: its own folder, or one assembled for the run (folders copied in,
 * then files copied or written) in a temporary folder removed when the run ends.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PillarSpec } from './matrix';

export interface PillarTree {
  /** undefined: no pillar. */
  root?: string;
  dispose(): void;
}

export class PillarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PillarError';
  }
}

const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();

/** Throws PillarError naming every file or folder that is missing. */
export function pillarTree(spec: PillarSpec | undefined, fallback: string | undefined, suite: string): PillarTree {
  const none = () => undefined;
  if (!spec) return { root: fallback, dispose: none };
  if (spec.kind === 'tree') {
    // A file is a pillar tree of one module (the engine gives it to every minion).
    if (!existsSync(spec.root)) throw new PillarError(`suite ${suite}: the pillar folder or file ${spec.root} does not exist`);
    return { root: spec.root, dispose: none };
  }
  const missing = [...spec.directories.filter((d) => !isDir(d.source)).map((d) => d.source), ...spec.files.filter((f) => f.source && !existsSync(f.source)).map((f) => f.source!)];
  if (missing.length) throw new PillarError(`suite ${suite}: pillar ${missing.length > 1 ? 'sources' : 'source'} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist`);
  const root = mkdtempSync(join(tmpdir(), 'salt-containers-pillar-'));
  try {
    for (const dir of spec.directories) cpSync(dir.source, join(root, dir.dest), { recursive: true });
    for (const file of spec.files) {
      const target = join(root, file.path);
      mkdirSync(dirname(target), { recursive: true });
      if (file.source) copyFileSync(file.source, target);
      else writeFileSync(target, file.content ?? '');
    }
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return { root, dispose: () => rmSync(root, { recursive: true, force: true }) };
}
