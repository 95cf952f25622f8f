/**
 * One tar per run, relative to the run's private directory: the minion config that keeps every
 * Salt path inside that directory, the state tree (file_roots), the pillar tree
 * (pillar_roots), and the state tree's custom modules (`_modules`, `_states`, `_grains`, ...) placed
 * where Salt's loader finds them without a sync. Symlinks that lead outside a root are not followed.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join, type PlatformPath } from 'node:path';
import { hostPath, isUnder, partsBelow, SKIPPED_DIRS } from '../sls/modules';
import { pack, type Pack } from 'tar-stream';
import type { SaltTree, TreeOverlay } from './spec';

export interface BundleSpec {
  /** The run directory's absolute path in the container, or RUN_DIR_MARK for the entry point to fill in. */
  runDir: string;
  /** Salt's cachedir (salt:// copies, downloads...): absolute, or CACHE_DIR_MARK for the entry point to fill in. */
  cacheDir: string;
  tree: SaltTree;
  minionId: string;
  saltenv: string;
}

export interface TreeFile {
  /** Path relative to its root, with forward slashes. */
  path: string;
  absolute: string;
  mode: number;
}

/** A file's name in the tar: below the root, with forward slashes whatever the host's separator (`web\init.sls` is `web/init.sls`). */
export function treePath(root: string, file: string, path: PlatformPath = hostPath): string {
  const parts = partsBelow(root, file, path);
  if (!parts) throw new Error(`${file} is not below ${root}`);
  return parts.join('/');
}

/** Files under root (following symlinks that stay inside it), skipping SKIPPED_DIRS. */
export function listTree(root: string): TreeFile[] {
  const realRoot = realpathSync(root);
  const files: TreeFile[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const absolute = join(dir, name);
      let stats = lstatSync(absolute);
      if (stats.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(absolute);
        } catch {
          continue; // dangling
        }
        if (!isUnder(realRoot, target)) continue; // leads outside the root
        stats = statSync(absolute);
      }
      if (stats.isDirectory()) {
        if (!SKIPPED_DIRS.has(name)) visit(absolute);
      } else if (stats.isFile()) {
        files.push({ path: treePath(root, absolute), absolute, mode: stats.mode & 0o777 });
      }
    }
  };
  visit(root);
  return files;
}

export function minionConfig(spec: BundleSpec): Record<string, unknown> {
  const dir = spec.runDir;
  const envs = [...new Set(['base', spec.saltenv])];
  return {
    id: spec.minionId,
    file_client: 'local',
    // No root_dir: Salt would put it in front of every path outside it, the cachedir on disk included.
    cachedir: spec.cacheDir,
    extension_modules: `${dir}/extmods`,
    pki_dir: `${dir}/pki`,
    sock_dir: `${dir}/sock`,
    log_file: `${dir}/log`,
    // Errors only: the entry point hands the log back (salt/scripts.ts SALT_LOG), and a render failure's
    // reason is logged there at CRITICAL (a pillar's, only there).
    log_level_logfile: 'error',
    file_roots: Object.fromEntries(envs.map((env) => [env, [`${dir}/states`]])),
    pillar_roots: Object.fromEntries(envs.map((env) => [env, [`${dir}/pillar`]])),
    saltenv: spec.saltenv,
    // fqdns does reverse DNS lookups of every address: seconds of waiting in a container without network.
    enable_fqdns_grains: false,
    grains_cache: false,
  };
}

function addFile(tar: Pack, name: string, content: string | Buffer, mode = 0o644): Promise<void> {
  return new Promise((resolve, reject) => tar.entry({ name, mode, uid: 0, gid: 0, mtime: new Date() }, content, (error) => (error ? reject(error) : resolve())));
}

function addDir(tar: Pack, name: string, mode = 0o755): Promise<void> {
  return new Promise((resolve, reject) => tar.entry({ name, type: 'directory', mode, uid: 0, gid: 0, mtime: new Date() }, (error) => (error ? reject(error) : resolve())));
}

/** A tree file where the run directory has it: `states/web/init.sls`, `pillar/top.sls`, `extmods/modules/x.py`. */
export interface BundleEntry extends TreeFile {
  name: string;
  /** Written as is instead of read from `absolute` (which then only says when it changes). */
  content?: Buffer;
  /** The content is an overlay's text (an unsaved buffer), not the file's. */
  overlaid?: boolean;
}

