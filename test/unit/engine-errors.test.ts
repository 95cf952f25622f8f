// What an engine's failures become: each error below has the shape dockerode produced here against
// Docker 20.10, Podman 4.3 and Node's TLS (measured; the integration tests meet the real ones), and
// must come out as what it is, with a hint, never as another error. Also the config Podman's commit
// takes as Dockerfile instructions, and the CLI's engine options.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandLine } from '../../src/cli/args';
import { commitChanges } from '../../src/engine/docker/engine';
import { MISSING_COMMAND, runErrorOf, translateEngineError } from '../../src/engine/docker/errors';

/** An error as docker-modem makes it: HTTP status and the engine's body (JSON, or text it hands over as a Buffer). */
function http(status: number, body: string | { message: string }): Error {
  const text = typeof body === 'string' ? body : body.message;
  return Object.assign(new Error(`(HTTP code ${status}) unexpected - ${text} `), {
    statusCode: status,
    json: typeof body === 'string' ? { type: 'Buffer', data: [...Buffer.from(`${body}\n`)] } : body,
  });
}
function socket(code: string, message: string, reason?: string): Error {
  return Object.assign(new Error(message), { code, ...(reason ? { reason } : {}) });
}

const where = 'tcp://127.0.0.1:23760';
const kindOf = (error: Error, subject = {}) => translateEngineError(error, where, subject);

