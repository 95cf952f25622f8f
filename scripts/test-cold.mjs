// `npm run test:cold`: the README's test command as CI runs it (.ci/run: `npm ci && npm test`), on what a
// fresh machine has: a temporary clone of HEAD, an empty home (so an empty Salt Containers cache, npm
// cache and pip cache; the machine's npm and pip configuration is copied in), the test images removed so
// the set-up builds them again, and nothing from the npm that runs this script. It prints how long
// each set-up step and suite took. What it cannot make cold: Debian packages already installed and a
// Docker engine that is already running. The test engines it starts (Podman, TLS dockerd, sshd,
// registry: its own, beside the machine's, on ports of their own when the usual ones are taken) are
// stopped at the end.
// Usage: npm run test:cold [-- --keep-images] [-- --keep]   (--keep leaves the temporary folder)
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const keepImages = process.argv.includes('--keep-images');
const keep = process.argv.includes('--keep');
const TEST_IMAGES = /^salt-containers-test:/;

const work = mkdtempSync(join(tmpdir(), 'salt-containers-cold-'));
const home = join(work, 'home');
const clone = join(work, 'repo');
const logPath = join(work, 'test-cold.log');
mkdirSync(home);

// The machine's own configuration, not caches: a fresh machine of this kind has it too.
for (const file of ['.npmrc', '.config/pip/pip.conf', '.pip/pip.conf', '.gitconfig']) {
  const from = join(homedir(), file);
  if (!existsSync(from)) continue;
  mkdirSync(dirname(join(home, file)), { recursive: true });
  copyFileSync(from, join(home, file));
}

// The caller's environment less what npm adds about itself: the product's rule (built by `npm run test:cold`).
const { installEnv } = createRequire(import.meta.url)(join(root, 'out', 'src', 'engine', 'salt', 'install.js'));
function freshEnv() {
  return { ...installEnv(process.env), HOME: home, XDG_CACHE_HOME: join(home, '.cache'), XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share'), SALT_CONTAINERS_CACHE: join(home, '.cache', 'salt-containers') };
}

const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).stdout.trim();
if (dirty) console.log(`note: uncommitted changes are not in the rehearsal (it clones HEAD):\n${dirty}\n`);
const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', root, clone], { stdio: 'inherit' });
if (cloned.status !== 0) process.exit(1);
const head = spawnSync('git', ['log', '-1', '--format=%h %s'], { cwd: clone, encoding: 'utf8' }).stdout.trim();

if (!keepImages) {
  const listed = spawnSync('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' });
  const images = listed.status === 0 ? listed.stdout.split('\n').filter((name) => TEST_IMAGES.test(name)) : [];
  if (images.length) {
    console.log(`removing the test images so the set-up builds them: ${images.join(', ')}`);
    spawnSync('docker', ['image', 'rm', '--force', ...images], { stdio: 'ignore' });
  }
}

console.log(`cold rehearsal of ${head}\n  clone ${clone}\n  home  ${home} (empty caches)\n  log   ${logPath}\n`);
const log = createWriteStream(logPath);
const started = Date.now();
const child = spawn('bash', ['.ci/run'], { cwd: clone, env: { ...freshEnv(), CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
for (const stream of [child.stdout, child.stderr]) {
  stream.on('data', (chunk) => {
    output += chunk;
    log.write(chunk);
    (stream === child.stdout ? process.stdout : process.stderr).write(chunk);
  });
}
const code = await new Promise((resolve) => child.on('close', (status) => resolve(status ?? 1)));
log.end();
const total = (Date.now() - started) / 1000;

// The set-up scripts print `step<padding>result (N s)`; test.mjs's summary prints each suite's time.
const rows = [];
const npmCi = /^added \d+ packages.* in (\d+(?:\.\d+)?)(m?s)$/m.exec(output);
if (npmCi) rows.push(['npm ci', `${(Number(npmCi[1]) / (npmCi[2] === 'ms' ? 1000 : 1)).toFixed(1)} s`]);
for (const line of output.split('\n')) {
  const setup = /^(\S.{0,43}?)\s{2,}(.*) \((\d+\.\d) s\)$/.exec(line);
  if (setup) rows.push([`set-up: ${setup[1].trim()}`, `${setup[3]} s  ${setup[2].length > 60 ? `${setup[2].slice(0, 57)}...` : setup[2]}`]);
  const suite = /^(\S.*?)\s+(\d+) passed\s+(\d+) failed\s+(\d+\.\d) s$/.exec(line);
  // test.mjs's own set-up and build rows repeat the steps above as one time each.
  if (suite) rows.push([suite[1], /^(set-up|build)/.test(suite[1]) ? `${suite[4]} s` : `${suite[4]} s  ${suite[2]} passed, ${suite[3]} failed`]);
}
const last = [...output.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
console.log(`\n=== cold rehearsal: ${head} ===`);
for (const [name, value] of rows) console.log(`${name.padEnd(46)} ${value}`);
console.log(`${'total (clone to summary)'.padEnd(46)} ${total.toFixed(0)} s, exit ${code}`);
console.log(last ? `${last[1]} passed, ${last[2]} failed` : '0 passed, 1 failed');

// The engines the rehearsal's set-up started (its own cache, ports and runtime folder) end with it.
spawnSync('bash', [join(clone, 'scripts', 'stop-engines.sh')], { env: freshEnv(), stdio: 'inherit' });
if (keep) console.log(`kept ${work}`);
else {
  try {
    rmSync(work, { recursive: true, force: true });
  } catch (error) {
    console.log(`note: could not remove ${work}: ${error.message}`);
  }
}
process.exit(code);
