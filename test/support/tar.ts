/** Reading tars in tests: what a bundle or a cached thin holds. */
import { extract } from 'tar-stream';

export interface TarEntry {
  type: string;
  data: Buffer;
}

/** Every entry of a tar stream (a Node stream or tar-stream's pack), by name, with its content. */
export async function readTar(tar: { pipe(destination: NodeJS.WritableStream): unknown }): Promise<Map<string, TarEntry>> {
  const found = new Map<string, TarEntry>();
  const reader = extract();
  await new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        found.set(header.name, { type: header.type ?? 'file', data: Buffer.concat(chunks) });
        next();
      });
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
    tar.pipe(reader as unknown as NodeJS.WritableStream);
  });
  return found;
}
