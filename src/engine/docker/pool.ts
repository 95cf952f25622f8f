/**
 * Several engines as one place to run cells (a state-test matrix spread over engines). Opened with
 * engine names as a matrix file gives them (`default`: the engine the CLI would use; a context's
 * name; an address), it resolves and asks each, and reports the ones that do not answer. For each
 * cell, `place(image)` picks the reachable engine with the fewest running cells that has the image
 * or can be given it (docker save/load through the API, from an engine that has it; an image none has
 * is pulled from its registry by the engine chosen first, as `docker run` would), brings the image there
 * when needed (once per engine, however many cells wait for it), and counts the cell as running there
 * until it is released. An engine that fails under a cell can be marked unreachable:
 * it gets no more cells, and the cell can be placed again elsewhere.
 */
import { resolveEngineName, type EngineSelection, type ResolveOptions } from './contexts';
import { DockerEngine, type EngineProduct } from './engine';
import { describeEndpoint, sameEndpoint } from './endpoint';
import { EngineError } from './errors';
import { isPullable, parseImageRef, registryLabel, type PullProgress } from './pull';

export interface PoolOptions extends ResolveOptions {
  /** What `default` is: the CLI's --host or --context (else the docker CLI's own choice). */
  selection?: EngineSelection;
  /** How long each engine has to answer when the pool opens. Default 10 s. */
  pingTimeoutMs?: number;
  /** Each decision and transfer, for --debug. */
  log?: (line: string) => void;
  /** A pull's progress on the engine named (an image no engine has comes from its registry). */
  onPull?: (progress: PullProgress, engine: string) => void;
}

export interface PoolEngine {
  /** The name it was given: 'default', a context's name, or an address. */
  readonly name: string;
  readonly engine: DockerEngine;
  readonly product: EngineProduct;
  /** Cells running there now. */
  running: number;
  /** Cells placed there so far. */
  placed: number;
  /** Images brought there by save/load (from another engine) or pulled (from a registry), with how long each took. */
  readonly transfers: ({ image: string } & Transfer)[];
}

export interface UnreachableEngine {
  name: string;
  /** Where it is, when the name resolved. */
  address?: string;
  error: EngineError;
}

/** How an image came to an engine: copied from another engine, or pulled from its registry (`from` names it then). */
export interface Transfer {
  from: string;
  durationMs: number;
  pulled?: boolean;
}

export interface Placement {
  /** The engine's name as given (what a cell reports as its `engine`). */
  readonly name: string;
  readonly engine: DockerEngine;
  /** Set when the image had to be brought for this cell (or for another cell waiting on the same copy). */
  readonly transfer?: Transfer;
  /** The cell is done (idempotent): the engine counts one running cell less. */
  release(): void;
}

export interface PlaceOptions {
  signal?: AbortSignal;
  /** Engines not to use for this cell (e.g. the one it just failed on). */
  exclude?: string[];
}

/** The candidate a cell goes to: fewest running cells, then one that has the image, then the order given. */
export function pickEngine<T extends { running: number }>(candidates: { member: T; hasImage: boolean }[]): T | undefined {
  let best: { member: T; hasImage: boolean } | undefined;
  for (const candidate of candidates) {
    if (!best || candidate.member.running < best.member.running || (candidate.member.running === best.member.running && candidate.hasImage && !best.hasImage)) best = candidate;
  }
  return best?.member;
}

interface Member extends PoolEngine {
  /** Per image: whether the engine has it (a pending copy counts as having it: cells wait for the copy). */
  images: Map<string, Promise<boolean>>;
  /** Per image: the copy (or pull) made, or being made, to this engine. */
  copies: Map<string, Promise<Transfer | undefined>>;
}

export class EnginePool {
  private readonly members: Member[];
  readonly unreachable: UnreachableEngine[];
  private readonly log: (line: string) => void;
  private readonly options: PoolOptions;
  /** Pulls that failed (not found, refused, no route): the image's next cells fail with the same error at once. */
  private readonly failedPulls = new Map<string, EngineError>();
  /** The pull under way for an image none of the engines had. */
  private readonly pulls = new Map<string, Promise<unknown>>();

  private constructor(members: Member[], unreachable: UnreachableEngine[], options: PoolOptions) {
    this.members = members;
    this.unreachable = unreachable;
    this.log = options.log ?? (() => undefined);
    this.options = options;
  }

