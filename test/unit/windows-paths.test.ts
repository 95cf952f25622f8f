// Windows hosts on this Linux machine: drive-letter paths and file URIs through the functions that take
// the path flavour (path.win32 here), and CRLF files (the example tree written with \r\n at run time):
// results, the outline and diagnostics must land on the lines the LF tree gives.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, resolve, win32 } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { treePath } from '../../src/engine/bundle';
import { diagnostics } from '../../src/server/diagnostics';
import { pathToUri, SlsService, uriToPath } from '../../src/server/service';
import { documentSymbols } from '../../src/server/symbols';
import { locateRunError, locateSls, locateState } from '../../src/sls/locate';
import { canonicalPath, candidateFiles, isUnder, moduleForFile, partsBelow } from '../../src/sls/modules';
import { StateTree } from '../../src/sls/tree';

describe('Windows paths', () => {
  it('maps modules to files and back with backslashes, any case, and not across drives', () => {
    const root = 'C:\\Users\\ann\\salt';
    assert.equal(moduleForFile(root, 'c:\\Users\\ann\\salt\\web\\init.sls', win32), 'web');
    assert.equal(moduleForFile(root, 'c:\\users\\ANN\\Salt\\web\\site.sls', win32), 'web.site', 'Windows compares paths without case');
    assert.equal(moduleForFile(root, 'C:\\Users\\ann\\salt\\top.sls', win32), 'top');
    assert.equal(moduleForFile(root, 'D:\\Users\\ann\\salt\\web\\init.sls', win32), undefined, 'another drive is not below the root');
    assert.equal(moduleForFile(root, 'C:\\Users\\ann\\other\\web.sls', win32), undefined);
    assert.deepEqual(candidateFiles('c:\\salt', 'web.site', win32), ['c:\\salt\\web\\site.sls', 'c:\\salt\\web\\site\\init.sls']);
    assert.deepEqual(partsBelow('c:\\salt', 'C:\\SALT\\web\\files\\a.conf', win32), ['web', 'files', 'a.conf']);
    assert.equal(partsBelow('c:\\salt', 'd:\\salt\\web.sls', win32), undefined);
    assert.equal(isUnder('c:\\salt', 'C:\\Salt', win32), true);
    assert.equal(isUnder('c:\\salt', 'c:\\salty\\web.sls', win32), false);
    // POSIX paths keep their case.
    assert.equal(moduleForFile('/srv/salt', '/srv/salt/web/init.sls', posix), 'web');
    assert.equal(moduleForFile('/srv/salt', '/srv/Salt/web/init.sls', posix), undefined);
    assert.equal(canonicalPath('C:\\Users\\ann', win32), 'c:\\Users\\ann');
    assert.equal(canonicalPath('/C:/x', posix), '/C:/x');
  });

  it('reads file URIs as VS Code sends them and writes them as it spells them', () => {
    const file = 'c:\\Users\\ann\\my salt\\web\\init.sls';
    assert.equal(uriToPath('file:///c%3A/Users/ann/my%20salt/web/init.sls', win32), file);
    assert.equal(uriToPath('file:///C:/Users/ann/my%20salt/web/init.sls', win32), file, 'one spelling, whatever the drive letter\'s case');
    assert.equal(pathToUri('C:\\Users\\ann\\my salt\\web\\init.sls', win32), 'file:///c%3A/Users/ann/my%20salt/web/init.sls');
    assert.equal(uriToPath(pathToUri(file, win32), win32), file);
    assert.equal(uriToPath('untitled:Untitled-1', win32), undefined);
    // This machine's own paths are as before.
    assert.equal(pathToUri('/srv/salt/web/init.sls', posix), 'file:///srv/salt/web/init.sls');
    assert.equal(uriToPath('file:///srv/salt/web/init.sls', posix), '/srv/salt/web/init.sls');
  });

  it('names the tar\'s entries with forward slashes, relative to the root, for a Windows tree', () => {
    assert.equal(treePath('C:\\Users\\ann\\salt', 'c:\\Users\\ann\\salt\\web\\files\\site.conf', win32), 'web/files/site.conf');
    assert.equal(treePath('C:\\Users\\ann\\salt', 'C:\\Users\\ann\\salt\\_modules\\greet.py', win32), '_modules/greet.py');
    assert.equal(treePath('/srv/salt', '/srv/salt/web/init.sls', posix), 'web/init.sls');
    assert.throws(() => treePath('C:\\salt', 'D:\\salt\\web.sls', win32), /is not below/);
  });
});

