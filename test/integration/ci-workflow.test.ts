/**
 * The docs' CI workflow (docs/ci/github-actions.yml) is a real one: it is valid against GitHub's workflow
 * schema as check-jsonschema ships it (the set-up installs it into the cache), and its `run:` steps, run
 * here job by job as shell commands (the built CLI in place of the one from the .vsix; artifacts and the
 * timings cache as folders), list a small matrix, run it as two shards on the real engine with real Salt,
 * merge the reports and write the summary; a second run balances its shards by the first one's timings.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { load } from 'js-yaml';
import { defaultCacheDir } from '../../src/engine/salt/source';
import { REPO_ROOT } from '../support/containers';
import { CLI, runCli } from '../support/cli';

const WORKFLOW = join(REPO_ROOT, 'docs', 'ci', 'github-actions.yml');
const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'testing', 'ci');

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  outputs?: Record<string, string>;
  strategy?: { matrix: Record<string, unknown> };
  steps: Step[];
}
interface Workflow {
  env: Record<string, string | number>;
  jobs: Record<string, Job>;
}

/** What `${{ }}` expressions may read: the contexts GitHub gives a step. */
interface Contexts {
  env: Record<string, string>;
  github: { run_id: string };
  runner: { os: string };
  matrix: Record<string, string>;
  strategy: { 'job-index': number };
  steps: Record<string, { outputs: Record<string, string> }>;
  needs: Record<string, { result: string; outputs: Record<string, string> }>;
}

/**
 * The expressions the workflow uses, evaluated as GitHub does: context paths, 'literals', == and !=,
 * && of terms, always(), success(), failure(), fromJSON(), hashFiles() (a fixed stand-in). Anything else
 * is an error, so a workflow that grows an expression this runner does not know fails the test.
 */
function evaluate(expression: string, contexts: Contexts, failed = false): unknown {
  const terms = expression.split('&&').map((t) => t.trim());
  if (terms.length > 1) return terms.every((t) => Boolean(evaluate(t, contexts, failed)));
  const text = terms[0];
  const compare = /^(.+?)\s*(==|!=)\s*(.+)$/.exec(text);
  if (compare) {
    const [left, right] = [evaluate(compare[1], contexts, failed), evaluate(compare[3], contexts, failed)];
    return compare[2] === '==' ? String(left) === String(right) : String(left) !== String(right);
  }
  if (text === 'always()') return true;
  if (text === 'success()') return !failed;
  if (text === 'failure()') return failed;
  const literal = /^'([^']*)'$/.exec(text);
  if (literal) return literal[1];
  const fromJson = /^fromJSON\((.+)\)$/.exec(text);
  if (fromJson) return JSON.parse(String(evaluate(fromJson[1], contexts, failed)));
  if (/^hashFiles\(/.test(text)) return 'hash';
  let value: unknown = contexts;
  for (const part of text.split('.')) {
    if (typeof value !== 'object' || value === null || !(part in value)) throw new Error(`expression ${expression}: ${part} is not in the contexts this runner gives`);
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const substitute = (text: string, contexts: Contexts) => text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, e: string) => String(evaluate(e, contexts)));
const condition = (text: string) => text.replace(/^\$\{\{\s*|\s*\}\}$/g, '');

interface JobRun {
  result: 'success' | 'failure' | 'skipped';
  outputs: Record<string, string>;
  workspace: string;
  summary: string;
  ran: string[];
}

/** A local stand-in for a GitHub runner: each job in a fresh copy of the formula, steps in order. */
class Runner {
  readonly root = mkdtempSync(join(tmpdir(), 'sc-ci-workflow-'));
  readonly artifacts = join(this.root, 'artifacts');
  readonly caches = join(this.root, 'caches');
  readonly bin = join(this.root, 'bin');
  private jobs = 0;

