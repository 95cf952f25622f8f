/** The run bundle: what is shipped into the container, and where Salt is told to keep its files. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { bundleTar, listTree, minionConfig } from '../../src/engine/bundle';
import { failedTag } from '../../src/engine/build';
import { withoutBytecode } from '../../src/engine/run';

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

async function entries(tar: ReturnType<typeof bundleTar>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const reader = extract();
  await new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        found.set(header.name, Buffer.concat(chunks).toString());
        next();
      });
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
    tar.pipe(reader);
  });
  return found;
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

  it('keeps every Salt path inside the run directory', () => {
    const config = minionConfig({ runDir: '/tmp/salt-containers.abc', tree: { stateRoot: '/x' }, minionId: 'web1', saltenv: 'dev' });
    assert.equal(config.id, 'web1');
    assert.equal(config.file_client, 'local');
    for (const key of ['root_dir', 'cachedir', 'extension_modules', 'pki_dir', 'sock_dir', 'log_file']) {
      assert.match(String(config[key]), /^\/tmp\/salt-containers\.abc(\/|$)/, key);
    }
    assert.deepEqual(config.file_roots, { base: ['/tmp/salt-containers.abc/states'], dev: ['/tmp/salt-containers.abc/states'] });
  });

  it('packs config, entry point, states, pillar and custom modules where the loader finds them', async () => {
    const root = tempTree();
    try {
      mkdirSync(join(root, 'pillar'));
      writeFileSync(join(root, 'pillar', 'top.sls'), 'base: {}\n');
      const found = await entries(bundleTar({ runDir: '/tmp/salt-containers.abc', tree: { stateRoot: join(root, 'salt'), pillarRoot: join(root, 'pillar') }, minionId: 'm', saltenv: 'base' }));
      const names = [...found.keys()];
      for (const name of ['salt-containers.abc/conf/minion', 'salt-containers.abc/run.py', 'salt-containers.abc/states/web/init.sls', 'salt-containers.abc/pillar/top.sls', 'salt-containers.abc/cache/extmods/modules/mine.py']) {
        assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
      }
      assert.ok(!names.some((n) => n.includes('secret') || n.includes('.git')));
      assert.equal(JSON.parse(found.get('salt-containers.abc/conf/minion')!).id, 'm');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names a failed build TAG-failed', () => {
    assert.equal(failedTag('web:1'), 'web:1-failed');
    assert.equal(failedTag('registry:5000/web'), 'registry:5000/web:latest-failed');
  });
});

describe('thin for another Python', () => {
  it('drops the bytecode and keeps everything else', async () => {
    const source = pack();
    source.entry({ name: 'pyall/salt/__init__.py' }, 'import x\n');
    source.entry({ name: 'pyall/salt/__pycache__/__init__.cpython-311.pyc' }, 'bytecode');
    source.entry({ name: 'py3/yaml/_yaml.so' }, 'native');
    source.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of Readable.from(source as unknown as AsyncIterable<Buffer>)) chunks.push(chunk);
    const filtered = withoutBytecode(Readable.from(Buffer.concat(chunks)));
    const names: string[] = [];
    const reader = extract();
    await new Promise<void>((resolve, reject) => {
      reader.on('entry', (header, stream, next) => {
        names.push(header.name);
        stream.resume();
        stream.on('end', next);
      });
      reader.on('finish', resolve);
      reader.on('error', reject);
      filtered.pipe(reader as unknown as NodeJS.WritableStream);
    });
    assert.deepEqual(names, ['pyall/salt/__init__.py', 'py3/yaml/_yaml.so']);
  });
});
