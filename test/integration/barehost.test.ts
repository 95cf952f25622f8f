/**
 * A bare host: the CLI and the language server with nothing of Salt's world on this machine (a PATH
 * holding only `node`: no python3, no apt-get or dpkg-deb, no salt-call; a fresh HOME, so an empty
 * cache), as a Mac, Windows or a Fedora box without Python looks to the product. Salt's host-side work
 * goes to helper containers on the engine (SALT_CONTAINERS_PYTHON_IMAGE and _DEBIAN_IMAGE name the
 * local test images, SALT_CONTAINERS_HELPER_NETWORK=host reaches PyPI and Debian here). The engine's
 * cache is emptied first (`cache rm`), so the first apply makes Salt in a helper for real.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CompletionItem, CompletionList, Hover } from 'vscode-languageserver-protocol';
import { DockerEngine } from '../../src/engine';
import { BUSYBOX_IMAGE, DEBIAN_IMAGE, PY3_IMAGE, REPO_ROOT, leftovers, removeContainer, saltLeftovers, startContainer, topLayerPaths, uniqueName } from '../support/containers';
import { LspClient, uriOf } from '../server/lsp';
import { bareEnv, CLI, bareCli as cli, engineState } from '../support/barehost';

const engine = new DockerEngine();

describe('a bare host: node and an engine, nothing else', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let work: string;
  const containers: string[] = [];
  const examples = join(REPO_ROOT, 'examples');

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'sc-bare-home-'));
    env = bareEnv(home);
    work = mkdtempSync(join(tmpdir(), 'sc-bare-work-'));
    for (const image of [PY3_IMAGE, DEBIAN_IMAGE, BUSYBOX_IMAGE]) containers.push(await startContainer(engine, image, 'sc-bare'));
  });
  after(async () => {
    for (const name of containers) await removeContainer(engine, name);
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('cache rm empties the engine cache and ls lists the engine, without Python', async () => {
    const removed = await cli(['cache', 'rm', '--json'], examples, env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual((await engineState(engine)).cache, []);
    const listed = await cli(['ls', '--json'], examples, env);
    assert.equal(listed.code, 0, listed.stderr);
    const names = (JSON.parse(listed.stdout) as { containers: { name: string }[] }).containers.map((c) => c.name);
    for (const name of containers) assert.ok(names.includes(name), `${name} listed`);
  });

  it('apply to a Python image makes Salt in a helper at first use (with progress), then runs it', async () => {
    const result = await cli(['apply', 'web', '--container', containers[0]], examples, env);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /Succeeded: 9 \(changed=9\)\nFailed:    0/);
    assert.match(result.stderr, /installing Salt 3008\.4 in a helper container from salt-containers-test:helper/);
    assert.match(result.stderr, /keeping Salt 3008\.4 on the engine as salt-containers-cache:salt-3008\.4-/);
    assert.deepEqual(await leftovers(engine, containers[0]), []);
    const state = await engineState(engine);
    assert.equal(state.cache.length, 1, state.cache.join(', '));
    assert.deepEqual(state.helpers, [], 'no helper container is left');
  });

  it('a second machine on the same engine (a fresh HOME) copies Salt from the engine cache, no helper installs it', async () => {
    const second = mkdtempSync(join(tmpdir(), 'sc-bare-home2-'));
    try {
      const result = await cli(['apply', 'web', '--container', containers[0]], examples, bareEnv(second));
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /Failed:    0/);
      assert.match(result.stderr, /copying Salt 3008\.4 from the engine's cache \(salt-containers-cache:salt-3008\.4-/);
      assert.doesNotMatch(result.stderr, /installing Salt|in a helper container from/);
      assert.deepEqual(await leftovers(engine, containers[0]), []);
      assert.equal((await engineState(engine)).cache.length, 1);
    } finally {
      rmSync(second, { recursive: true, force: true });
    }
  });

  it('apply to Debian without Python and to busybox: the runtime is built in a helper, then shipped', async () => {
    const debian = await cli(['apply', 'common', '--container', containers[1]], examples, env);
    assert.equal(debian.code, 0, `${debian.stdout}\n${debian.stderr}`);
    assert.match(debian.stdout, /note: Salt ran with the bundled Python 3\.11\.\d+ \(Debian bookworm, amd64\)/);
    assert.match(debian.stdout, /Failed:    0/);
    const busybox = await cli(['apply', 'common', '--container', containers[2]], examples, env);
    assert.equal(busybox.code, 0, `${busybox.stdout}\n${busybox.stderr}`);
    assert.match(busybox.stdout, /Failed:    0/);
    for (const name of containers.slice(1)) assert.deepEqual(await leftovers(engine, name), [], name);
    const state = await engineState(engine);
    assert.ok(state.cache.includes('salt-containers-cache:runtime-python3.11-bookworm-amd64-v1'), state.cache.join(', '));
    assert.deepEqual(state.helpers, []);
  });

  it('build from a base without Python: an image with the states and nothing of Salt', async () => {
    const tag = `${uniqueName('sc-bare-built')}:1`;
    try {
      const result = await cli(['build', 'common', '--from', DEBIAN_IMAGE, '--tag', tag, '--json'], examples, env);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      const paths = await topLayerPaths(engine, tag);
      assert.ok(paths.includes('etc/motd'), 'the states are in the image');
      // As every build: /tmp itself is touched (the run's directory came and went), nothing in it stays.
      assert.deepEqual(saltLeftovers(paths.filter((p) => p !== 'tmp/').map((p) => `A /${p}`)), []);
    } finally {
      await engine.removeImage(tag).catch(() => undefined);
    }
  });

  it('test runs a 2-cell matrix', async () => {
    const dir = join(work, 'matrix');
    cpSync(join(examples, 'salt'), join(dir, 'salt'), { recursive: true });
    writeFileSync(join(dir, 'salt-containers.yml'), `images:\n  - ${PY3_IMAGE}\n  - ${DEBIAN_IMAGE}\nsuites:\n  - name: common\n    states: [common]\n`);
    const result = await cli(['test', '--json'], dir, env);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const doc = JSON.parse(result.stdout) as { cells: { image: string; passed: boolean }[] };
    assert.deepEqual(doc.cells.map((c) => [c.image, c.passed]).sort(), [[DEBIAN_IMAGE, true], [PY3_IMAGE, true]]);
    assert.deepEqual((await engineState(engine)).helpers, []);
  });

  it('watch applies, then again after one edit, with the edit in the container', async () => {
    const dir = join(work, 'watch');
    cpSync(join(examples, 'salt'), join(dir, 'salt'), { recursive: true });
    const child = spawn(process.execPath, [CLI, 'watch', 'common', '--container', containers[0], '--json'], { cwd: dir, env });
    const runs: { retcode: number }[] = [];
    let stderr = '';
    let buffered = '';
    const waiters: (() => void)[] = [];
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        runs.push(JSON.parse(buffered.slice(0, newline)) as { retcode: number });
        buffered = buffered.slice(newline + 1);
        for (const w of waiters.splice(0)) w();
      }
    });
    const runCount = async (count: number) => {
      const deadline = Date.now() + 120_000;
      while (runs.length < count) {
        if (Date.now() > deadline) throw new Error(`watch made ${runs.length} runs, not ${count}: ${stderr}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 500);
        });
      }
    };
    try {
      await runCount(1);
      writeFileSync(join(dir, 'salt', 'common', 'motd.sls'), "motd:\n  file.managed:\n    - name: /etc/motd\n    - contents: edited while watching on a bare host\n");
      await runCount(2);
      assert.deepEqual(runs.map((r) => r.retcode), [0, 0]);
      const motd = await engine.exec(containers[0], ['cat', '/etc/motd']);
      assert.equal(motd.stdout.trim(), 'edited while watching on a bare host');
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    assert.deepEqual(await leftovers(engine, containers[0]), []);
  });

  it('the language server completes and documents state functions from the catalogue the helper made', async () => {
    // Only the bare host's environment: this process's (XDG_CACHE_HOME, SALT_CONTAINERS_CACHE in a cold
    // rehearsal) would point the server at a cache holding a host Salt.
    const client = await LspClient.start({ folder: examples, env, envOnly: true });
    try {
      await client.until('the catalogue', () => client.logs.find((l) => /^state catalogue: Salt 3008\.4/.test(l)), 60_000);
      const file = join(examples, 'salt', 'common', 'motd.sls');
      const uri = uriOf(file);
      client.open(file);
      const hover = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 8 } });
      assert.match((hover.contents as { value: string }).value, /Manage a given file/);
      const completion = await client.request<CompletionList | CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 1, character: 7 } });
      const labels = (Array.isArray(completion) ? completion : completion.items).map((i) => i.label);
      assert.ok(labels.includes('managed') || labels.includes('file.managed'), labels.slice(0, 20).join(', '));
      assert.deepEqual(client.shownMessages, []);
    } finally {
      await client.stop();
    }
  });

  it('cache ls lists what the helpers made; nothing else of ours is on the engine', async () => {
    const result = await cli(['cache', 'ls', '--json'], examples, env);
    assert.equal(result.code, 0, result.stderr);
    const entries = JSON.parse(result.stdout) as { tag: string; kind: string }[];
    assert.deepEqual(entries.map((e) => e.kind).sort(), ['runtime', 'salt']);
    assert.deepEqual((await engineState(engine)).helpers, []);
  });

  it('check without a container on a host without Salt: the source checks, and a note that says what to give the CLI', async () => {
    const home2 = mkdtempSync(join(tmpdir(), 'sc-bare-home-check-'));
    try {
      const result = await cli(['check'], examples, bareEnv(home2));
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /no problems in \d+ files/);
      assert.match(result.stderr, /note: no state catalogue, so state functions are not checked: no Python with Salt found on this machine\. Give --container NAME or --image IMAGE/);
      // Advice for a terminal: no VS Code setting or command.
      assert.doesNotMatch(result.stderr, /saltContainers\.|Refresh State Catalogue/);
    } finally {
      rmSync(home2, { recursive: true, force: true });
    }
  });

  it("check --image: state functions checked from the engine's Salt, Salt's render in a fresh container, removed after", async () => {
    const home2 = mkdtempSync(join(tmpdir(), 'sc-bare-home-check-'));
    const dir = join(work, 'check');
    try {
      cpSync(examples, dir, { recursive: true });
      writeFileSync(join(dir, 'salt', 'typo.sls'), 'typo_state:\n  test.nopp: []\n');
      writeFileSync(join(dir, 'salt', 'undefined.sls'), 'undefined_state:\n  test.nop:\n    - name: {{ no_such_variable }}\n');
      // A fresh HOME: no catalogue cached; the engine's Salt makes it.
      const result = await cli(['check', '--image', DEBIAN_IMAGE, '--json'], dir, bareEnv(home2));
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
      assert.doesNotMatch(result.stderr, /no state catalogue/);
      const findings = JSON.parse(result.stdout) as { file: string; line: number; severity: string; source: string }[];
      assert.deepEqual(
        findings.map((f) => [f.file, f.line, f.severity, f.source]),
        [
          ['salt/typo.sls', 2, 'warning', 'sls'],
          ['salt/undefined.sls', 3, 'error', 'salt'],
        ],
      );
      assert.deepEqual((await engine.listContainers()).filter((c) => c.name.startsWith('salt-containers-check-')), []);
    } finally {
      rmSync(home2, { recursive: true, force: true });
    }
  });
});
