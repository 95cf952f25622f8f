/**
 * Apply and build speed, in one run on one machine: the engine against the floor (salt-call of an
 * already-extracted, precompiled thin in the same kind of container, i.e. Salt's own work and nothing
 * of ours) and, where it runs, against Salt's own docker.sls / docker.sls_build. Prints medians and
 * ratios. Targets: apply <= 1.3x the floor cold and warm; build <= 1.5x floor + commit; >= 5x faster
 * than Salt's own; a warm session's apply <= 0.25x the floor, also on an image without Python (the
 * session runs with the bundled runtime); a saved edit's result through `watch` <= 0.4x a cold CLI
 * apply. Usage: npm run bench [-- --runs N] [-- --no-salt-docker]
 */
import { execFile } from 'node:child_process';
import { cpSync, createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTar } from '../src/engine/bundle';
import { SaltRunner, SaltSource, WarmSessions } from '../src/engine';
import { IMAGE, cliApply, engine, median, newContainer, runBench, watchEdits } from './support';

const REPO = join(__dirname, '..', '..');
const TREE = { stateRoot: join(REPO, 'bench', 'fixtures', 'salt') };
/** Debian 12 minbase without python3, like the official debian:12: the engine brings its runtime. */
const NOPYTHON_IMAGE = 'salt-containers-test:debian';
const SLS = 'bench';
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 5;

const source = new SaltSource();

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await fn();
  return [performance.now() - start, value];
}


/** Puts the thin and the tree at /tmp/floor once, outside any timing. */
async function prepareFloor(container: string): Promise<void> {
  const thin = await source.thin();
  await engine.exec(container, ['mkdir', '-p', '/tmp/floor']);
  await engine.putArchive(container, '/tmp/floor', bundleTar({ runDir: '/tmp/floor', cacheDir: '/tmp/floor/cache', tree: TREE, minionId: 'bench', saltenv: 'base' }));
  // The thin as a run ships it to this Python: precompiled, nothing compiled in the container.
  const bytecode = await source.bytecode(thin.pythonVersion);
  await engine.putArchive(container, '/tmp/floor', createReadStream(bytecode!.tarPath));
}

const FLOOR_CALL = 'import sys; sys.path[0:0] = ["/tmp/floor/pyall", "/tmp/floor/py3"]; from salt.scripts import salt_call; sys.argv = ["salt-call"] + sys.argv[1:]; salt_call()';
async function floorApply(container: string): Promise<void> {
  const result = await engine.exec(container, ['python3', '-c', FLOOR_CALL, '-c', '/tmp/floor/conf', '--local', '--retcode-passthrough', '--out', 'json', '-l', 'quiet', '--', 'state.sls', SLS], {
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'PYTHONDONTWRITEBYTECODE=1'],
    user: '0:0',
  });
  if (result.exitCode !== 0) throw new Error(`floor run failed: ${result.stdout}${result.stderr}`);
}

async function engineApply(runner: SaltRunner, container: string, warm = false, python?: 'container' | 'bundled'): Promise<void> {
  const run = await runner.apply(container, [SLS], TREE, { warm });
  if (run.retcode !== 0) throw new Error(`engine run failed: ${JSON.stringify(run.errors)}`);
  if (warm && !run.warm) throw new Error('the run did not go through the warm session');
  if (python && run.python?.kind !== python) throw new Error(`the run used the ${run.python?.kind} Python, not the ${python} one`);
}

function hostSaltCall(python: string, config: string, argv: string[], timeoutMs = 300_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', 'from salt.scripts import salt_call; import sys; sys.argv[0] = "salt-call"; salt_call()', '-c', config, '--local', '--retcode-passthrough', '--out', 'json', '-l', 'quiet', ...argv], { timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stdout.slice(-500)}\n${stderr.slice(-500)}`)) : resolve(),
    );
  });
}

