/** The run bundle: what is shipped into the container, and where Salt is told to keep its files. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { UNPACKER } from '../../src/engine/salt/scripts';
import { bundleEntries, bundleTar, listTree, minionConfig, overlaid, tarBytes } from '../../src/engine/bundle';
import { failedTag } from '../../src/engine/build';
import { readTar } from '../support/tar';

function tempTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'sc-bundle-'));
  mkdirSync(join(root, 'salt', 'web'), { recursive: true });
  mkdirSync(join(root, 'salt', '_modules'));
  mkdirSync(join(root, 'salt', '.git'));
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'salt', 'top.sls'), 'base: {}\n');
  writeFileSync(join(root, 'salt', 'web', 'init.sls'), 'a: {}\n');
  writeFileSync(join(root, 'salt', '_modules', 'mine.py'), 'def f(): return 1\n');
  writeFileSync(join(root, 'salt', '.git', 'HEAD'), 'ref\n');
  writeFileSync(join(root, 'outside', 'secret'), 'do not ship\n');
  symlinkSync(join(root, 'outside'), join(root, 'salt', 'escape'));
  symlinkSync(join(root, 'salt', 'web', 'init.sls'), join(root, 'salt', 'alias.sls'));
  return root;
}


describe('bundle', () => {
  it('lists the tree without version control and without symlinks that lead outside it', () => {
    const root = tempTree();
    try {
      assert.deepEqual(listTree(join(root, 'salt')).map((f) => f.path), ['_modules/mine.py', 'alias.sls', 'top.sls', 'web/init.sls']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('keeps every Salt path inside the run directory, the cache in its own', () => {
    const config = minionConfig({ runDir: '/dev/shm/salt-containers.abc', cacheDir: '/tmp/salt-containers.abc', tree: { stateRoot: '/x' }, minionId: 'web1', saltenv: 'dev' });
    assert.equal(config.id, 'web1');
    assert.equal(config.file_client, 'local');
    for (const key of ['extension_modules', 'pki_dir', 'sock_dir', 'log_file']) {
      assert.match(String(config[key]), /^\/dev\/shm\/salt-containers\.abc(\/|$)/, key);
    }
    assert.equal(config.cachedir, '/tmp/salt-containers.abc');
    assert.deepEqual(config.file_roots, { base: ['/dev/shm/salt-containers.abc/states'], dev: ['/dev/shm/salt-containers.abc/states'] });
  });

  it('packs config, states, pillar and custom modules where the loader finds them', async () => {
    const root = tempTree();
    try {
      mkdirSync(join(root, 'pillar'));
      writeFileSync(join(root, 'pillar', 'top.sls'), 'base: {}\n');
      const found = await readTar(bundleTar({ runDir: '/tmp/salt-containers.abc', cacheDir: '/tmp/salt-containers.abc/cache', tree: { stateRoot: join(root, 'salt'), pillarRoot: join(root, 'pillar') }, minionId: 'm', saltenv: 'base' }));
      const names = [...found.keys()];
      for (const name of ['conf/minion', 'states/web/init.sls', 'pillar/top.sls', 'extmods/modules/mine.py']) {
        assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
      }
      assert.ok(!names.some((n) => n.includes('secret') || n.includes('.git')));
      assert.equal(JSON.parse(found.get('conf/minion')!.data.toString()).id, 'm');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("makes a pillar file (a formula's pillar.example) one module every minion is given", async () => {
    const root = tempTree();
    try {
      writeFileSync(join(root, 'pillar.example'), 'web:\n  port: 8080\n');
      const found = await readTar(bundleTar({ runDir: '/tmp/salt-containers.abc', cacheDir: '/tmp/salt-containers.abc/cache', tree: { stateRoot: join(root, 'salt'), pillarRoot: join(root, 'pillar.example') }, minionId: 'm', saltenv: 'base' }));
      assert.deepEqual([...found.keys()].filter((n) => /^pillar\/./.test(n)).sort(), ['pillar/pillar_example.sls', 'pillar/top.sls']);
      assert.equal(found.get('pillar/pillar_example.sls')!.data.toString(), 'web:\n  port: 8080\n');
      assert.equal(found.get('pillar/top.sls')!.data.toString(), "base:\n  '*':\n    - pillar_example\n");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("places other formulas as Kitchen's path dependencies: NAME/ and their custom modules, the tree's own files winning", async () => {
    const root = tempTree();
    try {
      // test/salt/states holds the suite's helper formula (nginx-formula's test_dep) and a module of it.
      const deps = join(root, 'deps');
      mkdirSync(join(deps, 'prep'), { recursive: true });
      mkdirSync(join(deps, '_modules'));
      mkdirSync(join(deps, 'unrelated'));
      writeFileSync(join(deps, 'prep', 'init.sls'), 'prep: {}\n');
      writeFileSync(join(deps, '_modules', 'prep.py'), 'def marker(): return 1\n');
      writeFileSync(join(deps, '_modules', 'mine.py'), "the dependency's: not shipped\n");
      writeFileSync(join(deps, 'unrelated', 'init.sls'), 'not named: not shipped\n');
      const entries = bundleEntries({ stateRoot: join(root, 'salt'), formulas: [{ name: 'prep', root: deps }] });
      const names = entries.map((e) => e.name).sort();
      assert.deepEqual(names.filter((n) => /prep|mine|unrelated/.test(n)), ['extmods/modules/mine.py', 'extmods/modules/prep.py', 'states/_modules/mine.py', 'states/_modules/prep.py', 'states/prep/init.sls']);
      assert.equal(entries.find((e) => e.name === 'extmods/modules/mine.py')?.absolute, join(root, 'salt', '_modules', 'mine.py'));
      assert.equal(new Set(names).size, names.length, 'each path once');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names a failed build TAG-failed', () => {
    assert.equal(failedTag('web:1'), 'web:1-failed');
    assert.equal(failedTag('registry:5000/web'), 'registry:5000/web:latest-failed');
  });
});

/** A tar made by tar-stream (as the run bundle is), as bytes. */
async function tarOf(entries: { name: string; content?: string; type?: 'directory'; mode?: number }[]): Promise<Buffer> {
  const tar = pack();
  for (const e of entries) tar.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644 }, e.content ?? '');
  tar.finalize();
  return tarBytes(tar);
}

