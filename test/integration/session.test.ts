/**
 * The edit loop's engine on the real engine and real Salt: one state alone (state.sls_id), the rendered
 * view (slsutil.renderer), and the warm session: the same results as cold runs, only changed files
 * sent, custom modules and pillar reloaded, and every ending (owner, idle, cancel, container restart,
 * death) leaving nothing in the container: no diff, nothing in /dev/shm, no process.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { DockerEngine, SaltRunner, SaltSource, WarmSessions, type SaltTree, type SessionEnd } from '../../src/engine';
import { BUSYBOX_IMAGE, DEBIAN_IMAGE, EXAMPLES, PY3_IMAGE, allChanges, leftovers, removeContainer, startContainer } from '../support/containers';
import { startWatch } from '../support/watch';

const engine = new DockerEngine();

/** Command lines of the container's processes but the keep-alive and the probe itself. */
async function processes(container: string): Promise<string[]> {
  const result = await engine.exec(container, ['sh', '-c', 'for p in /proc/[0-9]*; do [ "${p#/proc/}" = "$$" ] || { tr "\\0" " " < $p/cmdline; echo; }; done']);
  return result.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^sleep 3600$/.test(l) && !l.startsWith('sh -c for p in') && !l.startsWith('tr '));
}

/** A copy of the example trees to edit. */
function exampleCopy(): SaltTree & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sc-session-'));
  cpSync(join(EXAMPLES.stateRoot, '..'), dir, { recursive: true });
  return { dir, stateRoot: join(dir, 'salt'), pillarRoot: join(dir, 'pillar') };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if (await check()) return;
  assert.fail(`timed out waiting for ${what}`);
}

