// The whole test suite, from a fresh machine: set-up (engine, test images, Salt, VS Code), build,
// then every suite in turn. Each suite's output is shown as it runs; the run ends with one line
// `N passed, N failed` summing all suites. Usage: node scripts/test.mjs [suite ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function files(dir, suffix) {
  if (!existsSync(dir)) return [];
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(files(path, suffix));
    else if (name.endsWith(suffix)) out.push(path);
  }
  return out;
}

/** Runs a command, echoing its output, and returns { code, output }. */
function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }, ...options });
    let output = '';
    const onData = (stream) => (chunk) => {
      output += chunk;
      stream.write(chunk);
    };
    child.stdout.on('data', onData(process.stdout));
    child.stderr.on('data', onData(process.stderr));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
    child.on('error', (error) => resolve({ code: 1, output: String(error) }));
  });
}

/** Counts from node:test's spec reporter, mocha, or our own `N passed, N failed` line. */
function counts(output, code) {
  const node = { pass: /^ℹ pass (\d+)$/m.exec(output), fail: /^ℹ fail (\d+)$/m.exec(output) };
  if (node.pass && node.fail) return { passed: +node.pass[1], failed: +node.fail[1] };
  const plain = [...output.matchAll(/^(?:\w+: )?(\d+) passed, (\d+) failed/gm)].pop();
  if (plain) return { passed: +plain[1], failed: +plain[2] };
  return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

const nodeTest = (dir, extra = []) => {
  const list = files(dir, '.test.js');
  return list.length ? ['node', ['--enable-source-maps', '--test', '--test-reporter=spec', ...extra, ...list]] : null;
};

const suites = {
  lint: () => [
    ['typecheck', 'npx', ['tsc', '--noEmit', '-p', '.']],
    ['eslint', 'npx', ['eslint', '--max-warnings', '0', '.']],
    ['import cycles', 'node', ['scripts/check-cycles.mjs']],
  ],
  unit: () => [['unit', ...(nodeTest('out/test/unit') ?? [])]],
  server: () => [['server', ...(nodeTest('out/test/server') ?? [])]],
  integration: () => [['integration', ...(nodeTest('out/test/integration', ['--test-concurrency=1']) ?? [])]],
  vscode: () => [['vscode', 'node', ['--enable-source-maps', 'out/test/vscode/run.js']]],
  ui: () => [['ui', 'node', ['--enable-source-maps', 'out/test/ui/run.js']]],
};

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(suites);
// The server suite builds a state catalogue with the Salt venv the set-up makes.
const needsEngine = wanted.some((s) => ['server', 'integration', 'vscode', 'ui'].includes(s));
const needsVscode = wanted.some((s) => ['vscode', 'ui'].includes(s));

const results = [];
const started = Date.now();
/** A test step adds its counts; a set-up step (`counted` false) only shows up when it fails. */
async function step(name, command, args, counted = true) {
  console.log(`\n=== ${name} ===`);
  const t = Date.now();
  const { code, output } = await run(command, args);
  const c = counted ? counts(output, code) : { passed: 0, failed: 0 };
  if (code !== 0 && c.failed === 0) c.failed = 1; // a crashed suite never counts as green
  results.push({ name, ...c, seconds: (Date.now() - t) / 1000 });
  return code;
}

// Built first: the set-up installs Salt with the product's own installer (out/src/engine/salt/install.js).
const built = (await step('build', 'node', ['scripts/build.mjs'], false)) === 0;
if (built && needsEngine && (await step('set-up: engine, images, Salt', 'bash', ['scripts/setup-env.sh'], false)) !== 0) {
  console.error('set-up failed: the suites that need the engine cannot run');
}
if (built && needsVscode) await step('set-up: VS Code (code-server), Chromium', 'bash', ['scripts/setup-vscode.sh'], false);
if (built) {
  for (const suite of wanted) {
    if (!suites[suite]) {
      console.error(`unknown suite ${suite}; known: ${Object.keys(suites).join(', ')}`);
      results.push({ name: suite, passed: 0, failed: 1, seconds: 0 });
      continue;
    }
    for (const [name, command, args] of suites[suite]()) {
      if (!command) {
        console.error(`${name}: no test files`);
        results.push({ name, passed: 0, failed: 1, seconds: 0 });
        continue;
      }
      await step(name, command, args);
    }
  }
}

console.log('\n=== summary ===');
for (const r of results) console.log(`${r.name.padEnd(40)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed  ${r.seconds.toFixed(1)} s`);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`total time ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
