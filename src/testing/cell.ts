/**
 * One cell: create (a fresh container from the image, kept alive; systemd as PID 1 with init: systemd)
 * -> converge (the suite's states) -> idempotence (the same again: any state with changes fails) ->
 * verify (test mode: any state that would change fails) -> destroy (always; with keep, a failed cell's
 * container stays and is named). A failed converge skips idempotence (verify still runs, so the cell
 * says as much as it can); a failed idempotence does not stop verify.
 */
import { randomBytes } from 'node:crypto';
import { startKeptAlive } from '../engine/build';
import { EngineError, type CreateOptions, type DockerEngine } from '../engine/docker/engine';
import type { RunError, StateResult, StateRun } from '../engine/results/model';
import type { SaltRunnerApi } from '../engine/runner';
import type { RunControl, SaltTree } from '../engine/spec';
import { runErrorFrom } from '../engine/failures';
import { dirname } from 'node:path';
import { CHECK_PHASES, type CellSpec, type PhaseName } from './cells';
import { inspecNotRun, runSaltcheck, runShellVerifier } from './checks';
import { runTestinfra } from './testinfra';
import type { InitSpec } from './matrix';
import { cellPassed, judgeIdempotence, judgeVerify, phasePassed, skippedPhase, type CellResult, type PhaseResult } from './results';

/** Labels every cell container carries: what it is, which run and which matrix made it. */
export const CELL_LABELS = { cell: 'io.salt-containers.test-cell', run: 'io.salt-containers.test-run', matrix: 'io.salt-containers.test-matrix' } as const;

export type CellStep = 'create' | PhaseName | 'destroy';

export interface CellEvents {
  step?(cell: CellSpec, step: CellStep): void;
  phaseFinished?(cell: CellSpec, result: PhaseResult): void;
}

export interface CellContext {
  engine: DockerEngine;
  engineName: string;
  runner: SaltRunnerApi;
  /** The Salt version the runner's source has. */
  saltVersion: string;
  tree: SaltTree;
  saltenv: string;
  /** Where downloads for checks are kept (testinfra's wheels): the Salt source's cache. */
  cacheDir: string;
  runId: string;
  matrixFile: string;
  keep: boolean;
  signal?: AbortSignal;
  events?: CellEvents;
  log?: (line: string) => void;
  /** Called as soon as the container exists (a second Ctrl-C may remove it before the cell ends). */
  onContainer?: (id: string, name: string) => void;
}

/** Where images keep systemd, tried in turn when init: systemd names no command. */
const SYSTEMD_COMMANDS = [['/lib/systemd/systemd'], ['/usr/lib/systemd/systemd'], ['/sbin/init']];
/** How long systemd may take to finish booting before the cell gives up. */
const SYSTEMD_BOOT_MS = 120_000;

class CellFailure extends Error {
  constructor(readonly error: RunError) {
    super(error.message);
  }
}

/** What went wrong, as a run error: the engine's, Salt's install or source's, or ours. */
export function cellError(error: unknown): RunError {
  return error instanceof CellFailure ? error.error : runErrorFrom(error);
}

/** A container name people can read in `docker ps`: sct-SUITE-IMAGE-SALT-random. */
export function cellContainerName(cell: CellSpec, salt: string): string {
  const slug = (text: string) => text.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '');
  return `sct-${slug(cell.suite.name)}-${slug(cell.image.name)}-${slug(salt)}-${randomBytes(3).toString('hex')}`;
}

/** systemd as PID 1 unprivileged, as kitchen-docker and dokken run it: read-only cgroups, tmpfs on /run and /run/lock. */
function systemdOptions(): Partial<CreateOptions> {
  return {
    env: ['container=docker'],
    stopSignal: 'SIGRTMIN+3',
    tmpfs: { '/run': 'rw,nosuid,nodev,mode=755', '/run/lock': 'rw,nosuid,nodev,noexec' },
    binds: ['/sys/fs/cgroup:/sys/fs/cgroup:ro'],
  };
}

/**
 * The cell's container, kept alive. A privileged one the engine refuses is the cell's error, except for
 * kitchen.yml's `privileged: true` (privilegedFallback): then the cell runs unprivileged and `notes` says so.
 */
