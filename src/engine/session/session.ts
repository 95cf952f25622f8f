/**
 * Warm sessions: one Salt process kept in a container between runs, so an edit's result comes without
 * paying Salt's start again. It starts as a run does (launch.ts: the same entry point, bundle and thin,
 * streamed the same way; scripts.ts here is its body), imports Salt and builds salt-call's Caller once,
 * and forks a child per run (each run starts from the same clean, warm parent). Before a run only the
 * files of the trees that changed are sent; a change to custom modules, grains or pillar makes a new
 * Caller. A run gives the same outcome a cold run gives (SaltCallOutcome), so the runner's results are
 * the same either way (spec.ts WarmRuns is the seam).
 *
 * The Python that runs it is chosen as for a cold run, by the same code (launch.ts Launcher.choosePython):
 * the container's own when the Salt source supports it, else the bundled runtime, placed once for the
 * session's life in its own directory (NAME.python) and removed with the session.
 *
 * A session ends when its owner says (target changed, window closed, Ctrl-C), after the idle timeout,
 * when a run is cancelled, when the run's Python setting changes, or when the container stops or
 * restarts (engine events); its process is killed and its directories removed (the runtime's too):
 * nothing is left. One that dies is not used again: that run goes cold, and the next run starts a new
 * session.
 */
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import type Docker from 'dockerode';
import { bundleBytes, bundleEntries, entriesTar, overlaid, tarBytes, type BundleEntry } from '../bundle';
import type { DockerEngine, ExecInput, ExecResult } from '../docker/engine';
import type { PythonUsed } from '../results/model';
import { withSaltLog } from '../results/parse';
import { entryEnv, greeting, ROOT, runPlace, SALT_OPTIONS, type Attempt, type Interpreter, type Launcher } from '../launch';
import type { RunControl, SaltCallOutcome, SaltCallSpec, SaltTree, TreeOverlay, WarmRuns } from '../spec';
import { pythonRule, type PythonRule, type PythonRuntimeSetting } from '../runtime/choose';
import { CACHE_DIR_MARK, RUN_DIR_MARK } from '../salt/scripts';
import type { Thin } from '../salt/source';
import { SESSION, SESSION_REPLY } from './scripts';

export type SessionEnd = 'closed' | 'target-changed' | 'idle' | 'cancelled' | 'container-stopped' | 'died' | 'tree-changed' | 'python-changed' | 'failed';

export interface SessionOptions {
  /** A session with no run for this long ends; 0: no sessions (every run goes cold). */
  idleTimeoutMs: number;
  /** The session's own engine calls and endings (runs log through their RunControl). */
  log?: (line: string) => void;
}

interface Reply {
  op: string;
  [key: string]: unknown;
  payload?: Buffer;
}

