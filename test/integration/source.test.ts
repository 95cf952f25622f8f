/** The Salt source on the host: the thin, and its bytecode per container Python version. */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { describe, it } from 'node:test';
import { DockerEngine, SaltRunner, SaltSource } from '../../src/engine';
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