export async function createCellContainer(cell: CellSpec, context: Pick<CellContext, 'engine' | 'runId' | 'matrixFile' | 'log'>, name: string, init: InitSpec | undefined, notes: string[] = []): Promise<string> {
  const { engine } = context;
  const log = (line: string) => context.log?.(`${cell.key}: ${line}`);
  const options: Omit<CreateOptions, 'keepAlive'> = {
    name,
    labels: { [CELL_LABELS.cell]: cell.key, [CELL_LABELS.run]: context.runId, [CELL_LABELS.matrix]: context.matrixFile },
    ...(cell.image.privileged ? { privileged: true } : {}),
    ...(cell.image.network ? { network: cell.image.network } : {}),
    ...(init ? systemdOptions() : {}),
  };
  const commands = init ? (init.command ? [init.command] : SYSTEMD_COMMANDS) : undefined;
  const refused = (error: unknown): error is EngineError => error instanceof EngineError && (error.kind === 'engine' || error.kind === 'conflict');
  let id: string | undefined;
  try {
    id = await startKeptAlive(engine, cell.image.image, options, log, commands);
  } catch (error) {
    if (!refused(error)) throw error;
    if (!(cell.image.privileged && cell.image.privilegedFallback)) {
      const hint = cell.image.privileged ? 'This engine does not allow privileged containers: drop privileged: true (systemd runs as PID 1 without it).' : 'Check the image entry\'s settings (init, network) against what this engine allows.';
      throw new CellFailure({ kind: 'container-refused', message: `the engine refused the cell's container: ${error.message}`, hint });
    }
    // kitchen.yml asks every platform for privileged; an engine that refuses it still runs the cell.
    log(`privileged refused (${error.message}): unprivileged instead`);
    try {
      id = await startKeptAlive(engine, cell.image.image, { ...options, privileged: undefined }, log, commands);
    } catch (again) {
      if (!refused(again)) throw again;
      throw new CellFailure({ kind: 'container-refused', message: `the engine refused the cell's container: ${again.message}`, hint: 'Check the platform\'s driver settings against what this engine allows.' });
    }
    notes.push(`privileged: true was refused by this engine (${error.message.split('\n')[0]}): the container runs unprivileged${init ? ' (systemd as PID 1 with read-only cgroups)' : ''}`);
  }
  if (!id) {
    if (init) {
      throw new CellFailure({ kind: 'salt', message: `image ${cell.image.image} has no systemd (tried ${commands!.map((c) => c.join(' ')).join(', ')})`, hint: 'Install systemd in the image, or drop init: systemd.' });
    }
    throw new CellFailure({ kind: 'no-python', message: `image ${cell.image.image} can run neither sleep nor python3 to stay up`, hint: 'Use an image with coreutils or python3.' });
  }
  return id;
}

/** Waits until systemd finished booting (running, or degraded: a unit failed, the cell goes on). */
async function waitForSystemd(context: CellContext, id: string, key: string): Promise<void> {
  const deadline = Date.now() + SYSTEMD_BOOT_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (context.signal?.aborted) return;
    const wait = AbortSignal.any([AbortSignal.timeout(Math.max(1, deadline - Date.now())), ...(context.signal ? [context.signal] : [])]);
    const result = await context.engine.exec(id, ['systemctl', 'is-system-running', '--wait'], { user: '0:0', signal: wait });
    const state = result.stdout.trim().split('\n').pop() ?? '';
    if (state === 'running' || state === 'degraded') {
      context.log?.(`${key}: systemd is ${state}`);
      return;
    }
    last = `${state} ${result.stderr.trim()}`.trim();
    // No systemctl in the image at all: waiting will not help.
    if (result.exitCode === 127 || result.exitCode === 126 || /executable file not found/i.test(`${result.stdout}${result.stderr}`)) break;
    // Not listening yet right after the start: look again shortly.
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (context.signal?.aborted) return;
  throw new CellFailure({ kind: 'salt', message: `systemd did not finish booting in the container (${last || 'no answer'})`, hint: 'Check that the image runs systemd as PID 1 (init: systemd needs systemctl in the image).' });
}

async function statePhase(phase: PhaseName, run: () => Promise<StateRun>, judge: (states: readonly StateResult[]) => StateResult[]): Promise<PhaseResult> {
  const started = Date.now();
  const result = await run();
  const states = judge(result.states);
  return { phase, passed: phasePassed(states, result.errors), durationMs: Date.now() - started, states, errors: result.errors, ...(result.python ? { python: result.python } : {}) };
}

const asIs = (states: readonly StateResult[]) => [...states];

/** The engine stopped answering under the cell: the error that says so, in the cell's or a phase's errors. */
export function lostEngineError(errors: readonly RunError[], phases: readonly PhaseResult[]): RunError | undefined {
  return [...errors, ...phases.flatMap((p) => p.errors)].find((e) => e.kind === 'engine-unreachable');
}

