/**
 * What helpers made, kept on the engine as images (`salt-containers-cache:KEY`, labelled), so another
 * machine on the same engine, or this one with an empty cache, copies it out instead of making it
 * again. An image appears only when its commit completes: an interrupted make leaves none. Listed and
 * removed by `salt-containers cache` and the extension's command; leftover helper containers (a
 * process killed mid-make) are removed with them.
 */
import { createHash } from 'node:crypto';
import { EngineError, type DockerEngine } from '../docker/engine';
import { extractTar } from './extract';
import { HELPER_LABEL } from './container';
import { folderTar } from './folderTar';

export const CACHE_REPOSITORY = 'salt-containers-cache';
/** Its value says what the image holds: `salt` (a thin, its bytecode, the catalogue) or `runtime`. */
export const CACHE_LABEL = 'salt-containers.cache';

export interface EngineCacheEntry {
  tag: string;
  kind: string;
  /** Bytes, as the engine counts them (shared layers of the helper image included). */
  size: number;
  /** Seconds since the epoch. */
  created: number;
  labels: Record<string, string>;
}

/** A short, stable digest of an image reference: it goes into cache keys, so another helper image makes another entry. */
export function imageKey(image: string): string {
  return createHash('sha256').update(image).digest('hex').slice(0, 10);
}

export function cacheTag(key: string): string {
  return `${CACHE_REPOSITORY}:${key}`;
}

/** The labels of the cached image `tag`, or undefined when the engine has none by that name. */
export async function cachedImage(engine: DockerEngine, tag: string): Promise<Record<string, string> | undefined> {
  try {
    const info = await engine.inspectImage(tag);
    return info.Config?.Labels ?? {};
  } catch (error) {
    if (error instanceof EngineError && error.kind === 'image-not-found') return undefined;
    throw error;
  }
}

/** Copies the directory `path` of a cached image into `localDir`, through a container that is created, never started, and removed. */
export async function copyFromCache(engine: DockerEngine, tag: string, path: string, localDir: string): Promise<void> {
  const id = await engine.createContainer(tag, { labels: { [HELPER_LABEL]: 'copy-out' } });
  try {
    await extractTar(await engine.getArchive(id, path), localDir, { strip: 1 });
  } finally {
    await engine.removeContainer(id, { force: true }).catch(() => undefined);
  }
}

/**
 * Keeps a folder of this machine on the engine as the cache image `tag`: a container of `base` (created,
 * never started) is given the folder's content at `path` and committed with the labels, then removed.
 * Only what was made goes into the image's layer, never the tools that made it.
 */
export async function keepInCache(engine: DockerEngine, base: string, localDir: string, path: string, tag: string, labels: Record<string, string>): Promise<void> {
  const id = await engine.createContainer(base, { labels: { [HELPER_LABEL]: 'keep' } });
  try {
    await engine.putArchive(id, '/', folderTar(localDir, path.replace(/^\/+/, '')));
    await engine.commit(id, tag, { Labels: { ...labels, [CACHE_LABEL]: labels[CACHE_LABEL] } }, 'made by Salt Containers');
  } finally {
    await engine.removeContainer(id, { force: true }).catch(() => undefined);
  }
}

export async function listEngineCache(engine: DockerEngine): Promise<EngineCacheEntry[]> {
  const images = await engine.listImages();
  return images
    .filter((image) => image.labels[CACHE_LABEL])
    .flatMap((image) => image.tags.filter((tag) => tag.startsWith(`${CACHE_REPOSITORY}:`)).map((tag) => ({ tag, kind: image.labels[CACHE_LABEL], size: image.size, created: image.created, labels: image.labels })))
    .sort((a, b) => a.tag.localeCompare(b.tag));
}

/** Removes the cache's images (all, or those named) and any helper container left behind; returns what went. */
export async function removeEngineCache(engine: DockerEngine, tags?: string[]): Promise<{ images: string[]; containers: string[] }> {
  const images = (await listEngineCache(engine)).map((entry) => entry.tag).filter((tag) => !tags || tags.includes(tag) || tags.includes(tag.slice(CACHE_REPOSITORY.length + 1)));
  const containers = tags ? [] : (await engine.listContainers()).filter((c) => c.labels[HELPER_LABEL]).map((c) => c.name);
  for (const name of containers) await engine.removeContainer(name, { force: true });
  for (const tag of images) await engine.removeImage(tag);
  return { images, containers };
}
