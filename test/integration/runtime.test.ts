/**
 * Salt in containers without a Python it can use: the runtime the engine brings, on real images (Debian
 * without python3, busybox without a libc, a musl userland, Debian 11's Python 3.9) and the real engine.
 * Each trap the prototype hit has a test here.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DockerEngine, SaltRunner, SaltSource, WarmSessions, type StateRun } from '../../src/engine';
import { buildRuntime, hostCommand, interpreterFor, readElf, runtimeTar } from '../../src/engine/runtime';
import {
  BUSYBOX_IMAGE,
  DEBIAN_IMAGE,
  EXAMPLES,
  FAILING_RESULTS,
  FIXTURES,
  MUSL_IMAGE,
  PY39_IMAGE,
  PY3_IMAGE,
  REPO_ROOT,
  allChanges,
  applyCancelledWhileInjecting,
  leftovers,
  processesMatching,
  readInContainer,
  removeContainer,
  shmEntries,
  startContainer,
} from '../support/containers';
import { readTar } from '../support/tar';

const engine = new DockerEngine();
const source = new SaltSource();
const runner = new SaltRunner(engine, source);
const PROBES = { stateRoot: join(REPO_ROOT, 'test', 'fixtures', 'engine', 'runtime') };
const BUNDLED_NOTE = /^Salt ran with the bundled Python 3\.11\.\d+ \(Debian bookworm, amd64\): /;
/** Warm sessions for the runs that ask for one (the edit loop's path); other runs go cold. */
const sessions = new WarmSessions(runner.launcher, { idleTimeoutMs: 60_000 });
runner.warm = sessions;
after(() => sessions.dispose());
/** The two ways Salt runs: a cold run of its own, and a forked child of a warm session; each trap must hold in both (the same entry point). */
const WAYS = [
  { name: 'cold', options: {}, warm: undefined },
  { name: 'in a warm session', options: { warm: true }, warm: true },
] as const;

/** A container from image, removed after fn. */
async function withContainer<T>(image: string, fn: (name: string) => Promise<T>, hostConfig?: Record<string, unknown>, env?: string[]): Promise<T> {
  const name = env ? await startWithEnv(image, env, hostConfig) : await startContainer(engine, image, 'sc-rt', hostConfig);
  try {
    return await fn(name);
  } finally {
    await removeContainer(engine, name);
  }
}

/** A running container whose own environment has `env` (every exec, ours included, inherits it). */
async function startWithEnv(image: string, env: string[], hostConfig?: Record<string, unknown>): Promise<string> {
  const container = await engine.docker.createContainer({ Image: image, Entrypoint: ['sleep', '3600'], Cmd: [], Env: env, HostConfig: hostConfig });
  await container.start();
  return (await container.inspect()).Name.slice(1);
}

