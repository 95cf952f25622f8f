import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callInputProblem, parseCallInput, splitWords } from '../../src/extension/commands/callInput';

describe('run-function input', () => {
  it('splits words like a shell would, without one', () => {
    assert.deepEqual(splitWords(`cmd.run 'ls -l /' cwd=/tmp`), ['cmd.run', 'ls -l /', 'cwd=/tmp']);
    assert.deepEqual(splitWords(`a "b \\"c\\"" d\\ e ''`), ['a', 'b "c"', 'd e', '']);
    assert.deepEqual(splitWords(`  spaced   out  `), ['spaced', 'out']);
    assert.deepEqual(splitWords(`cmd.run 'echo $(id); rm -rf /'`), ['cmd.run', 'echo $(id); rm -rf /'], 'metacharacters stay text');
    assert.throws(() => splitWords(`cmd.run 'open`), /unclosed ' quote/);
  });

  it('separates positional and keyword arguments', () => {
    assert.deepEqual(parseCallInput(`cmd.run 'ls -l /' cwd=/tmp runas=nobody`), { fn: 'cmd.run', args: ['ls -l /'], kwargs: { cwd: '/tmp', runas: 'nobody' } });
    assert.deepEqual(parseCallInput('grains.item os os_family'), { fn: 'grains.item', args: ['os', 'os_family'], kwargs: {} });
    // As salt-call does: key=value is a keyword argument, quoted or not.
    assert.deepEqual(parseCallInput(`cmd.run 'a=b c'`), { fn: 'cmd.run', args: [], kwargs: { a: 'b c' } });
    assert.deepEqual(parseCallInput(`cmd.run 'echo a=b'`), { fn: 'cmd.run', args: ['echo a=b'], kwargs: {} });
    assert.deepEqual(parseCallInput('test.ping'), { fn: 'test.ping', args: [], kwargs: {} });
  });

  it('says what is wrong with the input', () => {
    assert.match(callInputProblem('') ?? '', /Type a function/);
    assert.match(callInputProblem('ping') ?? '', /not a Salt function name/);
    assert.match(callInputProblem('rm -rf') ?? '', /not a Salt function name/);
    assert.equal(callInputProblem('state.sls web test=True'), undefined);
  });
});