async function main(): Promise<void> {
  const rows: [string, number, string][] = [];
  const row = (name: string, ms: number, note = '') => {
    rows.push([name, ms, note]);
    console.log(`  ${name.padEnd(46)} ${seconds(ms).padStart(9)}  ${note}`);
  };
  const info = await source.info();
  await source.thin(); // generated once and cached: not part of any run
  console.log(`Salt ${info.saltVersion}, ${RUNS} runs each, SLS '${SLS}' (11 states), image ${IMAGE}\n`);

  // Cold: a new container and a new runner each time (nothing known about either, first .pyc loads).
  const floorCold: number[] = [];
  const engineCold: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const a = await newContainer();
    await prepareFloor(a);
    floorCold.push((await timed(() => floorApply(a)))[0]);
    const b = await newContainer();
    engineCold.push((await timed(() => engineApply(new SaltRunner(engine, source), b)))[0]);
  }
  // Warm: the same container and runner again and again.
  const warm = await newContainer();
  await prepareFloor(warm);
  await floorApply(warm);
  const runner = new SaltRunner(engine, source);
  await engineApply(runner, warm);
  const floorWarm: number[] = [];
  const engineWarm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    floorWarm.push((await timed(() => floorApply(warm)))[0]);
    engineWarm.push((await timed(() => engineApply(runner, warm)))[0]);
  }
  // A warm session: Salt kept in the container, a forked child per run (the first run starts it); on
  // the Python image and, turn about, on the image without one (the session runs the bundled runtime).
  const [sessionContainer, bundledSessionContainer] = [await newContainer(), await newContainer(NOPYTHON_IMAGE)];
  const sessionRunner = new SaltRunner(engine, source);
  const sessions = new WarmSessions(sessionRunner.launcher, { idleTimeoutMs: 600_000 });
  sessionRunner.warm = sessions;
  await engineApply(sessionRunner, sessionContainer, true, 'container');
  await engineApply(sessionRunner, bundledSessionContainer, true, 'bundled'); // builds the runtime if the cache has none
  const sessionApplies: number[] = [];
  const bundledSessionApplies: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      sessionApplies.push((await timed(() => engineApply(sessionRunner, sessionContainer, true, 'container')))[0]);
      bundledSessionApplies.push((await timed(() => engineApply(sessionRunner, bundledSessionContainer, true, 'bundled')))[0]);
    }
  } finally {
    await sessions.dispose();
  }
  // The edit loop from a terminal: a saved edit's result through `watch`, against a cold CLI apply.
  const editTree = mkdtempSync(join(tmpdir(), 'salt-bench-watch-'));
  cpSync(TREE.stateRoot, editTree, { recursive: true });
  const cliCold: number[] = [];
  let watchTimes: number[] = [];
  try {
    const cliContainer = await newContainer();
    await cliApply(cliContainer, editTree, SLS);
    for (let i = 0; i < RUNS; i++) cliCold.push((await timed(() => cliApply(cliContainer, editTree, SLS)))[0]);
    watchTimes = await watchEdits(await newContainer(), editTree, SLS, RUNS);
  } finally {
    rmSync(editTree, { recursive: true, force: true });
  }

  // Build: the engine's build against create + floor (cold) + commit + remove.
  const commits: number[] = [];
  const lifecycles: number[] = [];
  const builds: number[] = [];
  const tags: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [lifecycle, id] = await timed(async () => {
      const c = await engine.createContainer(IMAGE, { keepAlive: ['sleep', 'infinity'] });
      await engine.startContainer(c);
      return c;
    });
    await prepareFloor(id);
    const tag = `salt-containers-bench:floor${i}`;
    tags.push(tag);
    commits.push((await timed(() => engine.commit(id, tag, { Cmd: ['/bin/bash'], Entrypoint: [] })))[0]);
    lifecycles.push(lifecycle + (await timed(() => engine.removeContainer(id, { force: true })))[0]);
    const buildTag = `salt-containers-bench:build${i}`;
    tags.push(buildTag);
    const [ms, run] = await timed(() => runner.build([SLS], TREE, { baseImage: IMAGE, tag: buildTag }));
    if (run.retcode !== 0) throw new Error(`build failed: ${JSON.stringify(run.errors)}`);
    builds.push(ms);
  }
  const buildFloor = median(floorCold) + median(commits) + median(lifecycles);

  // An image without Python (Debian 12 minbase: the engine brings its runtime) against the Python
  // image, turn about, cold and warm. Target: <= 1.5x.
  const runtimeRuns = { pythonCold: [] as number[], bundledCold: [] as number[], pythonWarm: [] as number[], bundledWarm: [] as number[] };
  await engineApply(new SaltRunner(engine, source), await newContainer(NOPYTHON_IMAGE), false, 'bundled'); // builds the runtime if the cache has none
  for (let i = 0; i < RUNS; i++) {
    const withPython = await newContainer();
    runtimeRuns.pythonCold.push((await timed(() => engineApply(new SaltRunner(engine, source), withPython, false, 'container')))[0]);
    const without = await newContainer(NOPYTHON_IMAGE);
    runtimeRuns.bundledCold.push((await timed(() => engineApply(new SaltRunner(engine, source), without, false, 'bundled')))[0]);
  }
  const [warmPython, warmBundled] = [await newContainer(), await newContainer(NOPYTHON_IMAGE)];
  const runtimeRunner = new SaltRunner(engine, source);
  await engineApply(runtimeRunner, warmPython, false, 'container');
  await engineApply(runtimeRunner, warmBundled, false, 'bundled');
  for (let i = 0; i < RUNS; i++) {
    runtimeRuns.pythonWarm.push((await timed(() => engineApply(runtimeRunner, warmPython, false, 'container')))[0]);
    runtimeRuns.bundledWarm.push((await timed(() => engineApply(runtimeRunner, warmBundled, false, 'bundled')))[0]);
  }

  console.log('\nmedians');
  row('floor: salt-call, thin already there, cold', median(floorCold));
  row('engine apply, cold (new container)', median(engineCold), `${(median(engineCold) / median(floorCold)).toFixed(2)}x floor (target <= 1.3x)`);
  row('floor: salt-call, thin already there, warm', median(floorWarm));
  row('engine apply, warm', median(engineWarm), `${(median(engineWarm) / median(floorWarm)).toFixed(2)}x floor (target <= 1.3x)`);
  row('engine apply, warm session', median(sessionApplies), `${(median(sessionApplies) / median(floorWarm)).toFixed(2)}x floor (target <= 0.25x)`);
  row('engine apply, warm session, no Python (bundled)', median(bundledSessionApplies), `${(median(bundledSessionApplies) / median(floorWarm)).toFixed(2)}x floor (target <= 0.25x), ${(median(bundledSessionApplies) / median(sessionApplies)).toFixed(2)}x the Python image's`);
  row('cold CLI apply (new process, new salt-call)', median(cliCold));
  row('watch: saved edit to its result', median(watchTimes), `${(median(watchTimes) / median(cliCold)).toFixed(2)}x cold CLI apply (target <= 0.4x)`);
  row('floor build: create + cold salt-call + commit + rm', buildFloor);
  row('engine build', median(builds), `${(median(builds) / buildFloor).toFixed(2)}x floor (target <= 1.5x)`);
  const ratio = (a: number[], b: number[]) => `${(median(a) / median(b)).toFixed(2)}x the Python image (target <= 1.5x)`;
  row(`engine apply on ${IMAGE}, cold`, median(runtimeRuns.pythonCold));
  row(`engine apply on ${NOPYTHON_IMAGE} (bundled), cold`, median(runtimeRuns.bundledCold), ratio(runtimeRuns.bundledCold, runtimeRuns.pythonCold));
  row(`engine apply on ${IMAGE}, warm`, median(runtimeRuns.pythonWarm));
  row(`engine apply on ${NOPYTHON_IMAGE} (bundled), warm`, median(runtimeRuns.bundledWarm), ratio(runtimeRuns.bundledWarm, runtimeRuns.pythonWarm));
  console.log(`  raw (ms): ${Object.entries(runtimeRuns).map(([name, ms]) => `${name} ${ms.map(Math.round)}`).join(', ')}`);

  // Salt's own docker module, where it runs (needs the `docker` Python package in the Salt venv).
  if (!args.includes('--no-salt-docker')) {
    // Salt 3008 ships its docker module as the extension saltext.dockermod; it needs docker-py too.
    const canRun = () => new Promise<boolean>((resolve) => execFile(info.python, ['-c', 'import docker, saltext.dockermod'], (error) => resolve(!error)));
    if (!(await canRun())) {
      console.log(`\ninstalling docker and saltext.dockermod into ${info.python}'s environment for Salt's own docker module`);
      await new Promise<void>((resolve) => execFile(info.python, ['-m', 'pip', 'install', '-q', 'docker', 'saltext.dockermod'], { timeout: 300_000 }, () => resolve()));
    }
    if (!(await canRun())) console.log(`\nSalt's own docker.sls: not run (could not install: ${info.python} -m pip install docker saltext.dockermod)`);
    else {
      const conf = mkdtempSync(join(tmpdir(), 'salt-bench-conf-'));
      writeFileSync(
        join(conf, 'minion'),
        JSON.stringify({ id: 'bench-host', file_client: 'local', root_dir: conf, cachedir: join(conf, 'cache'), pki_dir: join(conf, 'pki'), sock_dir: join(conf, 'sock'), log_file: join(conf, 'log'), file_roots: { base: [TREE.stateRoot] }, pillar_roots: { base: [join(conf, 'pillar')] } }),
      );
      try {
        const own: number[] = [];
        const ownBuild: number[] = [];
        for (let i = 0; i < Math.min(RUNS, 3); i++) {
          const c = await newContainer();
          own.push((await timed(() => hostSaltCall(info.python, conf, ['docker.sls', c, `mods=${SLS}`])))[0]);
          const tag = `salt-containers-bench:own${i}`;
          tags.push(tag);
          ownBuild.push((await timed(() => hostSaltCall(info.python, conf, ['docker.sls_build', `base=${IMAGE}`, `mods=${SLS}`, `repository=salt-containers-bench`, `tag=own${i}`])))[0]);
        }
        row("Salt's own docker.sls (new container)", median(own), `engine cold is ${(median(own) / median(engineCold)).toFixed(1)}x faster (target >= 5x)`);
        row("Salt's own docker.sls_build", median(ownBuild), `engine build is ${(median(ownBuild) / median(builds)).toFixed(1)}x faster (target >= 5x)`);
      } catch (error) {
        console.log(`\nSalt's own docker module did not run here: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}`);
      } finally {
        rmSync(conf, { recursive: true, force: true });
      }
    }
  }
  console.log(`\nsession apply: ${(median(sessionApplies) / 1000).toFixed(2)} s, ${(median(sessionApplies) / median(floorWarm)).toFixed(2)}x the floor`);
  console.log(
    `session apply without Python (bundled runtime, ${NOPYTHON_IMAGE}): ${(median(bundledSessionApplies) / 1000).toFixed(2)} s, ${(median(bundledSessionApplies) / median(floorWarm)).toFixed(2)}x the floor, ` +
      `${(median(bundledSessionApplies) / median(sessionApplies)).toFixed(2)}x a session on the Python image`,
  );
  console.log(`watch edit to result: ${(median(watchTimes) / 1000).toFixed(2)} s, ${(median(watchTimes) / median(cliCold)).toFixed(2)}x a cold CLI apply`);
  console.log(`\nraw (ms): session ${sessionApplies.map(Math.round)}, session bundled ${bundledSessionApplies.map(Math.round)}, watch ${watchTimes.map(Math.round)}, cli cold ${cliCold.map(Math.round)}, engine cold ${engineCold.map(Math.round)}, floor cold ${floorCold.map(Math.round)}, engine warm ${engineWarm.map(Math.round)}, floor warm ${floorWarm.map(Math.round)}, builds ${builds.map(Math.round)}`);
  for (const tag of tags) await engine.removeImage(tag, { force: true }).catch(() => undefined);
}

runBench(main);