/** Lines the engine logged for a run. */
function logged(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

function stateOf(run: StateRun, id: string) {
  const state = run.states.find((s) => s.id === id);
  assert.ok(state, `no state ${id} in ${run.states.map((s) => s.id).join(', ')}`);
  return state;
}

/** What each image without a Python says of itself (its /etc/os-release, or nothing: busybox has none). */
const IMAGES = [
  { image: DEBIAN_IMAGE, grains: { os: 'Debian', osrelease: '12', os_family: 'Debian' }, port: 8080, owner: 'debian-admin' },
  { image: BUSYBOX_IMAGE, grains: { os: '', osrelease: '', os_family: '' }, port: 80, owner: 'admin' },
  { image: MUSL_IMAGE, grains: { os: 'musl userland', osrelease: '1.2.3', os_family: 'musl userland' }, port: 80, owner: 'admin' },
];

describe('the bundled runtime as built', () => {
  for (const arch of ['amd64', 'arm64']) {
    it(`${arch}: every ELF file is for ${arch}, patched with a loader placeholder and DT_RPATH (never RUNPATH), its libraries all inside`, async () => {
      const runtime = await buildRuntime(arch, { cacheDir: source.cacheDir });
      const machine = { amd64: 62, arm64: 183 }[arch];
      assert.equal(runtime.arch, arch);
      assert.match(runtime.pythonFull, /^3\.11\.\d+$/);
      const libs = new Set(runtime.files.filter((f) => f.path.startsWith('lib/') && !f.path.includes('/', 4)).map((f) => f.path.slice(4)));
      assert.equal(runtime.loader, `lib/${arch === 'amd64' ? 'ld-linux-x86-64.so.2' : 'ld-linux-aarch64.so.1'}`);
      for (const lib of ['libc.so.6', 'libcrypto.so.3', 'libssl.so.3', 'libffi.so.8', 'libz.so.1', 'python311.zip']) assert.ok(libs.has(lib), `${lib} in lib/`);
      const python = readElf(join(runtime.root, runtime.interpreter));
      assert.match(python.interpreter ?? '', /^\/salt-containers-bundled-loader-@+$/);
      assert.equal(python.rpath, '$ORIGIN/../lib');
      let elves = 0;
      for (const file of runtime.files.filter((f) => /\.so(\.|$)|^bin\//.test(f.path))) {
        const elf = readElf(join(runtime.root, file.path));
        elves++;
        assert.equal(elf.machine, machine, file.path);
        assert.equal(elf.runpath, undefined, `${file.path} has a RUNPATH`);
        for (const needed of elf.needed) assert.ok(libs.has(needed), `${file.path} needs ${needed}, which the runtime lacks`);
        if (file.path.includes('lib-dynload/') && elf.needed.some((n) => !/^lib(c|m)\.so\.6$/.test(n))) assert.equal(elf.rpath, '$ORIGIN/../..', file.path);
      }
      assert.ok(elves > 30, `${elves} ELF files`);
      for (const p of runtime.packages) assert.ok(runtime.files.some((f) => f.path === `share/doc/${p.name}/copyright`), `licence of ${p.name}`);
      assert.ok(runtime.bytes < 30e6, `${runtime.bytes} bytes unpacked`);
    });

    it(`${arch}: unpacks from its upload into a directory of its own, the interpreter pointing at that directory's loader`, async () => {
      const runtime = await buildRuntime(arch, { cacheDir: source.cacheDir });
      const dir = '/var/tmp/salt-containers.0123456789abcdef.python';
      const entries = await readTar(runtimeTar(runtime, dir));
      const top = 'salt-containers.0123456789abcdef.python';
      assert.deepEqual(
        runtime.files.map((f) => [f.path, entries.get(`${top}/${f.path}`)?.data.length]),
        runtime.files.map((f) => [f.path, f.size]),
      );
      const python = readElf(entries.get(`${top}/bin/python3`)!.data);
      assert.equal(python.interpreter, `${dir}/${runtime.loader}`);
      assert.equal(python.rpath, '$ORIGIN/../lib');
      assert.ok([...entries.entries()].filter(([, e]) => e.type === 'directory').every(([name]) => name === top || name.startsWith(`${top}/`)));
      assert.throws(() => interpreterFor(runtime, `/${'x'.repeat(200)}/lib/ld.so`), /too long/);
    });
  }

  it('amd64: runs on this machine through its own loader, with every C extension Salt uses', async () => {
    const runtime = await buildRuntime('amd64', { cacheDir: source.cacheDir });
    const [loader, python] = hostCommand(runtime);
    const { stdout } = await promisify(execFile)(loader, [python, '-I', '-c', 'import sys, ssl, _hashlib, _ctypes, lzma, bz2, _decimal, _uuid; print(sys.prefix, sys.version.split()[0], ssl.OPENSSL_VERSION.split()[1])']);
    assert.equal(stdout.trim().replace(/ 3\.0\.\d+$/, ' 3.0'), `${runtime.root} ${runtime.pythonFull} 3.0`);
  });
});

for (const { image, grains, port, owner } of IMAGES) {
  describe(`Salt in ${image} (no Python)`, () => {
    let container: string;
    before(async () => {
      container = await startContainer(engine, image, 'sc-rt');
    });
    after(() => removeContainer(engine, container));

    it('applies a multi-file SLS with the bundled Python and leaves nothing behind', async () => {
      const run = await runner.apply(container, ['web'], EXAMPLES);
      assert.deepEqual(run.errors, []);
      assert.equal(run.retcode, 0);
      assert.equal(run.states.length, 9);
      assert.ok(run.states.every((s) => s.result === true));
      assert.equal(run.python?.kind, 'bundled');
      assert.match(run.notes?.[0] ?? '', BUNDLED_NOTE);
      assert.match(run.notes?.[0] ?? '', /the container has no Python 3\.$/);
      // Pillar rendered against this container's own grains.
      assert.equal(await readInContainer(engine, container, '/etc/web/site.conf'), `# Generated by Salt for ${container}\nlisten ${port}\nroot /srv/www\n`);
      assert.equal(await readInContainer(engine, container, '/srv/app/OWNER'), `${owner}\n`);
      assert.deepEqual(await leftovers(engine, container), []);
    });

    it("reads the container's own grains, not the runtime's", async () => {
      const run = await runner.call(container, 'grains.item', ['os', 'osrelease', 'os_family', 'kernel'], {});
      assert.deepEqual(run.errors, []);
      assert.deepEqual(run.return, { ...grains, kernel: 'Linux' });
    });

    it('reports a failed state and a requisite failure with every other result intact', async () => {
      const run = await runner.apply(container, ['failing'], FIXTURES);
      assert.equal(run.retcode, 2);
      assert.deepEqual(run.errors, []);
      assert.deepEqual(run.states.map((s) => [s.id, s.result]), FAILING_RESULTS);
      assert.deepEqual(await leftovers(engine, container), []);
    });

    it('cancels mid-run: salt-call and its children are killed, the runtime and the run directory removed', async () => {
      const controller = new AbortController();
      const run = await runner.apply(container, ['slow'], FIXTURES, {
        signal: controller.signal,
        onStage: (stage) => {
          if (stage === 'running') setTimeout(() => controller.abort(), 2500);
        },
      });
      assert.equal(run.errors.at(-1)?.kind, 'cancelled');
      assert.deepEqual(await processesMatching(engine, container, 'sleep 60'), []);
      assert.deepEqual(await leftovers(engine, container), []);
    });

    it('test mode changes nothing at all', async () => {
      await withContainer(image, async (fresh) => {
        const run = await runner.apply(fresh, ['web'], EXAMPLES, { test: true });
        assert.deepEqual(run.errors, []);
        assert.ok(run.states.some((s) => s.result === null));
        assert.deepEqual(await allChanges(engine, fresh), []);
      });
    });
  });
}

for (const way of WAYS) {
  describe(`each trap of a bundled Python, ${way.name}`, () => {
    it("DT_RPATH: a container's LD_LIBRARY_PATH full of broken libraries hijacks neither the runtime nor what it starts", async () => {
      // Every library the runtime carries, except libc (the container's own shell needs that), as garbage.
      const broken = ['libm.so.6', 'libz.so.1', 'libexpat.so.1', 'libssl.so.3', 'libcrypto.so.3', 'libffi.so.8', 'liblzma.so.5', 'libbz2.so.1.0', 'libuuid.so.1', 'libcrypt.so.1'];
      await withContainer(
        DEBIAN_IMAGE,
        async (container) => {
          await engine.exec(container, ['sh', '-c', `mkdir /hijack && for l in ${broken.join(' ')}; do echo broken > /hijack/$l; done`]);
          // The hijack is real: the container's own apt-get (libz, liblzma, libbz2...) cannot start.
          const apt = await engine.exec(container, ['apt-get', '--version']);
          assert.notEqual(apt.exitCode, 0);
          assert.match(apt.stderr, /hijack\/lib.*(invalid ELF header|file too short)/);
          const run = await runner.call(container, 'runtime_probe.libcrypto', [], {}, PROBES, way.options);
          assert.deepEqual(run.errors, []);
          assert.equal(run.warm, way.warm);
          const found = run.return as { loaded: string };
          assert.match(found.loaded, /^\/tmp\/salt-containers\.[0-9a-f]{16}\.python\/lib\/libcrypto\.so\.3$/);
          const children = await runner.apply(container, ['children'], PROBES, way.options);
          assert.equal(children.warm, way.warm);
          const asRoot = stateOf(children, 'python_as_root');
          assert.equal(asRoot.result, true, asRoot.comment);
          assert.match(String(asRoot.changes.stdout), /^\/tmp\/salt-containers\.[0-9a-f]{16}\.python 0 OpenSSL$/);
        },
        undefined,
        ['LD_LIBRARY_PATH=/hijack'],
      );
    });

    for (const image of [DEBIAN_IMAGE, BUSYBOX_IMAGE]) {
      it(`${image}: processes Salt starts with sys.executable run, as root and as another user (cmd.run runas)`, async () => {
        await withContainer(image, async (container) => {
          const run = await runner.apply(container, ['children'], PROBES, way.options);
          assert.deepEqual(run.errors, []);
          assert.equal(run.warm, way.warm);
          assert.deepEqual(
            run.states.filter((s) => s.result !== true).map((s) => [s.id, s.comment, s.changes]),
            [],
          );
          assert.match(String(stateOf(run, 'python_as_root').changes.stdout), /^\/tmp\/salt-containers\.[0-9a-f]{16}\.python 0 OpenSSL$/);
          assert.match(String(stateOf(run, 'python_as_nobody').changes.stdout), /^\/tmp\/salt-containers\.[0-9a-f]{16}\.python 65534 e3b0c442$/);
          // runas got nobody's own login environment, which Salt asks the interpreter for first.
          const environment = String(stateOf(run, 'environment_as_nobody').changes.stdout);
          assert.match(environment, /^user=nobody path=\/\S+$/);
          // Debian's login.defs gives users the games directories; a shell started without it would not have them.
          if (image === DEBIAN_IMAGE) assert.match(environment, /:\/usr\/games$/);
          await sessions.end(container, 'closed');
          assert.deepEqual(await leftovers(engine, container), []);
        });
      });
    }

    it('what Salt starts sees no LD_LIBRARY_PATH or PYTHONHOME: apt and the container\'s own Python work', async () => {
      await withContainer(PY39_IMAGE, async (container) => {
        const probe = await runner.call(container, 'runtime_probe.interpreter', [], {}, PROBES, way.options);
        assert.deepEqual(probe.errors, []);
        assert.equal(probe.warm, way.warm);
        assert.equal(probe.python?.kind, 'bundled');
        assert.deepEqual((probe.return as { env: object }).env, {});
        const env = await runner.call(container, 'cmd.run', ['env'], {}, undefined, way.options);
        assert.equal(env.warm, way.warm);
        assert.doesNotMatch(String(env.return), /^(LD_LIBRARY_PATH|LD_PRELOAD|PYTHONHOME|PYTHONPATH)=/m);
        const apt = await runner.call(container, 'cmd.run_all', ['apt-get --version'], {}, undefined, way.options);
        assert.equal((apt.return as { retcode: number }).retcode, 0);
        assert.match((apt.return as { stdout: string }).stdout, /^apt 2\.2/);
        const python = await runner.call(container, 'cmd.run', ['python3 -c "import sys; print(sys.version_info[:2], sys.prefix, sys.executable)"'], {}, undefined, way.options);
        assert.equal(python.return, '(3, 9) /usr /usr/bin/python3');
      });
    });

    it("finds the bundled libcrypto and libc without ldconfig (busybox has none)", async () => {
      await withContainer(BUSYBOX_IMAGE, async (container) => {
        assert.notEqual((await engine.exec(container, ['ls', '/sbin/ldconfig', '/usr/sbin/ldconfig'])).exitCode, 0);
        const run = await runner.call(container, 'runtime_probe.libcrypto', [], {}, PROBES, way.options);
        assert.deepEqual(run.errors, []);
        assert.equal(run.warm, way.warm);
        const found = run.return as { loaded: string; crypto: string; c: string };
        const lib = /^\/tmp\/salt-containers\.[0-9a-f]{16}\.python\/lib\//;
        assert.match(found.loaded, lib);
        assert.match(found.crypto, lib);
        assert.match(found.c, /\/lib\/libc\.so\.6$/);
        assert.match(found.c, lib);
      });
    });

    it('the shell grain is a shell the container has, whatever its image says', async () => {
      await withContainer(
        BUSYBOX_IMAGE,
        async (container) => {
          const run = await runner.call(container, 'grains.item', ['shell'], {}, undefined, way.options);
          assert.equal(run.warm, way.warm);
          assert.deepEqual(run.return, { shell: '/bin/sh' });
          const echo = await runner.call(container, 'cmd.run', ['echo $((6 * 7))'], {}, undefined, way.options);
          assert.equal(echo.return, '42');
        },
        undefined,
        ['SHELL=/bin/bash'],
      );
    });

    it('an image without a root account (FROM scratch style) still runs Salt', async () => {
      await withContainer('salt-containers-test:nopython', async (container) => {
        assert.notEqual((await engine.exec(container, ['cat', '/etc/passwd'])).exitCode, 0);
        const run = await runner.call(container, 'cmd.run', ['echo hello'], {}, undefined, way.options);
        assert.deepEqual(run.errors, []);
        assert.equal(run.warm, way.warm);
        assert.equal(run.return, 'hello');
        await sessions.end(container, 'closed');
        assert.deepEqual(await allChanges(engine, container), []);
      });
    });
  });
}

describe('which Python runs Salt', () => {
  it("auto: the container's own Python when Salt supports it", async () => {
    await withContainer(PY3_IMAGE, async (container) => {
      const run = await runner.call(container, 'test.ping', [], {});
      assert.deepEqual(run.errors, []);
      assert.deepEqual(run.python, { kind: 'container', version: '3.11', path: 'python3' });
      assert.equal(run.notes, undefined);
    });
  });

  it('auto: the bundled one when the container\'s Python cannot run the thin (a package of it needs a newer one), and the note says why', async () => {
    await withContainer(PY39_IMAGE, async (container) => {
      const run = await runner.apply(container, ['web'], EXAMPLES);
      assert.deepEqual(run.errors, []);
      assert.equal(run.retcode, 0);
      assert.equal(run.python?.kind, 'bundled');
      assert.match(run.notes?.[0] ?? '', BUNDLED_NOTE);
      assert.match(run.notes?.[0] ?? '', /the container's Python 3\.9 \(python3\) cannot run Salt 3008\.\d+'s thin: .*\S+ \S+ requires Python >= ?3\.1\d.*\.$/);
      assert.equal(await readInContainer(engine, container, '/etc/web/site.conf'), `# Generated by Salt for ${container}\nlisten 8080\nroot /srv/www\n`);
      assert.deepEqual(await leftovers(engine, container), []);
    });
  });

  it('container: a clear error where the container has no Python, or too old a one, and nothing injected', async () => {
    await withContainer(DEBIAN_IMAGE, async (container) => {
      const run = await runner.apply(container, ['web'], EXAMPLES, { python: 'container' });
      assert.equal(run.retcode, 1);
      assert.equal(run.errors[0].kind, 'no-python');
      assert.equal(run.errors[0].message, `image ${DEBIAN_IMAGE} has no Python 3`);
      assert.match(run.errors[0].hint ?? '', /"container" \(--python container\): set it to "auto" or "bundled"/);
      assert.deepEqual(await allChanges(engine, container), []);
    });
    await withContainer(PY39_IMAGE, async (container) => {
      const run = await runner.call(container, 'test.ping', [], {}, undefined, { python: 'container' });
      assert.equal(run.errors[0].kind, 'no-python');
      assert.match(run.errors[0].message, /^image salt-containers-test:py3\.9: the container's Python 3\.9 \(python3\) cannot run Salt 3008\.\d+'s thin: .*requires Python >= ?3\.1\d/);
      assert.deepEqual(await allChanges(engine, container), []);
    });
  });

  it('bundled: forced on an image with Python, Salt sees the same container', async () => {
    await withContainer(PY3_IMAGE, async (container) => {
      const names = ['os', 'osrelease', 'os_family', 'osfinger', 'oscodename', 'osarch', 'kernel', 'cpuarch', 'shell', 'locale_info', 'path', 'id'];
      const own = await runner.call(container, 'grains.item', names, {});
      const bundled = await runner.call(container, 'grains.item', names, {}, undefined, { python: 'bundled' });
      assert.deepEqual(bundled.errors, []);
      assert.equal(bundled.python?.kind, 'bundled');
      assert.match(bundled.notes?.[0] ?? '', /: the python runtime setting asks for it \(bundled\)\.$/);
      assert.deepEqual(bundled.return, own.return);
      assert.deepEqual(await leftovers(engine, container), []);
    });
  });
});

describe('where the bundled Python goes', () => {
  it('not into a tmpfs /tmp (an upload would land beside it): /var/tmp instead', async () => {
    await withContainer(
      DEBIAN_IMAGE,
      async (container) => {
        const { lines, log } = logged();
        const run = await runner.apply(container, ['web'], EXAMPLES, { log });
        assert.deepEqual(run.errors, []);
        assert.ok(lines.some((l) => /^bundled Python .* uploaded to \/var\/tmp\/salt-containers\.[0-9a-f]{16}\.python /.test(l)), lines.join('\n'));
        assert.deepEqual(await leftovers(engine, container), []);
        assert.deepEqual((await engine.exec(container, ['ls', '-A', '/var/tmp', '/tmp'])).stdout.trim(), '/tmp:\n\n/var/tmp:');
      },
      { Tmpfs: { '/tmp': '' } },
    );
  });

  it('an entry point that cannot set its run up says why, and the runtime it ran from is removed all the same', async () => {
    // /dev/shm too small for Salt and /tmp a read-only tmpfs: the runtime goes to /var/tmp, the run has nowhere.
    await withContainer(
      DEBIAN_IMAGE,
      async (container) => {
        const run = await runner.apply(container, ['web'], EXAMPLES);
        assert.equal(run.errors[0].kind, 'salt');
        assert.match(run.errors[0].message, /^could not make the run directory \/tmp\/salt-containers\.[0-9a-f]{16}: Read-only file system; \/dev\/shm has 8 MB free/);
        assert.equal((await engine.exec(container, ['ls', '-A', '/var/tmp'])).stdout, '');
        assert.deepEqual(await leftovers(engine, container), []);
      },
      { ShmSize: 8 * 1024 * 1024, Tmpfs: { '/tmp': 'ro' } },
    );
  });

  it('a read-only root filesystem with no exec-capable place: a clear error that says so', async () => {
    await withContainer(
      DEBIAN_IMAGE,
      async (container) => {
        const run = await runner.apply(container, ['web'], EXAMPLES);
        assert.equal(run.retcode, 1);
        assert.equal(run.errors[0].kind, 'no-python');
        assert.equal(
          run.errors[0].message,
          `container ${container} has a read-only root filesystem and the container has no Python 3: there is no place the bundled Python can run from (/dev/shm and tmpfs mounts are noexec)`,
        );
        assert.match(run.errors[0].hint ?? '', /without --read-only/);
        assert.deepEqual(await shmEntries(engine, container), []);
      },
      { ReadonlyRootfs: true },
    );
  });

  it('cancelled while the runtime and Salt are being sent: everything removed', async () => {
    await withContainer(DEBIAN_IMAGE, async (container) => {
      for (const delayMs of [5, 60, 200]) {
        const run = await applyCancelledWhileInjecting(runner, container, delayMs);
        assert.equal(run.errors.at(-1)?.kind, 'cancelled', `after ${delayMs} ms`);
        assert.deepEqual(await processesMatching(engine, container, 'salt-containers'), [], `after ${delayMs} ms`);
        assert.deepEqual(await leftovers(engine, container), [], `after ${delayMs} ms`);
      }
    });
  });
});
