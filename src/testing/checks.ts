/**
 * Real checks after converge, each its own phase of the cell: saltcheck (the suite's `.tst` tests, run
 * by the Salt already injected in the cell), testinfra (testinfra.ts), kitchen's `shell` verifier, and
 * an explicit "InSpec not run" for a kitchen.yml whose verifier is InSpec. Each check comes back with
 * its file and line (a saltcheck test ID's line in its .tst file; a failed assertion's line in a
 * testinfra file; the verifier's line in kitchen.yml).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunError } from '../engine/results/model';
import type { SaltRunnerApi } from '../engine/runner';
import type { RunControl, SaltTree } from '../engine/spec';
import type { DockerEngine } from '../engine/docker/engine';
import { parseSls } from '../sls/parse';

/** One check of a check phase: a saltcheck test, a testinfra test, the shell verifier's command. */
export interface CheckResult {
  name: string;
  /** null: skipped. */
  passed: boolean | null;
  message?: string;
  /** Absolute path and 1-based line of the check's definition (or of the failed assertion). */
  file?: string;
  line?: number;
  durationMs: number;
}

/** The checks a suite runs after converge (resolved: paths absolute, automatic ones found). */
export interface SuiteChecks {
  /** saltcheck.run_state_tests of these names (states, or test names); highstate: run_highstate_tests. */
  saltcheck?: { names: string[]; highstate: boolean };
  /** A folder (or file) of testinfra tests on the host. */
  testinfra?: string;
  /** kitchen's shell verifier: the command, in the container (`remote_exec: true`) or on this machine. */
  shell?: { command: string; remote: boolean; file: string; line?: number };
  /** kitchen's InSpec verifier, which is not run: what it would have run. */
  inspec?: { paths: string[]; file: string; line?: number };
}

export const SALTCHECK_DIR = 'saltcheck-tests';
export const TESTINFRA_DIRS = ['test/testinfra', 'tests/testinfra'];

/** Every `saltcheck-tests` folder under `dir` (a state tree or one formula's folder). */
export function saltcheckDirs(dir: string, depth = 6): string[] {
  if (depth < 0 || !existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.name === SALTCHECK_DIR) out.push(path);
    else out.push(...saltcheckDirs(path, depth - 1));
  }
  return out;
}

/**
 * Automatic saltcheck: the suite's states when their formula folders (the first part of each name)
 * have saltcheck tests, as Salt looks for them; a highstate suite when the tree has any.
 */
export function autoSaltcheck(stateRoot: string, states: readonly string[], highstate: boolean): SuiteChecks['saltcheck'] {
  if (highstate) return saltcheckDirs(stateRoot).length ? { names: [], highstate: true } : undefined;
  const names = states.filter((state) => saltcheckDirs(join(stateRoot, state.split('.')[0])).length > 0 || existsSync(join(stateRoot, SALTCHECK_DIR)));
  return names.length ? { names, highstate: false } : undefined;
}

/** Automatic testinfra: `test/testinfra/SUITE/` or `test/testinfra/` (or `tests/...`) beside the matrix file, when it holds tests. */
export function autoTestinfra(matrixDir: string, suite: string): string | undefined {
  for (const base of TESTINFRA_DIRS.map((d) => join(matrixDir, d))) {
    const own = join(base, suite);
    if (existsSync(own) && statSync(own).isDirectory()) return own;
    if (existsSync(base) && readdirSync(base).some((f) => /^test_.*\.py$|_test\.py$/.test(f))) return base;
  }
  return undefined;
}

/** The line (1-based) of a top-level ID in a .tst file, Jinja and all (the SLS parser reads it as it reads states). */
function idLine(file: string, id: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = parseSls(text);
  const state = parsed.states.find((s) => s.id === id) ?? parsed.states.find((s) => s.pattern?.test(id));
  return state ? parsed.lines.position(state.span.start).line + 1 : undefined;
}

/** Where a saltcheck test ID is defined: the .tst files of the state's formula, the state's own first. */
export function locateSaltcheckTest(stateRoot: string, state: string, id: string): { file: string; line: number } | undefined {
  const parts = state.split('.');
  const dirs = [...new Set([join(stateRoot, ...parts, SALTCHECK_DIR), join(stateRoot, ...parts.slice(0, -1), SALTCHECK_DIR), ...saltcheckDirs(join(stateRoot, parts[0])), join(stateRoot, SALTCHECK_DIR)])];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    const files = readdirSync(dir).filter((f) => f.endsWith('.tst')).sort((a, b) => Number(b === `${parts[parts.length - 1]}.tst`) - Number(a === `${parts[parts.length - 1]}.tst`));
    for (const name of files) {
      const line = idLine(join(dir, name), id);
      if (line) return { file: join(dir, name), line };
    }
  }
  return undefined;
}

