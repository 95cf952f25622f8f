/** Execution functions in a container, and their failure shapes. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { DockerEngine, SaltRunner, SaltSource, WarmSessions } from '../../src/engine';
import { SaltVersions } from '../../src/testing';
import { FIXTURES, leftovers, removeContainer, startContainer } from '../support/containers';

const engine = new DockerEngine();
const runner = new SaltRunner(engine, new SaltSource());

describe('call', () => {
  let container: string;
  before(async () => {
    container = await startContainer(engine);
  });
  after(() => removeContainer(engine, container));

  it('returns grains of the container, with the container name as minion id', async () => {
    // Without a workspace the call's state tree is an empty folder in the cache: nothing new in the temp folder.
    const temporary = () => readdirSync(tmpdir()).filter((name) => name.startsWith('salt-containers-'));
    const existing = temporary();
    const run = await runner.call(container, 'grains.items', [], {});
    assert.deepEqual(temporary().filter((name) => !existing.includes(name)), []);
    assert.equal(run.retcode, 0, JSON.stringify(run.errors));
    const grains = run.return as Record<string, unknown>;
    assert.equal(grains.os, 'Debian');
    assert.equal(grains.id, container);
    assert.equal(grains.osmajorrelease, 12);
  });

  it('runs cmd.run with its command passed intact as one argument', async () => {
    // Quotes, $ and && reach Salt as one argv element: only the container's shell (cmd.run's) reads them.
    const run = await runner.call(container, 'cmd.run', ['echo "a  b" && echo $((1+2))'], {});
    assert.equal(run.retcode, 0, JSON.stringify(run.errors));
    assert.equal(run.return, 'a  b\n3');
  });

  it('runs a custom module from the state tree with keyword arguments', async () => {
    const run = await runner.call(container, 'fixture.answer', [], { scale: '2' }, FIXTURES);
    assert.equal(run.retcode, 0, JSON.stringify(run.errors));
    assert.equal(run.return, 84);
  });

  it('loads custom grains from _grains and custom states from _states of the state tree', async () => {
    const grain = await runner.call(container, 'grains.get', ['fixture_grain'], {}, FIXTURES);
    assert.equal(grain.return, 'from-custom-grain');
    const run = await runner.apply(container, ['custom'], FIXTURES);
    assert.equal(run.retcode, 0, JSON.stringify(run.errors));
    assert.deepEqual(run.states.map((s) => [s.id, s.function, s.result, s.comment]), [['custom_state', 'fixture_state.noted', true, 'noted from-custom-grain for grain from-custom-grain']]);
    assert.deepEqual(await leftovers(engine, container), []);
  });

  it("a state that calls a function whose module did not load says why, in Salt's words, cold and warm", async () => {
    // As ssh_auth.present where the image has no ssh: Salt's own traceback ends in a bare KeyError.
    const reason = /\nKeyError: 'fixture_refused\.go': 'fixture_refused' __virtual__ returned False: the fixture_refused module needs the frobnicate program$/;
    // Every supported Salt line (on 3006, importing Salt's loader out of salt-call's order is a circular import).
    const versions = new SaltVersions({ configured: runner.salt });
    for (const version of ['3006.29', '3007.16', '3008.4']) {
      const cold = await new SaltRunner(engine, await versions.source(version)).apply(container, ['refused_module', 'custom'], FIXTURES);
      assert.equal(cold.saltVersion, version);
      assert.equal(cold.retcode, 2, JSON.stringify(cold.errors));
      assert.deepEqual(cold.states.map((s) => [s.id, s.result]), [['needs_a_refused_module', false], ['custom_state', true]]);
      assert.match(cold.states[0].comment.trimEnd(), reason, version);
    }
    const sessions = new WarmSessions(runner.launcher, { idleTimeoutMs: 60_000 });
    const warmRunner = new SaltRunner(engine, runner.salt);
    warmRunner.warm = sessions;
    try {
      const warm = await warmRunner.apply(container, ['refused_module'], FIXTURES, { warm: true });
      assert.equal(warm.warm, true, 'the session ran it');
      assert.match(warm.states[0].comment.trimEnd(), reason);
    } finally {
      await sessions.dispose();
    }
    assert.deepEqual(await leftovers(engine, container), []);
  });

  it('names an unknown function', async () => {
    const run = await runner.call(container, 'nosuch.fn', [], {});
    assert.equal(run.retcode, 1);
    assert.equal(run.errors[0].kind, 'unknown-function');
    assert.match(run.errors[0].message, /'nosuch\.fn' is not available/);
  });

  it('explains bad arguments with the usage', async () => {
    const run = await runner.call(container, 'test.echo', [], {});
    assert.equal(run.errors[0].kind, 'bad-arguments');
    assert.match(run.errors[0].message, /missing 1 required positional argument: 'text'/);
    assert.match(run.errors[0].hint ?? '', /Return a string/);
  });

  it('reports a module exception with its last line', async () => {
    const run = await runner.call(container, 'fixture.explode', [], {}, FIXTURES);
    assert.equal(run.errors[0].kind, 'exception');
    assert.match(run.errors[0].message, /RuntimeError: fixture module exploded/);
    assert.deepEqual(await leftovers(engine, container), []);
  });
});
