// What a pull is made of, apart from the engine: references read as Docker reads them, the Docker
// config's credentials found as the docker CLI finds them, progress summed from the engine's events
// (the sequences Docker 20.10 and Podman 4.3 sent here), and each failure the engine reports (its words
// as measured here, Docker Hub's as its users report them) said as what it is. The real pulls are in
// test/integration/pull.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runErrorOf } from '../../src/engine/docker/errors';
import { describePull, isPullable, parseImageRef, pullError, pullLines, PullTracker, registryAuth, type PullContext, type PullEvent } from '../../src/engine/docker/pull';

const context = (ref: string, auth: Partial<PullContext['auth']> = {}): PullContext => ({ image: parseImageRef(ref), where: 'unix:///var/run/docker.sock', auth: { configFile: '/home/u/.docker/config.json', ...auth } });

describe('image references', () => {
  it('are read as Docker reads them', () => {
    const cases: [string, string, string, string | undefined, string | undefined][] = [
      ['debian:12', 'docker.io', 'library/debian', '12', undefined],
      ['debian', 'docker.io', 'library/debian', 'latest', undefined],
      ['saltimages/salt-master-py3:debian-12', 'docker.io', 'saltimages/salt-master-py3', 'debian-12', undefined],
      ['index.docker.io/library/debian:12', 'docker.io', 'library/debian', '12', undefined],
      ['127.0.0.1:23750/sc/py3:1', '127.0.0.1:23750', 'sc/py3', '1', undefined],
      ['registry.example.com:5000/team/web', 'registry.example.com:5000', 'team/web', 'latest', undefined],
      ['localhost/web:2', 'localhost', 'web', '2', undefined],
      [`ghcr.io/o/i@sha256:${'a'.repeat(64)}`, 'ghcr.io', 'o/i', undefined, `sha256:${'a'.repeat(64)}`],
    ];
    for (const [ref, registry, repository, tag, digest] of cases) {
      const parsed = parseImageRef(ref);
      assert.deepEqual([parsed.registry, parsed.repository, parsed.tag, parsed.digest], [registry, repository, tag, digest], ref);
    }
    assert.equal(parseImageRef('127.0.0.1:23750/sc/py3:1').name, '127.0.0.1:23750/sc/py3', 'fromImage keeps the registry');
    assert.equal(parseImageRef('debian:12').name, 'debian', 'and the name as written');
  });

  it('image IDs are never pulled', () => {
    assert.equal(isPullable('debian:12'), true);
    assert.equal(isPullable('0123456789ab'), false);
    assert.equal(isPullable(`sha256:${'b'.repeat(64)}`), false);
  });
});