/**
 * saltcheck's return as checks: `[{STATE: {TEST_ID: {status, duration}}}, ..., {"TEST RESULTS": {...}}]`.
 * The statuses decide, not the exit code (saltcheck once returned 0 on failure).
 */
export function saltcheckChecks(value: unknown, stateRoot: string): { checks: CheckResult[]; errors: RunError[] } {
  const list = Array.isArray(value) ? value : value && typeof value === 'object' ? [value] : [];
  const checks: CheckResult[] = [];
  const errors: RunError[] = [];
  for (const entry of list) {
    if (!entry || typeof entry !== 'object') continue;
    for (const [state, tests] of Object.entries(entry as Record<string, unknown>)) {
      if (state === 'TEST RESULTS') {
        const missing = (tests as Record<string, unknown>)['Missing Tests'];
        if (typeof missing === 'number' && missing > 0 && checks.length === 0) errors.push({ kind: 'salt', message: `saltcheck found no tests for ${missing} state(s)`, hint: `Put tests in <state dir>/${SALTCHECK_DIR}/*.tst, or turn saltcheck off for the suite (verify: {saltcheck: false}).` });
        continue;
      }
      if (!tests || typeof tests !== 'object') continue;
      for (const [id, result] of Object.entries(tests as Record<string, unknown>)) {
        const status = String((result as { status?: unknown })?.status ?? '');
        const duration = Number((result as { duration?: unknown })?.duration ?? 0);
        const where = locateSaltcheckTest(stateRoot, state, id);
        checks.push({
          name: `${state}: ${id}`,
          passed: status.startsWith('Pass') ? true : status.startsWith('Skip') ? null : false,
          ...(status.startsWith('Pass') ? {} : { message: status }),
          ...(where ?? {}),
          durationMs: Math.round(duration * 1000),
        });
      }
    }
  }
  if (list.length === 0) errors.push({ kind: 'salt', message: `saltcheck returned nothing to read (${JSON.stringify(value)})` });
  return { checks, errors };
}

/** Runs the suite's saltcheck tests through the cell's runner: the same injected Salt and state tree as converge. */
export async function runSaltcheck(runner: SaltRunnerApi, container: string, spec: NonNullable<SuiteChecks['saltcheck']>, tree: SaltTree, saltenv: string, control: RunControl): Promise<{ checks: CheckResult[]; errors: RunError[] }> {
  const run = spec.highstate
    ? await runner.call(container, 'saltcheck.run_highstate_tests', [], { saltenv }, tree, { ...control, saltenv })
    : await runner.call(container, 'saltcheck.run_state_tests', [spec.names.join(',')], { saltenv }, tree, { ...control, saltenv });
  // saltcheck sets retcode 1 when a test failed: that is a result, not an error, when it returned its results.
  if (run.return === undefined) return { checks: [], errors: run.errors.length ? run.errors : [{ kind: 'salt', message: 'saltcheck returned nothing' }] };
  return saltcheckChecks(run.return, tree.stateRoot);
}

/** kitchen's shell verifier: `sh -c COMMAND` (the user's own test code from kitchen.yml) in the container, or on this machine. */
export async function runShellVerifier(engine: DockerEngine, container: string, spec: NonNullable<SuiteChecks['shell']>, cwd: string, signal?: AbortSignal): Promise<CheckResult> {
  const started = Date.now();
  let outcome: { exitCode: number | null; stdout: string; stderr: string };
  if (spec.remote) outcome = await engine.exec(container, ['sh', '-c', spec.command], { user: '0:0', signal });
  else {
    outcome = await new Promise((resolve) => {
      const child = spawn('sh', ['-c', spec.command], { cwd, signal, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KITCHEN_INSTANCE: container } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('error', (error) => resolve({ exitCode: null, stdout, stderr: `${stderr}${error.message}` }));
      child.on('close', (code) => resolve({ exitCode: code, stdout, stderr }));
    });
  }
  const output = `${outcome.stdout}${outcome.stderr}`.trim();
  return {
    name: spec.command,
    passed: outcome.exitCode === 0,
    ...(outcome.exitCode === 0 ? {} : { message: `exit ${outcome.exitCode ?? 'unknown'}${output ? `\n${output.split('\n').slice(-40).join('\n')}` : ''}` }),
    file: spec.file,
    ...(spec.line ? { line: spec.line } : {}),
    durationMs: Date.now() - started,
  };
}

export function inspecNotRun(spec: NonNullable<SuiteChecks['inspec']>): string {
  return `verify: InSpec not run${spec.paths.length ? ` (${spec.paths.join(', ')})` : ''}: move its controls to saltcheck or testinfra tests (see the README)`;
}
