// Engines where desktops put them: with nothing naming an engine, the first place that is there is
// taken (the local socket, Docker Desktop, rootless Docker, OrbStack, Colima, Rancher Desktop, Podman,
// a Podman machine; on Windows the named pipes), its source says which, and an engine that does not
// answer names every place looked at. Each layout is a temporary home with real unix sockets where
// that desktop puts its own; only the machine's own /var/run/docker.sock and Windows' pipes are stood in for.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { listEngines, resolveEngine } from '../../src/engine/docker/contexts';
import { DockerEngine } from '../../src/engine/docker/engine';
import { EngineError, translateEngineError } from '../../src/engine/docker/errors';
import { discoverEngine, localMachine, type LocalMachine } from '../../src/engine/docker/places';

const roots: string[] = [];
const servers: Server[] = [];

/** A home with a listening unix socket at each relative path; TMPDIR and XDG_RUNTIME_DIR inside it. */
async function home(sockets: string[], platform: NodeJS.Platform = 'darwin', extraEnv: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'places-'));
  roots.push(root);
  mkdirSync(join(root, 'docker-config'));
  for (const socket of sockets) {
    const path = join(root, socket);
    mkdirSync(dirname(path), { recursive: true });
    const server = createServer();
    servers.push(server);
    await new Promise<void>((done) => server.listen(path, done));
  }
  const env: NodeJS.ProcessEnv = { HOME: root, TMPDIR: join(root, 'T'), XDG_RUNTIME_DIR: join(root, 'run'), DOCKER_CONFIG: join(root, 'docker-config'), ...extraEnv };
  // The product's own check (a socket is there), kept to this home: this machine's engines are not the layout's.
  const machine: Partial<LocalMachine> = { platform, home: root, uid: 1000, exists: (path) => path.startsWith(root) && localMachine().exists(path) };
  return { root, env, machine, resolve: (extra: Record<string, string> = {}) => resolveEngine({}, { env: { ...env, ...extra }, machine }) };
}

