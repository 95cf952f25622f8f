/**
 * A bare host against a host with Python, in one run on one machine. The bare host is the CLI with a
 * PATH holding only `node` and its own HOME; Salt's host-side work is done by helper containers on the
 * engine. Prints the one-time costs (first use with the engine's cache empty: a helper installs Salt;
 * then a second machine on the same engine: it copies Salt from the engine's cache) and the medians of
 * cold CLI applies once caches exist, the bare host against the host Python, turn about, each on a new
 * container. Target: bare <= 1.3x host. It empties the engine's cache first (`cache rm`): the first
 * use is measured for real. Usage: npm run bench:barehost [-- --runs N]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerEngine } from '../src/engine';
import { bareEnv } from '../test/support/barehost';

const REPO = join(__dirname, '..', '..');
const CLI = join(REPO, 'dist', 'cli.js');
const STATES = join(REPO, 'bench', 'fixtures', 'salt');
const IMAGE = 'salt-containers-test:py3';
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 7;
const engine = new DockerEngine();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the CLI; progress (stderr) is shown as it comes when `show`; resolves with the wall time in ms. */
function cli(argv: string[], env: NodeJS.ProcessEnv, show = false): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [CLI, ...argv], { env, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${argv.join(' ')} failed: ${stdout.slice(-400)} ${stderr.slice(-400)}`)) : resolve(performance.now() - started),
    );
    if (show) child.stderr?.on('data', (chunk: Buffer) => process.stdout.write(`    ${chunk.toString().replace(/\n(?=.)/g, '\n    ')}`));
  });
}

async function coldApply(env: NodeJS.ProcessEnv, show = false): Promise<number> {
  const id = await engine.createContainer(IMAGE, { keepAlive: ['sleep', 'infinity'], labels: { 'io.salt-containers.bench': '1' } });
  try {
    await engine.startContainer(id);
    return await cli(['apply', 'bench', '--container', id, '--states', STATES, '--json'], env, show);
  } finally {
    await engine.removeContainer(id, { force: true });
  }
}

async function main(): Promise<void> {
  const homes = [mkdtempSync(join(tmpdir(), 'sc-bench-bare-')), mkdtempSync(join(tmpdir(), 'sc-bench-bare-'))];
  try {
    const [first, second] = homes.map((home) => bareEnv(home));
    await cli(['cache', 'rm'], first);
    console.log(`bare host (PATH: node only), Salt made on the engine; ${RUNS} cold applies each of bench/fixtures 'bench' (11 states) on ${IMAGE}\n`);
    console.log('first use, the engine cache empty (a helper installs Salt):');
    const firstUse = await coldApply(first, true);
    console.log(`  first use: ${(firstUse / 1000).toFixed(1)} s`);
    const secondMachine = await coldApply(second);
    console.log(`  first use on a second machine sharing the engine (Salt copied from the engine's cache): ${(secondMachine / 1000).toFixed(1)} s`);
    const bare: number[] = [];
    const host: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(await coldApply(first));
      host.push(await coldApply({ ...process.env, SALT_CONTAINERS_SALT_ON: 'host' }));
    }
    console.log('\nmedians');
    console.log(`  host Python, cold CLI apply      ${(median(host) / 1000).toFixed(2)} s`);
    console.log(`  bare host, cold CLI apply        ${(median(bare) / 1000).toFixed(2)} s  ${(median(bare) / median(host)).toFixed(2)}x the host Python (target <= 1.3x)`);
    console.log(`\nraw (ms): bare ${bare.map(Math.round)}, host ${host.map(Math.round)}`);
  } finally {
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
