/**
 * The engine's Python programs as the TypeScript composes them from the .py files: the protocol's
 * constants filled into their placeholders, the body in the entry point's main block. (Their syntax
 * under each Python is test/integration/python.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CACHE_DIR_MARK, HELLO, RUN, RUN_DIR_MARK, SALT_LOG, SETUP_ERROR, UNPACKER, entryPoint, fillPython } from '../../src/engine/salt/scripts';
import { SESSION, SESSION_REPLY } from '../../src/engine/session/scripts';
import { REPO_ROOT } from '../support/containers';

const py = (...path: string[]) => readFileSync(join(REPO_ROOT, 'src', 'engine', ...path), 'utf8');

describe('fillPython', () => {
  it('fills each placeholder in one pass: a value that looks like a placeholder stays as it is', () => {
    assert.equal(fillPython('a = "@ONE@"\nb = "@TWO@" + "@ONE@"\n', { ONE: '@TWO@', TWO: 'x' }), 'a = "@TWO@"\nb = "x" + "@TWO@"\n');
  });

  it('throws on a placeholder without a value and on a value without its placeholder', () => {
    assert.throws(() => fillPython('a = "@ONE@"\n', {}), /no value for the placeholder @ONE@/);
    assert.throws(() => fillPython('a = "@ONE@"\n', { ONE: '1', TWO: '2' }), /no placeholder in the Python for TWO/);
  });
});

describe('the entry point', () => {
  it('is the unpacker, then entry_point.py with the constants filled in and the body indented at its body line', () => {
    const program = entryPoint('x = 1\nif x:\n    y = 2\n');
    assert.ok(program.startsWith(UNPACKER));
    assert.match(program, /\n {4}except Exception as error:\n.*\n {4}x = 1\n {4}if x:\n {8}y = 2\nexcept SystemExit as exit:\n/);
    assert.doesNotMatch(program, /@BODY@/);
    for (const constant of [HELLO, SALT_LOG, SETUP_ERROR, RUN_DIR_MARK, CACHE_DIR_MARK]) assert.ok(program.includes(`"${constant}"`), constant);
  });

  it('RUN and SESSION are it around run_body.py and session_body.py, every placeholder filled', () => {
    assert.ok(RUN.includes(py('salt', 'py', 'run_body.py').replace(/^(?=.)/gm, '    ')));
    assert.ok(SESSION.includes(`"${SESSION_REPLY}" + json.dumps(info)`));
    for (const program of [RUN, SESSION]) assert.deepEqual(program.match(/"@[A-Z_]+@"/g), [`"${RUN_DIR_MARK}"`, `"${CACHE_DIR_MARK}"`]);
  });
});
