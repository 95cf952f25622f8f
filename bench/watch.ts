/**
 * A long edit session through `salt-containers watch`, in one run on one machine: 1,000 saved edits of
 * the bench SLS, saved in turn in place, by a rename over the file and by delete and recreate, each one
 * run. Prints the watch process's memory every 100 edits (the heap in use after a full garbage
 * collection, and the resident set: memoryProbe.ts, preloaded) against what it was after the first 100
 * (target: within 10%), and the median time from a save to its result against a cold CLI apply
 * measured in the same run (target: <= 0.4x). Usage: npm run bench:watch [-- --edits N]
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAVES, type WatchProcess } from '../test/support/watch';
import { cliApply, median, newContainer, runBench, watchEdits } from './support';

const REPO = join(__dirname, '..', '..');
const SLS = 'bench';
const args = process.argv.slice(2);
const EDITS = Number(args[args.indexOf('--edits') + 1]) || 1000;
const COLD_RUNS = 7;
const SAMPLE_EVERY = 100;


const MiB = 1024 * 1024;

/** The watch process's heap in use after a full GC, and its resident set, in MiB (memoryProbe.ts answers SIGUSR2). */
async function probe(watch: WatchProcess): Promise<{ heap: number; rss: number }> {
  const lines = () => watch.stderr().match(/^memory-probe \d+ \d+$/gm) ?? [];
  const before = lines().length;
  process.kill(watch.pid, 'SIGUSR2');
  while (lines().length === before) await new Promise((resolve) => setTimeout(resolve, 20));
  const [, heap, rss] = lines().at(-1)!.split(' ').map(Number);
  return { heap: heap / MiB, rss: rss / MiB };
}

/** The largest change from the first sample, as a fraction of it. */
function drift(values: number[]): number {
  return values.slice(1).reduce((worst, v) => (Math.abs(v - values[0]) > Math.abs(worst) ? v - values[0] : worst), 0) / values[0];
}

async function main(): Promise<void> {
  const tree = mkdtempSync(join(tmpdir(), 'salt-bench-watch-'));
  cpSync(join(REPO, 'bench', 'fixtures', 'salt'), tree, { recursive: true });
  try {
    const container = await newContainer();
    // The baseline: a cold CLI apply of the same SLS on the same container, as a person types it.
    await cliApply(container, tree, SLS);
    const cold: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      const start = performance.now();
      await cliApply(container, tree, SLS);
      cold.push(performance.now() - start);
    }
    console.log(`cold CLI apply: ${(median(cold) / 1000).toFixed(2)} s (median of ${COLD_RUNS})`);

    const samples: { edit: number; heap: number; rss: number }[] = [];
    const times = await watchEdits(container, tree, SLS, EDITS, {
      save: (edit, file, text) => SAVES[edit % SAVES.length](file, text),
      gapMs: 50,
      nodeArgs: ['--expose-gc', '--require', join(__dirname, 'memoryProbe.js')],
      after: async (edit, watch) => {
        if (edit % SAMPLE_EVERY !== 0) return;
        samples.push({ edit, ...(await probe(watch)) });
        console.log(`  after ${String(edit).padStart(5)} edits: heap ${samples.at(-1)!.heap.toFixed(1)} MiB after GC, resident ${samples.at(-1)!.rss.toFixed(1)} MiB`);
      },
    });
    const heap = drift(samples.map((s) => s.heap));
    const rss = drift(samples.map((s) => s.rss));
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
    console.log(
      `\nwatch process over ${EDITS} edits, against edit ${samples[0].edit}: heap after GC ${samples[0].heap.toFixed(1)} -> ${samples.at(-1)!.heap.toFixed(1)} MiB, largest change ${pct(heap)} ` +
        `(target within 10%: ${Math.abs(heap) <= 0.1 ? 'met' : 'not met'}); resident ${samples[0].rss.toFixed(1)} -> ${samples.at(-1)!.rss.toFixed(1)} MiB, largest change ${pct(rss)}`,
    );
    const ratio = median(times) / median(cold);
    console.log(`edit to result: median ${(median(times) / 1000).toFixed(2)} s over ${EDITS} edits (p90 ${(([...times].sort((a, b) => a - b)[Math.floor(times.length * 0.9)] ?? 0) / 1000).toFixed(2)} s), ${ratio.toFixed(2)}x a cold CLI apply (target <= 0.4x: ${ratio <= 0.4 ? 'met' : 'not met'})`);
    for (const [index, save] of SAVES.entries()) {
      const own = times.filter((_t, i) => (i + 1) % SAVES.length === index);
      console.log(`  saved ${save.name}: median ${(median(own) / 1000).toFixed(2)} s (${own.length} edits)`);
    }
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

runBench(main);
