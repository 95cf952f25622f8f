// The Jinja syntax checker (src/sls/jinjaSyntax.ts) against Jinja itself: jinja2 with Salt's extensions,
// run by the Salt venv's Python, and the checker parse the same templates: our fixtures and examples, the
// edge cases of test/fixtures/jinja/cases.txt, and the broken variants test/jinja/differential.ts makes of
// each (a `%}`, `}}`, `)`, `]` or end tag removed, a tag misspelt, a block closed by the wrong end tag).
// Error or not, the line and the message must agree in every case. Public formulas: bench/jinjaDifferential.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { casesFile, differential, summary, templatesUnder } from '../jinja/differential';
import { repoRoot, saltPython } from './lsp';

describe('Jinja syntax errors agree with Jinja', () => {
  it('on every fixture, example and edge case, and several hundred mutations of them', () => {
    assert.ok(existsSync(saltPython), `a Python with Salt is needed at ${saltPython} (scripts/setup-env.sh makes it)`);
    const templates = templatesUnder([join(repoRoot, 'test', 'fixtures'), join(repoRoot, 'examples')]);
    for (const [name, text] of casesFile(join(repoRoot, 'test', 'fixtures', 'jinja', 'cases.txt'))) templates.set(name, text);
    const result = differential(saltPython, templates, true);
    console.log(`jinja differential: ${summary(result)}`);
    assert.deepEqual(result.disagreed, []);
    assert.ok(result.templates >= 500, summary(result));
    // Both verdicts occur in numbers: a checker that always (or never) answers an error fails here.
    assert.ok(result.errorsAgreed >= 400 && result.cleanAgreed >= 100, summary(result));
  });
});