describe('credentials from the Docker config', () => {
  const withConfig = async (config: object | undefined, registry: string, env: NodeJS.ProcessEnv = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-auth-'));
    if (config) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    try {
      return await registryAuth(registry, { env: { DOCKER_CONFIG: dir, PATH: '/nonexistent', ...env } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const basic = Buffer.from('user:pass:with:colons').toString('base64');

  it("are the auths entry for the registry, under any of the keys docker login writes", async () => {
    const hub = await withConfig({ auths: { 'https://index.docker.io/v1/': { auth: basic } } }, 'docker.io');
    assert.deepEqual(hub.credentials, { username: 'user', password: 'pass:with:colons', serveraddress: 'https://index.docker.io/v1/' });
    const byUrl = await withConfig({ auths: { 'http://registry.example.com:5000/v2/': { username: 'u', password: 'p' } } }, 'registry.example.com:5000');
    assert.deepEqual(byUrl.credentials, { username: 'u', password: 'p', serveraddress: 'registry.example.com:5000' });
    const token = await withConfig({ auths: { 'ghcr.io': { identitytoken: 'tok' } } }, 'ghcr.io');
    assert.deepEqual(token.credentials, { identitytoken: 'tok', serveraddress: 'ghcr.io' });
    assert.match(token.source ?? '', /config\.json$/);
  });

  it('are none without a config, or without an entry for that registry: the pull goes anonymous', async () => {
    assert.equal((await withConfig(undefined, 'docker.io')).credentials, undefined);
    assert.equal((await withConfig({ auths: { 'ghcr.io': { auth: basic } } }, 'docker.io')).credentials, undefined);
    assert.equal((await withConfig({ auths: { 'ghcr.io': {} } }, 'ghcr.io')).credentials, undefined, 'an empty entry (a credential store keeps them)');
  });

  it('name a credential helper that is not there as the problem', async () => {
    const helper = await withConfig({ credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' } }, 'gcr.io');
    assert.equal(helper.credentials, undefined);
    assert.equal(helper.problem, 'docker-credential-gcloud, the credential helper the Docker config names, is not on PATH');
    assert.match((await withConfig({ credsStore: 'desktop' }, 'docker.io')).problem ?? '', /docker-credential-desktop/);
  });
});

describe('pull progress', () => {
  // Docker 20.10 pulling a two-layer image whose base layer it had (ids shortened as Docker does).
  const docker: PullEvent[] = [
    { status: 'Pulling from sc-test-large/image', id: '1' },
    { status: 'Already exists', progressDetail: {}, id: '8ffae9fc1be5' },
    { status: 'Pulling fs layer', progressDetail: {}, id: '5d1f34f0d4a1' },
    { status: 'Downloading', progressDetail: { current: 1_000_000, total: 25_000_000 }, id: '5d1f34f0d4a1' },
    { status: 'Downloading', progressDetail: { current: 12_000_000, total: 25_000_000 }, id: '5d1f34f0d4a1' },
    { status: 'Verifying Checksum', progressDetail: {}, id: '5d1f34f0d4a1' },
    { status: 'Download complete', progressDetail: {}, id: '5d1f34f0d4a1' },
    { status: 'Extracting', progressDetail: { current: 25_000_000, total: 25_000_000 }, id: '5d1f34f0d4a1' },
    { status: 'Pull complete', progressDetail: {}, id: '5d1f34f0d4a1' },
    { status: 'Digest: sha256:87cc3d813eea3a4325e3923062024f4f513b76bdfb5f582fbba666b0e4b9c8c2' },
    { status: 'Status: Downloaded newer image for 127.0.0.1:23750/sc-test-large/image:1' },
  ];
  // Podman 4.3's compatible API: no bytes, the config blob counted as a layer.
  const podman: PullEvent[] = [
    { status: 'Pulling fs layer', progressDetail: {}, id: '62ecb57221c7' },
    { status: 'Download complete', progressDetail: {}, id: '62ecb57221c7' },
    { status: 'Pulling fs layer', progressDetail: {}, id: '76708342786f' },
    { status: 'Download complete', progressDetail: {}, id: '76708342786f' },
    { status: 'Download complete', progressDetail: {}, id: '76708342786f' },
  ];

  it("sums Docker's events up as layers and bytes", () => {
    const tracker = new PullTracker('127.0.0.1:23750/sc-test-large/image:1', '127.0.0.1:23750');
    const changes = docker.map((event) => tracker.feed(event) && { ...tracker.snapshot() });
    const shown = changes.filter((c): c is NonNullable<typeof c> & object => !!c);
    assert.deepEqual(
      shown.map((s) => [s.layersDone, s.layers, s.bytesDone, s.bytesTotal]),
      [
        [1, 1, 0, 0],
        [1, 2, 0, 0],
        [1, 2, 1_000_000, 25_000_000],
        [1, 2, 12_000_000, 25_000_000],
        [2, 2, 25_000_000, 25_000_000],
      ],
    );
    const done = tracker.finish();
    assert.equal(done.phase, 'done');
    assert.equal(done.digest, 'sha256:87cc3d813eea3a4325e3923062024f4f513b76bdfb5f582fbba666b0e4b9c8c2');
    assert.equal(describePull(shown[3]), 'pulling 127.0.0.1:23750/sc-test-large/image:1: 1 of 2 layers, 12.0 of 25.0 MB');
    assert.match(describePull(done), /^pulled 127\.0\.0\.1:23750\/sc-test-large\/image:1 in \d+\.\d s \(2 layers, 25\.0 MB\)$/);
  });

  it("sums Podman's up as layers", () => {
    const tracker = new PullTracker('debian:12', 'docker.io');
    assert.equal(describePull(tracker.snapshot()), 'pulling debian:12 from Docker Hub (docker.io)');
    for (const event of podman) tracker.feed(event);
    assert.equal(describePull(tracker.snapshot()), 'pulling debian:12: 2 of 2 layers');
    assert.match(describePull(new PullTracker('x:1', 'docker.io').finish()), /^pulled x:1 in \d\.\d s \(its layers were there already\)$/);
  });

  it('as lines: the start, each layer done or a second passed, the end; pulls at once each at their pace', () => {
    let now = 0;
    const lines: string[] = [];
    const show = pullLines((line) => lines.push(line), () => now);
    const tracker = new PullTracker('debian:12', 'docker.io');
    show(tracker.snapshot(), 'default');
    for (const event of docker.slice(1, 5)) {
      now += 100;
      if (tracker.feed(event)) show(tracker.snapshot(), 'default');
    }
    now += 1000;
    tracker.feed({ status: 'Downloading', progressDetail: { current: 20_000_000, total: 25_000_000 }, id: '5d1f34f0d4a1' });
    show(tracker.snapshot(), 'default');
    show(new PullTracker('other:1', 'docker.io').snapshot(), 'podman');
    show(tracker.finish(), 'default');
    assert.deepEqual(lines.slice(0, 4), [
      'pulling debian:12 from Docker Hub (docker.io) (engine default)',
      'pulling debian:12: 1 of 1 layer (engine default)',
      'pulling debian:12: 1 of 2 layers, 20.0 of 25.0 MB (engine default)',
      'pulling other:1 from Docker Hub (docker.io) (engine podman)',
    ]);
    assert.match(lines[4], /^pulled debian:12 in/);
    assert.equal(lines.length, 5, 'the downloads within the second are not shown');
  });
});

describe('pull failures', () => {
  const cases: { words: string; ref?: string; auth?: Partial<PullContext['auth']>; kind: string; message: RegExp; hint: RegExp }[] = [
    // Docker 20.10 against the distribution registry (HTTP 404 and 500 before the stream).
    { words: 'manifest for 127.0.0.1:23750/sc/py3:nope not found: manifest unknown: manifest unknown', ref: '127.0.0.1:23750/sc/py3:nope', kind: 'image-not-found', message: /^image 127\.0\.0\.1:23750\/sc\/py3:nope not found in 127\.0\.0\.1:23750$/, hint: /has no sc\/py3:nope/ },
    { words: 'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', ref: '127.0.0.1:1/x:1', kind: 'registry-unreachable', message: /^cannot reach 127\.0\.0\.1:1 from the engine at unix:\/\/\/var\/run\/docker\.sock \(connect: connection refused\)$/, hint: /^Nothing listens at 127\.0\.0\.1:1/ },
    { words: 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host', kind: 'registry-unreachable', message: /^cannot reach Docker Hub \(docker\.io\) .*: its name does not resolve \(lookup registry-1\.docker\.io on 10\.255\.255\.53:53: no such host\)$/, hint: /route to registry-1\.docker\.io.*docker load/ },
    { words: 'Head "http://127.0.0.1:23752/v2/exp/nopy/manifests/1": no basic auth credentials', ref: '127.0.0.1:23752/exp/nopy:1', kind: 'registry-unauthorized', message: /it needs credentials/, hint: /^Log in with docker login 127\.0\.0\.1:23752/ },
    { words: 'unauthorized: authentication required', ref: '127.0.0.1:23752/exp/nopy:1', auth: { credentials: { username: 'u', password: 'p', serveraddress: '127.0.0.1:23752' }, source: '/c/config.json' }, kind: 'registry-unauthorized', message: /the credentials sent were refused/, hint: /from \/c\/config\.json were refused: log in again/ },
    // Podman 4.3 (in the stream).
    { words: 'initializing source docker://127.0.0.1:23750/exp/nothere:1: reading manifest 1 in 127.0.0.1:23750/exp/nothere: manifest unknown: manifest unknown', ref: '127.0.0.1:23750/exp/nothere:1', kind: 'image-not-found', message: /not found in 127\.0\.0\.1:23750$/, hint: /Check the name/ },
    { words: 'initializing source docker://127.0.0.1:1/exp/nopy:2: pinging container registry 127.0.0.1:1: Get "https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', ref: '127.0.0.1:1/exp/nopy:2', kind: 'registry-unreachable', message: /\(connect: connection refused\)$/, hint: /Nothing listens/ },
    { words: 'initializing source docker://127.0.0.1:23751/exp/nopy:1: pinging container registry 127.0.0.1:23751: Get "https://127.0.0.1:23751/v2/": http: server gave HTTP response to HTTPS client', ref: '127.0.0.1:23751/exp/nopy:1', kind: 'registry-tls', message: /speaks plain HTTP/, hint: /insecure-registries.*insecure = true/ },
    // Docker Hub, as its users report it.
    { words: "pull access denied for nosuchuser/nosuchimage, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", ref: 'nosuchuser/nosuchimage:1', kind: 'image-not-found', message: /not found in Docker Hub \(docker\.io\) \(or it is private\)$/, hint: /Check the name.*Log in with docker login:/ },
    { words: 'toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit', kind: 'registry-rate-limited', message: /too many requests \(its pull rate limit\)/, hint: /log in \(docker login.*registry-mirrors/ },
    { words: 'Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)', kind: 'registry-unreachable', message: /^cannot reach Docker Hub/, hint: /network, firewall and proxy/ },
    { words: 'Get "https://registry.example.com/v2/": x509: certificate signed by unknown authority', ref: 'registry.example.com/web:1', kind: 'registry-tls', message: /TLS with registry\.example\.com failed .*x509: certificate signed by unknown authority/, hint: /\/etc\/docker\/certs\.d\/registry\.example\.com\/ca\.crt/ },
    { words: 'no matching manifest for linux/arm64/v8 in the manifest list entries', kind: 'image-not-found', message: /has no variant for the engine's platform/, hint: /built for that platform/ },
    { words: 'invalid reference format: repository name must be lowercase', ref: 'Debian:12', kind: 'engine', message: /^Debian:12 is not a valid image reference/, hint: /lowercase/ },
  ];

  for (const c of cases) {
    it(`${c.kind}: ${c.words.slice(0, 60)}…`, () => {
      const error = pullError(c.words, context(c.ref ?? 'debian:12', c.auth));
      assert.equal(error.kind, c.kind, error.message);
      assert.match(error.message, c.message);
      assert.match(error.hint ?? '', c.hint);
    });
  }

  it('reach runs as registry errors (never as the engine being unreachable), cancels as cancels', () => {
    assert.equal(runErrorOf(pullError(cases[1].words, context('127.0.0.1:1/x:1'))).kind, 'registry');
    assert.equal(runErrorOf(pullError(cases[0].words, context('127.0.0.1:23750/sc/py3:nope'))).kind, 'image-not-found');
  });
});
