/**
 * Unpacks a tar stream from the engine (the archive API) into a folder of this machine: directories,
 * files with their modes, symlinks as they are (a Debian root's links are what the runtime build
 * follows) and hard links as copies. Names that are absolute or climb out with `..` are refused.
 */
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { extract } from 'tar-stream';

export async function extractTar(tar: NodeJS.ReadableStream, dir: string, options: { strip?: number } = {}): Promise<void> {
  const strip = options.strip ?? 0;
  const local = (name: string): string | undefined => {
    const parts = posix.normalize(name).split('/').filter((p) => p && p !== '.');
    if (name.startsWith('/') || parts.includes('..')) throw new Error(`refusing the tar entry ${name}: it leaves the folder`);
    const kept = parts.slice(strip);
    return kept.length ? join(dir, ...kept) : undefined;
  };
  const reader = extract();
  await new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        try {
          const path = local(header.name);
          if (path) {
            if (header.type === 'directory') mkdirSync(path, { recursive: true });
            else {
              mkdirSync(dirname(path), { recursive: true });
              rmSync(path, { force: true });
              if (header.type === 'symlink') symlinkSync(header.linkname!, path);
              else if (header.type === 'link') {
                const target = local(header.linkname!);
                if (target) copyFileSync(target, path);
              } else if (header.type === 'file' || header.type === 'contiguous-file') writeFileSync(path, Buffer.concat(chunks), { mode: (header.mode ?? 0o644) & 0o777 });
            }
          }
          next();
        } catch (error) {
          next(error as Error);
        }
      });
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
    tar.on('error', reject);
    tar.pipe(reader as unknown as NodeJS.WritableStream);
  });
}