describe('one state alone and the rendered SLS', () => {
  const runner = new SaltRunner(engine, new SaltSource());
  let container: string;
  before(async () => {
    container = await startContainer(engine, undefined, 'sc-edit');
  });
  after(() => removeContainer(engine, container));

  it('applyState runs that state of the module and nothing else (state.sls_id)', async () => {
    const run = await runner.applyState(container, 'web_conf_dir', 'web', EXAMPLES);
    assert.deepEqual(run.errors, []);
    assert.equal(run.stateId, 'web_conf_dir');
    assert.deepEqual(
      run.states.map((s) => [s.sls, s.id, s.result]),
      [['web', 'web_conf_dir', true]],
    );
    assert.equal((await engine.exec(container, ['test', '-d', '/etc/web'])).exitCode, 0);
    assert.equal((await engine.exec(container, ['test', '-e', '/etc/web/site.conf'])).exitCode, 1, 'another state of the module ran');
    assert.deepEqual(await leftovers(engine, container), []);
  });

  it('render gives the Jinja output with the container’s grains, pillar and map.jinja filled in', async () => {
    const run = await runner.render(container, { module: 'web', path: 'web/init.sls' }, EXAMPLES);
    assert.deepEqual(run.errors, []);
    assert.match(run.rendered ?? '', /web_site_blog:\n {2}file\.managed:\n {4}- name: \/srv\/www\/blog\/index\.html/);
    assert.match(run.rendered ?? '', /port: 8080/, 'pillar rendered against the container’s grains (Debian)');
    assert.match(run.rendered ?? '', new RegExp(`- name: ${container}\\n`), "grains['id'] is the container");
    assert.doesNotMatch(run.rendered ?? '', /\{\{|\{%/);
  });

  it('render errors name the module and the line Jinja stopped at', async () => {
    const tree = exampleCopy();
    try {
      writeFileSync(join(tree.stateRoot, 'web', 'init.sls'), 'ok:\n  test.nop: []\n\nbad:\n  test.nop:\n    - name: {{ nosuch.attribute }}\n');
      const undefinedVariable = await runner.render(container, { module: 'web', path: 'web/init.sls' }, tree);
      assert.equal(undefinedVariable.rendered, undefined);
      assert.deepEqual(
        undefinedVariable.errors.map((e) => [e.kind, e.sls, e.line]),
        [['render', 'web', 6]],
      );
      writeFileSync(join(tree.stateRoot, 'web', 'init.sls'), 'ok:\n  test.nop: []\n{% if %}\n');
      const syntax = await runner.render(container, { module: 'web', path: 'web/init.sls' }, tree);
      assert.deepEqual(
        syntax.errors.map((e) => [e.kind, e.sls, e.line]),
        [['render', 'web', 3]],
      );
      assert.match(syntax.errors[0].message, /Jinja syntax error/);
    } finally {
      rmSync(tree.dir, { recursive: true, force: true });
    }
  });
});

/** The images the warm session is proven on: with python3, and without any (the bundled runtime runs it; busybox has no libc). */
const SESSION_IMAGES = [
  { image: PY3_IMAGE, python: 'container' },
  { image: DEBIAN_IMAGE, python: 'bundled' },
  { image: BUSYBOX_IMAGE, python: 'bundled' },
] as const;

for (const { image, python } of SESSION_IMAGES) {
  describe(`warm session on ${image} (${python} Python)`, () => {
    let container: string;
    let tree: SaltTree & { dir: string };
    let runner: SaltRunner;
    let sessions: WarmSessions;
    const ended: SessionEnd[] = [];
    /** The sessions' own log lines, shown when an assertion about them fails. */
    const sessionLog: string[] = [];
    const newSessions = (idleTimeoutMs = 60_000) => {
      sessionLog.length = 0;
      sessions = new WarmSessions(runner.launcher, { idleTimeoutMs, log: (line) => sessionLog.push(line) });
      sessions.onEnd((_session, reason) => ended.push(reason));
      runner.warm = sessions;
    };
    const live = () => sessions.get(container);

    before(async () => {
      container = await startContainer(engine, image, 'sc-session');
      runner = new SaltRunner(engine, new SaltSource());
    });
    afterEach(async () => {
      await sessions?.dispose();
      if (tree) rmSync(tree.dir, { recursive: true, force: true });
    });
    after(() => removeContainer(engine, container));

    /** A live session after one run of `common` on a fresh copy of the examples. */
    async function warmSession() {
      tree = exampleCopy();
      ended.length = 0;
      newSessions();
      const run = await runner.apply(container, ['common'], tree, { warm: true });
      assert.equal(run.warm, true);
      assert.equal(run.python?.kind, python);
      const session = await live();
      assert.ok(session);
      return session;
    }

    /** Nothing of ours in the container: its diff holds only what the states made, /dev/shm is empty, no process. */
    async function nothingLeft(): Promise<void> {
      assert.deepEqual(await leftovers(engine, container), []);
      assert.deepEqual(await processes(container), []);
    }

    it('gives the same results as a cold run, sends only changed files, reloads pillar and custom modules', async () => {
      tree = exampleCopy();
      newSessions();
      const cold = await runner.apply(container, ['web'], tree);
      const logs: string[] = [];
      const first = await runner.apply(container, ['web'], tree, { warm: true, log: (l) => logs.push(l) });
      assert.equal(cold.warm, undefined);
      assert.equal(first.warm, true);
      assert.deepEqual(first.errors, []);
      assert.deepEqual([first.python?.kind, first.python?.version], [cold.python?.kind, cold.python?.version], 'the session runs with the Python a cold run chose');
      assert.equal(first.python?.kind, python);
      assert.deepEqual(first.notes, cold.notes, 'it says so as a cold run does');
      assert.deepEqual(
        first.states.map((s) => [s.sls, s.id, s.function, s.result]),
        cold.states.map((s) => [s.sls, s.id, s.function, s.result]),
      );
      const session = await live();
      assert.ok(session, 'the session lives on after the run');
      assert.equal((await processes(container)).length >= 1, true, 'the warm Salt runs in the container');

      // An edited SLS, a new module, pillar and a custom module: each seen by the next run.
      writeFileSync(join(tree.stateRoot, 'web', 'extra.sls'), 'web_extra:\n  test.succeed_with_changes:\n    - name: extra\n');
      writeFileSync(join(tree.pillarRoot!, 'web.sls'), "web:\n  port: 9090\n  sites:\n    - docs\n");
      writeFileSync(join(tree.stateRoot, '_modules', 'demo.py'), 'def greet(name):\n    return "Howdy, %s!" % name\n');
      const edited = await runner.apply(container, ['web', 'web.extra'], tree, { warm: true, log: (l) => logs.push(l) });
      assert.equal(edited.warm, true);
      assert.deepEqual(edited.errors, []);
      assert.ok(await live() === session, 'the same session ran it');
      assert.deepEqual(edited.python, first.python);
      // Three files, the custom module counted twice (the state tree has it, and extmods/ for the loader).
      assert.ok(logs.some((l) => /sending 4 changed file\(s\).*0 deleted; custom modules or pillar changed/.test(l)), logs.filter((l) => /sending/.test(l)).join('\n'));
      assert.ok(edited.states.some((s) => s.id === 'web_extra' && s.result === true), 'the new module ran');
      assert.ok(edited.states.some((s) => s.id === 'web_site_docs'), 'the new pillar was used');
      assert.match(edited.states.find((s) => s.id === 'web_greeting')!.comment, /Howdy/, 'the custom module was reloaded');
      assert.match((await engine.exec(container, ['cat', '/etc/web/site.conf'])).stdout, /listen 9090/);
      // The bundled runtime went in once, for the session, not per run.
      assert.equal(logs.filter((l) => /^bundled Python .* uploaded to /.test(l)).length, python === 'bundled' ? 1 : 0, logs.filter((l) => /uploaded/.test(l)).join('\n'));

      // A deleted module is gone for Salt too.
      rmSync(join(tree.stateRoot, 'web', 'extra.sls'));
      const gone = await runner.apply(container, ['web.extra'], tree, { warm: true });
      assert.equal(gone.warm, true);
      assert.equal(gone.errors[0]?.kind, 'render');
      assert.match(gone.errors[0].message, /No matching sls found for 'web.extra'/);

      await sessions.dispose();
      assert.deepEqual(ended, ['closed']);
      await nothingLeft();
    });

    it('ends when its target changes, and leaves nothing', async () => {
      await warmSession();
      await sessions.end(container, 'target-changed');
      assert.deepEqual(ended, ['target-changed']);
      await nothingLeft();
    });

    it('ends after the idle timeout, and a new one starts on the next run', async () => {
      tree = exampleCopy();
      ended.length = 0;
      newSessions(1500);
      const run = await runner.apply(container, ['common'], tree, { warm: true });
      assert.equal(run.warm, true);
      await waitFor('the idle timeout', () => ended.includes('idle'));
      await waitFor('the cleanup', async () => (await processes(container)).length === 0);
      await nothingLeft();
      const again = await runner.apply(container, ['common'], tree, { warm: true });
      assert.equal(again.warm, true, 'the next run starts a new session');
    });

    it('a cancelled run ends the session: Salt is killed, nothing is left', async () => {
      await warmSession();
      writeFileSync(join(tree.stateRoot, 'slow.sls'), 'slow:\n  cmd.run:\n    - name: sleep 37\n');
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 1500);
      const run = await runner.apply(container, ['slow'], tree, { warm: true, signal: abort.signal });
      assert.equal(run.errors[0]?.kind, 'cancelled', JSON.stringify(run.errors));
      assert.deepEqual(ended, ['cancelled']);
      await nothingLeft();
    });

    it('a session that dies is replaced: the next run starts a new one and gives its result', async () => {
      const session = await warmSession();
      // Kill the session's Salt under it, as an OOM killer or a person would.
      await engine.exec(container, ['sh', '-c', `kill -9 $(cat /dev/shm/${session.name}/pid | tr -d ' ')`]);
      await waitFor('the session to be seen dead', () => ended.includes('died'));
      const runLog: string[] = [];
      const run = await runner.apply(container, ['common'], tree, { warm: true, log: (line) => runLog.push(line) });
      assert.deepEqual(run.errors, []);
      assert.ok(run.states.length > 0);
      assert.equal(run.warm, true, `a new session took the run; the sessions said:\n${sessionLog.join('\n')}\nthe run said:\n${runLog.join('\n')}`);
      assert.notEqual((await live())?.name, session.name);
      await sessions.dispose();
      await nothingLeft();
    });

    it('a session that dies during a run: that run goes cold and gives its whole result', async () => {
      const session = await warmSession();
      writeFileSync(join(tree.stateRoot, 'slow.sls'), 'slow:\n  cmd.run:\n    - name: sleep 3\nafter_slow:\n  test.succeed_without_changes: []\n');
      const running = runner.apply(container, ['slow'], tree, { warm: true });
      await waitFor('the run in the session', async () => (await processes(container)).some((p) => /^sleep 3\b/.test(p)));
      await engine.exec(container, ['sh', '-c', `kill -9 -$(cat /dev/shm/${session.name}/pid | tr -d ' ')`]);
      const run = await running;
      assert.deepEqual(run.errors, []);
      assert.equal(run.warm, undefined, 'it ran cold');
      assert.equal(run.python?.kind, python);
      assert.deepEqual(run.states.map((s) => [s.id, s.result]), [['slow', true], ['after_slow', true]]);
      assert.deepEqual(ended, ['died']);
      await nothingLeft();
    });

    it('ends when the container restarts, and leaves nothing once it is back', async () => {
      const session = await warmSession();
      // The cachedir (and the bundled runtime) on the container's disk outlive a restart (unlike /dev/shm): they must go too.
      await engine.docker.getContainer(container).restart({ t: 1 });
      await waitFor('the session to end with the container', () => ended.includes('container-stopped'));
      await waitFor('the cleanup after the restart', async () => !(await allChanges(engine, container)).some((l) => l.includes(session.name)));
      await nothingLeft();
      const run = await runner.apply(container, ['common'], tree, { warm: true });
      assert.deepEqual(run.errors, []);
      assert.equal(run.warm, true);
    });

    it('ends when the container stops; once it is started again nothing is left', async () => {
      const session = await warmSession();
      await engine.stopContainer(container, 1);
      await waitFor('the session to end with the container', () => ended.includes('container-stopped'));
      assert.ok((await engine.diff(container)).some((l) => l.includes(session.name)), 'a stopped container cannot be cleaned: its files wait for its start');
      await engine.startContainer(container);
      await waitFor('the cleanup after the start', async () => !(await allChanges(engine, container)).some((l) => l.includes(session.name)));
      await nothingLeft();
    });
  });
}

describe('warm sessions and the Python setting', () => {
  const runner = new SaltRunner(engine, new SaltSource());
  let sessions: WarmSessions;
  const ended: SessionEnd[] = [];
  before(() => {
    sessions = new WarmSessions(runner.launcher, { idleTimeoutMs: 60_000 });
    sessions.onEnd((_session, reason) => ended.push(reason));
    runner.warm = sessions;
  });
  after(() => sessions.dispose());

  it('a run with another setting gets a new session with the Python that setting chooses', async () => {
    const container = await startContainer(engine, PY3_IMAGE, 'sc-session');
    try {
      const own = await runner.apply(container, ['common'], EXAMPLES, { warm: true });
      assert.equal(own.warm, true);
      assert.deepEqual(own.python, { kind: 'container', version: '3.11', path: 'python3' });
      const bundled = await runner.apply(container, ['common'], EXAMPLES, { warm: true, python: 'bundled' });
      assert.equal(bundled.warm, true);
      assert.equal(bundled.python?.kind, 'bundled');
      assert.match(bundled.notes?.at(-1) ?? '', /: the python runtime setting asks for it \(bundled\)\.$/);
      assert.deepEqual(ended, ['python-changed']);
      assert.deepEqual(bundled.states.map((s) => [s.id, s.result]), own.states.map((s) => [s.id, s.result]));
      await sessions.end(container, 'closed');
      assert.deepEqual(await leftovers(engine, container), []);
    } finally {
      await removeContainer(engine, container);
    }
  });

  it('container on an image without Python: no session, the run says why, nothing injected', async () => {
    const container = await startContainer(engine, DEBIAN_IMAGE, 'sc-session');
    try {
      const run = await runner.apply(container, ['common'], EXAMPLES, { warm: true, python: 'container' });
      assert.equal(run.warm, undefined);
      assert.equal(run.errors[0]?.kind, 'no-python');
      assert.equal(run.errors[0].message, `image ${DEBIAN_IMAGE} has no Python 3`);
      assert.equal(await sessions.get(container), undefined);
      assert.deepEqual(await allChanges(engine, container), []);
    } finally {
      await removeContainer(engine, container);
    }
  });
});

for (const { image } of SESSION_IMAGES) {
  describe(`salt-containers watch on ${image}`, () => {
    let container: string;
    let tree: SaltTree & { dir: string };
    before(async () => {
      container = await startContainer(engine, image, 'sc-watch');
      tree = exampleCopy();
    });
    after(async () => {
      await removeContainer(engine, container);
      rmSync(tree.dir, { recursive: true, force: true });
    });

    it('applies at once and after each saved change, one apply document per line; Ctrl-C ends it and leaves nothing', async () => {
      const watch = startWatch(['common', '--container', container], tree.dir);
      let code: number | null;
      try {
        const [first] = await watch.runs(1);
        assert.equal(first.retcode, 0, watch.stderr());
        assert.ok(first.states.some((s) => s.id === 'motd'));
        // A save: an editor writes the file (often more than once); one more run follows.
        const motd = join(tree.stateRoot, 'common', 'files', 'motd.jinja');
        writeFileSync(motd, 'Edited by the watch test on {{ grains["id"] }}\n');
        writeFileSync(motd, 'Edited by the watch test on {{ grains["id"] }}\n');
        const docs = await watch.runs(2, 30_000);
        assert.equal(docs[1].retcode, 0);
        assert.match((await engine.exec(container, ['cat', '/etc/motd'])).stdout, new RegExp(`Edited by the watch test on ${container}`));
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.equal(docs.length, 2, 'one save, one run');
        const running = await processes(container);
        assert.ok(running.length >= 1, 'the warm session runs while watching');
        if (image !== PY3_IMAGE) assert.ok(running.some((p) => /^\/tmp\/salt-containers\.[0-9a-f]{16}\.python\/bin\/python3 -I -B -c\b/.test(p)), running.join('\n'));
      } finally {
        code = await watch.stop();
      }
      assert.equal(code, 0, watch.stderr());
      assert.deepEqual(await leftovers(engine, container), []);
      assert.deepEqual(await processes(container), []);
    });
  });
}