  /** Resolves and asks every engine named; never throws for an engine (see `unreachable`). */
  static async open(names: string[], options: PoolOptions = {}): Promise<EnginePool> {
    const log = options.log ?? (() => undefined);
    const timeout = options.pingTimeoutMs ?? 10_000;
    const unreachable: UnreachableEngine[] = [];
    const resolved: { name: string; engine: DockerEngine }[] = [];
    for (const name of [...new Set(names)]) {
      try {
        const endpoint = resolveEngineName(name, options.selection, options);
        const twin = resolved.find((r) => sameEndpoint(r.engine.endpoint, endpoint));
        if (twin) {
          log(`engines: ${name} is the same engine as ${twin.name} (${describeEndpoint(endpoint)}): used once`);
          continue;
        }
        resolved.push({ name, engine: new DockerEngine({ endpoint }) });
      } catch (error) {
        if (!(error instanceof EngineError)) throw error;
        unreachable.push({ name, error });
      }
    }
    const answers = await Promise.all(resolved.map(({ engine }) => identifyWithin(engine, timeout)));
    const members: Member[] = [];
    resolved.forEach(({ name, engine }, i) => {
      const answer = answers[i];
      if (answer instanceof EngineError) {
        unreachable.push({ name, address: engine.address, error: answer });
        log(`engines: ${name} (${engine.address}) left out: ${answer.message}`);
      } else {
        members.push({ name, engine, product: answer, running: 0, placed: 0, transfers: [], images: new Map(), copies: new Map() });
        log(`engines: ${name} is ${answer.name} ${answer.version} at ${engine.address}`);
      }
    });
    return new EnginePool(members, unreachable, options);
  }

  /** The engines that answer, in the order named. */
  get engines(): readonly PoolEngine[] {
    return this.members;
  }

  /** An engine failed under a cell: it is reported with the unreachable ones and gets no more cells. */
  markUnreachable(name: string, error: EngineError): void {
    const index = this.members.findIndex((m) => m.name === name);
    if (index < 0) return;
    const [member] = this.members.splice(index, 1);
    this.unreachable.push({ name, address: member.engine.address, error });
    this.log(`engines: ${name} left out: ${error.message}`);
  }