  constructor(readonly workflow: Workflow, readonly overrides: Record<string, string>) {
    mkdirSync(this.artifacts);
    mkdirSync(this.caches);
    mkdirSync(this.bin);
    // The CLI the `cli` step installs from the .vsix, here the one built from this tree.
    writeFileSync(join(this.bin, 'salt-containers'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(this.bin, 'salt-containers'), 0o755);
  }

  runJob(name: string, runId: string, needs: Contexts['needs'], matrix: Record<string, string> = {}, jobIndex = 0): JobRun {
    const job = this.workflow.jobs[name];
    const id = `${name}-${++this.jobs}`;
    const workspace = join(this.root, id, 'formula');
    const temp = join(this.root, id, 'temp');
    cpSync(FIXTURE, workspace, { recursive: true });
    mkdirSync(temp);
    const files = { output: join(temp, 'output'), summary: join(temp, 'summary'), path: join(temp, 'path') };
    writeFileSync(files.summary, '');
    const contexts: Contexts = { env: {}, github: { run_id: runId }, runner: { os: 'Linux' }, matrix, strategy: { 'job-index': jobIndex }, steps: {}, needs };
    for (const [key, value] of Object.entries(this.workflow.env)) contexts.env[key] = this.overrides[key] ?? substitute(String(value), contexts);
    if (job.if && !evaluate(condition(job.if), contexts)) return { result: 'skipped', outputs: {}, workspace, summary: '', ran: [] };
    const path = [this.bin];
    let failed = false;
    const ran: string[] = [];
    for (const [index, step] of job.steps.entries()) {
      const label = step.name ?? step.uses ?? step.id ?? String(index);
      if (!evaluate(condition(step.if ?? 'success()'), contexts, failed)) continue;
      ran.push(label);
      const outputs: Record<string, string> = {};
      if (step.id) contexts.steps[step.id] = { outputs };
      const w = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, substitute(String(v), contexts)]));
      if (step.id === 'cli') continue; // the built CLI is on PATH already (this.bin)
      if (step.uses) {
        this.action(step.uses, w, workspace);
        continue;
      }
      writeFileSync(files.output, '');
      writeFileSync(files.path, '');
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        ...contexts.env,
        ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, substitute(v, contexts)])),
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_WORKSPACE: workspace,
        GITHUB_OUTPUT: files.output,
        GITHUB_STEP_SUMMARY: files.summary,
        GITHUB_PATH: files.path,
        RUNNER_TEMP: temp,
        RUNNER_OS: 'Linux',
        PATH: [...path, process.env.PATH].join(':'),
      };
      const script = join(temp, `step-${index}.sh`);
      writeFileSync(script, substitute(step.run!, contexts));
      // GitHub's own default shell for run steps on Linux.
      const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd: workspace, env, encoding: 'utf8' });
      writeFileSync(join(temp, `step-${index}.log`), `${result.stdout}\n${result.stderr}`);
      for (const line of readFileSync(files.output, 'utf8').split('\n')) {
        const at = line.indexOf('=');
        if (at > 0) outputs[line.slice(0, at)] = line.slice(at + 1);
      }
      path.unshift(...readFileSync(files.path, 'utf8').split('\n').filter(Boolean).reverse());
      if (result.status !== 0) failed = true;
    }
    const outputs = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([k, v]) => [k, substitute(v, contexts)]));
    return { result: failed ? 'failure' : 'success', outputs, workspace, summary: readFileSync(files.summary, 'utf8'), ran };
  }

  /** The actions the workflow uses: checkout and setup-node are this machine already; artifacts and caches are folders. */
  private action(uses: string, w: Record<string, string>, workspace: string): void {
    const action = uses.replace(/@.*$/, '');
    const paths = () => (w.path ?? '').split('\n').map((p) => p.trim()).filter(Boolean);
    const copyInto = (from: string, to: string) => {
      mkdirSync(to, { recursive: true });
      if (statSync(from).isDirectory()) for (const entry of readdirSync(from)) cpSync(join(from, entry), join(to, entry), { recursive: true });
      else cpSync(from, join(to, basename(from)));
    };
    switch (action) {
      case 'actions/checkout':
      case 'actions/setup-node':
        return;
      case 'actions/cache':
        // Salt Containers' cache: the one the CLI already uses here (the test asserts it is that folder).
        assert.equal(w.path, '~/.cache/salt-containers');
        return;
      case 'actions/cache/restore': {
        const keys = [w.key, ...(w['restore-keys'] ?? '').split('\n').filter(Boolean)];
        const saved = readdirSync(this.caches).sort().reverse();
        const hit = keys.map((k) => saved.find((s) => s === k) ?? saved.find((s) => s.startsWith(k))).find(Boolean);
        if (hit) for (const p of paths()) if (existsSync(join(this.caches, hit, p))) cpSync(join(this.caches, hit, p), join(workspace, p), { recursive: true });
        return;
      }
      case 'actions/cache/save':
        for (const p of paths()) cpSync(join(workspace, p), join(this.caches, w.key, p), { recursive: true });
        return;
      case 'actions/upload-artifact':
        for (const p of paths()) if (existsSync(join(workspace, p))) copyInto(join(workspace, p), join(this.artifacts, w.name));
        return;
      case 'actions/download-artifact': {
        const pattern = w.pattern ? new RegExp(`^${w.pattern.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`) : undefined;
        const names = w.name ? [w.name] : readdirSync(this.artifacts).filter((n) => pattern!.test(n));
        assert.ok(names.length, `no artifact ${w.name ?? w.pattern}`);
        const target = join(workspace, w.path ?? '.');
        for (const n of names) copyInto(join(this.artifacts, n), w.name || w['merge-multiple'] === 'true' ? target : join(target, n));
        return;
      }
      default:
        throw new Error(`the workflow uses ${uses}, which this runner does not know`);
    }
  }
}

