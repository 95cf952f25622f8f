/** The Salt source on the host: the thin, and its bytecode per container Python version. */
import assert from 'node:assert/strict';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { DockerEngine, SaltRunner, SaltSource } from '../../src/engine';
import { buildRuntime, hostArch, hostCommand } from '../../src/engine/runtime';
import type { ThinBytecode } from '../../src/engine/salt/source';
import { EXAMPLES, PY313_IMAGE, leftovers, removeContainer, startContainer } from '../support/containers';
import { readTar } from '../support/tar';

/** Name and size of every regular file in a tar file. */
async function filesIn(tarPath: string): Promise<Map<string, number>> {
  const entries = await readTar(createReadStream(tarPath));
  return new Map([...entries].filter(([, entry]) => entry.type === 'file').map(([name, entry]) => [name, entry.data.length]));
}

/** A Salt source as on a machine that has no Python of the containers' version. */
class WithoutContainerPython extends SaltSource {
  override async bytecode(): Promise<ThinBytecode | undefined> {
    return undefined;
  }
}

describe('Salt source', () => {
  it("precompiles the thin for the Salt Python's version: bytecode, each compiled source emptied, no C extensions", async () => {
    const source = new SaltSource();
    const info = await source.info();
    const thin = await source.thin();
    const bytecode = await source.bytecode(info.pythonVersion);
    assert.ok(bytecode, 'bytecode for the Salt Python itself');
    const files = await filesIn(bytecode.tarPath);
    assert.equal(files.size, bytecode.files);
    const tag = `cpython-${info.pythonVersion.replace('.', '')}`;
    assert.equal(files.get(`pyall/salt/__pycache__/state.${tag}.pyc`)! > 10_000, true);
    assert.equal(files.get('pyall/salt/state.py'), 0);
    assert.ok(![...files.keys()].some((name) => name.endsWith('.so') || /\/tornado\/test\//.test(name)));
    // The sources: every module, no bytecode.
    const sources = await filesIn(thin.tarPath);
    assert.ok(sources.get('pyall/salt/state.py')! > 10_000);
    assert.ok(![...sources.keys()].some((name) => name.includes('__pycache__')));
    assert.equal(sources.size, thin.files);
  });

  it("compiles for the bundled runtime's Python with the runtime itself when this machine has no other Python of that version", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'sc-source-'));
    const saved = { PATH: process.env.PATH, PYENV_ROOT: process.env.PYENV_ROOT, UV_PYTHON_INSTALL_DIR: process.env.UV_PYTHON_INSTALL_DIR };
    try {
      const usual = new SaltSource();
      const runtime = await buildRuntime(hostArch(), { cacheDir: usual.cacheDir });
      const [info, thin] = [await usual.info(), await usual.thin()];
      mkdirSync(join(cacheDir, 'runtime'));
      symlinkSync(join(runtime.root, '..'), join(cacheDir, 'runtime', basename(join(runtime.root, '..'))));
      // As on a machine whose Salt runs on another Python (its thin made there) and that has no other
      // Python of the runtime's version.
      const other = join(cacheDir, 'thin', `${info.saltVersion}-py3.99-v5`);
      mkdirSync(other, { recursive: true });
      symlinkSync(thin.tarPath, join(other, 'thin.tar'));
      writeFileSync(join(other, 'meta.json'), JSON.stringify({ salt: thin.saltVersion, python: '3.99', files: thin.files, bytes: thin.bytes, packages: thin.packages }));
      Object.assign(process.env, { PATH: '/nonexistent', PYENV_ROOT: '/nonexistent', UV_PYTHON_INSTALL_DIR: '/nonexistent' });
      class SaltOnAnotherPython extends SaltSource {
        override async info() {
          return { ...info, pythonVersion: '3.99' };
        }
      }
      const lines: string[] = [];
      const source = new SaltOnAnotherPython({ cacheDir, log: (line) => lines.push(line) });
      const bytecode = await source.bytecode(runtime.pythonVersion);
      assert.ok(bytecode, lines.join('\n'));
      const [loader, python] = hostCommand(runtime).map((path) => path.replace(usual.cacheDir, cacheDir));
      assert.ok(lines.some((line) => line.endsWith(`for Python ${runtime.pythonVersion} with ${loader} ${python}`)), lines.join('\n'));
      const files = await filesIn(bytecode.tarPath);
      assert.ok(files.get(`pyall/salt/__pycache__/state.cpython-${runtime.pythonVersion.replace('.', '')}.pyc`)! > 10_000);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('has no bytecode for a Python version this machine lacks', async () => {
    assert.equal(await new SaltSource().bytecode('3.0'), undefined);
  });

  it("without bytecode for the container's Python (3.13 here), ships the sources: the run works and says what would speed it up", async () => {
    const engine = new DockerEngine();
    const container = await startContainer(engine, PY313_IMAGE);
    try {
      const lines: string[] = [];
      const run = await new SaltRunner(engine, new WithoutContainerPython()).apply(container, ['web'], EXAMPLES, { log: (line) => lines.push(line) });
      assert.equal(run.retcode, 0, JSON.stringify(run.errors));
      assert.ok(run.states.length > 5 && run.states.every((s) => s.result === true));
      assert.ok(lines.some((line) => line.includes('(sources: no Python 3.13 on this machine')), lines.join('\n'));
      assert.equal(run.notes?.length, 1);
      assert.match(run.notes![0], /^Salt went to the container as sources, .*no Python 3\.13 to precompile it\. Install Python 3\.13 here/);
      assert.deepEqual(await leftovers(engine, container), []);
    } finally {
      await removeContainer(engine, container);
    }
  });
});