  /**
   * Places a cell that needs `image`: the reachable engine with the fewest running cells that has the
   * image or can be given it, the image brought there first when it must be (copied from an engine that
   * has it, else pulled from its registry). Throws EngineError when no engine answers, or the image can
   * be had from nowhere (the pull's error says why).
   */
  async place(image: string, options: PlaceOptions = {}): Promise<Placement> {
    // Each failed attempt leaves an engine out, so this ends.
    for (;;) {
      const known = await Promise.all(this.members.map(async (m) => ({ member: m, hasImage: await this.has(m, image) })));
      const live = known.filter((k) => this.members.includes(k.member)); // asking may have left one out
      const holders = live.filter((k) => k.hasImage).map((k) => k.member);
      const candidates = live.filter((k) => !options.exclude?.includes(k.member.name));
      if (candidates.length === 0) throw this.noEngine(options.exclude);
      if (holders.length === 0) {
        if (!isPullable(image)) throw new EngineError('image-not-found', `image ${image} is on none of the engines (${this.members.map((m) => m.name).join(', ')})`, 'Build or load it on one of them: it is copied from there to the others.');
        const failed = this.failedPulls.get(image);
        if (failed) throw failed;
        // One engine pulls it (for the cell that came first); the others wait, then copy it from there.
        const pulling = this.pulls.get(image);
        if (pulling) {
          await pulling.catch(() => undefined);
          continue;
        }
      }
      // Chosen and counted with no await in between: cells placed at the same time spread out.
      const chosen = pickEngine(candidates)!;
      chosen.running++;
      chosen.placed++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        chosen.running--;
      };
      const engines = this.members.length;
      try {
        const transfer = await this.bring(chosen, image, holders.filter((m) => m !== chosen), options.signal);
        this.log(`engines: a cell with ${image} goes to ${chosen.name} (${chosen.running} running there)${transfer ? `, the image ${transfer.pulled ? 'pulled' : 'brought'} from ${transfer.from} in ${transfer.durationMs} ms` : ''}`);
        return { name: chosen.name, engine: chosen.engine, transfer, release };
      } catch (error) {
        release();
        chosen.placed--;
        // An engine that stopped answering was left out (bring says which): the cell goes elsewhere.
        if (error instanceof EngineError && error.kind === 'engine-unreachable' && !options.signal?.aborted && this.members.length < engines) continue;
        throw error;
      }
    }
  }

  /**
   * The pool as the matrix runner's EngineProvider (src/testing: `acquire(cell, signal)` -> a lease with
   * `engine`, `name`, `release()`): `pool.provider((cell) => cell.image.image)`.
   */
  provider<Cell>(imageOf: (cell: Cell) => string): { acquire(cell: Cell, signal?: AbortSignal): Promise<Placement> } {
    return { acquire: (cell, signal) => this.place(imageOf(cell), { signal }) };
  }

  /** Pulls the image on the engine (its progress to onPull); a failure other than a cancel is remembered for the image's other cells. */
  private async pull(target: Member, image: string, signal?: AbortSignal): Promise<Transfer> {
    this.log(`engines: ${image} is on none of the engines: pulling it on ${target.name}`);
    try {
      const done = await target.engine.pullImage(image, { signal, env: this.options.env, log: this.log, onProgress: (progress) => this.options.onPull?.(progress, target.name) });
      const transfer = { from: registryLabel(parseImageRef(image).registry), durationMs: done.durationMs, pulled: true };
      target.transfers.push({ image, ...transfer });
      target.copies.set(image, Promise.resolve(undefined)); // later cells find the image there
      return transfer;
    } catch (error) {
      if (error instanceof EngineError && error.kind !== 'cancelled' && error.kind !== 'engine-unreachable') this.failedPulls.set(image, error);
      throw error;
    }
  }

  private noEngine(exclude?: string[]): EngineError {
    const why = this.unreachable.map((u) => `${u.name}: ${u.error.message}`).join('; ');
    return new EngineError('engine-unreachable', `no engine to run on${exclude?.length ? ` besides ${exclude.join(', ')}` : ''}${why ? ` (${why})` : ''}`, 'Start one of the engines, or name others in the matrix file\'s engines:.');
  }

  private has(member: Member, image: string): Promise<boolean> {
    let known = member.images.get(image);
    if (!known) {
      known = member.engine.inspectImage(image).then(
        () => true,
        (error: unknown) => {
          if (error instanceof EngineError && error.kind === 'image-not-found') return false;
          if (error instanceof EngineError && error.kind === 'engine-unreachable') this.markUnreachable(member.name, error);
          member.images.delete(image); // ask again next time
          return false;
        },
      );
      member.images.set(image, known);
    }
    return known;
  }

  /**
   * The image on the chosen engine: there already, on its way (the cell waits for that copy), copied
   * now from a holder, or pulled from its registry when no engine has it (once: cells placed meanwhile
   * wait for that pull, then copy the image from there, so every engine runs the same image). Decided
   * with no await before the copy is recorded, so one copy serves all cells.
   */
  private bring(target: Member, image: string, holders: Member[], signal?: AbortSignal): Promise<Placement['transfer']> {
    const underway = target.copies.get(image);
    if (underway) return underway;
    const had = target.images.get(image) ?? Promise.resolve(false);
    // Whichever engine stops answering is left out; the caller places the cell again.
    const leaveOut = (member: Member) => (error: unknown) => {
      if (error instanceof EngineError && error.kind === 'engine-unreachable') this.markUnreachable(member.name, error);
      throw error;
    };
    const copy = (async (): Promise<Transfer | undefined> => {
      if (await had) return undefined;
      if (holders.length === 0) return this.pull(target, image, signal).catch(leaveOut(target));
      const source = [...holders].sort((a, b) => a.running - b.running)[0];
      const started = Date.now();
      this.log(`engines: copying ${image} from ${source.name} to ${target.name} (save and load through the API)`);
      const tar = await source.engine.saveImage(image).catch(leaveOut(source));
      await target.engine.loadImage(tar, signal).catch((error: unknown) => {
        tar.destroy();
        return leaveOut(target)(error);
      });
      // Podman names a loaded image localhost/NAME: the name the cell uses must still find it.
      await target.engine.inspectImage(image).catch(leaveOut(target));
      const transfer = { from: source.name, durationMs: Date.now() - started };
      target.transfers.push({ image, ...transfer });
      target.copies.set(image, Promise.resolve(undefined)); // later cells find the image there
      return transfer;
    })();
    target.copies.set(image, copy);
    target.images.set(image, copy.then(() => true, () => false));
    if (holders.length === 0) {
      this.pulls.set(image, copy);
      void copy.then(
        () => this.pulls.delete(image),
        () => this.pulls.delete(image),
      );
    }
    copy.catch(() => {
      target.copies.delete(image);
      target.images.delete(image);
    });
    return copy;
  }
}

/** The engine's product, or the EngineError that says why it did not answer within timeoutMs. */
async function identifyWithin(engine: DockerEngine, timeoutMs: number): Promise<EngineProduct | EngineError> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<EngineError>((resolve) => {
    timer = setTimeout(() => resolve(new EngineError('engine-unreachable', `Docker engine at ${engine.address} did not answer within ${timeoutMs / 1000} s`, 'Start the engine, or check the address.')), timeoutMs);
  });
  try {
    return await Promise.race([engine.identify().catch((error: unknown) => (error instanceof EngineError ? error : engine.translate(error))), late]);
  } finally {
    clearTimeout(timer);
  }
}