interface Report {
  retcode: number;
  cells: { key: string; passed: boolean }[];
}

describe('the docs\' CI workflow', () => {
  const roots: string[] = [];
  after(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it('is valid against GitHub\'s workflow schema (check-jsonschema\'s), and a broken copy is not', () => {
    const version = /^CHECK_JSONSCHEMA=(\S+)$/m.exec(readFileSync(join(REPO_ROOT, 'scripts', 'setup-env.sh'), 'utf8'))?.[1];
    assert.ok(version, 'setup-env.sh pins check-jsonschema');
    const tool = join(defaultCacheDir(), 'check-jsonschema', version, 'bin', 'check-jsonschema');
    assert.ok(existsSync(tool), `${tool} is missing: run scripts/setup-env.sh`);
    const check = (file: string) => spawnSync(tool, ['--builtin-schema', 'vendor.github-workflows', file], { encoding: 'utf8' });
    const good = check(WORKFLOW);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /ok -- validation done/);

    const dir = mkdtempSync(join(tmpdir(), 'sc-ci-workflow-schema-'));
    roots.push(dir);
    const broken = join(dir, 'broken.yml');
    writeFileSync(broken, readFileSync(WORKFLOW, 'utf8').replace('runs-on: ubuntu-latest', 'runs-on: 3'));
    const bad = check(broken);
    assert.equal(bad.status, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /\$\.jobs\.list\['runs-on'\]: 3 is not of type 'string'/);
  });

  it('keeps the cache folder the CLI uses', () => {
    const workflow = load(readFileSync(WORKFLOW, 'utf8')) as Workflow;
    const cached = workflow.jobs.shard.steps.find((s) => s.uses?.startsWith('actions/cache@'))?.with?.path;
    const saved = { ...process.env };
    try {
      delete process.env.SALT_CONTAINERS_CACHE;
      delete process.env.XDG_CACHE_HOME;
      assert.equal(String(cached).replace(/^~/, homedir()), defaultCacheDir());
    } finally {
      Object.assign(process.env, saved);
    }
  });

  it('run locally: lists 4 cells, runs them as 2 shards on the engine, merges every cell once and writes the summary; the next run balances by its timings', async () => {
    const workflow = load(readFileSync(WORKFLOW, 'utf8')) as Workflow;
    assert.equal(workflow.jobs.shard.strategy?.matrix.shard, '${{ fromJSON(needs.list.outputs.shards) }}');
    // 2 cells a shard, so that the fixture's 4 cells make 2 shards.
    const runner = new Runner(workflow, { CELLS_PER_SHARD: '2' });
    roots.push(runner.root);

    const pipeline = (runId: string) => {
      const list = runner.runJob('list', runId, {});
      assert.equal(list.result, 'success', list.ran.join(', '));
      const shards = JSON.parse(list.outputs.shards) as string[];
      const runs = shards.map((shard, index) => runner.runJob('shard', runId, { list }, { shard }, index));
      const report = runner.runJob('report', runId, { list, shard: { result: runs.every((r) => r.result === 'success') ? 'success' : 'failure', outputs: {} } });
      return { list, shards, runs, report };
    };

    const first = pipeline('1');
    const listed = (JSON.parse(readFileSync(join(first.list.workspace, 'cells.json'), 'utf8')) as { cells: { key: string }[] }).cells.map((c) => c.key);
    assert.deepEqual([...listed].sort(), ['bad.one@default', 'bad.two@default', 'good.one@default', 'good.two@default']);
    assert.deepEqual(first.shards, ['1/2', '2/2']);
    assert.equal(first.list.outputs.timings, 'false');

    const ranByShard = first.runs.map((run, k) => {
      // The failing suite fails each shard's job, and its reports are kept all the same.
      assert.equal(run.result, 'failure');
      assert.ok(run.ran.includes('Keep the reports'), run.ran.join(', '));
      const doc = JSON.parse(readFileSync(join(run.workspace, 'reports', `shard-${k + 1}-of-2.json`), 'utf8')) as Report;
      assert.ok(existsSync(join(run.workspace, 'reports', `shard-${k + 1}-of-2.xml`)));
      return doc.cells.map((c) => c.key);
    });
    assert.deepEqual(ranByShard.map((keys) => keys.length), [2, 2]);
    const all = ranByShard.flat();
    assert.equal(new Set(all).size, 4, `no cell twice: ${all.join(', ')}`);

    // The report job: every cell once in the merged report, the run's exit code, the summary.
    const merged = JSON.parse(readFileSync(join(first.report.workspace, 'salt-containers.json'), 'utf8')) as Report;
    assert.deepEqual(merged.cells.map((c) => c.key).sort(), [...all].sort());
    assert.equal(merged.retcode, 2);
    const junit = readFileSync(join(first.report.workspace, 'salt-containers.xml'), 'utf8');
    for (const key of all) assert.match(junit, new RegExp(`classname="${key.replace(/[.@]/g, '\\$&')}"`));
    assert.match(junit, /name="converge: broken-fails"[^>]* file="salt\/broken.sls" line="5"/);
    assert.equal(first.report.result, 'failure', 'the Result step fails the run as the merged report says');
    assert.equal(first.report.ran.at(-1), 'Result');
    assert.match(first.report.summary, /^### State tests: 4 cells, 2 passed, 2 failed$/m);
    for (const cell of merged.cells) {
      const rows = first.report.summary.split('\n').filter((line) => line.startsWith(`| ${cell.key} |`));
      assert.equal(rows.length, 1, `${cell.key} once in the summary:\n${first.report.summary}`);
      assert.match(rows[0], cell.passed ? /\| passed \|/ : /\| \*\*failed\*\* \| [0-9.]+ s \| converge \|/);
    }
    assert.ok(existsSync(join(runner.artifacts, 'salt-containers-report', 'salt-containers.xml')));

    // The next run: the list job finds the first run's timings and hands them to the shards, which
    // run the parts that --timings gives (the same on every job).
    const second = pipeline('2');
    assert.equal(second.list.outputs.timings, 'true');
    const timings = join(runner.artifacts, 'salt-containers-timings', 'salt-containers-timings.json');
    assert.deepEqual((JSON.parse(readFileSync(timings, 'utf8')) as Report).cells.map((c) => c.key), merged.cells.map((c) => c.key));
    const balanced = second.runs.map((run, k) => {
      assert.ok(existsSync(join(run.workspace, 'salt-containers-timings.json')), 'the shard job downloaded the timings');
      return (JSON.parse(readFileSync(join(run.workspace, 'reports', `shard-${k + 1}-of-2.json`), 'utf8')) as Report).cells.map((c) => c.key);
    });
    for (const [k, keys] of balanced.entries()) {
      const listedPart = await runCli(['test', '--list', '--json', '--shard', `${k + 1}/2`, '--timings', timings], first.list.workspace);
      assert.equal(listedPart.code, 0, listedPart.stderr);
      const expected = (JSON.parse(listedPart.stdout) as { cells: { key: string }[] }).cells.map((c) => c.key.replace(/@default$/, ''));
      assert.deepEqual(keys.map((key) => key.replace(/@[^@]+$/, '')).sort(), expected.sort(), `shard ${k + 1}/2 ran the part its timings give`);
    }
    assert.equal(new Set(balanced.flat()).size, 4);
    assert.match(second.report.summary, /^### State tests: 4 cells, 2 passed, 2 failed$/m);
  });
});
