/**
 * What helper containers are given (helper/settings.ts): their images and network by precedence, the
 * place of Salt's host-side work, and this machine's pip and proxy settings carried in (CA bundles
 * copied, pip's configuration files merged as pip reads them, local folders left out).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { carriedHostConfig, helperSettings, parseIni, pipConfigFiles, saltOnSetting } from '../../src/engine/helper/settings';
import { buildsOnEngine } from '../../src/engine/runtime/build';
import { DockerEngine } from '../../src/engine/docker/engine';

describe('helper settings', () => {
  it('images and network: what the caller names, else the environment, else the defaults', () => {
    assert.deepEqual(helperSettings({}, {}), { pythonImage: 'python:3.11-slim-bookworm', debianImage: 'debian:bookworm-slim', network: undefined });
    const env = { SALT_CONTAINERS_PYTHON_IMAGE: 'mirror/python:3.11', SALT_CONTAINERS_DEBIAN_IMAGE: 'mirror/debian:12', SALT_CONTAINERS_HELPER_NETWORK: 'host' };
    assert.deepEqual(helperSettings({}, env), { pythonImage: 'mirror/python:3.11', debianImage: 'mirror/debian:12', network: 'host' });
    assert.deepEqual(helperSettings({ pythonImage: 'mine:1', network: 'build' }, env), { pythonImage: 'mine:1', debianImage: 'mirror/debian:12', network: 'build' });
  });

  it('saltOn: auto by default, the environment, then the caller; another word is refused by name', () => {
    assert.equal(saltOnSetting(undefined, {}), 'auto');
    assert.equal(saltOnSetting(undefined, { SALT_CONTAINERS_SALT_ON: 'engine' }), 'engine');
    assert.equal(saltOnSetting('host', { SALT_CONTAINERS_SALT_ON: 'engine' }), 'host');
    assert.throws(() => saltOnSetting('cloud', {}), /"cloud" is not a place for Salt's host-side work: say auto, host or engine/);
  });

  it('the runtime is built on the engine when asked, or when this machine lacks apt-get and dpkg-deb, never without an engine', () => {
    const engine = new DockerEngine({ dockerHost: 'unix:///nowhere.sock' });
    assert.equal(buildsOnEngine({ saltOn: 'engine', engine }), true);
    assert.equal(buildsOnEngine({ saltOn: 'host', engine }), false);
    assert.equal(buildsOnEngine({ saltOn: 'engine' }), false);
    const path = process.env.PATH;
    try {
      process.env.PATH = '/nonexistent';
      assert.equal(buildsOnEngine({ saltOn: 'auto', engine }), true);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe("this machine's package settings, carried into a helper", () => {
  const files: Record<string, string> = {
    '/etc/ssl/corp-ca.pem': 'CORPORATE CA',
    '/home/u/client.pem': 'CLIENT CERT',
    '/etc/pip.conf': '[global]\ncert = /etc/ssl/corp-ca.pem\nindex-url = https://pypi.corp/simple\nfind-links = /opt/wheels\n',
    '/home/u/.config/pip/pip.conf': '[global]\nindex_url = https://mirror.corp/simple\nextra-index-url =\n    https://a.corp/simple\n    https://b.corp/simple\n[install]\nclient-cert = /home/u/client.pem\n',
  };
  const read = (path: string) => (files[path] === undefined ? undefined : Buffer.from(files[path]));

  it('proxies and pip variables pass as they are; a CA bundle is copied in and named; a local find-links is left out', () => {
    const carried = carriedHostConfig(
      { HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'localhost', PIP_INDEX_URL: 'https://pypi.corp/simple', PIP_CERT: '/etc/ssl/corp-ca.pem', PIP_FIND_LINKS: '/opt/wheels', PIP_TARGET: '/x' },
      read,
      [],
    );
    assert.deepEqual(carried.env.sort(), ['HTTPS_PROXY=http://proxy:3128', 'PIP_CERT=/etc/salt-containers-helper/file-0.pem', 'PIP_INDEX_URL=https://pypi.corp/simple', 'no_proxy=localhost']);
    assert.deepEqual(carried.files, [{ path: '/etc/salt-containers-helper/file-0.pem', content: Buffer.from('CORPORATE CA') }]);
    assert.deepEqual(carriedHostConfig({ PIP_FIND_LINKS: 'https://wheels.corp/ http://w2/' }, read, []).env, ['PIP_FIND_LINKS=https://wheels.corp/ http://w2/']);
    // Python's general CA variables serve pip too when pip has none of its own.
    assert.deepEqual(carriedHostConfig({ SSL_CERT_FILE: '/etc/ssl/corp-ca.pem' }, read, []).env, ['PIP_CERT=/etc/salt-containers-helper/file-0.pem']);
  });

  it("pip's configuration files merge into one /etc/pip.conf: later files win, named files are copied, local find-links dropped", () => {
    const carried = carriedHostConfig({}, read, ['/etc/pip.conf', '/home/u/.pip/pip.conf', '/home/u/.config/pip/pip.conf']);
    const conf = carried.files.find((f) => f.path === '/etc/pip.conf')!.content.toString();
    assert.equal(
      conf,
      '[global]\ncert = /etc/salt-containers-helper/file-0.pem\nindex-url = https://mirror.corp/simple\nextra-index-url = \n    https://a.corp/simple\n    https://b.corp/simple\n\n[install]\nclient-cert = /etc/salt-containers-helper/file-1.pem\n',
    );
    assert.deepEqual(parseIni(conf).get('global')?.get('index-url'), 'https://mirror.corp/simple');
    assert.deepEqual(carried.files.slice(0, 2).map((f) => f.content.toString()), ['CORPORATE CA', 'CLIENT CERT']);
  });

  it("pip's configuration files where pip looks for them, per platform, and PIP_CONFIG_FILE alone when set", () => {
    assert.deepEqual(pipConfigFiles({}, '/home/u', 'linux'), ['/etc/xdg/pip/pip.conf', '/etc/pip.conf', '/home/u/.pip/pip.conf', '/home/u/.config/pip/pip.conf']);
    assert.ok(pipConfigFiles({}, '/Users/u', 'darwin').includes('/Users/u/Library/Application Support/pip/pip.conf'));
    assert.deepEqual(pipConfigFiles({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming', ProgramData: 'C:\\ProgramData' }, 'C:\\Users\\u', 'win32').length, 2);
    assert.deepEqual(pipConfigFiles({ PIP_CONFIG_FILE: '/srv/pip.conf' }, '/home/u', 'linux'), ['/srv/pip.conf']);
  });
});