/** Runs the entry point's unpacker on the host's python3 over the given tars; returns the files it wrote. */
function unpackWithPython(tars: Buffer[]): { files: Map<string, string>; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sc-unpack-'));
  const driver = `${UNPACKER}\nunpack = make_unpacker(sys.stdin.buffer, sys.argv[1])\nfor size in [int(n) for n in sys.stdin.buffer.readline().split()]:\n    unpack(size)\n`;
  const input = Buffer.concat([Buffer.from(`${tars.map((t) => t.length).join(' ')}\n`), ...tars]);
  execFileSync('python3', ['-c', driver, dir], { input, stdio: 'pipe' });
  const files = new Map<string, string>();
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else files.set(rel, readFileSync(join(dir, rel), 'utf8'));
    }
  };
  walk('');
  return { files, dir };
}

describe("the entry point's unpacker", () => {
  it('writes two tars in a row, with long names, modes and empty files', async () => {
    const long = `states/${'deep/'.repeat(30)}init.sls`;
    const first = await tarOf([{ name: 'conf', type: 'directory' }, { name: 'conf/minion', content: '{}' }, { name: long, content: 'a: {}\n' }, { name: 'states/run.sh', content: '#!/bin/sh\n', mode: 0o755 }]);
    const second = await tarOf([{ name: 'pyall/salt/__init__.py', content: '' }, { name: 'pyall/salt/version.py', content: 'V = 1\n' }]);
    const { files, dir } = unpackWithPython([first, second]);
    try {
      assert.deepEqual([...files.keys()].sort(), ['conf/minion', 'pyall/salt/__init__.py', 'pyall/salt/version.py', long, 'states/run.sh'].sort());
      assert.equal(files.get(long), 'a: {}\n');
      assert.equal(files.get('pyall/salt/__init__.py'), '');
      assert.equal(statSync(join(dir, 'states/run.sh')).mode & 0o777, 0o755);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses paths that lead out of the run directory', async () => {
    const tar = await tarOf([{ name: '../escape', content: 'x' }]);
    assert.throws(() => unpackWithPython([tar]), /unsafe path/);
  });
});

describe('overlaid: unsaved buffers in place of their files, for one run', () => {
  it("takes the buffer's text for its file only, and never for an entry written as is (a pillar file's top.sls)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-overlay-'));
    try {
      mkdirSync(join(dir, 'salt', 'web'), { recursive: true });
      writeFileSync(join(dir, 'salt', 'web', 'init.sls'), 'disk: {}\n');
      writeFileSync(join(dir, 'salt', 'top.sls'), 'base: {}\n');
      writeFileSync(join(dir, 'pillar.example'), 'port: 80\n');
      const entries = bundleEntries({ stateRoot: join(dir, 'salt'), pillarRoot: join(dir, 'pillar.example') });
      const overlay = new Map([
        [join(dir, 'salt', 'web', 'init.sls'), 'buffer: {}\n'],
        [join(dir, 'pillar.example'), 'port: 81\n'],
      ]);
      const byName = new Map(overlaid(entries, overlay).map((e) => [e.name, e]));
      assert.equal(byName.get('states/web/init.sls')?.content?.toString(), 'buffer: {}\n');
      assert.equal(byName.get('states/web/init.sls')?.overlaid, true);
      assert.equal(byName.get('states/top.sls')?.content, undefined, 'read from disk');
      assert.equal(byName.get('pillar/pillar_example.sls')?.content?.toString(), 'port: 81\n');
      assert.match(byName.get('pillar/top.sls')?.content?.toString() ?? '', /- pillar_example/, 'the made top.sls stays');
      assert.equal(readFileSync(join(dir, 'salt', 'web', 'init.sls'), 'utf8'), 'disk: {}\n');
      assert.equal(overlaid(entries, undefined), entries);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
