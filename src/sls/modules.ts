/**
 * SLS module names <-> files under a state root: `web/init.sls` is `web`, `a/b.sls` is `a.b`;
 * `a.b` is found as `a/b.sls` or `a/b/init.sls`; relative includes (`.foo`, `..foo`) resolve against
 * the including module's package.
 */
import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** The dotted module name of an .sls file under stateRoot, or undefined when it is outside it or not an .sls. */
export function moduleForFile(stateRoot: string, file: string): string | undefined {
  const rel = relative(stateRoot, file);
  if (!rel || rel.startsWith('..') || !rel.endsWith('.sls')) return undefined;
  const parts = rel.slice(0, -'.sls'.length).split(sep);
  if (parts[parts.length - 1] === 'init') parts.pop();
  if (parts.length === 0 || parts.some((p) => p === '' || p.includes('.'))) return undefined;
  return parts.join('.');
}

/** The files a module name may live in, in Salt's order of preference. */
export function candidateFiles(stateRoot: string, module: string): string[] {
  const path = join(stateRoot, ...module.split('.'));
  return [`${path}.sls`, join(path, 'init.sls')];
}

/** The file that defines module under stateRoot, or undefined when none exists. */
export function fileForModule(stateRoot: string, module: string): string | undefined {
  return candidateFiles(stateRoot, module).find((f) => existsSync(f));
}

/**
 * Resolves an include entry as Salt does: a `saltenv:` prefix names the environment, not the module;
 * `.foo` is relative to the including module's package (for `a.b` defined in a/b.sls that is `a`, for
 * a/b/init.sls it is `a.b`), each extra dot goes up.
 */
export function resolveInclude(entry: string, including: { module: string; isInit: boolean }): string {
  const name = entry.replace(/^[\w-]+:(?!\/)/, '');
  const match = /^(\.+)(.*)$/.exec(name);
  if (!match) return name;
  const dots = match[1].length;
  const pkg = including.module.split('.');
  if (!including.isInit) pkg.pop();
  const base = pkg.slice(0, Math.max(0, pkg.length - (dots - 1)));
  return [...base, match[2]].filter((p) => p !== '').join('.');
}
