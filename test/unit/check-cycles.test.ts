// scripts/check-cycles.mjs (run by `npm run lint`) on fixture folders: it fails on a cycle, type-only
// imports included, and names the files in it; it passes a folder whose imports form no cycle.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/containers';

const check = (dir: string) => spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'check-cycles.mjs'), join(REPO_ROOT, 'test', 'fixtures', 'cycles', dir)], { encoding: 'utf8' });

describe('check-cycles', () => {
  it('fails on two files that import each other, and names them (not the file outside the loop)', () => {
    const result = check('loop');
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /import cycle among 2 files: a\.ts, b\.ts/);
    assert.match(result.stderr, /a\.ts -> b\.ts -> a\.ts/);
    assert.doesNotMatch(result.stderr, /leaf/);
  });

  it('passes a folder without cycles (index files, export-from)', () => {
    const result = check('clean');
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /no import cycles under .*clean \(3 files\)/);
  });

  it('lists each file with the files it imports (--graph), as TypeScript resolves them', () => {
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'check-cycles.mjs'), join(REPO_ROOT, 'test', 'fixtures', 'cycles', 'clean'), '--graph'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^main\.ts: lib\/index\.ts util\.ts$/m);
    assert.match(result.stdout, /^lib\/index\.ts: util\.ts$/m);
  });
});
