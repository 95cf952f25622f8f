/**
 * SLS module names <-> files under a state root: `web/init.sls` is `web`, `a/b.sls` is `a.b`;
 * `a.b` is found as `a/b.sls` or `a/b/init.sls`; relative includes (`.foo`, `..foo`) resolve against
 * the including module's package. Also how paths are compared: the functions on paths take the path
 * flavour (default the host's), so Windows paths (drive letters, backslashes, any case) are tested anywhere.
 */
import { existsSync } from 'node:fs';
import { posix, sep, win32, type PlatformPath } from 'node:path';

/** This machine's paths. */
export const hostPath: PlatformPath = sep === '\\' ? win32 : posix;

/**
 * The parts of `file` below `root` (['web', 'init.sls']), or undefined when it is not below it: outside,
 * the root itself, or on another drive (Windows' relative() gives an absolute path then). Windows
 * compares without case, as its file systems do.
 */
export function partsBelow(root: string, file: string, path: PlatformPath = hostPath): string[] | undefined {
  const rel = path.relative(root, file);
  if (!rel || path.isAbsolute(rel) || rel === '..' || rel.startsWith(`..${path.sep}`)) return undefined;
  return rel.split(path.sep);
}

/**
 * Folders of pillar data inside a state tree (a formula's `test/salt/pillar/`; `_pillar/`, Salt's folder
 * for pillar modules, which formulas also use for pillar SLS such as openssh-formula's `#!py` one):
 * their .sls files are not states.
 */
export const PILLAR_DIRS: ReadonlySet<string> = new Set(['pillar', 'pillars', '_pillar']);

/**
 * A file of the state tree under `root` that holds pillar data, not states: below a pillar folder
 * (kitchen suites' `test/salt/pillar/`), or a pillar top file beside the states. Salt never applies
 * it, so nothing here renders, applies or checks it as a state module.
 */
export function isPillarDataFile(root: string, file: string): boolean {
  const parts = partsBelow(root, file) ?? [];
  return parts.slice(0, -1).some((dir) => PILLAR_DIRS.has(dir)) || /^pillar[_-]top\.sls$/.test(parts[parts.length - 1] ?? '');
}

/** Whether `file` is `root` or below it. */
export function isUnder(root: string, file: string, path: PlatformPath = hostPath): boolean {
  return path.relative(root, file) === '' || partsBelow(root, file, path) !== undefined;
}

/** Folders never shipped: version control, editor state, dependency trees, Test Kitchen's state. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['.git', '.hg', '.svn', '.vscode', '.idea', 'node_modules', '__pycache__', '.venv', '.kitchen']);

/**
 * One spelling per file for keys and comparisons: on Windows the drive letter in lower case, as VS Code
 * spells it (`c:\salt`), whether the path came from a URI, a setting or the current folder.
 */
export function canonicalPath(file: string, path: PlatformPath = hostPath): string {
  return path === win32 ? file.replace(/^([A-Z]):/, (_, drive: string) => `${drive.toLowerCase()}:`) : file;
}

/** The dotted module name of an .sls file under stateRoot, or undefined when it is outside it or not an .sls. */
export function moduleForFile(stateRoot: string, file: string, path: PlatformPath = hostPath): string | undefined {
  const parts = partsBelow(stateRoot, file, path);
  const last = parts?.[parts.length - 1];
  if (!parts || !last?.endsWith('.sls')) return undefined;
  parts[parts.length - 1] = last.slice(0, -'.sls'.length);
  if (parts[parts.length - 1] === 'init') parts.pop();
  if (parts.length === 0 || parts.some((p) => p === '' || p.includes('.'))) return undefined;
  return parts.join('.');
}

/** The files a module name may live in, in Salt's order of preference. */
export function candidateFiles(stateRoot: string, module: string, path: PlatformPath = hostPath): string[] {
  const base = path.join(stateRoot, ...module.split('.'));
  return [`${base}.sls`, path.join(base, 'init.sls')];
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
