/** The parsers for every shape salt-call prints, on outputs recorded from real runs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { functionOfTag, parseCall, parseRenderError, parseStateRun, pillarReasons, withSaltLog } from '../../src/engine/results/parse';
import { SALT_LOG } from '../../src/engine/salt/scripts';
import { retcodeOf, summarize, type RawOutput } from '../../src/engine/results/model';

const raw = (stdout: string, exitCode: number, stderr = ''): RawOutput => ({ argv: [], stdout, stderr, exitCode });
const WARNING = "/tmp/x/pyall/salt/utils/pycrypto.py:35: DeprecationWarning: 'crypt' is deprecated and slated for removal in Python 3.13\n  import crypt\n";

describe('state results', () => {
  it('keeps every result in run order, failures included, and reads ids that contain the tag separator', () => {
    const stdout = JSON.stringify({
      local: {
        'cmd_|-b_|-exit 3_|-run': { name: 'exit 3', result: false, comment: 'Command "exit 3" run', changes: { retcode: 3 }, __sls__: 'f', __run_num__: 1, duration: 3.4, __id__: 'b' },
        'file_|-odd_|-id_|-/x_|-managed': { name: '/x', result: true, comment: 'ok', changes: {}, __sls__: 'f.g', __run_num__: 0, duration: '1.5', __id__: 'odd_|-id' },
        'file_|-c_|-/y_|-managed': { name: '/y', result: false, comment: 'One or more requisite failed: f.b', changes: {}, __sls__: 'f', __run_num__: 2, duration: 0.01, __id__: 'c', __state_ran__: false },
      },
    });
    const { states, errors } = parseStateRun(raw(stdout, 2, WARNING));
    assert.deepEqual(errors, []);
    assert.deepEqual(states.map((s) => [s.runNum, s.id, s.function, s.result]), [
      [0, 'odd_|-id', 'file.managed', true],
      [1, 'b', 'cmd.run', false],
      [2, 'c', 'file.managed', false],
    ]);
    assert.equal(states[0].durationMs, 1.5);
    assert.equal(retcodeOf(states, errors), 2);
    assert.deepEqual(summarize(states), { succeeded: 1, changed: 0, failed: 2, pending: 0, total: 3, stateDurationMs: 4.91 });
  });

  it('counts test-mode pending results separately and changes only of successful states', () => {
    const stdout = JSON.stringify({
      local: {
        'file_|-a_|-/a_|-managed': { name: '/a', result: null, comment: 'would change', changes: { newfile: '/a' }, __sls__: 's', __run_num__: 0, duration: 1, __id__: 'a' },
        'file_|-b_|-/b_|-managed': { name: '/b', result: true, comment: 'changed', changes: { diff: 'New file' }, __sls__: 's', __run_num__: 1, duration: 1, __id__: 'b' },
      },
    });
    const { states } = parseStateRun(raw(stdout, 0));
    assert.deepEqual(summarize(states), { succeeded: 1, changed: 1, failed: 0, pending: 1, total: 2, stateDurationMs: 2 });
    assert.equal(retcodeOf(states, []), 0);
  });

  it('reads a highstate with no top match (no __id__)', () => {
    const stdout = JSON.stringify({ local: { 'no_|-states_|-states_|-None': { result: false, comment: 'No Top file or master_tops data matches found.', name: 'No States', changes: {}, __run_num__: 0 } } });
    const { states } = parseStateRun(raw(stdout, 2));
    assert.equal(states[0].id, 'states');
    assert.equal(states[0].function, 'no.None');
    assert.match(states[0].comment, /No Top file/);
  });
});

describe('render errors', () => {
  it("reads the state and the requisite of Salt's malformed-requisite error", () => {
    const e = parseRenderError("The require statement in state 'server_conf_0' in SLS 'nginx.servers_config' needs to be formed as a list");
    assert.deepEqual([e.sls, e.id, e.argument], ['nginx.servers_config', 'server_conf_0', 'require']);
    assert.equal(parseRenderError("State 'web' in SLS 'web' is not formed as a list").argument, undefined);
  });

  it('takes the SLS and line of a Jinja error', () => {
    const e = parseRenderError("Rendering SLS 'base:web.config' failed: Jinja variable 'x' is undefined; line 3\n\n---\na: {{ x }}    <======\n---");
    assert.deepEqual([e.kind, e.sls, e.line, e.column], ['render', 'web.config', 3, undefined]);
  });

  it('takes the first mark of a YAML error, with its column', () => {
    const e = parseRenderError('Rendering SLS \'base:bad_yaml\' failed: while parsing a flow sequence\n  in "<unicode string>", line 4, column 11\ndid not find expected \',\' or \']\'\n  in "<unicode string>", line 5, column 1');
    assert.deepEqual([e.sls, e.line, e.column], ['bad_yaml', 4, 11]);
  });

  it('names the missing SLS and where it is looked up', () => {
    const e = parseRenderError("No matching sls found for 'a.b' in env 'base'");
    assert.equal(e.sls, 'a.b');
    assert.match(e.hint ?? '', /a\/b\.sls or a\/b\/init\.sls/);
    assert.equal(parseRenderError('Specified SLS inc.missing in saltenv base is not available on the salt master or through a configured fileserver').sls, 'inc.missing');
  });

  it('takes an error in an imported template to that file and line, named salt:// rather than by the run directory', () => {
    const e = parseRenderError(
      "Rendering SLS 'base:web' failed: Jinja variable 'dict object' has no attribute 'conf'\n/tmp/salt-containers.0123456789abcdef/files/base/web/map.jinja(4):\n---\n{% set web = defaults.web %}\n{% set conf = web.conf %}    <======================\n---",
    );
    assert.deepEqual([e.sls, e.file, e.line], ['web', 'web/map.jinja', 4]);
    assert.match(e.message, /\nsalt:\/\/web\/map\.jinja\(4\):\n/);
    // The cachedir inside the run directory (a read-only /tmp), and PyYAML's NUL at the end of a stream.
    const yaml = parseRenderError("Rendering SLS 'base:web' failed: Jinja syntax error: Encountered error loading yaml\n---\nconf: [x\0    <===\n---\n/dev/shm/salt-containers.0123456789abcdef/cache/files/base/web/map.jinja(1):\n---");
    assert.deepEqual([yaml.file, yaml.line], ['web/map.jinja', 1]);
    assert.doesNotMatch(yaml.message, /\0|salt-containers\./);
  });

  it('says whether the pillar or the grains lack a key Jinja asked for (both read as a DictProxy)', () => {
    const error = (line: string) => parseRenderError(`Rendering SLS 'base:web' failed: Jinja variable 'salt.utils.optsdict.DictProxy object' has no attribute 'web'; line 4\n\n---\nweb-port:\n  file.managed:\n${line}    <======================\n---`);
    assert.match(error("    - contents: {{ pillar['web']['port'] }}").hint ?? '', /^The pillar has no 'web' for this minion: .*salt\['pillar\.get'\]\('web', default\)/);
    assert.match(error('    - contents: {{ pillar.web.port }}').hint ?? '', /^The pillar has no 'web'/);
    assert.match(error('    - contents: {{ grains[ "web" ] }}').hint ?? '', /^The container has no grain 'web' \(grains\.items lists them\)/);
    assert.match(error('    - contents: {{ lookup.web }}').hint ?? '', /^Neither the pillar nor the grains have 'web'/);
    assert.equal(parseRenderError("Rendering SLS 'base:web' failed: Jinja variable 'dict object' has no attribute 'web'; line 4").hint, undefined);
  });

  it('names the SLS and the state of what Salt cannot compile', () => {
    const cases: [string, string, { id?: string; name?: string }][] = [
      ["State 'web-site' in SLS 'web' is not formed as a list", 'web', { id: 'web-site' }],
      ["No function declared in state 'web-site' in SLS 'web.config'", 'web.config', { id: 'web-site' }],
      ["Too many functions declared in state 'web-site' in SLS 'web'. Please choose one of the following: managed, absent", 'web', { id: 'web-site' }],
      ['The function "managed mode" in state "web-site" in SLS "web" has whitespace, a function with whitespace is not supported', 'web', { id: 'web-site' }],
      ["Requisite declaration {'file': 'x', 'pkg': 'y'} in state web-site in SLS web is not formed as a single key dictionary", 'web', { id: 'web-site' }],
      ["Invalid requisite type 'file.managed' in state 'web-site', in SLS 'web'. Requisite types must not contain dots", 'web', { id: 'web-site' }],
      ["ID web-site in SLS web is not a dictionary", 'web', { id: 'web-site' }],
      ["Cannot extend ID 'web-site' in 'base:web.extra'. It is not part of the high state.\nEnsure that a state with an ID of 'web-site' is available\nin environment 'base' and to SLS 'web.extra'", 'web.extra', { id: 'web-site' }],
      ["Detected conflicting IDs, SLS IDs need to be globally unique.\n    The conflicting ID is 'web-site' and is found in SLS 'base:web' and SLS 'base:web.extra'", 'web', { id: 'web-site' }],
      ['Referenced state does not exist for requisite [require: (file: web-gone)] in state [/etc/web/site.conf] in SLS [web.config]', 'web.config', { name: '/etc/web/site.conf' }],
      ['Include Declaration in SLS web is not formed as a list', 'web', {}],
    ];
    for (const [message, sls, subject] of cases) {
      const e = parseRenderError(message);
      assert.deepEqual([e.kind, e.sls, e.id, e.name, e.line], ['render', sls, subject.id, subject.name, undefined], message);
    }
  });

  it('gives a state whose function Salt lacks the SLS its comment names', () => {
    const stdout = JSON.stringify({ local: { 'file_|-web-site_|-/etc/site.conf_|-manged': { result: false, name: '/etc/site.conf', changes: {}, comment: "State 'file.manged' was not found in SLS 'web.config'\nReason: 'file.manged' is not available.\n", __run_num__: 0 } } });
    const [state] = parseStateRun(raw(stdout, 2)).states;
    assert.deepEqual([state.id, state.sls, state.function], ['web-site', 'web.config', 'file.manged']);
  });

  it('turns a list of render errors into errors and no states', () => {
    const { states, errors } = parseStateRun(raw(JSON.stringify({ local: ["Rendering SLS 'base:a' failed: boom; line 1", "No matching sls found for 'b' in env 'base'"] }), 1));
    assert.deepEqual(states, []);
    assert.deepEqual(errors.map((e) => e.sls), ['a', 'b']);
  });
});

describe("the reason in Salt's log", () => {
  // Recorded from Salt 3008.4: a pillar module that gives `a` twice, then salt-call state.sls.
  const PILLAR_OUTPUT = JSON.stringify({ local: ['Pillar failed to render with the following messages:', "Rendering SLS 'data' failed. Please see master log for details."] });
  const REASON = 'while constructing a mapping\n  in "<unicode string>", line 1, column 1\nfound conflicting ID \'a\'\n  in "<unicode string>", line 3, column 1';
  const LOG =
    `2026-12-05 13:11:09,992 [salt.pillar      :908 ][CRITICAL][11570] Rendering SLS 'data' failed, render error:\n${REASON}\n` +
    'Traceback (most recent call last):\n  File "/x/salt/renderers/yaml.py", line 62, in render\n    data = yamlloader.load(yaml_data)\n' +
    `salt.exceptions.SaltRenderError: ${REASON}\n` +
    "2026-12-05 13:11:10,005 [salt.pillar      :1280][CRITICAL][11570] Pillar render error: Rendering SLS 'data' failed. Please see master log for details.\n";

  it('takes the log line out of stderr, and leaves stderr as Salt wrote it', () => {
    const out = withSaltLog(raw('{}', 0, `${WARNING}${SALT_LOG}${JSON.stringify(LOG)}\n`));
    assert.equal(out.stderr, WARNING);
    assert.equal(out.log, LOG);
    assert.deepEqual(withSaltLog(raw('{}', 0, WARNING)), raw('{}', 0, WARNING));
  });

  it('reads the reason of each pillar module Salt could not render, without the traceback', () => {
    assert.deepEqual([...pillarReasons(LOG)], [['data', REASON]]);
    assert.deepEqual([...pillarReasons(undefined)], []);
  });

  it("puts the logged reason in place of 'see master log', at the repeated key's line, as a pillar error", () => {
    const { states, errors } = parseStateRun({ ...raw(PILLAR_OUTPUT, 5), log: LOG });
    assert.deepEqual(states, []);
    assert.equal(errors.length, 1);
    assert.deepEqual([errors[0].kind, errors[0].sls, errors[0].line, errors[0].column, errors[0].pillar], ['render', 'data', 3, 1, true]);
    assert.match(errors[0].message, /^Pillar failed to render: Rendering SLS 'data' failed: while constructing a mapping[\s\S]*found conflicting ID 'a'/);
    assert.doesNotMatch(errors[0].message, /master log|Traceback/);
  });

  it("keeps Salt's words, as a pillar error, when the log has no reason", () => {
    const [error] = parseStateRun(raw(PILLAR_OUTPUT, 5)).errors;
    assert.deepEqual([error.sls, error.line, error.pillar], ['data', undefined, true]);
    assert.match(error.message, /Please see master log/);
  });

  it('gives a function call the pillar stopped (state.show_sls) the logged reason too, as pillar errors', () => {
    // salt-call's stderr when a function raises Salt's pillar error (Salt 3008.4).
    const stderr = "Error running 'state.show_sls': Pillar failed to render. Additional info follows:\n\n- Rendering SLS 'data' failed. Please see master log for details.\n";
    const { value, errors } = parseCall({ ...raw('', 1, stderr), log: LOG });
    assert.equal(value, undefined);
    assert.equal(errors.length, 1);
    assert.deepEqual([errors[0].kind, errors[0].sls, errors[0].line, errors[0].pillar], ['render', 'data', 3, true]);
    assert.match(errors[0].message, /^Pillar failed to render: Rendering SLS 'data' failed: while constructing a mapping[\s\S]*found conflicting ID 'a'/);
    assert.doesNotMatch(errors[0].message, /master log/);
  });

  it('puts a state ID given twice at its second line', () => {
    const e = parseRenderError("Rendering SLS 'base:dup' failed: while constructing a mapping\n  in \"<unicode string>\", line 1, column 1\nfound conflicting ID 'one'\n  in \"<unicode string>\", line 5, column 1");
    assert.deepEqual([e.sls, e.line, e.column, e.pillar], ['dup', 5, 1, undefined]);
  });
});

describe('failed calls', () => {
  it('recognises an unknown function despite warnings on stderr', () => {
    const { errors } = parseCall(raw('', 255, `${WARNING}'nosuch.fn' is not available.\n`));
    assert.equal(errors[0].kind, 'unknown-function');
  });

  it('recognises bad arguments and keeps the usage as the hint', () => {
    const { errors } = parseCall(raw('\n    Return a string - used for testing the connection\n\n    CLI Example:\n', 1, "Passed invalid arguments: echo() missing 1 required positional argument: 'text'.\n\nUsage:\n"));
    assert.equal(errors[0].kind, 'bad-arguments');
    assert.match(errors[0].message, /missing 1 required positional argument/);
    assert.match(errors[0].hint ?? '', /^Usage: Return a string/);
  });

  it('reports an exception by its last line', () => {
    const { errors } = parseCall(raw('', 1, 'Traceback (most recent call last):\n  File "x.py", line 9, in explode\nRuntimeError: exploded\n'));
    assert.equal(errors[0].kind, 'exception');
    assert.equal(errors[0].message, 'Salt raised an exception: RuntimeError: exploded');
  });

  it('does not treat stderr warnings as failure', () => {
    const { value, errors } = parseCall(raw('{"local": {"os": "Debian"}}', 0, WARNING));
    assert.deepEqual(errors, []);
    assert.deepEqual(value, { os: 'Debian' });
  });

  it('functionOfTag takes only the first and last fields', () => {
    assert.equal(functionOfTag('pkg_|-web_|-nginx_|-installed'), 'pkg.installed');
    assert.equal(functionOfTag('file_|-a_|-b_|-c_|-/x_|-managed'), 'file.managed');
  });
});
