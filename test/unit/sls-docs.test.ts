// Salt docstrings (as sys.state_doc gives them) made into hover Markdown.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { argumentDoc, functionMarkdown } from '../../src/server/docs';

const DOC = [
  'Changed in version 3007.0',
  '',
  '    Ensure a thing exists.',
  '',
  '    name',
  '        The thing to make.',
  '',
  '            example_state:',
  '              thing.present:',
  '                - name: x',
  '',
  '    mode',
  '        Its ``mode``.',
  '',
  '    :param str owner: Who owns it,',
  '        and keeps it.',
].join('\n');

describe('state function docs', () => {
  it('puts the summary first, then the wrapped signature, then the rest with examples fenced', () => {
    const markdown = functionMarkdown('thing.present', [{ name: 'name' }, { name: 'mode', default: "'0644'" }], DOC);
    const parts = markdown.split('\n\n');
    assert.equal(parts[0], 'Ensure a thing exists.');
    assert.equal(parts[1], "```python\nthing.present(name, mode='0644')\n```");
    assert.match(markdown, /Changed in version 3007\.0/);
    assert.match(markdown, /\*\*name\*\*\n\nThe thing to make\.\n\n```yaml\nexample_state:\n  thing\.present:\n    - name: x\n```/);
    assert.match(markdown, /Its `mode`\./);
  });

  it('finds one argument in both docstring styles', () => {
    assert.match(argumentDoc(DOC, 'name') ?? '', /^The thing to make\.\n\n```yaml\nexample_state:/);
    assert.equal(argumentDoc(DOC, 'mode'), 'Its `mode`.');
    assert.equal(argumentDoc(DOC, 'owner'), 'Who owns it,\nand keeps it.');
    assert.equal(argumentDoc(DOC, 'missing'), undefined);
  });
});
