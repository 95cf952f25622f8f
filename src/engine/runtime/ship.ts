/**
 * Puts the bundled runtime into a container for one run, with nothing needed in the container: the
 * engine's archive upload (PUT /containers/ID/archive) unpacks it into a directory of its own on the
 * container's root filesystem, the one place an ELF file can run from (Docker mounts /dev/shm and
 * tmpfs noexec, and an upload into a mount silently lands beside it, moby#22020). The interpreter's
 * PT_INTERP gets that directory's loader, so every process started from sys.executable finds it too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import type Docker from 'dockerode';
import type { DockerEngine } from '../docker/engine';
import { LOADER_PLACEHOLDER, type BundledRuntime } from './build';
import { runtimePlaces } from './choose';

/** The interpreter's bytes with PT_INTERP naming the loader at `loaderPath` (NUL-padded to the placeholder's length). */
export function interpreterFor(runtime: BundledRuntime, loaderPath: string): Buffer {
  if (Buffer.byteLength(loaderPath) > LOADER_PLACEHOLDER.length) throw new Error(`the runtime's path is too long for its interpreter: ${loaderPath}`);
  const bytes = readFileSync(join(runtime.root, runtime.interpreter));
  if (bytes.toString('latin1', runtime.placeholderOffset, runtime.placeholderOffset + LOADER_PLACEHOLDER.length) !== LOADER_PLACEHOLDER) {
    throw new Error(`the runtime's interpreter in ${runtime.root} was changed: remove that runtime from the cache`);
  }
  bytes.fill(0, runtime.placeholderOffset, runtime.placeholderOffset + LOADER_PLACEHOLDER.length);
  bytes.write(loaderPath, runtime.placeholderOffset, 'latin1');
  return bytes;
}

/**
 * The runtime as a tar that unpacks into `dir` (absolute in the container) from its parent: `dir`
 * itself, its directories (0755: processes Salt starts as another user run it too), its files.
 */
export function runtimeTar(runtime: BundledRuntime, dir: string): NodeJS.ReadableStream {
  const top = dir.slice(dir.lastIndexOf('/') + 1);
  const tar = pack();
  const entry = (header: Parameters<typeof tar.entry>[0], body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (body === undefined) tar.entry(header, done);
      else tar.entry(header, body, done);
    });
  const mtime = new Date();
  (async () => {
    const dirs = new Set<string>(['']);
    await entry({ name: top, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime });
    for (const file of runtime.files) {
      const parts = file.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const sub = parts.slice(0, i).join('/');
        if (dirs.has(sub)) continue;
        dirs.add(sub);
        await entry({ name: `${top}/${sub}`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime });
      }
      const header = { name: `${top}/${file.path}`, mode: file.mode, uid: 0, gid: 0, mtime, size: file.size };
      if (file.path === runtime.interpreter) await entry(header, interpreterFor(runtime, `${dir}/${runtime.loader}`));
      else await entry(header, readFileSync(join(runtime.root, file.path)));
    }
    tar.finalize();
  })().catch((error: Error) => tar.destroy(error));
  return tar as unknown as NodeJS.ReadableStream;
}

/** A runtime unpacked in a container for one run. */
export interface ShippedRuntime {
  /** Its directory in the container. */
  dir: string;
  /** The interpreter, absolute in the container. */
  python: string;
}

/**
 * Uploads the runtime into `parent/name` in a running or created container. The upload is not
 * cancellable: it takes a fraction of a second, and a half-written runtime could not remove itself.
 */
export async function shipRuntime(engine: DockerEngine, containerId: string, runtime: BundledRuntime, parent: string, name: string): Promise<ShippedRuntime> {
  const dir = `${parent === '/' ? '' : parent}/${name}`;
  await engine.putArchive(containerId, parent, runtimeTar(runtime, dir));
  return { dir, python: `${dir}/${runtime.interpreter}` };
}

/**
 * Ships the runtime into the first place runtimePlaces allows that is a directory of the container
 * (asked of the engine: nothing runs in the container). Else says why not: a read-only root
 * filesystem, or none of the places there.
 */
export async function placeRuntime(
  engine: DockerEngine,
  details: Pick<Docker.ContainerInspectInfo, 'Id' | 'Mounts' | 'HostConfig'>,
  runtime: BundledRuntime,
  name: string,
): Promise<ShippedRuntime | { readOnly: true } | { tried: string[] }> {
  const places = runtimePlaces(details);
  if ('readOnly' in places) return places;
  for (const parent of places.parents) {
    const stat = await engine.statPath(details.Id, parent);
    if (stat?.isDirectory && !stat.linkTarget) return shipRuntime(engine, details.Id, runtime, parent, name);
  }
  return { tried: places.parents };
}