describe('CRLF state files', () => {
  const example = resolve(__dirname, '..', '..', '..', 'examples', 'salt');
  let lf: string;
  let crlf: string;
  let top: string;

  before(() => {
    top = mkdtempSync(join(tmpdir(), 'crlf-'));
    lf = join(top, 'lf');
    crlf = join(top, 'crlf');
    cpSync(example, lf, { recursive: true });
    cpSync(example, crlf, { recursive: true });
    // Every text file of the copy with \r\n, as a Windows checkout with core.autocrlf writes it.
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(sls|jinja|ya?ml)$/.test(entry.name)) writeFileSync(path, readFileSync(path, 'utf8').replace(/\r?\n/g, '\r\n'));
      }
    };
    walk(crlf);
    assert.match(readFileSync(join(crlf, 'web', 'init.sls'), 'utf8'), /\r\n/);
  });
  after(() => rmSync(top, { recursive: true, force: true }));

  it('finds states, SLS lines and run errors on the lines the LF file has', () => {
    assert.deepEqual(locateState(crlf, 'web', 'web_config'), { file: join(crlf, 'web', 'init.sls'), line: 9, column: 0, exact: true });
    assert.deepEqual(locateState(crlf, 'web', 'web_site_blog'), { file: join(crlf, 'web', 'init.sls'), line: 21, column: 0, exact: true });
    const tree = new StateTree(lf);
    let checked = 0;
    for (const file of tree.all()) {
      for (const state of file.parsed.states) {
        if (!file.module || state.templated) continue;
        const there = locateState(crlf, file.module, state.id);
        assert.deepEqual(there && { ...there, file: relative(crlf, there.file) }, { ...locateState(lf, file.module, state.id)!, file: relative(lf, file.file) }, `${file.module} ${state.id}`);
        checked++;
      }
    }
    assert.ok(checked >= 5, `only ${checked} states`);
    assert.deepEqual(locateSls(crlf, 'web', 12), { file: join(crlf, 'web', 'init.sls'), line: 11, column: 0, exact: true });
    assert.equal(locateRunError(crlf, { sls: 'web', id: 'web_config' }, { mods: ['web'], highstate: false })?.line, 9);
    assert.equal(locateRunError(crlf, { sls: 'web', file: 'web/init.sls', line: 3 }, { mods: ['web'], highstate: false })?.line, 2);
  });

  it('keeps \\r out of IDs, names, functions and include entries', () => {
    for (const file of new StateTree(crlf).all()) {
      const { parsed } = file;
      const words = [...parsed.states.flatMap((s) => [s.id, ...s.names, ...s.functions.flatMap((f) => [f.module, f.fun ?? '', ...f.args.map((a) => a.name)])]), ...parsed.includes.map((i) => i.module), ...parsed.requisites.map((r) => r.target), ...parsed.topEntries.flatMap((t) => [t.module, t.target])];
      assert.ok(words.length > 0, file.file);
      for (const word of words) assert.doesNotMatch(word, /\r/, `${file.file}: ${JSON.stringify(word)}`);
    }
  });

  it('gives the outline and the diagnostics the ranges of the LF file, through the server\'s features', () => {
    const lfService = new SlsService([join(top, 'lf')]);
    const crlfService = new SlsService([join(top, 'crlf')]);
    let symbols = 0;
    for (const file of new StateTree(lf).all()) {
      const rel = relative(lf, file.file);
      const [a, b] = [pathToUri(join(lf, rel)), pathToUri(join(crlf, rel))];
      lfService.update(a, readFileSync(join(lf, rel), 'utf8'));
      crlfService.update(b, readFileSync(join(crlf, rel), 'utf8'));
      const outline = documentSymbols(crlfService, b);
      assert.deepEqual(outline, documentSymbols(lfService, a), rel);
      symbols += outline.length;
      const found = diagnostics(crlfService, b);
      assert.deepEqual(JSON.parse(JSON.stringify(found).split(crlf).join('ROOT')), JSON.parse(JSON.stringify(diagnostics(lfService, a)).split(lf).join('ROOT')), rel);
    }
    assert.ok(symbols >= 10, `only ${symbols} symbols`);
    // A file with known lines: an ID's selection is its key, on its own line, without the \r.
    const web = documentSymbols(crlfService, pathToUri(join(crlf, 'web', 'init.sls')));
    const config = web.find((s) => s.name === 'web_config');
    assert.deepEqual(config?.selectionRange, { start: { line: 9, character: 0 }, end: { line: 9, character: 'web_config'.length } });
    // Problems in a CRLF file, where they are written: a requisite to no state, a flow list left open.
    const broken = join(crlf, 'web', 'broken.sls');
    writeFileSync(broken, 'broken_state:\r\n  file.managed:\r\n    - name: /tmp/x\r\n    - require:\r\n      - file: no_such_state\r\n\r\nother:\r\n  file.absent:\r\n    - names: [/tmp/a, /tmp/b\r\n');
    const diags = diagnostics(crlfService, pathToUri(broken));
    const lines = diags.map((d) => [d.range.start.line, d.range.end.line]);
    assert.ok(diags.length >= 2, JSON.stringify(diags));
    const missing = diags.find((d) => /no_such_state/.test(d.message));
    assert.deepEqual(missing?.range, { start: { line: 4, character: 14 }, end: { line: 4, character: 27 } }, JSON.stringify(diags));
    assert.ok(lines.some(([start]) => start >= 8), JSON.stringify(diags));
    for (const d of diags) assert.ok(d.range.end.character <= 40 && !/\r/.test(d.message), JSON.stringify(d));
  });
});
