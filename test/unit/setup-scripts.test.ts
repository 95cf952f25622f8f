// The set-up's nested installs (npm, pip, apt) must not see the npm that runs `npm test`: its
// npm_config_user_agent once made code-server's install script take Node 20 for the Node it is built
// with, and node_modules/.bin on PATH shadows the machine's tools. Checked with the real scripts and
// stand-in installers that record the environment they were given.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installEnv, installSalt, SaltInstallError } from '../../src/engine/salt/install';
import { REPO_ROOT } from '../support/containers';

/** What `npm test` on the machine's Node 20 hands its children, with the PATH entries npm prepends. */
const NPM_CALLER = {
  npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
  npm_config_nodedir: '/usr',
  npm_node_execpath: '/usr/bin/node',
  npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
  npm_package_name: 'salt-containers',
  npm_lifecycle_event: 'test',
  npm_lifecycle_script: 'node scripts/test.mjs',
  INIT_CWD: REPO_ROOT,
  NODE: '/usr/bin/node',
  COLOR: '0',
};
const NPM_PATH = [join(REPO_ROOT, 'node_modules', '.bin'), '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin'];

/** The names and PATH entries a nested install must not get, in an `env` dump. */
function leaks(envDump: string): string[] {
  const found: string[] = [];
  for (const line of envDump.split('\n')) {
    const name = line.split('=', 1)[0];
    if (name in NPM_CALLER || /^npm_/i.test(name)) found.push(name);
    if (name === 'PATH') found.push(...line.slice(5).split(':').filter((entry) => NPM_PATH.includes(entry)));
  }
  return found;
}

describe('set-up scripts and installers get an environment we chose', () => {
  let work: string;
  let bin: string;
  let records: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'setup-env-test-'));
    bin = join(work, 'bin');
    records = join(work, 'records');
    mkdirSync(bin);
    mkdirSync(records);
    // Stand-ins that write down their environment and fail, so nothing is installed.
    for (const tool of ['npm', 'apt-get', 'python3-recording']) {
      writeFileSync(join(bin, tool), `#!/bin/sh\nenv > "${records}/${tool}.$$.env"\necho "stand-in ${tool} refuses" >&2\nexit 1\n`);
      chmodSync(join(bin, tool), 0o755);
    }
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const callerEnv = (extra: Record<string, string> = {}) => ({
    ...process.env,
    ...NPM_CALLER,
    PATH: [...NPM_PATH, bin, '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':'),
    SALT_CONTAINERS_CACHE: join(work, 'cache'),
    ...extra,
  });

  it('scripts/lib/common.sh removes what npm adds, and keeps the rest', () => {
    const result = spawnSync('bash', ['-c', '. scripts/lib/common.sh && env'], { cwd: REPO_ROOT, env: callerEnv({ KEEP_ME: 'yes' }), encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(leaks(result.stdout), []);
    assert.match(result.stdout, /^KEEP_ME=yes$/m);
    assert.match(result.stdout, new RegExp(`^PATH=${bin}:/usr/sbin:/usr/bin:/sbin:/bin$`, 'm'));
  });

  it('the product installers use the same rule (installEnv)', () => {
    const env = installEnv(callerEnv({ KEEP_ME: 'yes' }));
    const dump = Object.entries(env)
      .map(([name, value]) => `${name}=${value}`)
      .join('\n');
    assert.deepEqual(leaks(dump), []);
    assert.equal(env.KEEP_ME, 'yes');
    assert.equal(env.PATH, `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`);
  });

  it("setup-vscode.sh's npm installs never see the calling npm (an inherited user agent naming Node 20)", () => {
    const result = spawnSync('bash', ['scripts/setup-vscode.sh'], { cwd: REPO_ROOT, env: callerEnv(), encoding: 'utf8' });
    // The stand-in npm refuses, so the script stops at the first npm install and says so.
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /stand-in npm refuses/);
    const dumps = readdirSync(records).filter((name) => name.startsWith('npm.') || name.startsWith('apt-get.'));
    assert.ok(dumps.some((name) => name.startsWith('npm.')), `npm was not reached: ${result.stdout}${result.stderr}`);
    for (const name of dumps) assert.deepEqual(leaks(readFileSync(join(records, name), 'utf8')), [], `${name} got the caller's npm environment`);
  });

  it("installSalt's pip and venv steps never see the calling npm", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, callerEnv());
    try {
      await assert.rejects(installSalt({ cacheDir: join(work, 'cache'), hostPython: join(bin, 'python3-recording') }), SaltInstallError);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
    const dumps = readdirSync(records).filter((name) => name.startsWith('python3-recording.'));
    assert.equal(dumps.length, 1);
    assert.deepEqual(leaks(readFileSync(join(records, dumps[0]), 'utf8')), []);
    assert.ok(!existsSync(join(work, 'cache', 'salt')) || readdirSync(join(work, 'cache', 'salt')).length === 0, 'a failed install leaves nothing in the cache');
  });
});
