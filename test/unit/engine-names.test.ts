// Engines named as Docker users name them: the docker CLI's order (--host, --context, DOCKER_HOST,
// DOCKER_CONTEXT, the current context, the local socket), contexts read from a Docker config folder
// laid out as `docker context create` lays it out (checked against docker 28's files), TLS material,
// the views' listing with Podman's sockets, and the dockerode options that come out. Real files in a
// temporary DOCKER_CONFIG and real unix sockets; no engine is called.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAddress, listContexts, listEngines, resolveEngine, resolveEngineName } from '../../src/engine/docker/contexts';
import { dockerodeOptions, knownHostKeys, parseAddress, type EngineEndpoint } from '../../src/engine/docker/endpoint';
import { EngineError } from '../../src/engine/docker/errors';
import { localMachine } from '../../src/engine/docker/places';

const PEM = (what: string) => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`;

/** A Docker config folder as docker 28 writes it: meta.json per context under sha256(name), TLS files beside. */
function writeContext(configDir: string, name: string, host: string, options: { skipTlsVerify?: boolean; tls?: ('ca' | 'cert' | 'key')[]; description?: string } = {}): void {
  const id = createHash('sha256').update(name).digest('hex');
  mkdirSync(join(configDir, 'contexts', 'meta', id), { recursive: true });
  const meta = { Name: name, Metadata: options.description ? { Description: options.description } : {}, Endpoints: { docker: { Host: host, SkipTLSVerify: options.skipTlsVerify ?? false } } };
  writeFileSync(join(configDir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify(meta));
  if (options.tls?.length) {
    const dir = join(configDir, 'contexts', 'tls', id, 'docker');
    mkdirSync(dir, { recursive: true });
    for (const file of options.tls) writeFileSync(join(dir, `${file}.pem`), PEM(`${file.toUpperCase()} OF ${name}`));
  }
}

function useContext(configDir: string, name: string | undefined): void {
  writeFileSync(join(configDir, 'config.json'), JSON.stringify({ auths: {}, ...(name !== undefined ? { currentContext: name } : {}) }, null, '\t'));
}

function engineError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EngineError, `not an EngineError: ${String(error)}`);
    return error;
  }
  assert.fail('no error');
}

describe('engine names', () => {
  let configDir: string;
  let certDir: string;
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ HOME: '/nonexistent-home', DOCKER_CONFIG: configDir, ...extra });
  // A machine whose only engine is the local socket, whatever this one has.
  const machine = { exists: (path: string) => path === '/var/run/docker.sock' };
  const resolve = (selection = {}, extra: Record<string, string> = {}) => resolveEngine(selection, { env: env(extra), machine });

  before(() => {
    configDir = mkdtempSync(join(tmpdir(), 'engine-names-config-'));
    certDir = mkdtempSync(join(tmpdir(), 'engine-names-certs-'));
    for (const file of ['ca', 'cert', 'key']) writeFileSync(join(certDir, `${file}.pem`), PEM(`${file.toUpperCase()} FROM ENV`));
    writeContext(configDir, 'remote', 'tcp://10.0.0.2:2376', { tls: ['ca', 'cert', 'key'], description: 'a TLS engine' });
    writeContext(configDir, 'insecure', 'tcp://10.0.0.3:2376', { skipTlsVerify: true });
    writeContext(configDir, 'plain', 'tcp://10.0.0.4:2375');
    writeContext(configDir, 'over-ssh', 'ssh://deploy@build.example:2222');
    writeContext(configDir, 'local-podman', 'unix:///run/podman/podman.sock');
  });
  after(() => {
    rmSync(configDir, { recursive: true, force: true });
    rmSync(certDir, { recursive: true, force: true });
  });

  it('follows the docker CLI: --host, --context, DOCKER_HOST, DOCKER_CONTEXT, the current context, the local socket', () => {
    useContext(configDir, 'plain');
    const all = { DOCKER_HOST: 'unix:///run/from-env.sock', DOCKER_CONTEXT: 'over-ssh' };
    assert.deepEqual([resolve({ host: 'tcp://flag:2375' }, all).host, resolve({ host: 'tcp://flag:2375' }, all).source], ['tcp://flag:2375', '--host']);
    assert.deepEqual([resolve({ context: 'remote' }, all).host, resolve({ context: 'remote' }, all).source], ['tcp://10.0.0.2:2376', '--context']);
    // DOCKER_HOST wins over DOCKER_CONTEXT, as `DOCKER_HOST=x DOCKER_CONTEXT=y docker context show` says "default".
    assert.deepEqual([resolve({}, all).host, resolve({}, all).source], ['unix:///run/from-env.sock', 'DOCKER_HOST']);
    assert.deepEqual([resolve({}, { DOCKER_CONTEXT: 'over-ssh' }).host, resolve({}, { DOCKER_CONTEXT: 'over-ssh' }).source], ['ssh://deploy@build.example:2222', 'DOCKER_CONTEXT']);
    const current = resolve();
    assert.equal(current.host, 'tcp://10.0.0.4:2375');
    assert.equal(current.context, 'plain');
    assert.match(current.source, /^the current context \(.*config\.json\)$/);
    useContext(configDir, undefined);
    assert.deepEqual([resolve().host, resolve().source, resolve().name], ['unix:///var/run/docker.sock', 'the local socket', 'default']);
    // `docker context use default` leaves an empty currentContext.
    useContext(configDir, '');
    assert.equal(resolve().host, 'unix:///var/run/docker.sock');
  });

  it('`default` as a context is DOCKER_HOST or the local socket, whatever the current context', () => {
    useContext(configDir, 'remote');
    assert.equal(resolve({ context: 'default' }).host, 'unix:///var/run/docker.sock');
    assert.equal(resolve({ context: 'default' }, { DOCKER_HOST: 'tcp://h:2375' }).host, 'tcp://h:2375');
    useContext(configDir, undefined);
  });

  it('reads a context\'s TLS material and SkipTLSVerify; a plain tcp context stays plain', () => {
    const remote = resolve({ context: 'remote' });
    assert.equal(remote.tls?.verify, true);
    assert.equal(remote.tls?.ca?.toString(), PEM('CA OF remote'));
    assert.equal(remote.tls?.cert?.toString(), PEM('CERT OF remote'));
    assert.equal(remote.tls?.key?.toString(), PEM('KEY OF remote'));
    assert.deepEqual(resolve({ context: 'insecure' }).tls, { verify: false });
    assert.equal(resolve({ context: 'plain' }).tls, undefined);
    assert.deepEqual(
      listContexts(configDir).map((c) => [c.name, c.host, c.description ?? '']),
      [
        ['insecure', 'tcp://10.0.0.3:2376', ''],
        ['local-podman', 'unix:///run/podman/podman.sock', ''],
        ['over-ssh', 'ssh://deploy@build.example:2222', ''],
        ['plain', 'tcp://10.0.0.4:2375', ''],
        ['remote', 'tcp://10.0.0.2:2376', 'a TLS engine'],
      ],
    );
  });

  it('takes TLS for DOCKER_HOST and --host from DOCKER_TLS_VERIFY, DOCKER_TLS and DOCKER_CERT_PATH (default: the config folder)', () => {
    const verified = resolve({}, { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir });
    assert.equal(verified.tls?.verify, true);
    assert.equal(verified.tls?.cert?.toString(), PEM('CERT FROM ENV'));
    assert.equal(resolve({ host: 'tcp://h:3000' }, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir }).tls?.dir, certDir);
    assert.equal(resolve({}, { DOCKER_HOST: 'tcp://h:3000', DOCKER_TLS: '1', DOCKER_CERT_PATH: certDir }).tls?.verify, false);
    assert.equal(resolve({}, { DOCKER_HOST: 'tcp://h:3000' }).tls, undefined);
    assert.equal(resolve({}, { DOCKER_HOST: 'tcp://h:3000', DOCKER_TLS_VERIFY: '0' }).tls, undefined);
    // Port 2376 is TLS as docker-modem has it; the certificates then come from the config folder (none here: system CAs).
    assert.deepEqual(resolve({}, { DOCKER_HOST: 'tcp://h:2376' }).tls, { verify: true, dir: configDir, ca: undefined, cert: undefined, key: undefined });
    assert.equal(resolve({}, { DOCKER_HOST: 'unix:///x.sock', DOCKER_TLS_VERIFY: '1' }).tls, undefined);
  });

  it('says what is wrong with a name: a missing context, both --host and --context, missing TLS files, a bad address or API version', () => {
    const missing = engineError(() => resolve({ context: 'nope' }));
    assert.equal(missing.kind, 'engine-config');
    assert.match(missing.message, /Docker context nope not found in .*contexts/);
    assert.match(missing.hint ?? '', /docker context ls/);
    assert.match(engineError(() => resolve({}, { DOCKER_CONTEXT: 'nope' })).message, /context nope not found/);
    useContext(configDir, 'gone');
    assert.match(engineError(() => resolve()).message, /context gone not found/);
    useContext(configDir, undefined);
    assert.match(engineError(() => resolve({ host: 'tcp://a:1', context: 'remote' })).message, /conflicting options/);
    assert.match(engineError(() => resolve({}, { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: join(certDir, 'nope') })).message, /DOCKER_CERT_PATH .* does not exist/);
    const half = mkdtempSync(join(tmpdir(), 'engine-names-half-'));
    writeFileSync(join(half, 'cert.pem'), PEM('CERT'));
    assert.match(engineError(() => resolve({ host: 'tcp://h:2376' }, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: half })).message, /has cert\.pem but no key\.pem/);
    rmSync(half, { recursive: true });
    assert.match(engineError(() => resolve({ host: 'ftp://h' })).message, /ftp:\/\/ scheme is not one an engine speaks/);
    assert.match(engineError(() => resolve({}, { DOCKER_API_VERSION: 'latest' })).message, /DOCKER_API_VERSION=latest is not an API version/);
    assert.equal(resolve({}, { DOCKER_API_VERSION: '1.41' }).apiVersion, '1.41');
    writeFileSync(join(configDir, 'config.json'), '{ not json');
    assert.match(engineError(() => resolve()).message, /config\.json is not valid JSON/);
    useContext(configDir, undefined);
  });

  it('tells addresses from context names, as a matrix file or the views name engines', () => {
    for (const address of ['unix:///var/run/docker.sock', '/run/podman/podman.sock', 'tcp://h:2375', 'ssh://u@h', 'h:2375', '10.0.0.1:2376']) assert.ok(isAddress(address), address);
    for (const name of ['remote', 'desktop-linux', 'a.b_c+d']) assert.ok(!isAddress(name), name);
    useContext(configDir, 'plain');
    const selection = { context: 'remote' };
    assert.deepEqual([resolveEngineName('default', selection, { env: env() }).host, resolveEngineName('default', selection, { env: env() }).name], ['tcp://10.0.0.2:2376', 'default']);
    assert.equal(resolveEngineName('over-ssh', selection, { env: env() }).host, 'ssh://deploy@build.example:2222');
    assert.equal(resolveEngineName('tcp://10.9.9.9:2375', selection, { env: env() }).host, 'tcp://10.9.9.9:2375');
    useContext(configDir, undefined);
  });

  it('parses addresses as DOCKER_HOST spells them', () => {
    assert.deepEqual(parseAddress('unix:///var/run/docker.sock'), { scheme: 'unix', path: '/var/run/docker.sock' });
    assert.deepEqual(parseAddress('/run/x.sock'), { scheme: 'unix', path: '/run/x.sock' });
    assert.deepEqual(parseAddress('tcp://127.0.0.1:23760'), { scheme: 'tcp', hostname: '127.0.0.1', port: 23760 });
    assert.deepEqual(parseAddress('myhost:2375'), { scheme: 'tcp', hostname: 'myhost', port: 2375 });
    assert.deepEqual(parseAddress('tcp://[::1]:2376'), { scheme: 'tcp', hostname: '::1', port: 2376 });
    assert.deepEqual(parseAddress('ssh://deploy@build.example:2222'), { scheme: 'ssh', hostname: 'build.example', port: 2222, user: 'deploy' });
  });

  it('makes dockerode options with every connection field, so DOCKER_HOST cannot leak into another engine', () => {
    const socket = dockerodeOptions({ name: 'x', host: 'unix:///run/x.sock', source: 't' });
    assert.equal(socket.socketPath, '/run/x.sock');
    assert.ok('host' in socket && socket.host === undefined && 'ca' in socket && socket.ca === undefined, 'host and TLS fields are set (to nothing)');
    const tls: EngineEndpoint = { name: 'r', host: 'tcp://10.0.0.2:2376', source: 't', tls: { verify: true, ca: Buffer.from('ca'), cert: Buffer.from('c'), key: Buffer.from('k') }, apiVersion: '1.41' };
    const options = dockerodeOptions(tls) as Record<string, unknown>;
    assert.deepEqual([options.protocol, options.host, options.port, String(options.ca), String(options.cert), String(options.key), options.version, options.socketPath], ['https', '10.0.0.2', 2376, 'ca', 'c', 'k', 'v1.41', undefined]);
    assert.equal(options.agent, undefined, 'a verified engine uses the default agent');
    const unverified = dockerodeOptions({ ...tls, tls: { verify: false } }) as { agent?: { options?: { rejectUnauthorized?: boolean } } };
    assert.equal(unverified.agent?.options?.rejectUnauthorized, false);
    assert.deepEqual([dockerodeOptions({ name: 'p', host: 'tcp://h', source: 't' }).protocol, dockerodeOptions({ name: 'p', host: 'tcp://h', source: 't' }).port], ['http', 2375]);
    const ssh = dockerodeOptions({ name: 's', host: 'ssh://deploy@build.example:2222', source: 't' }, { HOME: '/nonexistent-home', SSH_AUTH_SOCK: '/run/agent.sock' }) as Record<string, unknown> & { sshOptions: { agent?: string; hostVerifier: (key: Buffer) => boolean } };
    assert.deepEqual([ssh.protocol, ssh.host, ssh.port, ssh.username, ssh.sshOptions.agent], ['ssh', 'build.example', 2222, 'deploy', '/run/agent.sock']);
    assert.equal(ssh.sshOptions.hostVerifier(Buffer.from('any key')), false, 'a host not in known_hosts is refused, as ssh does');
  });

  it('knows an SSH host\'s keys from known_hosts: plain, [host]:port, hashed and wildcard names', () => {
    const key = (n: number) => Buffer.from(`key-${n}`).toString('base64');
    const salt = Buffer.from('0123456789abcdefghij');
    const hashed = (name: string) => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
    const knownHosts = [
      '# comment',
      `build.example,10.0.0.9 ssh-ed25519 ${key(1)}`,
      `[build.example]:2222 ssh-ed25519 ${key(2)}`,
      `${hashed('[hashed.example]:2200')} ecdsa-sha2-nistp256 ${key(3)}`,
      `*.wild.example ssh-rsa ${key(4)}`,
      `@revoked build.example ssh-rsa ${key(5)}`,
    ].join('\n');
    const names = (host: string, port?: number) => knownHostKeys(knownHosts, host, port).map((k) => k.toString());
    assert.deepEqual(names('build.example'), ['key-1']);
    assert.deepEqual(names('build.example', 2222), ['key-2']);
    assert.deepEqual(names('hashed.example', 2200), ['key-3']);
    assert.deepEqual(names('hashed.example'), []);
    assert.deepEqual(names('a.wild.example'), ['key-4']);
    assert.deepEqual(names('elsewhere.example'), []);
  });

  describe('what the views list', () => {
    let sockets: string;
    let server: Server;
    before(async () => {
      sockets = mkdtempSync(join(tmpdir(), 'engine-names-sockets-'));
      server = createServer();
      mkdirSync(join(sockets, 'podman'));
      await new Promise<void>((done) => server.listen(join(sockets, 'podman', 'podman.sock'), done));
      writeFileSync(join(sockets, 'docker.sock'), '');
    });
    after(() => {
      server.close();
      rmSync(sockets, { recursive: true, force: true });
    });

    it('lists the primary first, then more addresses, the contexts asked for, and the Podman sockets that are there, each engine once', () => {
      useContext(configDir, 'remote');
      // The rootless Podman socket is a real socket in XDG_RUNTIME_DIR; the rootless Docker one a plain file there (not listed).
      const podman = { label: 'Podman (rootless)', host: `unix://${join(sockets, 'podman', 'podman.sock')}` };
      const machineHere = { home: sockets, exists: (path: string) => path.startsWith(sockets) && localMachine().exists(path), uid: 0 };
      const options = (extra: Record<string, string> = {}) => ({ env: env({ XDG_RUNTIME_DIR: sockets, ...extra }), machine: machineHere });
      const listed = listEngines({ hosts: ['tcp://10.0.0.8:2375'], contexts: ['remote', 'plain', 'nope'], podman: true }, options());
      assert.deepEqual(
        listed.map((e) => [e.key, e.label, e.endpoint?.host ?? e.error?.kind]),
        [
          ['', 'remote', 'tcp://10.0.0.2:2376'], // the current context; listing `remote` again would be the same engine
          ['tcp://10.0.0.8:2375', 'tcp://10.0.0.8:2375', 'tcp://10.0.0.8:2375'],
          ['plain', 'plain', 'tcp://10.0.0.4:2375'],
          ['nope', 'nope', 'engine-config'], // shown, with why
          [podman.host, podman.label, podman.host],
        ],
      );
      const everything = listEngines({ contexts: ['*'] }, { env: env(), machine }).map((e) => e.key);
      assert.deepEqual(everything, ['', 'default', 'insecure', 'local-podman', 'over-ssh', 'plain']);
      useContext(configDir, undefined);
      // With no context in use the primary is the local socket: `default` is the same engine, and so is a Podman socket DOCKER_HOST names.
      assert.deepEqual(listEngines({ contexts: ['default'] }, { env: env(), machine }).map((e) => e.key), ['']);
      assert.deepEqual(listEngines({ podman: true }, options({ DOCKER_HOST: podman.host })).map((e) => e.key), ['']);
      assert.deepEqual(listEngines({ podman: false }, options()).map((e) => e.key), ['']);
    });
  });
});
