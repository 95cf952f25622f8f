// The state catalogue cache: per Salt version, newest first, older formats made again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOGUE_FORMAT, catalogueFile, functionsOfModule, loadAnyCachedCatalogue, type StateCatalogue } from '../../src/sls/catalogue';

const catalogue = (saltVersion: string, format = CATALOGUE_FORMAT): StateCatalogue => ({
  saltVersion,
  python: '/usr/bin/python3',
  generatedAt: '2026-01-01T00:00:00Z',
  functions: { 'file.managed': { args: [{ name: 'name' }], kwargs: true, doc: '' }, 'file.absent': { args: [], kwargs: true, doc: '' }, 'pkg.installed': { args: [], kwargs: true, doc: '' } },
  modules: { file: '', pkg: '' },
  shippedModules: ['file', 'pkg', 'cron'],
  format,
});

describe('state catalogue cache', () => {
  it('lives at <cache>/catalogue/<saltVersion>.json', () => {
    assert.equal(catalogueFile('/c', '3008.4'), join('/c', 'catalogue', '3008.4.json'));
  });

  it('loads the newest Salt version cached, skipping broken files and older formats', () => {
    const cache = mkdtempSync(join(tmpdir(), 'sls-catalogue-cache-'));
    try {
      assert.equal(loadAnyCachedCatalogue(cache), undefined, 'nothing cached');
      mkdirSync(join(cache, 'catalogue'));
      writeFileSync(catalogueFile(cache, '3007.8'), JSON.stringify(catalogue('3007.8')));
      writeFileSync(catalogueFile(cache, '3008.10'), JSON.stringify(catalogue('3008.10', CATALOGUE_FORMAT - 1)));
      writeFileSync(catalogueFile(cache, '3008.4'), JSON.stringify(catalogue('3008.4')));
      writeFileSync(catalogueFile(cache, '3009.1'), '{ not json');
      assert.equal(loadAnyCachedCatalogue(cache)?.saltVersion, '3008.4');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('lists the functions of one module', () => {
    assert.deepEqual(functionsOfModule(catalogue('1'), 'file').sort(), ['absent', 'managed']);
    assert.deepEqual(functionsOfModule(catalogue('1'), 'fil'), []);
  });
});