/**
 * A pillar file (a formula's pillar.example) as a pillar tree: the file as one module and a top.sls
 * that gives it to every minion, which is what a formula's own CI writes by hand.
 */
export function pillarFileEntries(file: string): BundleEntry[] {
  const module = basename(file).replace(/\.sls$/, '').replace(/[^A-Za-z0-9_-]/g, '_') || 'pillar';
  const mode = statSync(file).mode & 0o777;
  const top = Buffer.from(`base:\n  '*':\n    - ${module}\n`);
  return [
    { path: `${module}.sls`, absolute: file, mode, name: `pillar/${module}.sls` },
    { path: 'top.sls', absolute: file, mode: 0o644, name: 'pillar/top.sls', content: top },
  ];
}

/** Folders of custom modules a state tree may have (`_modules`, `_states`, ...): Salt's loader kinds. */
const CUSTOM_DIR = /^_[a-z_]+$/;

/**
 * The trees' files as the bundle places them (a custom module is there twice: in states/ and in
 * extmods/). Other formulas' files come first, so the tree's own win where both have a path.
 */
export function bundleEntries(tree: SaltTree): BundleEntry[] {
  const byName = new Map<string, BundleEntry>();
  const add = (file: TreeFile, path: string) => {
    byName.set(`states/${path}`, { ...file, path, name: `states/${path}` });
    // `_modules/x.py` -> extmods/modules/x.py: what saltutil.sync_all would do, without its exec.
    const custom = /^_([a-z_]+)\/(.+)$/.exec(path);
    if (custom) byName.set(`extmods/${custom[1]}/${custom[2]}`, { ...file, path, name: `extmods/${custom[1]}/${custom[2]}` });
  };
  for (const formula of tree.formulas ?? []) {
    const dirs = [formula.name, ...readdirSync(formula.root).filter((d) => CUSTOM_DIR.test(d) && statSync(join(formula.root, d)).isDirectory())];
    for (const dir of dirs) for (const file of listTree(join(formula.root, dir))) add(file, `${dir}/${file.path}`);
  }
  for (const file of listTree(tree.stateRoot)) add(file, file.path);
  const entries = [...byName.values()];
  if (tree.pillarRoot && statSync(tree.pillarRoot).isFile()) entries.push(...pillarFileEntries(tree.pillarRoot));
  else if (tree.pillarRoot) for (const file of listTree(tree.pillarRoot)) entries.push({ ...file, name: `pillar/${file.path}` });
  return entries;
}

/** The entries with the overlay's texts in place of their files' (the files themselves are not read). */
export function overlaid(entries: BundleEntry[], overlay: TreeOverlay | undefined): BundleEntry[] {
  if (!overlay?.size) return entries;
  return entries.map((entry) => {
    const text = entry.content ? undefined : overlay.get(entry.absolute);
    return text === undefined ? entry : { ...entry, content: Buffer.from(text, 'utf8'), overlaid: true };
  });
}

/** A tar of bundle entries (what a warm session is sent of the files that changed). */
export function entriesTar(entries: readonly BundleEntry[], before: (tar: Pack) => Promise<void> = async () => undefined): Pack {
  const tar = pack();
  (async () => {
    await before(tar);
    for (const entry of entries) await addFile(tar, entry.name, entry.content ?? readFileSync(entry.absolute), entry.mode);
    tar.finalize();
  })().catch((error) => tar.destroy(error));
  return tar;
}

/** The run's tar, to be unpacked in the run directory. */
export function bundleTar(spec: BundleSpec, entries: readonly BundleEntry[] = bundleEntries(spec.tree)): Pack {
  return entriesTar(entries, async (tar) => {
    for (const sub of ['conf', 'states', 'pillar', 'extmods']) await addDir(tar, sub);
    // JSON is YAML: no YAML library needed to write the config.
    await addFile(tar, 'conf/minion', JSON.stringify(minionConfig(spec), null, 1));
  });
}

/** The run's tar in memory (the engine announces its size before sending it). */
export function bundleBytes(spec: BundleSpec, entries?: readonly BundleEntry[]): Promise<Buffer> {
  return tarBytes(bundleTar(spec, entries));
}

/** A tar-stream pack, whole, in memory. */
export async function tarBytes(tar: Pack): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