/** The session's replies from its stdout: JSON lines with SESSION_REPLY, `done` followed by its outputs. */
class Replies {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly ready: Reply[] = [];
  private waiters: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] = [];
  private pending: Reply | undefined;
  private closed: Error | undefined;

  feed(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.pending) {
        const size = Number(this.pending.stdout ?? 0) + Number(this.pending.stderr ?? 0);
        if (this.buffer.length < size) return;
        this.pending.payload = this.buffer.subarray(0, size);
        this.buffer = this.buffer.subarray(size);
        this.deliver(this.pending);
        this.pending = undefined;
        continue;
      }
      const newline = this.buffer.indexOf(10);
      if (newline < 0) return;
      const line = this.buffer.subarray(0, newline).toString('utf8');
      this.buffer = this.buffer.subarray(newline + 1);
      if (!line.startsWith(SESSION_REPLY)) continue; // the greeting, or anything else not for us
      const reply = JSON.parse(line.slice(SESSION_REPLY.length)) as Reply;
      if (reply.op === 'done') this.pending = reply;
      else this.deliver(reply);
    }
  }

  private deliver(reply: Reply): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(reply);
    else this.ready.push(reply);
  }

  next(): Promise<Reply> {
    const reply = this.ready.shift();
    if (reply) return Promise.resolve(reply);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  close(error: Error): void {
    this.closed = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

/** What says a file changed since it was sent: size and modification times. */
function signature(entry: BundleEntry): string | undefined {
  try {
    const stats = statSync(entry.absolute);
    return `${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${entry.mode}`;
  } catch {
    return undefined; // gone since it was listed
  }
}

/** The same trees: roots and the other formulas the state tree holds (a kitchen.yml's path dependencies). */
const formulasKey = (tree: SaltTree) => (tree.formulas ?? []).map((f) => `${f.name}=${f.root}`).join('\n');
const sameTree = (a: SaltTree, b: SaltTree) => a.stateRoot === b.stateRoot && (a.pillarRoot ?? '') === (b.pillarRoot ?? '') && formulasKey(a) === formulasKey(b);
/** Bundle paths whose change needs a new Caller: custom modules (loaded once), pillar (compiled once). */
const needsReload = (name: string) => name.startsWith('extmods/') || name.startsWith('pillar/');

/** One warm Salt in one container. */
export class WarmSession {
  readonly name = `salt-containers.${randomBytes(8).toString('hex')}`;
  private io: ExecInput | undefined;
  private exec: Promise<ExecResult> | undefined;
  /** How its process ended, once it has. */
  private exitResult: ExecResult | undefined;
  /** The interpreter whose process and directories are the session's to remove (once it greeted, or its runtime was placed). */
  private interpreter: Interpreter | undefined;
  /** The Python that runs it, and for the bundled one the note each run carries. */
  private python: PythonUsed | undefined;
  private pythonNote: string | undefined;
  private readonly replies = new Replies();
  private dir = '';
  private endedWith: SessionEnd | undefined;
  private ending: Promise<void> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private manifest = new Map<string, string>();
  private notes: string[] = [];
  private readonly endListeners: ((reason: SessionEnd) => void)[] = [];
  saltVersion: string | undefined;

  private constructor(
    private readonly launcher: Launcher,
    readonly container: { id: string; name: string; image: string },
    readonly tree: SaltTree,
    readonly saltenv: string,
    /** The run's Python setting it was started with (a run with another one needs a new session). */
    readonly setting: PythonRuntimeSetting,
    private readonly options: SessionOptions,
  ) {}

  get ended(): SessionEnd | undefined {
    return this.endedWith;
  }

  onEnd(listener: (reason: SessionEnd) => void): void {
    this.endListeners.push(listener);
  }

  private log(line: string): void {
    this.options.log?.(`session ${this.name} in ${this.container.name}: ${line}`);
  }

  /**
   * Starts a session in a running container with the Python a cold run would choose (the run's
   * `control`: its Python setting, log, progress); undefined when it cannot (the run then goes cold,
   * and says why).
   */
  static async start(launcher: Launcher, spec: SaltCallSpec, control: RunControl, options: SessionOptions): Promise<WarmSession | undefined> {
    const engine: DockerEngine = launcher.engine;
    const details = await engine.inspectContainer(spec.container).catch(() => undefined);
    if (!details?.State.Running) return undefined;
    const thin = await launcher.salt.thin().catch(() => undefined);
    if (!thin) return undefined;
    const container = { id: details.Id, name: details.Name.replace(/^\//, ''), image: details.Image };
    const session = new WarmSession(launcher, container, spec.tree, spec.saltenv ?? 'base', control.python ?? 'auto', options);
    return (await session.open(details, thin, control)) ? session : undefined;
  }

  private async open(details: Docker.ContainerInspectInfo, thin: Thin, control: RunControl): Promise<boolean> {
    const started = Date.now();
    const entries = bundleEntries(this.tree);
    // Signatures before the files are read: a change while they are sent shows at the next sync.
    this.manifest = new Map(entries.map((e) => [e.name, signature(e) ?? '']));
    const bundle = await bundleBytes({ runDir: RUN_DIR_MARK, cacheDir: CACHE_DIR_MARK, tree: this.tree, minionId: this.container.name, saltenv: this.saltenv }, entries);
    const need = bundle.length + Math.max(thin.bytes, (await this.launcher.salt.bytecode(thin.pythonVersion))?.bytes ?? 0);
    const rule = pythonRule(thin);
    const launch = (interpreter: Interpreter) => this.launch(interpreter, { where: runPlace(details), need, rule, bundle, thin }, control.log ?? (() => undefined));
    try {
      const chosen = await this.launcher.choosePython({ details, name: this.name, rule }, control, launch);
      this.python = chosen.python;
      this.pythonNote = chosen.note;
      const reply = await this.replies.next();
      if (reply.op !== 'ready') {
        this.log(`did not start: ${String(reply.error ?? reply.op).trim()}`);
        await this.end('failed');
        return false;
      }
      this.saltVersion = String(reply.salt);
      this.log(`ready in ${this.dir} after ${Date.now() - started} ms (${this.python.kind} Python ${this.python.version}, ${this.python.path})`);
      this.armIdle();
      return true;
    } catch (error) {
      this.log(`did not start: ${(error as Error).message}`);
      await this.end('failed');
      return false;
    }
  }

  /**
   * One try of the session's entry point with one interpreter (for choosePython): 'ran' once it
   * greeted with its run directory, its process then serving the session; else what its silence or
   * its version says.
   */
  private async launch(
    interpreter: Interpreter,
    run: { where: 'shm' | 'tmp'; need: number; rule: PythonRule; bundle: Buffer; thin: Thin },
    log: (line: string) => void,
  ): Promise<Attempt<void>> {
    // A placed runtime is the session's to remove from now on, whatever happens next.
    if (interpreter.runtime) this.interpreter = interpreter;
    let greet: (hello: ReturnType<typeof greeting>) => void = () => undefined;
    const greeted = new Promise<ReturnType<typeof greeting>>((resolve) => (greet = resolve));
    log(`session ${this.name} in ${this.container.name}: starting with ${JSON.stringify(interpreter.argv)}`);
    const exec = this.launcher.engine
      .exec(this.container.id, [...interpreter.argv, '-c', SESSION, this.name, run.where, String(run.need), ...SALT_OPTIONS], {
        env: entryEnv(run.rule, interpreter),
        user: ROOT,
        input: async (io) => {
          const hello = greeting(await io.firstLine());
          greet(hello);
          if (!hello?.dir) return; // a Python too old, or not our entry point: it stops by itself
          this.dir = hello.dir;
          io.onStdout((chunk) => this.replies.feed(chunk));
          await this.launcher.send(io, hello.python, run.bundle, run.thin, log, this.notes);
          this.io = io;
        },
      })
      .catch((error: unknown): ExecResult => ({ exitCode: null, stdout: '', stderr: String(error) }));
    void exec.then(() => greet(undefined)); // it ended (or never started) without greeting
    const verdict = await this.launcher.verdict(this.container, interpreter, await greeted, exec, run.rule, log);
    if (verdict.kind !== 'ran') return verdict;
    this.interpreter = interpreter;
    this.exec = exec;
    void exec.then((result) => this.exited(result));
    return { kind: 'ran', value: undefined, version: verdict.hello.python };
  }

  private exited(result: ExecResult): void {
    this.exitResult = result;
    this.replies.close(new Error(`the session's process ended (exit ${result.exitCode ?? 'unknown'})`));
    if (result.stderr.trim()) this.log(`stderr:\n${result.stderr.trimEnd().split('\n').slice(-20).join('\n')}`);
    if (!this.endedWith) void this.end('died');
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.end('idle'), this.options.idleTimeoutMs);
    this.idleTimer.unref?.();
  }

  private request(body: Record<string, unknown>): string {
    return `${JSON.stringify({ ...body, idle: Math.ceil(this.options.idleTimeoutMs / 1000) + 60 })}\n`;
  }

  /** Runs salt-call's arguments in a fresh child; undefined when the session could not (it ended). */
  run(spec: SaltCallSpec, control: RunControl): Promise<SaltCallOutcome | undefined> {
    const next = this.queue.then(() => this.runNow(spec, control));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(spec: SaltCallSpec, control: RunControl): Promise<SaltCallOutcome | undefined> {
    if (this.endedWith || !this.io) return undefined;
    const started = Date.now();
    const log = control.log ?? (() => undefined);
    clearTimeout(this.idleTimer);
    const onAbort = () => void this.end('cancelled');
    control.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      control.onStage?.('preparing');
      if (control.signal?.aborted) return this.cancelled(started);
      await this.sync(log, spec.overlay);
      control.onStage?.('running');
      log(`session ${this.name} in ${this.container.name}: salt-call ${JSON.stringify(spec.args)}`);
      await this.io.write(this.request({ op: 'run', args: spec.args }));
      const startedReply = await this.replies.next();
      if (startedReply.op !== 'started') throw new Error(`unexpected reply ${startedReply.op}`);
      const done = await this.replies.next();
      const payload = done.payload ?? Buffer.alloc(0);
      const stdoutBytes = Number(done.stdout);
      const stdout = payload.subarray(0, stdoutBytes).toString('utf8');
      const exitCode = Number(done.code);
      const raw = withSaltLog({ argv: ['salt-call', '-c', `${this.dir}/conf`, ...SALT_OPTIONS, '--', ...spec.args], stdout, stderr: payload.subarray(stdoutBytes).toString('utf8'), exitCode });
      log(`exit ${exitCode} in the session (${Date.now() - started} ms); stdout ${stdout.length} bytes; stderr:\n${raw.stderr.trimEnd()}`);
      log(`stdout:\n${stdout.trimEnd()}`);
      if (raw.log) log(`Salt's log:\n${raw.log.trimEnd()}`);
      // Once: what the session's start had to say (sources sent); every run: which Python ran it, as a cold run says.
      const notes = [...this.notes.splice(0), ...(this.pythonNote ? [this.pythonNote] : [])];
      return {
        container: { id: this.container.id, name: this.container.name },
        saltVersion: this.saltVersion,
        raw,
        python: this.python,
        durationMs: Date.now() - started,
        warm: true,
        ...(notes.length ? { notes } : {}),
      };
    } catch (error) {
      if (control.signal?.aborted) return this.cancelled(started);
      log(`session ${this.name} in ${this.container.name} could not run it (${(error as Error).message}): running cold`);
      if (!this.endedWith) await this.end('died');
      return undefined;
    } finally {
      control.signal?.removeEventListener('abort', onAbort);
      if (!this.endedWith) this.armIdle();
    }
  }

  /** A cancelled run returns once the session is gone, as a cold run returns once it cleaned up. */
  private async cancelled(started: number): Promise<SaltCallOutcome> {
    await this.end('cancelled');
    return {
      container: { id: this.container.id, name: this.container.name },
      saltVersion: this.saltVersion,
      error: { kind: 'cancelled', message: 'cancelled: Salt was stopped in the container and the session ended' },
      durationMs: Date.now() - started,
      warm: true,
    };
  }

  /**
   * Sends the files that changed since the last sync (and which were deleted). An overlaid file is sent
   * with the overlay's text and signed with it, so the next run without the overlay sends the disk's.
   */
  private async sync(log: (line: string) => void, overlay?: TreeOverlay): Promise<void> {
    const entries = overlaid(bundleEntries(this.tree), overlay);
    const signed = (e: BundleEntry) => (e.overlaid && e.content ? `overlay:${createHash('sha1').update(e.content).digest('hex')}:${e.mode}` : signature(e));
    const current = new Map(entries.map((e) => [e.name, signed(e)]));
    const changed = entries.filter((e) => current.get(e.name) !== undefined && this.manifest.get(e.name) !== current.get(e.name));
    const deleted = [...this.manifest.keys()].filter((name) => !current.has(name) || current.get(name) === undefined);
    if (changed.length === 0 && deleted.length === 0) return;
    const tar = await tarBytes(entriesTar(changed));
    const reload = [...changed.map((e) => e.name), ...deleted].some(needsReload);
    log(`session ${this.name}: sending ${changed.length} changed file(s) (${tar.length} bytes), ${deleted.length} deleted${reload ? '; custom modules or pillar changed: Salt reloads them' : ''}`);
    await this.io!.write(this.request({ op: 'sync', size: tar.length, delete: deleted, reload }));
    await this.io!.write(tar);
    const reply = await this.replies.next();
    if (reply.op !== 'synced') throw new Error(`sync failed: ${String(reply.error ?? reply.op).trim()}`);
    for (const name of deleted) this.manifest.delete(name);
    for (const entry of changed) this.manifest.set(entry.name, current.get(entry.name)!);
  }

  /** Ends the session: its process is killed and its directories removed (unless the container is gone). */
  end(reason: SessionEnd): Promise<void> {
    if (!this.ending) this.ending = this.endNow(reason);
    return this.ending;
  }

  private async endNow(reason: SessionEnd): Promise<void> {
    this.endedWith = reason;
    clearTimeout(this.idleTimer);
    this.log(`ending (${reason})`);
    for (const listener of this.endListeners) listener(reason);
    if (reason === 'container-stopped') return; // nothing to exec in; the owner cleans up when it starts again
    if (this.io && reason !== 'died' && reason !== 'cancelled') {
      await this.io.write(this.request({ op: 'exit' })).catch(() => undefined);
      await Promise.race([this.exec, new Promise((resolve) => setTimeout(resolve, 3000).unref?.())]);
    }
    // It removed its directories itself (the runtime's last) when it ended on its own: nothing left to
    // run a cleanup with. Else kill what may be left (a cancelled run's child, a hung process) and
    // remove them all.
    const result = this.exitResult;
    if (result && result.exitCode !== null && result.exitCode < 128) return;
    await this.cleanup();
  }

  /** After the container came back from a stop or restart: what the session had on the container's disk (its cache, the runtime) goes. */
  cleanupAfterRestart(): Promise<void> {
    return this.cleanup();
  }

  private async cleanup(): Promise<void> {
    if (!this.interpreter) return; // nothing of it ever ran in the container
    const { argv, runtime } = this.interpreter;
    await this.launcher.cleanup(this.container.id, argv, this.name, (line) => this.log(line), runtime ? [runtime.dir] : []);
  }
}

/** Engine events that end a container's processes. */
const STOPS = new Set(['die', 'kill', 'stop', 'restart', 'destroy', 'pause', 'oom']);
/** Engine events of a container removed (Podman says `remove` for Docker's `destroy`). */
const REMOVED = new Set(['destroy', 'remove']);

/**
 * The sessions of one engine, one per container, for the runner (WarmRuns): a run asking to be warm is
 * taken by its container's session, started on first use.
 */
export class WarmSessions implements WarmRuns {
  private readonly sessions = new Map<string, Promise<WarmSession | undefined>>();
  /** Sessions that ended with their container stopped: cleaned up when it starts again. */
  private readonly stopped = new Map<string, WarmSession>();
  private events: AbortController | undefined;
  private readonly endListeners: ((session: WarmSession, reason: SessionEnd) => void)[] = [];

  constructor(
    private readonly launcher: Launcher,
    readonly options: SessionOptions,
  ) {}

  /** Tells of every session's end (for logs and tests). */
  onEnd(listener: (session: WarmSession, reason: SessionEnd) => void): void {
    this.endListeners.push(listener);
  }

  async run(spec: SaltCallSpec, control: RunControl): Promise<SaltCallOutcome | undefined> {
    if (this.options.idleTimeoutMs <= 0) return undefined;
    let session = await this.sessions.get(spec.container);
    if (session && !session.ended && session.setting !== (control.python ?? 'auto')) await session.end('python-changed');
    if (session && (session.ended || !sameTree(session.tree, spec.tree) || session.saltenv !== (spec.saltenv ?? 'base'))) {
      if (!session.ended) await session.end('tree-changed');
      session = undefined;
    }
    if (!session) {
      control.onStage?.('injecting');
      const starting = WarmSession.start(this.launcher, spec, control, this.options);
      this.sessions.set(spec.container, starting);
      session = await starting;
      if (!session) {
        this.sessions.delete(spec.container);
        return undefined;
      }
      const started = session;
      started.onEnd((reason) => {
        if (this.sessions.get(spec.container) === starting) this.sessions.delete(spec.container);
        if (reason === 'container-stopped') this.stopped.set(started.container.id, started);
        for (const listener of this.endListeners) listener(started, reason);
        if (this.sessions.size === 0 && this.stopped.size === 0) this.stopFollowing();
      });
      this.follow();
    }
    return session.run(spec, control);
  }

  /** The live session of a container (name or id as runs name it), if any. */
  async get(container: string): Promise<WarmSession | undefined> {
    const session = await this.sessions.get(container);
    return session && !session.ended ? session : undefined;
  }

  /** Ends one container's session (its target changed), or every session. */
  async end(container: string | undefined, reason: SessionEnd): Promise<void> {
    const ending = container === undefined ? [...this.sessions.values()] : [this.sessions.get(container)];
    await Promise.all(ending.map(async (s) => (await s)?.end(reason)));
  }

  /** Ends every session and stops following the engine (window closed, Ctrl-C). */
  async dispose(): Promise<void> {
    await this.end(undefined, 'closed');
    this.stopFollowing();
  }

  /** The engine's events while sessions live: a container that stops takes its session with it. */
  private follow(): void {
    if (this.events) return;
    const controller = new AbortController();
    this.events = controller;
    void (async () => {
      try {
        for await (const event of this.launcher.engine.events(controller.signal)) {
          if (event.type !== 'container') continue;
          if (STOPS.has(event.action)) {
            for (const pending of this.sessions.values()) {
              const session = await pending;
              if (session?.container.id === event.id && !session.ended) void session.end('container-stopped');
            }
          }
          if (REMOVED.has(event.action)) {
            // A removed container took the session's files with it: nothing waits for its start.
            if (this.stopped.delete(event.id) && this.sessions.size === 0 && this.stopped.size === 0) this.stopFollowing();
          } else if (event.action === 'start') {
            const session = this.stopped.get(event.id);
            if (!session) continue;
            this.stopped.delete(event.id);
            await session.cleanupAfterRestart();
            if (this.sessions.size === 0 && this.stopped.size === 0) this.stopFollowing();
          }
        }
      } catch (error) {
        if (!controller.signal.aborted) this.options.log?.(`sessions: the engine's events stopped (${(error as Error).message})`);
      } finally {
        if (this.events === controller) this.events = undefined;
      }
    })();
  }

  private stopFollowing(): void {
    this.events?.abort();
    this.events = undefined;
  }
}
