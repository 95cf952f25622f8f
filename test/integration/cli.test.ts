/** The CLI end to end: the built dist/cli.js against the real engine and Salt, as scripts use it. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerEngine } from '../../src/engine';
import { containerDiff, DEBIAN_IMAGE, PY3_IMAGE, REPO_ROOT, leftovers, removeContainer, startContainer, uniqueName } from '../support/containers';
import { pushedImage } from '../support/registry';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const engine = new DockerEngine();

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('salt-containers CLI', () => {
  let container: string;
  before(async () => {
    container = await startContainer(engine, undefined, 'sc-cli');
  });
  after(() => removeContainer(engine, container));

  it('apply finds ./salt and ./pillar, exits 0 and prints a summary', async () => {
    const result = await cli(['apply', 'web', '--container', container], join(REPO_ROOT, 'examples'));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /web_config \(file\.managed\) \/etc\/web\/site\.conf/);
    assert.match(result.stdout, /Succeeded: 9 \(changed=9\)\nFailed:    0/);
  });

  it('apply --json follows the contract and exits 2 when a state failed', async () => {
    const result = await cli(['apply', 'failing', '--container', container, '--json', '--states', 'test/fixtures/engine/salt'], REPO_ROOT);
    assert.equal(result.code, 2);
    const doc = JSON.parse(result.stdout) as { retcode: number; states: { id: string; result: boolean }[]; errors: unknown[] };
    assert.equal(doc.retcode, 2);
    assert.deepEqual(doc.states.map((s) => [s.id, s.result]), [['ok_first', true], ['must_fail', false], ['needs_failed', false], ['ok_after', true]]);
    assert.deepEqual(doc.errors, []);
  });

  it('a render error exits 1 and points at the file and line (a missing include at the include)', async () => {
    const human = await cli(['apply', 'bad_jinja', '--container', container], join(REPO_ROOT, 'test', 'fixtures', 'engine'));
    assert.equal(human.code, 1);
    assert.match(human.stdout, /error: Rendering SLS 'base:bad_jinja' failed: Jinja variable 'no_such_variable' is undefined; line 3/);
    assert.match(human.stdout, /at salt\/bad_jinja\.sls:3/);
    const json = await cli(['apply', 'bad_jinja', '--container', container, '--json'], join(REPO_ROOT, 'test', 'fixtures', 'engine'));
    assert.deepEqual(JSON.parse(json.stdout).errors.map((e: { sls: string; line: number }) => [e.sls, e.line]), [['bad_jinja', 3]]);
    const include = await cli(['apply', 'includes_missing', '--container', container], join(REPO_ROOT, 'test', 'fixtures', 'engine'));
    assert.equal(include.code, 1);
    assert.match(include.stdout, /error: Specified SLS no_such_module in saltenv base is not available/);
    assert.match(include.stdout, /at salt\/includes_missing\.sls:2\n/);
    // In a map.jinja the SLS imports: that file's line, and `file` in --json.
    const map = await cli(['apply', 'broken', '--container', container], join(REPO_ROOT, 'test', 'fixtures', 'engine'));
    assert.match(map.stdout, /salt:\/\/broken\/map\.jinja\(3\):[\s\S]*at salt\/broken\/map\.jinja:3\n/);
    const mapJson = await cli(['apply', 'broken', '--container', container, '--json'], join(REPO_ROOT, 'test', 'fixtures', 'engine'));
    assert.deepEqual(JSON.parse(mapJson.stdout).errors.map((e: { sls: string; line: number; file?: string }) => [e.sls, e.line, e.file]), [['broken', 3, 'broken/map.jinja']]);
  });

  it("--pillar takes a formula's pillar.example: every minion is given it, and a missing one is refused", async () => {
    // A formula's repository in the style of saltstack-formulas: FORMULA, motd/init.sls, pillar.example.
    const formula = mkdtempSync(join(tmpdir(), 'sc-cli-formula-'));
    try {
      writeFileSync(join(formula, 'FORMULA'), 'name: motd\n');
      mkdirSync(join(formula, 'motd'));
      writeFileSync(join(formula, 'motd', 'init.sls'), "{%- set motd = salt['pillar.get']('motd', {}) %}\nmotd-file:\n  file.managed:\n    - name: /etc/motd-sc\n    - contents: {{ motd.get('text', 'no pillar') | json }}\n");
      writeFileSync(join(formula, 'pillar.example'), 'motd:\n  text: from the example\n');
      const applied = await cli(['apply', 'motd', '--container', container, '--pillar', 'pillar.example', '--json'], formula);
      assert.equal(applied.code, 0, applied.stderr);
      const read = await cli(['call', 'file.read', '/etc/motd-sc', '--container', container, '--json'], formula);
      assert.equal((JSON.parse(read.stdout) as { return: string }).return.trim(), 'from the example');
      const missing = await cli(['apply', 'motd', '--container', container, '--pillar', 'pillar.sls'], formula);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /--pillar pillar\.sls: no such folder or file/);
    } finally {
      rmSync(formula, { recursive: true, force: true });
    }
  });

  it("a pillar.example that gives a key twice: Salt's reason at its line, never 'see master log' (human and --json)", async () => {
    const formula = mkdtempSync(join(tmpdir(), 'sc-cli-reason-'));
    try {
      writeFileSync(join(formula, 'FORMULA'), 'name: motd\n');
      mkdirSync(join(formula, 'motd'));
      writeFileSync(join(formula, 'motd', 'init.sls'), 'motd-nop:\n  test.nop\n');
      writeFileSync(join(formula, 'pillar.example'), 'motd:\n  text: one\nother: 1\nmotd:\n  text: two\n');
      const human = await cli(['apply', 'motd', '--container', container, '--pillar', 'pillar.example'], formula);
      assert.equal(human.code, 1);
      assert.match(human.stdout, /Pillar failed to render: Rendering SLS 'pillar_example' failed: [\s\S]*found conflicting ID 'motd'/);
      assert.match(human.stdout, /at pillar\.example:4/);
      assert.doesNotMatch(human.stdout, /master log/);
      const json = await cli(['apply', 'motd', '--container', container, '--pillar', 'pillar.example', '--json'], formula);
      assert.deepEqual(JSON.parse(json.stdout).errors.map((e: { sls: string; line: number; pillar?: boolean }) => [e.sls, e.line, e.pillar]), [['pillar_example', 4, true]]);
      assert.deepEqual(await leftovers(engine, container), []);
    } finally {
      rmSync(formula, { recursive: true, force: true });
    }
  });

  it('call passes KEY=VALUE as keyword arguments and prints the return', async () => {
    const result = await cli(['call', 'fixture.answer', 'scale=3', '--container', container, '--json'], join(REPO_ROOT, 'test', 'fixtures', 'engine'));
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { retcode: 0, return: 126, errors: [] });
    const human = await cli(['call', 'grains.get', 'os', '--container', container], REPO_ROOT);
    assert.equal(human.stdout, 'Debian\n');
  });

  it('--python chooses the Python: bundled says so in a note, container on an image without one fails clearly', async () => {
    const bundled = await cli(['call', 'grains.get', 'os', '--container', container, '--python', 'bundled'], REPO_ROOT);
    assert.equal(bundled.code, 0, bundled.stderr);
    assert.match(bundled.stdout, /^Debian\nnote: Salt ran with the bundled Python 3\.11\.\d+ \(Debian bookworm, amd64\): the python runtime setting asks for it \(bundled\)\.\n$/);
    const without = await startContainer(engine, DEBIAN_IMAGE, 'sc-cli');
    try {
      const json = await cli(['call', 'test.ping', '--container', without, '--python', 'container', '--json'], REPO_ROOT);
      assert.equal(json.code, 1);
      assert.match(JSON.parse(json.stdout).errors[0].message, /^image salt-containers-test:debian has no Python 3 \(The python runtime setting is "container" \(--python container\)/);
      const auto = await cli(['call', 'test.ping', '--container', without, '--json'], REPO_ROOT);
      assert.deepEqual(JSON.parse(auto.stdout), { retcode: 0, return: true, errors: [] });
    } finally {
      await removeContainer(engine, without);
    }
  });

  it('highstate --test changes nothing and exits 0', async () => {
    const result = await cli(['highstate', '--container', container, '--test', '--json'], join(REPO_ROOT, 'test', 'fixtures', 'engine'));
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).states.map((s: { id: string; result: boolean | null }) => [s.id, s.result]), [['deep_marker', null]]);
  });

  it('build --json names the image it made', async () => {
    const tag = `${uniqueName('sc-cli-built')}:1`;
    try {
      const result = await cli(['build', 'built', '--from', 'salt-containers-test:py3', '--tag', tag, '--json'], join(REPO_ROOT, 'test', 'fixtures', 'engine'));
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const doc = JSON.parse(result.stdout);
      assert.equal(doc.image.tag, tag);
      assert.equal((await engine.inspectImage(tag)).Id, doc.image.id);
    } finally {
      await engine.removeImage(tag, { force: true }).catch(() => undefined);
    }
  });

  it('build from a base image the engine lacks pulls it: progress lines on stderr, --json as before', async () => {
    const base = await pushedImage();
    const tag = `${uniqueName('sc-cli-built')}:1`;
    try {
      const result = await cli(['build', 'built', '--from', base.ref, '--tag', tag, '--json'], join(REPO_ROOT, 'test', 'fixtures', 'engine'));
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.deepEqual(Object.keys(JSON.parse(result.stdout)), ['retcode', 'states', 'errors', 'image']);
      const lines = result.stderr.split('\n').filter(Boolean);
      assert.match(lines[0], new RegExp(`^… pulling ${base.ref.replace(/[.]/g, '\\.')} from 127\\.0\\.0\\.1:\\d+$`));
      assert.match(lines.at(-1)!, new RegExp(`^… pulled ${base.ref.replace(/[.]/g, '\\.')} in \\d+\\.\\d s \\(its layers were there already\\)$`), 'the test image\'s layers are on the engine');
      const missing = await cli(['build', 'built', '--from', `${base.ref}-no-such`, '--tag', tag], join(REPO_ROOT, 'test', 'fixtures', 'engine'));
      assert.equal(missing.code, 1);
      assert.match(missing.stdout, /image 127\.0\.0\.1:\d+\/sc-test-[0-9a-f]+\/image:1-no-such not found in 127\.0\.0\.1:\d+/);
    } finally {
      await engine.removeImage(tag, { force: true }).catch(() => undefined);
      await base.remove([engine]);
    }
  });

  it('ls lists the container; an unreachable engine is a clear error with exit 1', async () => {
    const list = await cli(['ls', '--json'], REPO_ROOT);
    assert.equal(list.code, 0);
    assert.ok((JSON.parse(list.stdout).containers as { name: string }[]).some((c) => c.name === container));
    const down = await cli(['ls'], REPO_ROOT, { DOCKER_HOST: 'tcp://127.0.0.1:9' });
    assert.equal(down.code, 1);
    assert.equal(
      down.stderr,
      'salt-containers: Docker engine at tcp://127.0.0.1:9 is not reachable (ECONNREFUSED)\n  hint: Nothing listens there: start the engine, check the address and port, or pick another engine (--host, --context, DOCKER_HOST, DOCKER_CONTEXT).\n',
    );
  });

  it('usage errors exit 1 with a pointer to --help', async () => {
    const result = await cli(['apply', 'web'], REPO_ROOT);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'salt-containers: apply needs --container NAME\nRun salt-containers --help for usage.\n');
  });
});

describe('salt-containers check', () => {
  it('finds nothing wrong in the examples: exit 0', async () => {
    const result = await cli(['check'], join(REPO_ROOT, 'examples'));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^no problems in \d+ files\n$/);
    const json = await cli(['check', '--json'], join(REPO_ROOT, 'examples'));
    assert.deepEqual(JSON.parse(json.stdout), []);
    // Paths name the trees wherever the check runs: from the repository, and from inside a tree.
    const fromRepo = await cli(['check', 'examples'], REPO_ROOT);
    assert.equal(fromRepo.code, 0, fromRepo.stdout + fromRepo.stderr);
    assert.match(fromRepo.stdout, /^no problems in \d+ files\n$/);
    const fromInside = await cli(['check', '.'], join(REPO_ROOT, 'examples', 'salt', 'web'));
    assert.equal(fromInside.stdout, 'no problems in 3 files\n', 'web includes common: found in the tree above');
  });

  it('a Jinja syntax error exits 1 and names the file and line, as Jinja does; warnings alone do not fail', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sc-check-'));
    try {
      cpSync(join(REPO_ROOT, 'examples'), work, { recursive: true });
      writeFileSync(join(work, 'salt', 'broken.sls'), ['broken_state:', '  test.nop:', "    - name: {{ salt['grains.get']('os' }}", ''].join('\n'));
      mkdirSync(join(work, 'salt', 'broken'));
      writeFileSync(join(work, 'salt', 'broken', 'map.jinja'), ['{% set x = 1 %}', '{% if x %}', 'text', ''].join('\n'));
      const json = await cli(['check', '--json'], work);
      assert.equal(json.code, 1, json.stderr);
      const findings = JSON.parse(json.stdout) as { file: string; line: number; column: number; severity: string; message: string; source: string }[];
      assert.deepEqual(
        findings.filter((f) => f.source === 'jinja').map((f) => [f.file, f.line, f.column, f.severity, f.message]),
        [
          ['salt/broken.sls', 3, 40, 'error', "unexpected '}', expected ')'"],
          ['salt/broken/map.jinja', 2, 1, 'error', "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'."],
        ],
      );
      // The human format, and the files and folders named on the command line only.
      const human = await cli(['check', 'salt/broken.sls'], work);
      assert.equal(human.code, 1);
      assert.equal(human.stdout, "salt/broken.sls:3:40: error: unexpected '}', expected ')' [jinja]\n1 error, 0 warnings in 1 file\n");
      // A warning (a salt:// file that is not there) is reported and does not fail.
      writeFileSync(join(work, 'salt', 'broken.sls'), ['warned:', '  file.managed:', '    - name: /tmp/x', '    - source: salt://no/such/file', ''].join('\n'));
      const warned = await cli(['check', 'salt/broken.sls'], work);
      assert.equal(warned.code, 0, warned.stdout);
      assert.match(warned.stdout, /^salt\/broken\.sls:4:\d+: warning: salt:\/\/no\/such\/file: no such file in the state tree \[sls\]\n0 errors, 1 warning in 1 file\n$/);
      const missing = await cli(['check', 'no/such/dir'], work);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, 'salt-containers: no/such/dir: no such file or folder\n');
      // --exclude: a file by its path and a folder by its name leave the check, found or named.
      writeFileSync(join(work, 'salt', 'broken.sls'), ['broken_state:', '  test.nop:', "    - name: {{ salt['grains.get']('os' }}", ''].join('\n'));
      const excluded = await cli(['check', '--exclude', 'salt/broken.sls', '--exclude', 'broken'], work);
      assert.equal(excluded.code, 0, excluded.stdout + excluded.stderr);
      const all = await cli(['check'], work);
      const filesIn = (out: string) => Number(/ in (\d+) files?\n$/.exec(out)?.[1]);
      assert.match(excluded.stdout, /^no problems in \d+ files\n$/);
      assert.equal(filesIn(excluded.stdout), filesIn(all.stdout) - 2, 'broken.sls and broken/map.jinja left out');
      const named = await cli(['check', 'salt/broken.sls', '--exclude', 'salt/broken.sls'], work);
      assert.equal(named.stdout, 'no problems in 0 files\n');
      // --pillar: the pillar file apply would be given is checked as pillar data (Jinja, keys given twice).
      writeFileSync(join(work, 'pillar.example'), ['web:', '  port: 80', 'web:', "  name: {{ 'x' ~ }}", ''].join('\n'));
      const pillar = await cli(['check', '--pillar', 'pillar.example', '--exclude', 'salt', '--json'], work);
      assert.equal(pillar.code, 1, pillar.stderr);
      assert.deepEqual(
        (JSON.parse(pillar.stdout) as { file: string; line: number; source: string }[]).map((f) => [f.file, f.line, f.source]),
        [
          ['pillar.example', 3, 'sls'],
          ['pillar.example', 4, 'jinja'],
        ],
      );
      // A shebang without jinja: Salt renders no Jinja in it, and neither is Jinja checked.
      writeFileSync(join(work, 'pillar.example'), ['#!yaml', 'web:', '  greeting: "{{ not jinja }"', ''].join('\n'));
      const yamlOnly = await cli(['check', '--pillar', 'pillar.example', '--exclude', 'salt'], work);
      assert.equal(yamlOnly.code, 0, yamlOnly.stdout);
      const notTemplate = await cli(['check', 'pillar.example'], work);
      assert.equal(notTemplate.code, 1);
      assert.equal(notTemplate.stderr, 'salt-containers: pillar.example: not an SLS or Jinja file (.sls, .jinja, .j2)\n  hint: A pillar file is checked as the pillar: --pillar pillar.example\n');
      const noPillar = await cli(['check', '--pillar', 'no.example'], work);
      assert.equal(noPillar.code, 1);
      assert.match(noPillar.stderr, /^salt-containers: --pillar no\.example: no such folder or file\n/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
  it("--container adds Salt's own render of each state module: an error the source cannot see exits 1 at its file and line, nothing applied", async () => {
    const work = mkdtempSync(join(tmpdir(), 'sc-check-salt-'));
    const container = await startContainer(engine, undefined, 'sc-check-salt');
    try {
      cpSync(join(REPO_ROOT, 'examples'), work, { recursive: true });
      // Fine to the source (Jinja parses it); Salt's render finds the variable undefined, at line 3.
      writeFileSync(join(work, 'salt', 'undefined.sls'), ['undefined_state:', '  test.nop:', '    - name: {{ no_such_variable.attribute }}', ''].join('\n'));
      // A requisite left empty by its data, in the branch Salt takes: Salt names the state and the
      // requisite; the finding is at the requisite's line in that branch.
      writeFileSync(
        join(work, 'salt', 'requisite.sls'),
        ['{% set needs = {} %}', '{% if needs is none %}', 'site_conf:', '  test.nop: []', '{% else %}', 'site_conf:', '  test.nop:', '    - require:', '    {%- for k, v in needs.items() %}', '      - {{ k }}: {{ v }}', '    {%- endfor %}', '{% endif %}', ''].join('\n'),
      );
      // A kitchen suite's pillar kept in the state tree is pillar data, not a state module: not rendered as one.
      mkdirSync(join(work, 'salt', 'test', 'salt', 'pillar'), { recursive: true });
      writeFileSync(join(work, 'salt', 'test', 'salt', 'pillar', 'suite.sls'), 'web:\n  port: 8080\n');
      const before = await containerDiff(engine, container);
      const json = await cli(['check', '--container', container, '--json'], work);
      assert.equal(json.code, 1, json.stdout + json.stderr);
      const findings = JSON.parse(json.stdout) as { file: string; line: number; severity: string; message: string; source: string; code: string }[];
      assert.deepEqual(
        findings.map((f) => [f.file, f.line, f.severity, f.source]),
        [
          ['salt/requisite.sls', 8, 'error', 'salt'],
          ['salt/undefined.sls', 3, 'error', 'salt'],
        ],
        "the examples' modules render and compile; the broken ones are Salt's errors at their lines",
      );
      assert.match(findings[0].message, /^The require statement in state 'site_conf' in SLS 'requisite' needs to be formed as a list/);
      findings.shift();
      assert.match(findings[0].message, /^Rendering SLS 'base:undefined' failed: Jinja variable 'no_such_variable' is undefined; line 3$/);
      const human = await cli(['check', 'salt/undefined.sls', '--container', container], work);
      assert.equal(human.code, 1);
      assert.equal(human.stdout, "salt/undefined.sls:3:1: error: Rendering SLS 'base:undefined' failed: Jinja variable 'no_such_variable' is undefined; line 3 [salt]\n1 error, 0 warnings in 1 file\n");
      // show_sls applies nothing, and Salt goes with the check.
      assert.deepEqual(await containerDiff(engine, container), before);
    } finally {
      await removeContainer(engine, container);
      rmSync(work, { recursive: true, force: true });
    }
  });
  it("--container on a formula's repository: another formula's include is a warning, its kitchen pillar is no module, OS dispatch renders this system's module only, an include not taken is rendered alone", async () => {
    const work = mkdtempSync(join(tmpdir(), 'sc-check-formula-'));
    const container = await startContainer(engine, undefined, 'sc-check-formula');
    try {
      const formula = join(work, 'demo-formula');
      const put = (file: string, lines: string[]) => {
        mkdirSync(dirname(join(formula, file)), { recursive: true });
        writeFileSync(join(formula, file), [...lines, ''].join('\n'));
      };
      put('demo/init.sls', [
        'include:',
        '  - other.client',
        '  - .repo',
        "{%- for dep in salt['pillar.get']('demo:required_states', []) %}",
        '  - {{ dep }}',
        '{%- endfor %}',
        "{%- if salt['pillar.get']('demo:extra') %}",
        '  - .extra',
        '{%- endif %}',
        '',
        'demo_config:',
        '  test.nop:',
        "    - name: {{ salt['pillar.get']('demo:name', 'demo') }}",
      ]);
      // OS dispatch: the container (Debian) meets repo.debian; repo.redhat, broken here, is not its system's.
      put('demo/repo/init.sls', ['include:', "  - .{{ grains['os_family']|lower }}"]);
      put('demo/repo/debian.sls', ['demo_repo_debian:', '  test.nop: []']);
      put('demo/repo/redhat.sls', ['demo_repo_redhat:', '  test.nop:', '    - name: {{ no_such_variable.attribute }}']);
      // Included only when the pillar says (it does not): rendered alone, its error reported.
      put('demo/extra.sls', ['demo_extra:', '  test.nop:', '    - name: {{ also_undefined.attribute }}']);
      // A module of another formula that the pillar asks for (packages-formula's required_states): Salt
      // names no includer; the one entry Jinja makes that may name it is the line.
      put('pillar.example', ['demo:', '  name: example', '  required_states: [epel]']);
      put('test/salt/pillar/default.sls', ['demo:', '  name: kitchen']);
      const json = await cli(['check', '--container', container, '--pillar', 'pillar.example', '--json'], formula);
      assert.equal(json.code, 1, json.stdout + json.stderr);
      const findings = JSON.parse(json.stdout) as { file: string; line: number; severity: string; message: string; source: string }[];
      findings.sort((a, b) => a.file.localeCompare(b.file));
      assert.deepEqual(
        findings.map((f) => [f.file, f.line, f.severity, f.source]),
        [
          ['demo/extra.sls', 3, 'error', 'salt'],
          ['demo/init.sls', 2, 'warning', 'salt'],
          ['demo/init.sls', 5, 'warning', 'salt'],
        ],
      );
      assert.match(findings[0].message, /also_undefined/);
      assert.match(findings[1].message, /^Specified SLS other\.client in saltenv base is not available.* \(other\.client is not in this formula: another formula provides it where they run together\)$/);
      assert.match(findings[2].message, /^Specified SLS epel in saltenv base is not available.* \(epel is not in this formula/);
      // --exclude: a module left out is not rendered alone, and nothing is reported in it.
      const excluded = await cli(['check', '--container', container, '--pillar', 'pillar.example', '--exclude', 'demo/extra.sls', '--json'], formula);
      assert.equal(excluded.code, 0, excluded.stdout + excluded.stderr);
      assert.deepEqual((JSON.parse(excluded.stdout) as { file: string; line: number; severity: string }[]).map((f) => [f.file, f.line, f.severity]), [['demo/init.sls', 2, 'warning'], ['demo/init.sls', 5, 'warning']]);
    } finally {
      await removeContainer(engine, container);
      rmSync(work, { recursive: true, force: true });
    }
  });
  it("--container with a pillar that does not render: Salt's reason at the pillar's line, once, never 'see master log'", async () => {
    const work = mkdtempSync(join(tmpdir(), 'sc-check-pillar-'));
    const container = await startContainer(engine, undefined, 'sc-check-pillar');
    try {
      cpSync(join(REPO_ROOT, 'examples'), work, { recursive: true });
      type Finding = { file: string; line: number; severity: string; message: string; source: string; code: string };
      // A pillar Jinja cannot render with the container's grains: Salt's reason, at its line.
      writeFileSync(join(work, 'pillar.example'), ['site:', '  name: {{ no_such_pillar_variable.name }}', ''].join('\n'));
      const json = await cli(['check', '--container', container, '--pillar', 'pillar.example', '--json'], work);
      assert.equal(json.code, 1, json.stdout + json.stderr);
      const findings = JSON.parse(json.stdout) as Finding[];
      assert.deepEqual(
        findings.map((f) => [f.file, f.line, f.severity, f.source, f.code]),
        [['pillar.example', 2, 'error', 'salt', 'pillar']],
      );
      assert.match(findings[0].message, /^Pillar failed to render: Rendering SLS '[^']+' failed: Jinja variable 'no_such_pillar_variable' is undefined; line 2$/);
      assert.doesNotMatch(json.stdout + json.stderr, /master log/);
      // A top-level key given twice (as ntp-formula's pillar.example does): the source check says it, and
      // Salt's refusal at the same line is that fact again, not said twice.
      writeFileSync(join(work, 'pillar.example'), ['site:', '  name: one', 'site:', '  name: two', ''].join('\n'));
      const twice = await cli(['check', '--container', container, '--pillar', 'pillar.example', '--json'], work);
      assert.equal(twice.code, 1, twice.stdout + twice.stderr);
      assert.deepEqual(
        (JSON.parse(twice.stdout) as Finding[]).map((f) => [f.file, f.line, f.severity, f.source, f.code]),
        [['pillar.example', 3, 'error', 'sls', 'duplicate-key']],
      );
    } finally {
      await removeContainer(engine, container);
      rmSync(work, { recursive: true, force: true });
    }
  });
  it('--image checks in a fresh container of the image, removed after, also when the check fails', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sc-check-image-'));
    const checkContainers = async () => (await engine.listContainers()).filter((c) => c.name.startsWith('salt-containers-check-')).map((c) => c.name);
    const before = await checkContainers();
    try {
      cpSync(join(REPO_ROOT, 'examples'), work, { recursive: true });
      const clean = await cli(['check', '--image', PY3_IMAGE, '--json'], work);
      assert.equal(clean.code, 0, clean.stdout + clean.stderr);
      assert.deepEqual(JSON.parse(clean.stdout), [], "the examples render and compile in Salt");
      writeFileSync(join(work, 'salt', 'undefined.sls'), ['undefined_state:', '  test.nop:', '    - name: {{ no_such_variable }}', ''].join('\n'));
      const broken = await cli(['check', 'salt/undefined.sls', '--image', PY3_IMAGE], work);
      assert.equal(broken.code, 1, broken.stdout + broken.stderr);
      assert.match(broken.stdout, /^salt\/undefined\.sls:3:1: error: Rendering SLS 'base:undefined' failed: Jinja variable 'no_such_variable' is undefined; line 3 \[salt\]\n1 error, 0 warnings in 1 file\n$/);
      assert.deepEqual(await checkContainers(), before, 'no check container is left behind');
      const missing = await cli(['check', '--image', 'salt-containers-test:no-such-image'], work);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no-such-image/);
      assert.deepEqual(await checkContainers(), before);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
