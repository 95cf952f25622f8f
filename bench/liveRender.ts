/**
 * The live render's speed, in one run on one machine: a warm edit (an unsaved buffer of a formula's
 * module overlaid on its tree, rendered and compiled by the target's warm Salt with `mock=True`, Salt's
 * verdict located in the buffer: what edit/liveRender.ts does once the 300 ms pause is over) to its Salt
 * diagnostics, against a warm test apply of the same module measured in the same run on the same
 * session. Edits alternate between breaking the module (an undefined variable) and fixing it, so each
 * render has something to say or to clear. Formula: the corpus' webserver-formula with its
 * pillar.example (test/fixtures/sls/corpus), or the state tree and module given.
 * Target (issue 21): edit -> Salt diagnostic p95 <= 0.5 s.
 * Usage: npm run bench:live [-- --edits N] [-- --states DIR --module MOD --pillar DIR|FILE]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SaltRunner, SaltSource, WarmSessions, type SaltTree } from '../src/engine';
import { fileForModule } from '../src/sls/modules';
import { locateSaltRun } from '../src/sls/saltFindings';
import { engine, median, newContainer, runBench } from './support';

const REPO = join(__dirname, '..', '..');
const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const EDITS = Number(option('--edits')) || 40;
const CORPUS = join(REPO, 'test', 'fixtures', 'sls', 'corpus', 'webserver-formula');
const tree: SaltTree = option('--states') ? { stateRoot: option('--states')!, pillarRoot: option('--pillar') } : { stateRoot: CORPUS, pillarRoot: join(CORPUS, 'pillar.example') };
const MODULE = option('--module') ?? 'webserver';

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];

runBench(async () => {
  const file = fileForModule(tree.stateRoot, MODULE);
  if (!file) throw new Error(`no module ${MODULE} in ${tree.stateRoot}`);
  const text = readFileSync(file, 'utf8');
  const broken = `${text}\n{{ live_render_bench_undefined.attr }}\n`;
  const container = await newContainer();
  const runner = new SaltRunner(engine, new SaltSource());
  const sessions = new WarmSessions(runner.launcher, { idleTimeoutMs: 600_000 });
  runner.warm = sessions;
  try {
    const first = await runner.apply(container, [MODULE], tree, { test: true, warm: true });
    if (!first.warm || first.errors.length) throw new Error(`the warm test apply of ${MODULE} did not run clean: ${JSON.stringify(first.errors).slice(0, 400)}`);
    const apply: number[] = [];
    const live: number[] = [];
    for (let edit = 0; edit < EDITS; edit++) {
      let start = performance.now();
      await runner.apply(container, [MODULE], tree, { test: true, warm: true });
      apply.push(performance.now() - start);
      const buffer = edit % 2 === 0 ? broken : text;
      const overlay = new Map([[file, buffer]]);
      start = performance.now();
      const run = await runner.apply(container, [MODULE], tree, { mock: true, warm: true, overlay });
      const findings = locateSaltRun(tree, run, [MODULE], overlay);
      live.push(performance.now() - start);
      if (!run.warm) throw new Error('the live render went cold');
      if ((findings.length > 0) !== (edit % 2 === 0)) throw new Error(`edit ${edit}: ${findings.length} findings for a ${edit % 2 === 0 ? 'broken' : 'fixed'} buffer: ${JSON.stringify(findings).slice(0, 400)}`);
    }
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    console.log(`live render bench: ${MODULE} of ${tree.stateRoot}, ${EDITS} edits, Salt ${first.saltVersion}, node ${process.version}`);
    console.log(`warm test apply of ${MODULE} (baseline)    median ${ms(median(apply))}  p95 ${ms(p95(apply))}`);
    console.log(
      `warm edit -> Salt diagnostics (live render)  median ${ms(median(live))}  p95 ${ms(p95(live))}  (x${(median(live) / median(apply)).toFixed(2)} / x${(p95(live) / p95(apply)).toFixed(2)} the warm apply)  target p95 <= 500 ms: ${p95(live) <= 500 ? 'met' : 'NOT met'}`,
    );
  } finally {
    await sessions.dispose();
  }
});