export async function runCell(cell: CellSpec, context: CellContext): Promise<CellResult> {
  const started = Date.now();
  const name = cellContainerName(cell, context.saltVersion);
  const phases: PhaseResult[] = [];
  const errors: RunError[] = [];
  const notes: string[] = [];
  const control: RunControl = { signal: context.signal, log: context.log };
  const apply = (mods: string[], test: boolean) => () =>
    cell.suite.highstate && !test
      ? context.runner.highstate(id!, context.tree, { ...control, saltenv: context.saltenv })
      : context.runner.apply(id!, mods, context.tree, { ...control, saltenv: context.saltenv, test });
  const step = (s: CellStep) => context.events?.step?.(cell, s);
  const finish = (result: PhaseResult) => {
    phases.push(result);
    context.events?.phaseFinished?.(cell, result);
    // An engine that stopped answering ends the cell: the matrix runner may start it again elsewhere.
    const lost = lostEngineError(result.errors, []);
    if (lost) throw new CellFailure(lost);
    return result;
  };
  const cancelled = () => context.signal?.aborted === true;
  let id: string | undefined;
  try {
    step('create');
    if (cancelled()) throw new CellFailure({ kind: 'cancelled', message: 'cancelled before the cell started' });
    id = await createCellContainer(cell, context, name, cell.init, notes);
    context.onContainer?.(id, name);
    if (cell.init) await waitForSystemd(context, id, cell.key);
    if (cancelled()) throw new CellFailure({ kind: 'cancelled', message: 'cancelled: nothing more was run' });

    step('converge');
    const converge = finish(await statePhase('converge', apply(cell.suite.states, false), asIs));
    if (cell.phases.includes('idempotence')) {
      if (converge.passed !== true) finish(skippedPhase('idempotence', converge.passed === null ? 'cancelled' : 'converge failed'));
      else {
        step('idempotence');
        finish(await statePhase('idempotence', apply(cell.suite.states, false), judgeIdempotence));
      }
    }
    if (cell.phases.includes('verify')) {
      if (cancelled()) finish(skippedPhase('verify', 'cancelled'));
      else {
        step('verify');
        finish(await statePhase('verify', apply(cell.suite.verify, true), judgeVerify));
      }
    }
    // The real checks, each its own phase; like verify they run whatever converge did, to say as much as they can.
    const checks = cell.suite.checks ?? {};
    for (const phase of CHECK_PHASES.filter((p) => cell.phases.includes(p))) {
      if (cancelled()) {
        finish(skippedPhase(phase, 'cancelled'));
        continue;
      }
      if (phase === 'inspec') {
        finish(skippedPhase('inspec', inspecNotRun(checks.inspec!)));
        continue;
      }
      step(phase);
      const phaseStarted = Date.now();
      const found =
        phase === 'saltcheck'
          ? await runSaltcheck(context.runner, id, checks.saltcheck!, context.tree, context.saltenv, control)
          : phase === 'testinfra'
            ? await runTestinfra(context.runner, id, checks.testinfra!, context.cacheDir, control)
            : { checks: [await runShellVerifier(context.engine, id, checks.shell!, dirname(context.matrixFile), context.signal)], errors: [] };
      finish({ phase, passed: phasePassed([], found.errors, found.checks), durationMs: Date.now() - phaseStarted, states: [], errors: found.errors, checks: found.checks });
    }
  } catch (error) {
    // A phase's own error (the engine lost under it) is reported with that phase, once.
    if (!(error instanceof CellFailure && phases.some((p) => p.errors.includes(error.error)))) errors.push(cellError(error));
  }
  const lostEngine = lostEngineError(errors, phases) !== undefined;
  // Phases that never started (create failed, cancel, the engine lost) are reported as such.
  const notStarted = cancelled() ? 'cancelled' : lostEngine && id ? 'the engine stopped answering' : 'the cell could not start';
  for (const phase of cell.phases) if (!phases.some((p) => p.phase === phase)) phases.push(skippedPhase(phase, notStarted));
  phases.sort((a, b) => cell.phases.indexOf(a.phase) - cell.phases.indexOf(b.phase));
  const passed = cellPassed(phases, errors);
  let kept: string | undefined;
  if (id) {
    step('destroy');
    if (context.keep && passed === false && !cancelled()) kept = name;
    else {
      await context.engine.removeContainer(id, { force: true }).catch((error) =>
        errors.push(
          lostEngine
            ? { kind: 'salt', message: `container ${name} is left on engine ${context.engineName}, which stopped answering`, hint: `Remove it once that engine answers again: docker rm -f ${name}` }
            : { kind: 'salt', message: `could not remove container ${name}: ${(error as Error).message}`, hint: `Remove it with: docker rm -f ${name}` },
        ),
      );
    }
  }
  return {
    cell,
    key: cell.key,
    suite: cell.suite.name,
    image: cell.image.image,
    salt: context.saltVersion,
    engine: context.engineName,
    passed,
    phases,
    errors,
    durationMs: Date.now() - started,
    ...(kept ? { kept } : {}),
    ...(notes.length ? { notes } : {}),
  };
}
