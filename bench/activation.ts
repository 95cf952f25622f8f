/**
 * Activation time and time to first paint of both views, with 200 containers and 300 images on the
 * real engine. Prints medians and ratios to baselines measured in the same run. Targets: activation
 * 30 ms, first paint 150 ms.
 *
 * What is measured (each sample in a fresh Node process, so nothing is cached):
 *  - activation: require(dist/extension.js) + activate() with a stand-in for the `vscode` module
 *    (bench/vscodeStandIn.ts: no-op registrations). Baseline: require(dist/extension-runtime.js)
 *    alone, i.e. what an extension that loaded the engine (dockerode, the SLS parser) at activation
 *    would pay before doing anything.
 *  - first paint: activation, then both views' getChildren() and getTreeItem() for every item, over
 *    the real engine: what the workbench waits for before drawing the views (the workbench's own
 *    drawing is not in it). Baseline: the two engine API calls alone (dockerode listContainers +
 *    listImages in a fresh process), the floor any Docker view pays.
 *
 * Set-up: 200 containers created (not started) from salt-containers-test:py3 and 300 distinct images
 * (docker import of a one-file tar, each with its own tag), all named sc-bench-*, removed at the end.
 * Usage: node scripts/build.mjs && node out/bench/activation.js [--runs N] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import type { DockerEngine as DockerEngineType } from '../src/engine';
import { extensionContext, installVscodeStandIn, registered } from './vscodeStandIn';

const REPO = join(__dirname, '..', '..');
const IMAGE = 'salt-containers-test:py3';
const CONTAINERS = 200;
const IMAGES = 300;
const PREFIX = 'sc-bench';
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 9;

/** Plain CommonJS loading of the built bundles, as the extension host does it. */
const load = createRequire(__filename);
/** The engine from src/ (dockerode from node_modules), loaded only where it is used, so the timed samples start clean. */
const engineModule = () => load('../src/engine') as typeof import('../src/engine');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ------------------------------------------------------------------ samples (child processes)

async function sample(kind: string): Promise<number> {
  if (kind === 'engine-floor') {
    const engine = new (engineModule().DockerEngine)();
    const start = performance.now();
    await Promise.all([engine.docker.listContainers({ all: true }), engine.docker.listImages({ all: false })]);
    return performance.now() - start;
  }
  const start = performance.now();
  if (kind === 'runtime-require') {
    load(join(REPO, 'dist', 'extension-runtime.js'));
    return performance.now() - start;
  }
  installVscodeStandIn();
  const t0 = performance.now();
  const extension = load(join(REPO, 'dist', 'extension.js')) as { activate: (context: unknown) => unknown };
  extension.activate(extensionContext(REPO));
  const activation = performance.now() - t0;
  if (kind === 'activation') return activation;
  // first paint: both views as the workbench asks for them
  type Provider = { getChildren: () => Promise<unknown[]>; getTreeItem: (node: unknown) => unknown };
  const views = ['saltContainers.containers', 'saltContainers.images'].map((id) => registered.treeViews.get(id)!.treeDataProvider as Provider);
  const counts = await Promise.all(
    views.map(async (view) => {
      const nodes = await view.getChildren();
      for (const node of nodes) view.getTreeItem(node);
      return nodes.length;
    }),
  );
  const total = performance.now() - t0;
  if (counts[0] < CONTAINERS || counts[1] < IMAGES) throw new Error(`views listed ${counts[0]} containers and ${counts[1]} images`);
  return total;
}

function runSample(kind: string): number {
  const child = spawnSync(process.execPath, [__filename, '--sample', kind], { encoding: 'utf8' });
  const match = /^SAMPLE (\S+)$/m.exec(child.stdout);
  if (child.status !== 0 || !match) throw new Error(`sample ${kind} failed: ${child.stderr || child.stdout}`);
  return Number(match[1]);
}

// ------------------------------------------------------------------ set-up and report

/** A one-file tar made in memory (a 512-byte header, the content, the end blocks). */
function oneFileTar(content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write('marker.txt', 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
  header.write(Math.floor(Date.now() / 1000).toString(8).padStart(11, '0') + '\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function setUp(engine: DockerEngineType): Promise<void> {
  const started = Date.now();
  const indexes = (n: number) => Array.from({ length: n }, (_, i) => i);
  await inBatches(indexes(CONTAINERS), 10, (i) => engine.createContainer(IMAGE, { name: `${PREFIX}-c${i}`, labels: { 'salt-containers.purpose': 'bench' } }));
  await inBatches(indexes(IMAGES), 10, async (i) => {
    const stream = (await engine.docker.importImage(Readable.from(oneFileTar(`bench image ${i}\n`)) as unknown as string, { repo: `${PREFIX}-img`, tag: `i${i}` })) as NodeJS.ReadableStream;
    await new Promise((resolve, reject) => engine.docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve(undefined))));
  });
  console.log(`set-up: ${CONTAINERS} containers and ${IMAGES} images in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function cleanUp(engine: DockerEngineType): Promise<void> {
  const containers = (await engine.listContainers()).filter((c) => c.name.startsWith(`${PREFIX}-c`));
  await inBatches(containers, 10, (c) => engine.removeContainer(c.id, { force: true }).catch(() => undefined));
  const images = (await engine.listImages()).filter((i) => i.tags.some((t) => t.startsWith(`${PREFIX}-img:`)));
  await inBatches(images, 10, (i) => engine.removeImage(i.id, { force: true }).catch(() => undefined));
}

function report(name: string, ours: number[], baseline: number[], baselineName: string, targetMs: number): void {
  const m = median(ours);
  const b = median(baseline);
  console.log(
    `${name.padEnd(12)} median ${m.toFixed(1).padStart(6)} ms (target ${targetMs} ms: ${m <= targetMs ? 'met' : 'MISSED'})  ` +
      `${baselineName} ${b.toFixed(1).padStart(6)} ms  ratio ${(m / b).toFixed(2)}x  [${ours.map((x) => x.toFixed(0)).join(' ')}]`,
  );
}

async function main(): Promise<void> {
  if (args[0] === '--sample') {
    console.log(`SAMPLE ${await sample(args[1])}`);
    return;
  }
  const engine = new (engineModule().DockerEngine)();
  await cleanUp(engine);
  await setUp(engine);
  try {
    const series: Record<string, number[]> = { activation: [], 'runtime-require': [], 'first-paint': [], 'engine-floor': [] };
    // Interleaved, so the machine's load changes hit ours and the baselines alike.
    for (let run = 0; run < RUNS; run++) for (const kind of Object.keys(series)) series[kind].push(runSample(kind));
    console.log(`${RUNS} runs each, fresh Node process per sample (${process.version})`);
    report('activation', series.activation, series['runtime-require'], 'eager-engine baseline', 30);
    report('first paint', series['first-paint'], series['engine-floor'], 'engine-API floor', 150);
  } finally {
    if (!args.includes('--keep')) await cleanUp(engine);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
