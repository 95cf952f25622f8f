/**
 * Build: base image -> keep-alive container -> apply -> commit with the base image's config -> remove.
 * The image gets the states' effect and nothing of Salt; it keeps the base image's Cmd, Entrypoint,
 * Env, WorkingDir, User, ExposedPorts and Labels (plus labels naming the SLS and the Salt version).
 */
import { randomBytes } from 'node:crypto';
import { EngineError, type CreateOptions, type DockerEngine, type ImageConfig } from './docker/engine';
import { MISSING_COMMAND, runErrorOf } from './docker/errors';
import type { PullProgress } from './docker/pull';
import type { BuildRun, RunError, StateRun } from './results/model';
import type { BuildOptions, SaltTree } from './spec';

/** Labels a built image carries. */
export const BUILD_LABELS = { sls: 'io.salt-containers.sls', saltVersion: 'io.salt-containers.salt-version', baseImage: 'io.salt-containers.base-image' } as const;

/** Ways to keep a container up whatever its image does: sleep (coreutils, busybox), else the image's Python. */
const KEEP_ALIVE = [
  ['sleep', 'infinity'],
  ['python3', '-c', 'import signal; signal.pause()'],
];

/**
 * A started container from `image` that stays up whatever its image does: its entrypoint replaced by
 * the first of `commands` the image has; undefined when it has none of them. Any other engine error
 * (no such image, the engine refusing the container's settings) is thrown, the container removed.
 */
export async function startKeptAlive(
  engine: DockerEngine,
  image: string,
  options: Omit<CreateOptions, 'keepAlive'> = {},
  log: (line: string) => void = () => undefined,
  commands: readonly string[][] = KEEP_ALIVE,
): Promise<string | undefined> {
  for (const keepAlive of commands) {
    const id = await engine.createContainer(image, { ...options, keepAlive });
    try {
      log(`keep-alive container ${id.slice(0, 12)} from ${image} (${keepAlive.join(' ')})`);
      await engine.startContainer(id);
      return id;
    } catch (error) {
      await engine.removeContainer(id, { force: true }).catch(() => undefined);
      // Only a keep-alive command the image lacks means "try the next"; any other failure to start
      // (limits, permissions, the runtime) is the engine's, and is reported as it is.
      const e = engine.translate(error);
      if (!MISSING_COMMAND.test(e.message)) throw e;
      log(`${keepAlive[0]} is not in ${image}: ${e.message}`);
    }
  }
  return undefined;
}

/**
 * The build container's name: `salt-containers-build-TAG-RANDOM`, the minion id of the run. A name,
 * not a label: the engine's commit keeps the container's labels in the image (Docker merges them,
 * Podman too), and the image must carry nothing of the build.
 */
export function buildContainerName(tag: string): string {
  return `${buildContainerPrefix(tag)}${randomBytes(3).toString('hex')}`;
}

/** What every build container of `tag` is named with first. */
export function buildContainerPrefix(tag: string): string {
  return `salt-containers-build-${tag.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 80)}-`;
}

/** `repo:tag` -> `repo:tag-failed`; a repo without a tag gets `latest-failed`. */
export function failedTag(tag: string): string {
  const colon = tag.lastIndexOf(':');
  return colon > tag.lastIndexOf('/') ? `${tag}-failed` : `${tag}:latest-failed`;
}

export type ApplyFn = (container: string, mods: string[], tree: SaltTree, options: BuildOptions) => Promise<StateRun>;

export async function buildImage(engine: DockerEngine, apply: ApplyFn, mods: string[], tree: SaltTree, options: BuildOptions): Promise<BuildRun> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const fail = (error: RunError, run?: StateRun): BuildRun => ({
    ...(run ?? { mods, highstate: false, test: options.test ?? false, states: [], durationMs: 0 }),
    kind: 'build',
    baseImage: options.baseImage,
    retcode: 1,
    errors: [...(run?.errors ?? []), error],
    durationMs: Date.now() - started,
  });
  options.onStage?.('preparing');
  let base: Awaited<ReturnType<DockerEngine['inspectImage']>>;
  try {
    // A base image the engine lacks is pulled, as `docker build` and `docker run` do; it stays after the build.
    const onProgress = (progress: PullProgress) => {
      if (progress.phase === 'starting') options.onStage?.('pulling');
      options.onPull?.(progress);
    };
    base = (await engine.ensureImage(options.baseImage, { signal: options.signal, onProgress, log: (line) => log(`build: ${line}`) })).info;
  } catch (error) {
    return fail(runErrorOf(engine.translate(error, { image: options.baseImage })));
  }
  let containerId: string | undefined;
  try {
    containerId = await startKeptAlive(engine, options.baseImage, { name: buildContainerName(options.tag) }, (line) => log(`build: ${line}`));
    if (!containerId) {
      return fail({
        kind: 'salt',
        message: `image ${options.baseImage} has neither sleep nor python3 to keep the build container running`,
        hint: 'Build from an image with a sleep command (coreutils or busybox), e.g. one that adds busybox-static.',
      });
    }
    const run = await apply(containerId, mods, tree, options);
    const failed = run.retcode !== 0;
    const result: BuildRun = { ...run, kind: 'build', baseImage: options.baseImage, durationMs: 0 };
    if (options.test || options.signal?.aborted || (failed && !options.commitOnFailure) || run.states.length === 0) {
      result.durationMs = Date.now() - started;
      if (!options.test && !failed && run.states.length === 0) {
        result.retcode = 1;
        result.errors = [...result.errors, { kind: 'salt', message: 'no states ran: nothing to build', hint: 'Check the SLS names.' }];
      }
      return result;
    }
    options.onStage?.('committing');
    const tag = failed ? failedTag(options.tag) : options.tag;
    const config: ImageConfig = {
      // An explicit [] (not null): the engine fills null fields from the container, i.e. the keep-alive.
      Cmd: base.Config.Cmd ?? [],
      Entrypoint: (base.Config.Entrypoint as string[] | null | undefined) ?? [],
      Env: base.Config.Env ?? null,
      WorkingDir: base.Config.WorkingDir ?? '',
      User: base.Config.User ?? '',
      ExposedPorts: base.Config.ExposedPorts ?? null,
      Volumes: base.Config.Volumes ?? null,
      Labels: {
        ...(base.Config.Labels ?? {}),
        [BUILD_LABELS.sls]: mods.join(','),
        [BUILD_LABELS.saltVersion]: run.saltVersion ?? '',
        [BUILD_LABELS.baseImage]: options.baseImage,
      },
    };
    log(`build: commit ${containerId.slice(0, 12)} -> ${tag} with the base image's config ${JSON.stringify(config)}`);
    const id = await engine.commit(containerId, tag, config, `salt-containers: ${mods.join(',')} on ${options.baseImage}`);
    result.image = { id, tag, failed };
    if (failed) result.errors = [...result.errors, { kind: 'salt', message: `a state failed: the run was committed for inspection as ${tag}`, hint: `Inspect it with: docker run --rm -it ${tag} sh` }];
    result.durationMs = Date.now() - started;
    return result;
  } catch (error) {
    return fail(runErrorOf(error instanceof EngineError ? error : new EngineError('engine', (error as Error).message)));
  } finally {
    if (containerId) {
      options.onStage?.('cleaning');
      await engine.removeContainer(containerId, { force: true }).catch((error) => log(`build: could not remove ${containerId}: ${(error as Error).message}`));
    }
  }
}
