// What the .vsix ships is the user's part only: `vsce ls` (the list `npm run package` packs, after
// .vscodeignore) holds the bundles, the grammars, media, schemas, the manifest and README (the user's
// guide), and none of the contributors' files (ARCHITECTURE.md, CONTRIBUTING.md, sources, tests, scripts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/containers';

describe('the .vsix contents', () => {
  const listed = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'vsce'), ['ls', '--no-dependencies'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const files = listed.stdout.split('\n').filter(Boolean);

  it('ships the user guide, the manifest and the bundles', () => {
    assert.equal(listed.status, 0, listed.stderr);
    for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json', 'dist/extension.js', 'dist/server.js', 'dist/cli.js', 'syntaxes/sls.tmLanguage.json', 'schemas/salt-containers.schema.json', 'media/results.js']) {
      assert.ok(files.includes(file), `${file} is not in the .vsix: ${files.join(', ')}`);
    }
  });

  it('ships nothing of the contributors: no ARCHITECTURE.md or CONTRIBUTING.md, no sources, tests, scripts or maps', () => {
    assert.ok(!files.includes('ARCHITECTURE.md') && !files.includes('CONTRIBUTING.md'), files.join(', '));
    const foreign = files.filter((f) => !/^(dist\/[^/]+\.js|media\/.+|syntaxes\/.+|schemas\/.+|package\.json|README\.md|LICENSE|CHANGELOG\.md)$/.test(f));
    assert.deepEqual(foreign, []);
  });

  it('README links only to its own headings and to the web: the .vsix carries no other file to link to (and vsce refuses a relative link)', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const relative = [...readme.matchAll(/\]\(([^)#][^)]*)\)/g)].map((m) => m[1]).filter((target) => !/^https?:\/\//.test(target));
    assert.deepEqual(relative, []);
  });
});
