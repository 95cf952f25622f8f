/** The CLI's command line and output: contracts that scripts depend on. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseCommandLine } from '../../src/cli/args';
import { checkTrees, emptyHighstateNote, TreeError } from '../../src/cli/trees';
import { findRoots } from '../../src/sls/roots';
import { formatStateRun, plain, relativeTo, toJson } from '../../src/cli/format';
import { entryFiles, formatFindings } from '../../src/cli/check';
import { excludedUnder, excludeMatcher } from '../../src/cli/exclude';
import type { StateRun } from '../../src/engine/results/model';

describe('command line', () => {
  it('reads apply with several modules, test mode and roots', () => {
    const parsed = parseCommandLine(['apply', 'web,db', 'extra', '--container', 'c1', '--test', '--states', 's', '--pillar', 'p', '--json']);
    assert.equal(parsed.kind, 'command');
    if (parsed.kind !== 'command') return;
    assert.deepEqual(parsed.command.mods, ['web', 'db', 'extra']);
    assert.equal(parsed.command.container, 'c1');
    assert.equal(parsed.command.test, true);
    assert.deepEqual([parsed.command.states, parsed.command.pillar, parsed.command.json], ['s', 'p', true]);
  });

  it('reads the salt versions verb', () => {
    const parsed = parseCommandLine(['salt', 'versions', '--json']);
    assert.equal(parsed.kind, 'command');
    if (parsed.kind !== 'command') return;
    assert.deepEqual([parsed.command.verb, parsed.command.args, parsed.command.json], ['salt', ['versions'], true]);
    assert.deepEqual(parseCommandLine(['salt']), { kind: 'usage-error', message: 'salt takes versions (got nothing)' });
    assert.deepEqual(parseCommandLine(['salt', 'install']), { kind: 'usage-error', message: 'salt takes versions (got install)' });
  });

  it('reads --salt-on and the cache verb (ls by default, rm with tags or none)', () => {
    const apply = parseCommandLine(['apply', 'web', '--container', 'c1', '--salt-on', 'engine']);
    assert.ok(apply.kind === 'command' && apply.command.saltOn === 'engine');
    assert.deepEqual(parseCommandLine(['apply', 'web', '--container', 'c1', '--salt-on', 'cloud']), { kind: 'usage-error', message: '--salt-on takes auto, host, engine (got cloud)' });
    const ls = parseCommandLine(['cache', '--json']);
    assert.ok(ls.kind === 'command');
    if (ls.kind !== 'command') return;
    assert.deepEqual([ls.command.verb, ls.command.cacheAction, ls.command.args, ls.command.json], ['cache', 'ls', [], true]);
    const rm = parseCommandLine(['cache', 'rm', 'salt-3008.4-abc']);
    assert.ok(rm.kind === 'command');
    if (rm.kind !== 'command') return;
    assert.deepEqual([rm.command.cacheAction, rm.command.args], ['rm', ['salt-3008.4-abc']]);
    assert.deepEqual(parseCommandLine(['cache', 'clean']), { kind: 'usage-error', message: 'cache takes ls or rm (got clean)' });
  });

  it('reads watch like apply: modules, container, test mode, --json', () => {
    const parsed = parseCommandLine(['watch', 'web,db', '--container', 'c1', '--test', '--json']);
    assert.ok(parsed.kind === 'command');
    if (parsed.kind !== 'command') return;
    assert.deepEqual([parsed.command.verb, parsed.command.mods, parsed.command.container, parsed.command.test, parsed.command.json], ['watch', ['web', 'db'], 'c1', true, true]);
    assert.deepEqual(parseCommandLine(['watch', '--container', 'c1']), { kind: 'usage-error', message: 'watch needs at least one SLS module, e.g. `watch web`' });
    assert.deepEqual(parseCommandLine(['watch', 'web']), { kind: 'usage-error', message: 'watch needs --container NAME' });
  });

  it('reads check with files and folders, or none (the trees)', () => {
    const parsed = parseCommandLine(['check', 'salt/web', 'salt/top.sls', '--states', 'salt', '--json']);
    assert.ok(parsed.kind === 'command');
    if (parsed.kind !== 'command') return;
    assert.deepEqual([parsed.command.verb, parsed.command.paths, parsed.command.states, parsed.command.json], ['check', ['salt/web', 'salt/top.sls'], 'salt', true]);
    const bare = parseCommandLine(['check']);
    assert.ok(bare.kind === 'command' && bare.command.paths.length === 0 && bare.command.container === undefined);
    const inContainer = parseCommandLine(['check', 'salt/web', '--container', 'web1']);
    assert.ok(inContainer.kind === 'command' && inContainer.command.container === 'web1' && inContainer.command.paths.join() === 'salt/web');
    const onImage = parseCommandLine(['check', '--image', 'debian:bookworm']);
    assert.ok(onImage.kind === 'command' && onImage.command.images.join() === 'debian:bookworm' && onImage.command.container === undefined);
    assert.deepEqual(parseCommandLine(['check', '--image', 'a', '--container', 'web1']), { kind: 'usage-error', message: 'check takes --container NAME or --image IMAGE, not both' });
    assert.deepEqual(parseCommandLine(['check', '--image', 'a', '--image', 'b']), { kind: 'usage-error', message: 'check takes one --image (got a, b)' });
    assert.deepEqual(parseCommandLine(['check', '--image', 'web=debian']), { kind: 'usage-error', message: 'check --image takes an image, not NAME=IMAGE (got web=debian)' });
    const excluding = parseCommandLine(['check', '--exclude', 'mysql/macos.sls', '--exclude', 'test', '--image', 'debian:12']);
    assert.ok(excluding.kind === 'command' && excluding.command.excludes.join() === 'mysql/macos.sls,test');
    assert.deepEqual(parseCommandLine(['apply', 'web', '--container', 'c', '--exclude', 'x']), { kind: 'usage-error', message: '--exclude is for check (got apply)' });
  });

  it('check --exclude reads globs as .gitignore does, over the paths check prints', () => {
    const excluded = excludeMatcher(['mysql/macos.sls', 'php/*repo*', 'test', '**/pillar/*.sls', './kitchen/', 'tmp?.sls', 'osfamily[!m].sls']);
    const yes = ['mysql/macos.sls', 'php/ubuntu_repo.sls', 'php/repo/init.sls', 'test', 'test/salt/pillar/default.sls', 'mysql/test/x.sls', 'a/pillar/b.sls', 'pillar/b.sls', 'kitchen/x.sls', 'tmp1.sls', 'deep/tmp2.sls', 'osfamilyr.sls'];
    const no = ['mysql/macos.jinja', 'other/mysql/macos.sls', 'php/init.sls', 'tests/x.sls', 'a/pillar/b/c.sls.txt', 'a/kitchen/x.sls', 'tmp12.sls', 'osfamilym.sls'];
    assert.deepEqual(yes.filter((p) => !excluded(p)), [], 'each of these is excluded');
    assert.deepEqual(no.filter(excluded), [], 'none of these is');
    // Only the folder named: a/pillar/b/c.sls.txt is under a/pillar/b, which `**/pillar/*.sls` does not name.
    assert.equal(excludeMatcher(['**/pillar/*'])('a/pillar/b/c.sls'), true, 'a folder the glob names covers what is under it');
    assert.equal(excludeMatcher([])('anything.sls'), false);
    // Absolute paths, read relative to the current folder as check prints them.
    const under = excludedUnder(join(tmpdir(), 'formula'), ['mysql/macos.sls']);
    assert.equal(under(join(tmpdir(), 'formula', 'mysql', 'macos.sls')), true);
    assert.equal(under(join(tmpdir(), 'formula', 'mysql', 'init.sls')), false);
  });

  it('prints check findings as compilers do, with a count', () => {
    const finding = { file: 'salt/web.sls', line: 3, column: 7, severity: 'error' as const, message: "Encountered unknown tag 'sett'.", source: 'jinja' };
    assert.equal(formatFindings([finding, { ...finding, line: 9, severity: 'warning', message: 'w', source: 'sls' }], 4, plain), "salt/web.sls:3:7: error: Encountered unknown tag 'sett'. [jinja]\nsalt/web.sls:9:7: warning: w [sls]\n1 error, 1 warning in 4 files");
    assert.equal(formatFindings([], 1, plain), 'no problems in 1 file');
  });

  it("check's lines are what the VS Code task's problem matcher reads (package.json $salt-containers-check)", () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      contributes: { problemMatchers: { name: string; pattern: { regexp: string; file: number; line: number; column: number; severity: number; message: number } }[] };
    };
    const matcher = manifest.contributes.problemMatchers.find((m) => m.name === 'salt-containers-check');
    assert.ok(matcher);
    const pattern = new RegExp(matcher.pattern.regexp);
    const findings = [
      { file: 'salt/web/init.sls', line: 3, column: 7, severity: 'error' as const, message: "Rendering SLS 'base:web' failed: Jinja variable 'x' is undefined; line 3", source: 'salt' },
      { file: 'C:\\salt\\a b.sls', line: 12, column: 1, severity: 'warning' as const, message: 'watch_in: [x] no state', source: 'sls' },
    ];
    const lines = formatFindings(findings, 2, plain).split('\n');
    findings.forEach((finding, index) => {
      const match = pattern.exec(lines[index]);
      assert.ok(match, lines[index]);
      const { file, line, column, severity, message } = matcher.pattern;
      assert.deepEqual([match[file], Number(match[line]), Number(match[column]), match[severity], match[message]], [finding.file, finding.line, finding.column, finding.severity, finding.message]);
    });
    assert.equal(pattern.exec(lines[2]), null, 'the count line is no finding');
  });

  it('check --container renders from the files no other checked file includes, and from one file of each include cycle; OS dispatch is told apart', () => {
    const naming: Record<string, string[]> = { 'web/config': ['web/init'], 'db/a': ['db/b'], 'db/b': ['db/a'], 'web/extra': ['outside'] };
    const dispatching: Record<string, string[]> = { 'repo/redhat': ['repo/init'], 'repo/debian': ['repo/init'] };
    const tree = { includersOf: (file: string) => ({ naming: naming[file] ?? [], dispatching: dispatching[file] ?? [] }) };
    const files = ['web/init', 'web/config', 'db/a', 'db/b', 'lone', 'web/extra', 'repo/init', 'repo/redhat', 'repo/debian'];
    const { entries, dispatched } = entryFiles(files, tree);
    assert.deepEqual(entries, ['web/init', 'lone', 'web/extra', 'repo/init', 'db/a']);
    assert.deepEqual([...dispatched].sort(), ['repo/debian', 'repo/redhat']);
    // Named alone, an included file is rendered itself.
    assert.deepEqual(entryFiles(['web/config'], tree).entries, ['web/config']);
  });

  it('splits call arguments into positional and KEY=VALUE', () => {
    const parsed = parseCommandLine(['call', 'cmd.run', 'echo a=b c', 'cwd=/tmp', '--container', 'c']);
    assert.ok(parsed.kind === 'command');
    if (parsed.kind !== 'command') return;
    assert.equal(parsed.command.fn, 'cmd.run');
    assert.deepEqual(parsed.command.args, ['echo a=b c']);
    assert.deepEqual(parsed.command.kwargs, { cwd: '/tmp' });
  });

  it('says what is missing', () => {
    const message = (argv: string[]) => {
      const parsed = parseCommandLine(argv);
      return parsed.kind === 'usage-error' ? parsed.message : parsed.kind;
    };
    assert.equal(message(['apply', 'web']), 'apply needs --container NAME');
    assert.equal(message(['build', 'web', '--tag', 't']), 'build needs --from IMAGE (the base image)');
    assert.equal(message(['highstate', 'web', '--container', 'c']), 'highstate takes no modules (got web); use apply for those');
    assert.equal(message(['frobnicate']), 'unknown command frobnicate');
    assert.match(message(['ls', '--bogus']), /Unknown option '--bogus'/);
    assert.equal(message(['--help']), 'help');
    assert.equal(message(['call', 'test.ping', '--container', 'c', '--python', 'system']), '--python takes auto, container, bundled (got system)');
  });

  it('reads --python for every verb that runs Salt', () => {
    for (const argv of [['apply', 'web', '-c', 'c'], ['highstate', '-c', 'c'], ['call', 'test.ping', '-c', 'c'], ['build', 'web', '--from', 'i', '--tag', 't']]) {
      for (const python of ['auto', 'container', 'bundled']) {
        const parsed = parseCommandLine([...argv, '--python', python]);
        assert.ok(parsed.kind === 'command', `${argv.join(' ')} --python ${python}`);
        if (parsed.kind === 'command') assert.equal(parsed.command.python, python);
      }
    }
    const none = parseCommandLine(['call', 'test.ping', '-c', 'c']);
    assert.ok(none.kind === 'command' && none.command.python === undefined);
  });
});

const run: StateRun = {
  kind: 'state',
  mods: ['web'],
  highstate: false,
  test: false,
  retcode: 2,
  durationMs: 1500,
  container: { id: 'abc', name: 'web1' },
  saltVersion: '3008.4',
  errors: [],
  states: [
    { id: 'ok', sls: 'web', function: 'file.managed', name: '/a', result: true, comment: 'File /a updated', changes: { diff: 'New file' }, durationMs: 2, runNum: 0, tag: 't1' },
    { id: 'bad', sls: 'web', function: 'cmd.run', name: 'exit 3', result: false, comment: 'Command "exit 3" run', changes: { retcode: 3 }, durationMs: 3, runNum: 1, tag: 't2' },
  ],
};

describe('output', () => {
  it('--json has exactly the documented keys', () => {
    const doc = toJson(run);
    assert.deepEqual(Object.keys(doc), ['retcode', 'states', 'errors']);
    assert.deepEqual(Object.keys((doc.states as object[])[0]), ['id', 'sls', 'function', 'name', 'result', 'comment', 'changes', 'durationMs', 'runNum']);
    const call = toJson({ kind: 'call', function: 'test.ping', return: true, retcode: 0, errors: [{ kind: 'salt', message: 'm', hint: 'h' }], durationMs: 1 });
    assert.deepEqual(call, { retcode: 0, return: true, errors: [{ message: 'm (h)', sls: null, line: null }] });
    // `file` only for an error in a template the SLS imports: its line is that file's.
    const inMap = toJson({ ...run, states: [], retcode: 1, errors: [{ kind: 'render', message: 'r', sls: 'web', file: 'web/map.jinja', line: 4 }] });
    assert.deepEqual(inMap.errors, [{ message: 'r', sls: 'web', line: 4, file: 'web/map.jinja' }]);
    const build = toJson({ ...run, kind: 'build', baseImage: 'b', image: { id: 'sha256:1', tag: 't:1', failed: false } });
    assert.deepEqual(build.image, { id: 'sha256:1', tag: 't:1' });
  });

  it('keeps notes out of --json and prints them last in the human output', () => {
    const noted = { ...run, notes: ['Salt went to the container as sources'] };
    assert.deepEqual(Object.keys(toJson(noted)), ['retcode', 'states', 'errors']);
    assert.match(formatStateRun(noted, plain, () => undefined), /Total run time: .*\nnote: Salt went to the container as sources$/);
  });

  it('shows failures first, in full, then the rest, then the summary', () => {
    const text = formatStateRun(run, plain, () => undefined);
    const failedAt = text.indexOf('ID: bad');
    const okAt = text.indexOf('ok (file.managed)');
    assert.ok(failedAt > 0 && okAt > failedAt, text);
    assert.match(text, /Result: False/);
    assert.match(text, /Succeeded: 1 \(changed=1\)\nFailed:    1/);
    assert.match(text, /Total states run: 2/);
  });
});

describe('the trees a run is given', () => {
  it('refuses a --states that is no folder or a --pillar that does not exist, saying what it wants, and notes a pillar tree without top.sls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-cli-trees-'));
    try {
      // A formula's repository: its pillar.example is a file, test/salt/pillar a folder of modules without a top.
      mkdirSync(join(dir, 'web'));
      writeFileSync(join(dir, 'web', 'init.sls'), 'web-pkg:\n  pkg.installed: []\n');
      writeFileSync(join(dir, 'pillar.example'), 'web:\n  port: 8080\n');
      mkdirSync(join(dir, 'test', 'salt', 'pillar'), { recursive: true });
      writeFileSync(join(dir, 'test', 'salt', 'pillar', 'web.sls'), 'web:\n  port: 8081\n');
      const check = (given: { states?: string; pillar?: string }) => checkTrees(findRoots(dir, { stateRoot: given.states, pillarRoot: given.pillar }), given, dir);
      // A pillar file is one module every minion is given: nothing to note.
      assert.deepEqual(check({ pillar: 'pillar.example' }), []);
      assert.throws(() => check({ pillar: 'pillars' }), (e: TreeError) => e.message === '--pillar pillars: no such folder or file' && /pillar\.example/.test(e.hint));
      assert.throws(() => check({ states: 'pillar.example' }), { message: '--states pillar.example is a file, not a folder' });
      assert.throws(() => check({ states: 'srv/salt' }), { message: '--states srv/salt: no such folder' });
      assert.deepEqual(check({ pillar: 'test/salt/pillar' }), ['the pillar tree test/salt/pillar has no top.sls: Salt gives this minion no pillar from it']);
      writeFileSync(join(dir, 'test', 'salt', 'pillar', 'top.sls'), "base:\n  '*':\n    - web\n");
      assert.deepEqual(check({ pillar: 'test/salt/pillar' }), []);
      assert.deepEqual(check({}), []);
      // A highstate Salt found nothing for ("Please see master log"): why, in this tree's words.
      const nothing: StateRun = { ...run, highstate: true, mods: [], retcode: 2, states: [{ id: 'states', sls: '', function: 'no.None', name: 'No States', result: false, comment: 'No Top file or master_tops data matches found. Please see master log for details.', changes: {}, durationMs: 0, runNum: 0, tag: 'no_|-states_|-states_|-None' }] };
      assert.equal(emptyHighstateNote(nothing, dir, dir), 'there is no top.sls in .: a highstate applies what top.sls gives the minion (web1); name modules with apply instead');
      writeFileSync(join(dir, 'top.sls'), "base:\n  'db*':\n    - web\n");
      assert.equal(emptyHighstateNote(nothing, dir, dir, 'prod'), "top.sls gives web1 nothing in saltenv prod: the minion id is the container's name, so target it (or '*')");
      assert.equal(emptyHighstateNote(run, dir, dir), undefined);
      // The formula's repository is the state tree: `watch` names it as `.` (it said "watching  and ...").
      assert.deepEqual([relativeTo(dir, findRoots(dir).stateRoot), relativeTo(dir, join(dir, 'test')), relativeTo(join(dir, 'test'), dir)], ['.', 'test', dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