describe('engine errors', () => {
  it('tells an unreachable engine by how it failed, with the fix', () => {
    const refused = kindOf(socket('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'));
    assert.equal(refused.kind, 'engine-unreachable');
    assert.equal(refused.message, `Docker engine at ${where} is not reachable (ECONNREFUSED)`);
    assert.match(refused.hint ?? '', /Nothing listens there/);
    const noSocket = translateEngineError(socket('ENOENT', 'connect ENOENT /nonexistent.sock'), 'unix:///nonexistent.sock');
    assert.match(noSocket.hint ?? '', /No socket at \/nonexistent\.sock: start the engine \(dockerd, or `podman system service`/);
    assert.match(kindOf(socket('ENOTFOUND', 'getaddrinfo ENOTFOUND no-such-host.invalid')).hint ?? '', /does not resolve/);
  });

  it('says permission denied for a socket we may not open, and for an engine that refuses', () => {
    const denied = translateEngineError(socket('EACCES', 'connect EACCES /var/run/docker.sock'), 'unix:///var/run/docker.sock');
    assert.equal(denied.kind, 'engine-permission');
    assert.match(denied.message, /permission denied opening the engine's socket/);
    assert.match(denied.hint ?? '', /\(docker\).*rootless Podman/);
    assert.equal(kindOf(http(403, { message: 'authorization denied by plugin' })).kind, 'engine-permission');
  });

  it('names each TLS failure and what fixes it', () => {
    const cases: [Error, RegExp, RegExp][] = [
      [http(400, 'Client sent an HTTP request to an HTTPS server.'), /speaks TLS and we did not/, /DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH/],
      [socket('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', '80EC:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate', 'sslv3 alert bad certificate'), /failed: sslv3 alert bad certificate/, /wants a client certificate/],
      [socket('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'), /unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/, /not signed by a CA we trust/],
      [socket('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", "Host: localhost. is not cert's CN: 127.0.0.1"), /is not cert's CN/, /not made for this host name/],
      [socket('EPROTO', 'C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'), /wrong version number/, /does not speak TLS/],
      [socket('CERT_HAS_EXPIRED', 'certificate has expired'), /certificate has expired/, /validity period/],
    ];
    for (const [error, message, hint] of cases) {
      const e = kindOf(error);
      assert.equal(e.kind, 'engine-tls', e.message);
      assert.match(e.message, message);
      assert.match(e.hint ?? '', hint);
    }
  });

  it('says which API versions do not meet, and which to set', () => {
    const tooNew = kindOf(http(400, { message: 'client version 1.99 is too new. Maximum supported API version is 1.41' }));
    assert.equal(tooNew.kind, 'engine-api-version');
    assert.equal(tooNew.message, `the engine at ${where} does not speak API version 1.99 (it supports up to 1.41)`);
    assert.match(tooNew.hint ?? '', /DOCKER_API_VERSION to 1\.41 or lower/);
    const tooOld = kindOf(http(400, 'client version 1.5 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version'));
    assert.equal(tooOld.message, `the engine at ${where} does not speak API version 1.5 (it supports from 1.12)`);
  });

  it('reports a container that would not start as the engine says, with a hint (Podman\'s ulimits, a missing command)', () => {
    const rlimit = kindOf(http(500, { message: 'runc: runc create failed: unable to start container process: error during container init: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted: OCI permission denied' }), { container: 'abc', doing: 'start container abc' });
    assert.equal(rlimit.kind, 'engine');
    assert.match(rlimit.message, /^could not start container abc: runc: .*error setting rlimit type 7/);
    assert.match(rlimit.hint ?? '', /default_ulimits = \["nofile=1024:1024", "nproc=4096:4096"\].*CONTAINERS_CONF/);
    const missing = kindOf(http(400, { message: 'failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "sleep": executable file not found in $PATH: unknown' }), { container: 'abc', doing: 'start container abc' });
    assert.match(missing.hint ?? '', /not in the image/);
    // A command named by its path (a kitchen.yml's run_command: /usr/lib/systemd/systemd) Docker says otherwise.
    const path = kindOf(http(400, { message: 'failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/usr/lib/systemd/systemd": stat /usr/lib/systemd/systemd: no such file or directory: unknown' }), { container: 'abc', doing: 'start container abc' });
    assert.match(path.hint ?? '', /not in the image/);
    assert.ok(MISSING_COMMAND.test(path.message) && MISSING_COMMAND.test('exec: sleep: no such file or directory') && !MISSING_COMMAND.test('error setting rlimit type 7: operation not permitted'));
    assert.deepEqual(runErrorOf(rlimit), { kind: 'engine', message: rlimit.message, hint: rlimit.hint });
  });

  it('keeps the container and image kinds, Docker\'s and Podman\'s words alike', () => {
    assert.equal(kindOf(http(404, { message: 'No such container: sc-nope' }), { container: 'sc-nope' }).kind, 'container-not-found');
    assert.equal(kindOf(http(404, { message: 'no container with name or ID "sc-nope" found: no such container' }), { container: 'sc-nope' }).kind, 'container-not-found');
    assert.equal(kindOf(http(404, { message: 'no such image: docker.io/library/sc-nope:1: image not known' }), { image: 'sc-nope:1' }).kind, 'image-not-found');
    assert.equal(kindOf(http(409, { message: 'Container 515a is not running' }), { container: 'c' }).kind, 'container-not-running');
    assert.equal(kindOf(http(500, { message: 'can only create exec sessions on running containers: container state improper' }), { container: 'c' }).kind, 'container-not-running');
    assert.deepEqual(runErrorOf(kindOf(socket('ECONNREFUSED', 'x'))).kind, 'engine-unreachable');
    assert.deepEqual(runErrorOf(kindOf(socket('EPROTO', 'wrong version number'))).kind, 'engine');
  });

  it('gives Podman\'s commit the base image\'s config as Dockerfile instructions, values quoted as Podman reads them', () => {
    const changes = commitChanges({
      Cmd: ['/bin/sh', '-c', 'echo "hi"'],
      Entrypoint: [],
      Env: ['PATH=/usr/bin:/bin', 'GREETING=two words'],
      WorkingDir: '/srv',
      User: 'app',
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {} },
      Labels: { 'io.salt-containers.sls': 'web,db', note: 'a "quoted" $HOME' },
    });
    assert.deepEqual(changes, [
      'CMD ["/bin/sh","-c","echo \\"hi\\""]',
      'ENTRYPOINT []',
      'ENV PATH="/usr/bin:/bin"',
      'ENV GREETING="two words"',
      'WORKDIR /srv',
      'USER app',
      'EXPOSE 80/tcp',
      'EXPOSE 53/udp',
      'VOLUME ["/data"]',
      'LABEL io.salt-containers.sls="web,db"',
      'LABEL note="a "quoted" $HOME"',
    ]);
    assert.deepEqual(commitChanges({ WorkingDir: '', User: '' }), []);
  });

  it('reads --host (-H) and --context, and refuses both at once as the docker CLI does', () => {
    const parsed = parseCommandLine(['ls', '-H', 'tcp://127.0.0.1:23760']);
    assert.ok(parsed.kind === 'command' && parsed.command.host === 'tcp://127.0.0.1:23760' && parsed.command.context === undefined);
    const context = parseCommandLine(['apply', 'web', '--container', 'c', '--context', 'remote']);
    assert.ok(context.kind === 'command' && context.command.context === 'remote');
    const both = parseCommandLine(['ls', '--host', 'unix:///x.sock', '--context', 'remote']);
    assert.deepEqual(both, { kind: 'usage-error', message: 'conflicting options: give --host or --context, not both' });
  });
});
