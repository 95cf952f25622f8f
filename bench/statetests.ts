/**
 * State tests' speed, in one run on one machine: a 2-suite x 3-image matrix (the fixture formula on
 * Debian 12, Debian 13 and Debian 12 with systemd as PID 1) with one worker and with the default (one
 * per core), and what one cell costs against one apply of the same states in a running container.
 * Prints times and ratios. Usage: npm run bench:test
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine, SaltRunner, SaltSource } from '../src/engine';
import { defaultWorkers, loadMatrix, runMatrix, SaltVersions, selectCells, singleEngine, type MatrixRun } from '../src/testing';

const REPO = join(__dirname, '..', '..');
const FORMULA = join(REPO, 'test', 'fixtures', 'testing', 'formula');
const IMAGE = 'salt-containers-test:py3';
const STATES = ['greeter._mapdata', 'greeter'];

const MATRIX = `images:
  - salt-containers-test:py3
  - salt-containers-test:py3.13
  - {image: salt-containers-test:systemd, init: systemd}
suites:
  - name: default
    states: [${STATES.join(', ')}]
    pillar: {greeter: test/salt/pillar/default.sls}
    verify: [test.salt.verify]
  - name: evening
    states: [greeter]
    pillar: {greeter: test/salt/pillar/other.sls}
`;

const engine = new DockerEngine();
const source = new SaltSource();
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One apply of the default suite's states in an already running container (the unit a cell is made of). */
async function applyOnce(runner: SaltRunner, tree: { stateRoot: string; pillarRoot: string }): Promise<number> {
  const id = await engine.createContainer(IMAGE, { keepAlive: ['sleep', 'infinity'], labels: { 'io.salt-containers.bench': '1' } });
  try {
    await engine.startContainer(id);
    const started = performance.now();
    const run = await runner.apply(id, STATES, tree);
    const ms = performance.now() - started;
    if (run.retcode !== 0) throw new Error(`apply failed: ${JSON.stringify(run.errors)}`);
    return ms;
  } finally {
    await engine.removeContainer(id, { force: true });
  }
}

async function matrixRun(file: string, workers: number): Promise<MatrixRun> {
  const matrix = loadMatrix(file);
  const cells = selectCells(matrix, {}, (await source.info()).saltVersion);
  const run = await runMatrix(matrix, { cells, provider: singleEngine(engine), salt: new SaltVersions({ configured: source }), workers });
  const bad = run.cells.filter((c) => !c.passed);
  if (bad.length) throw new Error(`cells failed: ${bad.map((c) => `${c.key} ${JSON.stringify(c.errors)} ${c.phases.map((p) => `${p.phase}:${p.passed}`).join(' ')}`).join('; ')}`);
  return run;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sc-bench-statetests-'));
  try {
    cpSync(FORMULA, dir, { recursive: true });
    const file = join(dir, 'salt-containers.yml');
    writeFileSync(file, MATRIX);
    const info = await source.info();
    const workers = defaultWorkers();
    console.log(`state tests: 2 suites x 3 images = 6 cells, Salt ${info.saltVersion}, ${workers} cores`);
    // Warm-up (thin, bytecode, page cache), outside the timings.
    const runner = new SaltRunner(engine, source);
    const tree = { stateRoot: dir, pillarRoot: join(dir, 'test', 'salt', 'pillar') };
    await applyOnce(runner, tree);
    await matrixRun(file, workers);

    const applies = [await applyOnce(runner, tree), await applyOnce(runner, tree), await applyOnce(runner, tree)];
    const apply = median(applies);
    const one = await matrixRun(file, 1);
    const all = await matrixRun(file, workers);

    const cell = one.cells.find((c) => c.key.startsWith(`default.${IMAGE}@`))!;
    // The cells' own times added up: when they grow with workers, the machine (CPU, engine) is the limit.
    const busy = (run: MatrixRun) => seconds(run.cells.reduce((n, c) => n + c.durationMs, 0));
    const phaseTimes = cell.phases.map((p) => `${p.phase} ${seconds(p.durationMs)}`).join(', ');
    const rows: [string, string, string][] = [
      ['one apply (3 states, running container), median of 3', seconds(apply), ''],
      [`one cell: ${cell.key}`, seconds(cell.durationMs), `${(cell.durationMs / apply).toFixed(2)}x one apply (${phaseTimes}; create and destroy the rest)`],
      ['matrix, 1 worker', seconds(one.durationMs), `${(one.durationMs / one.cells.length / 1000).toFixed(2)} s a cell; cells' own times add up to ${busy(one)}`],
      [`matrix, ${workers} workers (the default)`, seconds(all.durationMs), `${(one.durationMs / all.durationMs).toFixed(2)}x faster than 1 worker; cells' own times add up to ${busy(all)}`],
    ];
    for (const [name, time, note] of rows) console.log(`  ${name.padEnd(62)} ${time.padStart(8)}  ${note}`);
    console.log(`  cells (1 worker): ${one.cells.map((c) => `${c.key.replace(/@.*/, '')} ${seconds(c.durationMs)}`).join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
