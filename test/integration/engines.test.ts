// The CLI on the other engines the set-up starts, named as users name them: Podman's Docker API by
// --host, the TLS dockerd by a context the real `docker context create` made (--context) and by
// DOCKER_HOST with the TLS variables. On each: ls, apply, test mode, call and build, with what each
// leaves behind checked on that engine. Then the engines' failures, met for real: TLS without
// certificates or with an unknown CA, an API version the engine does not speak, a socket we may not
// open, a missing context, and Podman whose default ulimits exceed this machine's (the build must
// say so, not "no Python 3").
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createConnection, createServer, type Socket } from 'node:net';
import { BUILD_LABELS, buildContainerPrefix, DockerEngine, EnginePool, SaltSource } from '../../src/engine';
import { CELL_LABELS, loadMatrix, runMatrix, SaltVersions, selectCells, spreadOver, type CellResult } from '../../src/testing';
import { defaultCacheDir } from '../../src/engine/salt/source';
import { FIXTURES, PY3_IMAGE, REPO_ROOT, allChanges, leftovers, removeContainer, runImage, startContainer, uniqueName } from '../support/containers';
import { cleanDockerEnv, engineUnderTest, testEngines, tlsContext, tlsEnv } from '../support/engines';
import { confWithPodmanDefaultUlimits, startPodmanService } from '../support/podman';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const engines = testEngines();

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI with only the engine variables given (none inherited from this process). */
function cli(args: string[], env: Record<string, string> = {}, options: { cwd?: string; uid?: number; script?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const spawnOptions = { cwd: options.cwd ?? REPO_ROOT, env: { ...cleanDockerEnv(), ...env }, timeout: 120_000, ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}) };
    execFile(process.execPath, [options.script ?? CLI, ...args], spawnOptions, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function json<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}${result.stderr}`);
  }
}

interface StateDoc {
  retcode: number;
  states: { id: string; result: boolean | null }[];
  errors: { message: string }[];
}

const context = tlsContext('sc-tls');
after(() => context.remove());

const targets: { name: string; engine: DockerEngine; args: string[]; env: Record<string, string> }[] = [
  { name: 'Podman (--host)', engine: engineUnderTest('podman'), args: ['--host', engines.podman.host], env: {} },
  { name: 'the TLS dockerd (--context, made by docker context create)', engine: engineUnderTest('tls'), args: ['--context', 'sc-tls'], env: { DOCKER_CONFIG: context.configDir } },
  { name: 'the TLS dockerd (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)', engine: engineUnderTest('tls'), args: [], env: tlsEnv() },
];

for (const target of targets) {
  describe(`the CLI on ${target.name}`, () => {
    const { engine } = target;
    let container: string;
    const made: string[] = [];
    before(async () => {
      container = await startContainer(engine, PY3_IMAGE, 'sc-eng');
    });
    after(async () => {
      await removeContainer(engine, container);
      for (const image of made) await engine.removeImage(image, { force: true }).catch(() => undefined);
    });

    it('ls lists the container that engine runs (and only that engine\'s)', async () => {
      const result = await cli(['ls', '--json', ...target.args], target.env);
      assert.equal(result.code, 0, result.stderr);
      const doc = json<{ containers: { name: string; state: string }[]; images: { tags: string[] }[] }>(result);
      assert.deepEqual(doc.containers.filter((c) => c.name === container).map((c) => c.state), ['running']);
      assert.ok(doc.images.some((i) => i.tags.some((t) => t.endsWith(PY3_IMAGE))), 'the test image is listed');
      const local = json<{ containers: { name: string }[] }>(await cli(['ls', '--json']));
      assert.ok(!local.containers.some((c) => c.name === container), 'the local engine does not have it');
    });

    it('apply in test mode reports what would change and changes nothing', async () => {
      const before = await allChanges(engine, container);
      const result = await cli(['apply', 'web', '--container', container, '--test', '--json', ...target.args], target.env, { cwd: join(REPO_ROOT, 'examples') });
      const doc = json<StateDoc>(result);
      assert.equal(doc.retcode, 0, JSON.stringify(doc.errors));
      assert.equal(doc.states.length, 9);
      assert.ok(doc.states.every((s) => s.result === null), 'every state would change');
      // Salt's cachedir is made in /tmp and removed: the folder's time changes. Docker's diff does not
      // list a folder whose content is the same; Podman's lists every folder the container wrote in.
      const podman = (await engine.identify()).name === 'podman';
      const after = (await allChanges(engine, container)).filter((change) => !before.includes(change));
      assert.deepEqual(after, podman ? ['C /tmp'] : []);
    });

    it('apply runs the states and leaves nothing of Salt behind', async () => {
      const result = await cli(['apply', 'web', '--container', container, '--json', ...target.args], target.env, { cwd: join(REPO_ROOT, 'examples') });
      const doc = json<StateDoc>(result);
      assert.equal(doc.retcode, 0, JSON.stringify(doc.errors));
      assert.deepEqual(doc.states.map((s) => s.result), Array(9).fill(true));
      assert.deepEqual(await leftovers(engine, container), []);
    });

    it('call runs a Salt function there', async () => {
      const result = await cli(['call', 'grains.get', 'os', '--container', container, '--json', ...target.args], target.env);
      assert.deepEqual(json(result), { retcode: 0, return: 'Debian', errors: [] });
    });

    it('build commits an image there with the base image\'s config and no Salt, and removes its container', async () => {
      const base = `${uniqueName('sc-eng-base')}:1`;
      const tag = `${uniqueName('sc-eng-built')}:1`;
      made.push(base, tag);
      const keeper = await engine.createContainer(PY3_IMAGE, { keepAlive: ['true'] });
      await engine.commit(keeper, base, { Cmd: ['cat', 'built-marker'], Entrypoint: [], Env: ['PATH=/usr/bin:/bin', 'GREETING=hello there'], WorkingDir: '/srv', User: '', ExposedPorts: { '8080/tcp': {} }, Labels: { 'org.example.base': 'yes' } });
      await engine.removeContainer(keeper, { force: true });
      const result = await cli(['build', 'built', '--from', base, '--tag', tag, '--json', '--states', FIXTURES.stateRoot, ...target.args], target.env);
      const doc = json<StateDoc & { image: { tag: string } | null }>(result);
      assert.equal(doc.retcode, 0, JSON.stringify(doc.errors));
      assert.equal(doc.image?.tag, tag);
      const config = (await engine.inspectImage(tag)).Config;
      assert.deepEqual(config.Cmd, ['cat', 'built-marker']);
      assert.deepEqual(config.Entrypoint ?? [], []);
      assert.equal(config.WorkingDir, '/srv');
      assert.ok(config.Env.includes('GREETING=hello there'), config.Env.join(' '));
      assert.deepEqual(Object.keys(config.ExposedPorts ?? {}), ['8080/tcp']);
      assert.equal(config.Labels?.['org.example.base'], 'yes');
      assert.equal(config.Labels?.[BUILD_LABELS.sls], 'built');
      assert.equal(await runImage(engine, tag), 'built by built on Debian\n');
      const salt = await runImage(engine, tag, ['python3', '-c', 'import os,glob; print(glob.glob("/tmp/*"), os.path.exists("/etc/salt"))']);
      assert.equal(salt, '[] False\n');
      assert.deepEqual((await engine.listContainers()).filter((c) => c.name.startsWith(buildContainerPrefix(tag))), []);
      assert.equal(config.Labels?.['io.salt-containers.build'], undefined, "the build container's label would stay in the image");
    });
  });
}

describe('the CLI over ssh:// (an sshd on this machine that reaches the main engine)', () => {
  const engine = new DockerEngine({ dockerHost: 'unix:///var/run/docker.sock' });
  // The client's HOME holds the known_hosts line for the server and the key it accepts; the cache stays ours.
  const sshEnv = { HOME: engines.ssh.home, SALT_CONTAINERS_CACHE: defaultCacheDir() };
  let container: string;
  before(async () => {
    if (engines.ssh.error) throw new Error(`the set-up has no ssh engine: ${engines.ssh.error}`);
    container = await startContainer(engine, PY3_IMAGE, 'sc-eng-ssh');
  });
  after(() => removeContainer(engine, container));

  it('ls and a test-mode apply go through ssh (exec and its stdin included), with no warnings on stderr', async () => {
    const ls = await cli(['ls', '--json', '--host', engines.ssh.host], sshEnv);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(json<{ containers: { name: string }[] }>(ls).containers.some((c) => c.name === container));
    const result = await cli(['apply', 'web', '--container', container, '--test', '--json', '--host', engines.ssh.host], sshEnv, { cwd: join(REPO_ROOT, 'examples') });
    const doc = json<StateDoc>(result);
    assert.equal(doc.retcode, 0, JSON.stringify(doc.errors));
    assert.equal(doc.states.length, 9);
    assert.equal(result.stderr, '');
    assert.deepEqual(await leftovers(engine, container), []);
  });

  it('refuses a host whose key ~/.ssh/known_hosts does not name, as ssh does', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sc-ssh-home-'));
    try {
      cpSync(join(engines.ssh.home, '.ssh', 'id_ed25519'), join(home, '.ssh', 'id_ed25519'));
      const result = await cli(['ls', '--host', engines.ssh.host], { ...sshEnv, HOME: home });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /the SSH host key of ssh:\/\/\w+@127\.0\.0\.1:\d+ is not one ~\/\.ssh\/known_hosts names\n  hint: Connect once with ssh/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('engine failures, said as what they are', () => {
  it('a TLS engine named without its certificates: it speaks TLS and we did not', async () => {
    const result = await cli(['ls'], { DOCKER_HOST: engines.tls.host });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the engine at tcp:\/\/127\.0\.0\.1:\d+ speaks TLS and we did not\n  hint: Set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH/);
  });

  it('a TLS engine whose CA we do not have: its certificate is not signed by a CA we trust', async () => {
    const certs = mkdtempSync(join(tmpdir(), 'sc-certs-'));
    try {
      for (const file of ['cert.pem', 'key.pem']) cpSync(join(engines.tls.certPath, file), join(certs, file));
      const result = await cli(['ls', '--json'], { ...tlsEnv(), DOCKER_CERT_PATH: certs });
      assert.equal(result.code, 1);
      const [error] = json<{ errors: { message: string }[] }>(result).errors;
      assert.match(error.message, /^TLS with the engine at tcp:\/\/127\.0\.0\.1:\d+ failed: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\) \(The engine's certificate is not signed by a CA we trust/);
    } finally {
      rmSync(certs, { recursive: true, force: true });
    }
  });

  it('an API version the engine does not speak (DOCKER_API_VERSION), too new and too old', async () => {
    const env = { DOCKER_CONFIG: context.configDir };
    const tooNew = await cli(['ls', '--context', 'sc-tls'], { ...env, DOCKER_API_VERSION: '1.99' });
    assert.equal(tooNew.code, 1);
    assert.match(tooNew.stderr, /does not speak API version 1\.99 \(it supports up to 1\.41\)\n  hint: Set DOCKER_API_VERSION to 1\.41 or lower/);
    const tooOld = await cli(['ls', '--context', 'sc-tls'], { ...env, DOCKER_API_VERSION: '1.5' });
    assert.equal(tooOld.code, 1);
    assert.match(tooOld.stderr, /does not speak API version 1\.5 \(it supports from 1\.12\)\n  hint: Set DOCKER_API_VERSION to 1\.12 or higher/);
    // Podman's Docker API answers whatever version is asked.
    assert.equal((await cli(['ls', '--host', engines.podman.host], { DOCKER_API_VERSION: '1.5' })).code, 0);
  });

  it('a socket this user may not open: permission denied, with what to do', async () => {
    // The bundle where that user can read it: a clone may be in a folder only root enters (/root, a mkdtemp).
    const dir = mkdtempSync(join(tmpdir(), 'sc-cli-nobody-'));
    try {
      chmodSync(dir, 0o755);
      copyFileSync(CLI, join(dir, 'cli.js'));
      const result = await cli(['ls'], { HOME: '/nonexistent' }, { uid: 65534, cwd: dir, script: join(dir, 'cli.js') });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /permission denied opening the engine's socket at unix:\/\/\/var\/run\/docker\.sock\n  hint: Add your user to the group that owns the socket/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a context that does not exist, and an engine that is not there', async () => {
    const missing = await cli(['ls', '--context', 'sc-no-such-context'], { DOCKER_CONFIG: context.configDir });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Docker context sc-no-such-context not found in .*contexts\n  hint: `docker context ls`/);
    const gone = await cli(['apply', 'web', '--container', 'x', '--host', 'unix:///nonexistent/sc.sock'], {}, { cwd: join(REPO_ROOT, 'examples') });
    assert.equal(gone.code, 1);
    assert.match(gone.stdout, /Docker engine at unix:\/\/\/nonexistent\/sc\.sock is not reachable \(ENOENT\)/);
  });

  describe('Podman with its default ulimits, above this machine\'s hard limits', () => {
    let service: Awaited<ReturnType<typeof startPodmanService>>;
    before(async () => {
      service = await startPodmanService(confWithPodmanDefaultUlimits());
    });
    after(() => service.stop());

    it('a build whose container cannot start says why (rlimit) and how to fix it, not "no Python 3", and leaves no container', async () => {
      const tag = `${uniqueName('sc-eng-never')}:1`;
      const before = (await service.engine.listContainers()).length;
      const result = await cli(['build', 'built', '--from', PY3_IMAGE, '--tag', tag, '--json', '--states', FIXTURES.stateRoot, '--host', service.host]);
      assert.equal(result.code, 1);
      const doc = json<StateDoc & { image: unknown }>(result);
      assert.equal(doc.image, null);
      assert.equal(doc.errors.length, 1);
      assert.doesNotMatch(doc.errors[0].message, /Python/);
      assert.match(doc.errors[0].message, /^could not start container [0-9a-f]{12}: .*error setting rlimit type \d: operation not permitted.* \(The engine's default ulimits exceed this machine's hard limits .*default_ulimits/);
      assert.equal((await service.engine.listContainers()).length, before, 'the keep-alive container was removed');
      await assert.rejects(service.engine.inspectImage(tag), /not found/);
    });
  });
});

describe('a state-test matrix spread over engines (salt-containers test, engines: in the matrix file)', () => {
  it('puts cells on the engine with the fewest running cells, reports each cell’s engine, leaves an engine that does not answer out, and leaves no container on any', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-eng-matrix-'));
    try {
      cpSync(join(REPO_ROOT, 'test', 'fixtures', 'testing', 'formula'), dir, { recursive: true });
      const gone = 'tcp://127.0.0.1:1';
      const suite = (name: string) => `  - name: ${name}\n    states: [greeter._mapdata, greeter]\n    pillar: {greeter: test/salt/pillar/default.sls}\n    verify: [test.salt.verify]\n`;
      writeFileSync(join(dir, 'spread.yml'), `images: [${PY3_IMAGE}]\nengines: [default, "${engines.podman.host}", "${gone}"]\nsuites:\n${suite('first')}${suite('second')}`);
      const result = await cli(['test', '--matrix', 'spread.yml', '--workers', '2', '--json'], {}, { cwd: dir });
      const doc = json<{ retcode: number; engines: { name: string; reachable: boolean; message: string | null }[]; cells: { suite: string; engine: string; passed: boolean }[] }>(result);
      assert.equal(doc.retcode, 0, result.stderr);
      assert.deepEqual(doc.cells.map((c) => c.passed), [true, true]);
      assert.deepEqual(doc.cells.map((c) => c.engine).sort(), ['default', engines.podman.host].sort(), 'one cell on each engine that answers');
      assert.deepEqual(doc.engines.map((e) => [e.name, e.reachable]), [['default', true], [engines.podman.host, true], [gone, false]]);
      assert.match(doc.engines[2].message ?? '', /not reachable/);
      assert.match(result.stderr, new RegExp(`note: engine ${gone.replace(/[.:/]/g, '\\$&')} .*is left out`));
      for (const engine of [new DockerEngine(), engineUnderTest('podman')]) {
        const left = (await engine.listContainers()).filter((c) => c.labels['io.salt-containers.test-matrix']?.startsWith(dir));
        assert.deepEqual(left.map((c) => c.name), [], `cells left containers on ${engine.address}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts a cell again on another engine when its engine stops answering under it, and reports what it left there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-eng-lost-'));
    // An engine of the test's own that can be cut: a socket that passes everything to the local dockerd.
    const proxy = await socketProxy(join(dir, 'engine.sock'), '/var/run/docker.sock');
    try {
      cpSync(join(REPO_ROOT, 'test', 'fixtures', 'testing', 'formula'), dir, { recursive: true });
      writeFileSync(join(dir, 'lost.yml'), `images: [${PY3_IMAGE}]\nengines: ["${proxy.host}", default]\nsuites:\n  - name: only\n    states: [greeter._mapdata, greeter]\n    pillar: {greeter: test/salt/pillar/default.sls}\n    verify: [test.salt.verify]\n`);
      const matrix = loadMatrix(join(dir, 'lost.yml'));
      const configured = new SaltSource();
      const cells = selectCells(matrix, {}, (await configured.info()).saltVersion);
      const pool = await EnginePool.open(matrix.engines, { selection: { host: 'unix:///var/run/docker.sock' } });
      assert.deepEqual(pool.engines.map((e) => e.name), [proxy.host, 'default']);
      const steps: string[] = [];
      const restarted: CellResult[] = [];
      const run = await runMatrix(matrix, {
        cells,
        provider: spreadOver(pool),
        salt: new SaltVersions({ configured }),
        workers: 1,
        events: {
          step: (_cell, step) => {
            steps.push(step);
            // The engine goes away once the cell's container is there, before converge runs.
            if (step === 'converge' && restarted.length === 0) proxy.cut();
          },
          cellRestarted: (_cell, lost) => restarted.push(lost),
        },
      });
      assert.equal(restarted.length, 1, 'restarted once');
      assert.equal(restarted[0].engine, proxy.host);
      assert.equal(restarted[0].phases.find((p) => p.phase === 'converge')!.errors[0].kind, 'engine-unreachable');
      assert.deepEqual(restarted[0].phases.filter((p) => p.phase !== 'converge').map((p) => p.skipped), ['the engine stopped answering', 'the engine stopped answering']);
      assert.deepEqual(steps, ['create', 'converge', 'destroy', 'create', 'converge', 'idempotence', 'verify', 'destroy']);
      const [cell] = run.cells;
      assert.equal(cell.engine, 'default');
      assert.equal(cell.passed, true, JSON.stringify(cell.errors));
      assert.deepEqual(cell.phases.map((p) => [p.phase, p.passed]), [['converge', true], ['idempotence', true], ['verify', true]]);
      // The cut engine is out of the run, and its report names the container the cell could not remove there.
      const report = run.engines!.find((e) => e.name === proxy.host)!;
      assert.equal(report.reachable, false);
      assert.match(report.message ?? '', /\(under cell only\.salt-containers-test:py3@[^)]+\); container sct-only-salt-containers-test-py3-\S+ is left on engine unix:\S+, which stopped answering/);
      // That engine was the local dockerd under another address: the container is there, and only that one.
      const left = (await new DockerEngine().listContainers()).filter((c) => c.labels[CELL_LABELS.matrix] === matrix.file);
      assert.equal(left.length, 1);
      assert.ok(report.message!.includes(left[0].name), `${left[0].name} in ${report.message}`);
    } finally {
      proxy.cut();
      const local = new DockerEngine();
      for (const c of await local.listContainers()) if (c.labels[CELL_LABELS.matrix] === join(dir, 'lost.yml')) await removeContainer(local, c.id);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A unix socket that passes every connection to `target`'s socket until cut (then it is gone: ENOENT). */
async function socketProxy(path: string, target: string): Promise<{ host: string; cut: () => void }> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(target);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    host: `unix://${path}`,
    cut: () => {
      server.close();
      for (const socket of open) socket.destroy();
      rmSync(path, { force: true });
    },
  };
}