describe('engines where desktops put them', () => {
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });
  after(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it('takes each desktop\'s socket when it is the only one there, and says which', async () => {
    const layouts: [string, string, string, Record<string, string>?][] = [
      ['.docker/run/docker.sock', 'Docker Desktop\'s socket', 'Docker Desktop'],
      ['.docker/desktop/docker.sock', 'Docker Desktop\'s socket', 'Docker Desktop'],
      ['.orbstack/run/docker.sock', 'OrbStack\'s socket', 'OrbStack'],
      ['.colima/default/docker.sock', 'Colima\'s socket', 'Colima'],
      ['.colima/work/docker.sock', 'Colima\'s socket (profile work)', 'Colima (work)'],
      ['.rd/docker.sock', 'Rancher Desktop\'s socket', 'Rancher Desktop'],
      ['run/docker.sock', 'rootless Docker\'s socket', 'Docker (rootless)'],
      ['run/podman/podman.sock', 'rootless Podman\'s socket', 'Podman (rootless)'],
      ['T/podman/podman-machine-default-api.sock', 'Podman machine\'s socket', 'Podman machine'],
      ['.local/share/containers/podman/machine/qemu/podman.sock', 'Podman machine (qemu)\'s socket', 'Podman machine (qemu)'],
    ];
    for (const [socket, source, label] of layouts) {
      const { root, resolve, env, machine } = await home([socket]);
      const endpoint = resolve();
      assert.deepEqual([endpoint.host, endpoint.source], [`unix://${join(root, socket)}`, source], socket);
      assert.equal(endpoint.name, 'default');
      // The listing shows it under the same name (the primary is a TCP engine named by DOCKER_HOST).
      const listed = listEngines({ podman: true }, { env: { ...env, DOCKER_HOST: 'tcp://10.0.0.9:2375' }, machine });
      assert.deepEqual(listed.map((e) => [e.label, e.endpoint?.host]), [['default', 'tcp://10.0.0.9:2375'], [label, endpoint.host]], socket);
    }
  });

  it('takes COLIMA_HOME and COLIMA_PROFILE as Colima does', async () => {
    const { root, resolve } = await home(['colima-home/dev/docker.sock', 'colima-home/other/docker.sock']);
    const colimaHome = join(root, 'colima-home');
    assert.equal(resolve({ COLIMA_HOME: colimaHome }).host, `unix://${join(colimaHome, 'dev', 'docker.sock')}`); // profiles by name when the default is not there
    assert.equal(resolve({ COLIMA_HOME: colimaHome, COLIMA_PROFILE: 'other' }).host, `unix://${join(colimaHome, 'other', 'docker.sock')}`);
    assert.equal(resolve().host, 'unix:///var/run/docker.sock'); // not in ~/.colima: not found
  });

  it('tries Docker\'s places, then the other desktops\', then Podman\'s; the local socket first of all', async () => {
    const { root, resolve, env, machine } = await home(['.colima/default/docker.sock', '.docker/run/docker.sock', 'run/podman/podman.sock', '.orbstack/run/docker.sock']);
    assert.equal(resolve().source, 'Docker Desktop\'s socket');
    const withLocal = { ...machine, exists: (path: string) => path === '/var/run/docker.sock' || machine.exists!(path) };
    assert.deepEqual([resolveEngine({}, { env, machine: withLocal }).host, resolveEngine({}, { env, machine: withLocal }).source], ['unix:///var/run/docker.sock', 'the local socket']);
    rmSync(join(root, '.docker'), { recursive: true });
    assert.equal(resolve().source, 'OrbStack\'s socket');
    rmSync(join(root, '.orbstack'), { recursive: true });
    assert.equal(resolve().source, 'Colima\'s socket');
    rmSync(join(root, '.colima'), { recursive: true });
    assert.equal(resolve().source, 'rootless Podman\'s socket');
    // The listing: every place that is there but the primary, Podman's only when asked for.
    const podmanOnly = listEngines({ podman: false }, { env, machine });
    assert.deepEqual(podmanOnly.map((e) => e.label), ['default']);
  });

  it('takes what names an engine before any place: DOCKER_HOST, DOCKER_CONTEXT, the current context, --host', async () => {
    const { root, env, machine, resolve } = await home(['.docker/run/docker.sock']);
    assert.deepEqual([resolve({ DOCKER_HOST: 'tcp://10.0.0.5:2375' }).host, resolve({ DOCKER_HOST: 'tcp://10.0.0.5:2375' }).source], ['tcp://10.0.0.5:2375', 'DOCKER_HOST']);
    const config = join(root, 'docker-config');
    // A context as `docker context create` writes it: meta.json under the sha256 of its name.
    const id = createHash('sha256').update('colima').digest('hex');
    mkdirSync(join(config, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(config, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: 'colima', Endpoints: { docker: { Host: 'unix:///elsewhere/docker.sock' } } }));
    const named = (extra: Record<string, string>) => resolveEngine({}, { env: { ...env, ...extra }, machine });
    assert.deepEqual([named({ DOCKER_CONTEXT: 'colima' }).host, named({ DOCKER_CONTEXT: 'colima' }).source], ['unix:///elsewhere/docker.sock', 'DOCKER_CONTEXT']);
    writeFileSync(join(config, 'config.json'), JSON.stringify({ currentContext: 'colima' }));
    assert.equal(resolve().host, 'unix:///elsewhere/docker.sock');
    assert.equal(resolve().looked, undefined);
    writeFileSync(join(config, 'config.json'), JSON.stringify({}));
    assert.equal(resolveEngine({ host: 'tcp://10.0.0.6:2375' }, { env, machine }).source, '--host');
    // `--context default` is the local engine too: the place, said as such.
    const byDefault = resolveEngine({ context: 'default' }, { env, machine });
    assert.deepEqual([byDefault.host, byDefault.source], [`unix://${join(root, '.docker/run/docker.sock')}`, '--context: the default context (Docker Desktop\'s socket)']);
  });

  it('on Windows looks at the named pipes only: Docker\'s, then a Podman machine\'s', () => {
    const pipes = (present: string[]): Partial<LocalMachine> => ({ platform: 'win32', home: 'C:\\Users\\ann', uid: 0, exists: (path) => present.includes(path) });
    const env = { USERPROFILE: 'C:\\Users\\ann', DOCKER_CONFIG: join(tmpdir(), 'places-no-config') };
    const docker = resolveEngine({}, { env, machine: pipes(['//./pipe/docker_engine', '//./pipe/podman-machine-default']) });
    assert.deepEqual([docker.host, docker.source], ['npipe:////./pipe/docker_engine', 'Docker\'s named pipe']);
    const podman = resolveEngine({}, { env, machine: pipes(['//./pipe/podman-machine-default']) });
    assert.deepEqual([podman.host, podman.source], ['npipe:////./pipe/podman-machine-default', 'Podman machine\'s named pipe']);
    const none = discoverEngine(localMachine({ env, ...pipes([]) }));
    assert.equal(none.place.host, 'npipe:////./pipe/docker_engine');
    assert.deepEqual(none.looked, ['//./pipe/docker_engine (Docker)', '//./pipe/podman-machine-default (Podman machine)']);
  });

  it('names every place looked at when the engine chosen by default does not answer', async () => {
    const { root, env, machine } = await home([]);
    const nothing = resolveEngine({}, { env, machine });
    assert.equal(nothing.host, 'unix:///var/run/docker.sock');
    assert.equal(nothing.source, 'the local socket');
    const expected = [
      '/var/run/docker.sock (Docker)',
      `${root}/.docker/run/docker.sock (Docker Desktop)`,
      `${root}/.docker/desktop/docker.sock (Docker Desktop)`,
      `${root}/run/docker.sock (Docker (rootless))`,
      `${root}/.orbstack/run/docker.sock (OrbStack)`,
      `${root}/.colima/default/docker.sock (Colima)`,
      `${root}/.rd/docker.sock (Rancher Desktop)`,
      `${root}/run/podman/podman.sock (Podman (rootless))`,
      '/run/podman/podman.sock (Podman)',
      `${root}/T/podman/podman-machine-default-api.sock (Podman machine)`,
      `${root}/.local/share/containers/podman/machine/podman-machine-default/podman.sock (Podman machine)`,
    ];
    assert.deepEqual(nothing.looked, expected);
    const missing = translateEngineError(Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }), nothing.host, {}, nothing.looked);
    assert.equal(missing.kind, 'engine-unreachable');
    for (const place of expected) assert.ok(missing.hint?.includes(place), `${place} not in: ${missing.hint}`);
    assert.match(missing.hint ?? '', /^DOCKER_HOST is unset and no Docker context names an engine, so these places were looked at, in order: .*; no engine is at any of them\. Start your engine/);
    // Named engines keep their own hint: nothing was looked for.
    assert.match(translateEngineError(Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' }), 'unix:///x.sock').hint ?? '', /^No socket at \/x\.sock/);

    // A socket left behind by a desktop that stopped (here a plain file): taken, and said not to answer.
    mkdirSync(join(root, '.orbstack', 'run'), { recursive: true });
    writeFileSync(join(root, '.orbstack', 'run', 'docker.sock'), '');
    const stale = resolveEngine({}, { env, machine: { ...machine, exists: (path) => path === join(root, '.orbstack', 'run', 'docker.sock') } });
    assert.equal(stale.source, 'OrbStack\'s socket');
    const error = await new DockerEngine({ endpoint: stale, timeoutMs: 2000 }).ping().then(
      () => assert.fail('a plain file answered'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof EngineError);
    assert.equal(error.kind, 'engine-unreachable');
    assert.match(error.hint ?? '', new RegExp(`looked at, in order: /var/run/docker.sock \\(Docker\\), .*${root}/.orbstack/run/docker.sock \\(OrbStack\\); the engine at ${root}/.orbstack/run/docker.sock is there but does not answer`));
  });
});
