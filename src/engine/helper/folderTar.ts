/**
 * A folder of this machine as a tar stream for the engine's archive API: its directories and files
 * with their modes, root-owned, under a prefix (the path they take in the container), with the
 * prefix's own directories first so the engine can make them.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack, type Pack } from 'tar-stream';

export function folderTar(dir: string, prefix = ''): Pack {
  const tar = pack();
  const parts = prefix.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) tar.entry({ name: parts.slice(0, i).join('/'), type: 'directory', mode: 0o755, uid: 0, gid: 0 });
  const visit = (at: string, name: string) => {
    for (const entry of readdirSync(at).sort()) {
      const path = join(at, entry);
      const stats = lstatSync(path);
      const child = name ? `${name}/${entry}` : entry;
      if (stats.isDirectory()) {
        tar.entry({ name: child, type: 'directory', mode: stats.mode & 0o777, uid: 0, gid: 0 });
        visit(path, child);
      } else if (stats.isFile()) tar.entry({ name: child, mode: stats.mode & 0o777, uid: 0, gid: 0 }, readFileSync(path));
    }
  };
  visit(dir, parts.join('/'));
  tar.finalize();
  return tar;
}
