// The VS Code layer inside the real extension host, on the real engine and Salt: commands, views,
// diagnostics on the right lines, test mode, function calls, container lifecycle (from an image the
// engine pulls, from the set-up's registry), image builds.
// The container comes from the harness (SALT_CONTAINERS_TEST_CONTAINER, from salt-containers-test:py3);
// fixture SLS files are written into the example workspace for a test and removed after it.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DockerEngine, type BuildRun, type CallRun, type StateRun } from '../../src/engine';
import type { SaltContainersApi } from '../../src/extension/main';
import type { ContainerNode, ContainersTreeNode, ImageNode, ImagesTreeNode, MessageNode } from '../../src/extension/views/trees';
import { pushedImage, pushedLargeImage, slowLink, startRegistry } from '../support/registry';

const container = process.env.SALT_CONTAINERS_TEST_CONTAINER ?? 'sc-vscode-test';
const testImage = 'salt-containers-test:py3';
const workspace = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const stateRoot = () => join(workspace(), 'salt');
const engine = new DockerEngine();

async function api(): Promise<SaltContainersApi> {
  const extension = vscode.extensions.getExtension<SaltContainersApi>('salt-containers.salt-containers');
  assert.ok(extension, 'extension not found');
  return extension.activate();
}

function diagnosticsOf(file: string): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(vscode.Uri.file(file)).filter((d) => d.source === 'salt');
}

/** A fixture module under the example state tree, removed by the returned function. */
function writeFixture(files: Record<string, string>): { module: string; dir: string; remove: () => void } {
  const module = `sc_vscode_fixture_${randomBytes(3).toString('hex')}`;
  const dir = join(stateRoot(), module);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { module, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('Salt Containers in VS Code', function () {
  this.timeout(60_000);

  it('registers every contributed command', async () => {
    await api();
    const commands = new Set(await vscode.commands.getCommands(true));
    const contract = [
      'applySls',
      'applySlsTest',
      'applyHighstate',
      'runFunction',
      'buildImage',
      'showGrains',
      'showResults',
      'refresh',
      'startContainer',
      'stopContainer',
      'restartContainer',
      'removeContainer',
      'createContainer',
      'copyId',
      'removeImage',
      'installSalt',
    ];
    for (const name of contract) assert.ok(commands.has(`saltContainers.${name}`), `saltContainers.${name} is not registered`);
  });

  it('starts the SLS language client once an sls document is open, and then every contributed command is registered', async () => {
    await api();
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(join(stateRoot(), 'top.sls')));
    assert.equal(document.languageId, 'sls');
    const contributed = (vscode.extensions.getExtension('salt-containers.salt-containers')!.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    let missing: string[] = contributed;
    for (let waited = 0; waited < 15_000; waited += 200) {
      const commands = new Set(await vscode.commands.getCommands(true));
      missing = contributed.filter((name) => !commands.has(name));
      if (missing.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.deepEqual(missing, [], 'contributed but not registered');
  });

  it('Install Salt on This Machine finds the Salt the set-up installed, and a cancel installs nothing', async () => {
    await api();
    const installed = (await vscode.commands.executeCommand('saltContainers.installSalt')) as { version: string; python: string };
    assert.match(installed.version, /^\d{4}\.\d+$/);
    assert.match(installed.python, /salt-containers\/salt\/\d{4}\.\d+\/bin\/python$/);
    const abort = new AbortController();
    abort.abort();
    const refused = (await vscode.commands.executeCommand('saltContainers.installSalt', { version: '3006.0', signal: abort.signal })) as { refused: boolean; reason: string };
    assert.deepEqual([refused.refused, refused.reason], [true, 'cancelled']);
  });

  describe('views', () => {
    it('list the test container as running and keep node identity across refreshes', async () => {
      const { containersView } = await api();
      const first = (await containersView.getChildren()) as ContainersTreeNode[];
      const node = first.find((n): n is ContainerNode => n.kind === 'container' && n.info.name === container);
      assert.ok(node, `container ${container} not in the view: ${first.map((n) => (n.kind === 'container' ? n.info.name : n.kind)).join(', ')}`);
      const item = containersView.getTreeItem(node);
      assert.equal(item.contextValue, 'runningContainer');
      assert.equal(item.label, container);
      assert.match(String(item.description), /salt-containers-test:py3/);
      const resolved = containersView.resolveTreeItem(item, node);
      assert.match((resolved.tooltip as vscode.MarkdownString).value, /\*\*Ports:\*\*[\s\S]*\*\*Command:\*\*[\s\S]*\*\*Created:\*\*/);
      const running = first.filter((n): n is ContainerNode => n.kind === 'container');
      const firstStopped = running.findIndex((n) => n.info.state !== 'running');
      if (firstStopped >= 0) assert.ok(running.slice(firstStopped).every((n) => n.info.state !== 'running'), 'running containers come first');
      const second = (await containersView.getChildren()) as ContainersTreeNode[];
      assert.ok(second.includes(node), 'an unchanged container keeps its node (identity) across refreshes');
      assert.equal(containersView.getTreeItem(second.find((n) => n === node)!).id, item.id);
    });

    it('follow the engine’s events while visible (debounced), and not while hidden', async () => {
      const { containersView } = await api();
      let changes = 0;
      const listener = containersView.onDidChangeTreeData(() => changes++);
      const names = [`sc-vscode-ev-${randomBytes(3).toString('hex')}`, `sc-vscode-ev-${randomBytes(3).toString('hex')}`];
      try {
        await vscode.commands.executeCommand('saltContainers.containers.focus');
        await new Promise((resolve) => setTimeout(resolve, 1500)); // the view shows and its stream connects
        changes = 0;
        // A burst of engine events (create, start, stop, destroy) ...
        const id = await engine.createContainer(testImage, { name: names[0] });
        await engine.removeContainer(id, { force: true });
        for (let waited = 0; changes === 0 && waited < 5000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
        await new Promise((resolve) => setTimeout(resolve, 800));
        // ... refreshes the view once or twice, not once per event.
        assert.ok(changes >= 1 && changes <= 2, `${changes} refreshes for a burst of events`);

        await vscode.commands.executeCommand('workbench.view.explorer');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        changes = 0;
        const hidden = await engine.createContainer(testImage, { name: names[1] });
        await engine.removeContainer(hidden, { force: true });
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(changes, 0, 'the hidden view followed the engine');
      } finally {
        listener.dispose();
        for (const name of names) await engine.removeContainer(name, { force: true }).catch(() => undefined);
      }
    });

    it('list the test image with size and age, dangling images hidden', async () => {
      const { imagesView } = await api();
      const nodes = (await imagesView.getChildren()) as ImagesTreeNode[];
      const node = nodes.find((n): n is ImageNode => n.kind === 'image' && n.info.tags.includes(testImage));
      assert.ok(node, `${testImage} not in the Images view`);
      const item = imagesView.getTreeItem(node);
      assert.equal(item.contextValue, 'image');
      assert.match(String(item.description), /\d+(\.\d)? (MB|kB|GB) · /);
      assert.ok(nodes.every((n) => n.kind !== 'image' || !n.info.dangling), 'a dangling image is shown without the setting');
    });

    it('group by engine when several are configured, with one unreachable item for a dead engine', async () => {
      const { containersView } = await api();
      const config = vscode.workspace.getConfiguration('saltContainers');
      await config.update('additionalDockerHosts', ['unix:///nonexistent/sc-vscode-test.sock'], vscode.ConfigurationTarget.Global);
      try {
        const roots = (await containersView.getChildren()) as ContainersTreeNode[];
        assert.deepEqual(
          roots.map((n) => n.kind),
          ['engine', 'engine'],
        );
        const dead = roots[1];
        const children = (await containersView.getChildren(dead)) as ContainersTreeNode[];
        assert.equal(children.length, 1, 'one item for an unreachable engine, not one per failure');
        const message = children[0] as MessageNode;
        assert.equal(message.kind, 'message');
        const item = containersView.getTreeItem(message);
        assert.equal(item.contextValue, 'engineUnreachable');
        assert.equal(item.command?.command, 'saltContainers.refresh', 'clicking retries');
        assert.match(String(item.tooltip), /not reachable[\s\S]*Start Docker|DOCKER_HOST/);
        const live = (await containersView.getChildren(roots[0])) as ContainersTreeNode[];
        assert.ok(live.some((n) => n.kind === 'container' && n.info.name === container), 'the working engine still lists its containers');
      } finally {
        await config.update('additionalDockerHosts', undefined, vscode.ConfigurationTarget.Global);
      }
      const roots = (await containersView.getChildren()) as ContainersTreeNode[];
      assert.ok(roots.every((n) => n.kind !== 'engine'), 'no grouping with one engine');
    });
  });

  describe('apply', () => {
    let fixture: ReturnType<typeof writeFixture> | undefined;
    afterEach(() => fixture?.remove());

    it('puts failed states as errors on their ID lines, in the file that defines them, and clears them on the next run', async () => {
      const init = [
        'include:', // 0
        '  - .extra', // 1
        '', // 2
        'fixture_ok:', // 3
        '  test.succeed_without_changes:', // 4
        '    - name: ok', // 5
        '', // 6
        'fixture_missing:', // 7
        '  file.exists:', // 8
        '    - name: /nonexistent/sc-fixture', // 9
        '', // 10
        '{% for i in [1, 2] %}', // 11
        'fixture_loop_{{ i }}:', // 12
        '  file.exists:', // 13
        '    - name: /nonexistent/loop-{{ i }}', // 14
        '{% endfor %}', // 15
        '',
      ];
      const extra = ['# included by init.sls', 'extra_missing:', '  file.exists:', '    - name: /nonexistent/extra', ''];
      fixture = writeFixture({ 'init.sls': init.join('\n'), 'extra.sls': extra.join('\n') });
      const initFile = join(fixture.dir, 'init.sls');
      const extraFile = join(fixture.dir, 'extra.sls');

      const run = (await vscode.commands.executeCommand('saltContainers.applySls', vscode.Uri.file(initFile), { container })) as StateRun;
      assert.equal(run.kind, 'state', JSON.stringify(run));
      assert.deepEqual(run.errors, []);
      assert.equal(run.retcode, 2);
      assert.deepEqual(run.mods, [fixture.module]);

      const initProblems = diagnosticsOf(initFile);
      const missing = initProblems.find((d) => d.code === 'fixture_missing');
      assert.ok(missing, `no diagnostic for fixture_missing: ${JSON.stringify(initProblems)}`);
      assert.equal(missing.severity, vscode.DiagnosticSeverity.Error);
      assert.equal(missing.range.start.line, 7);
      assert.equal(missing.message, run.states.find((s) => s.id === 'fixture_missing')!.comment, "the message is Salt's comment");
      assert.match(missing.message, /\/nonexistent\/sc-fixture/);
      for (const id of ['fixture_loop_1', 'fixture_loop_2']) {
        const loop = initProblems.find((d) => d.code === id);
        assert.ok(loop, `${id} (made by a Jinja loop) is in init.sls`);
        assert.ok(loop.range.start.line === 12 || loop.range.start.line === 0, `${id} at line ${loop.range.start.line}`);
      }
      assert.ok(!initProblems.some((d) => d.code === 'fixture_ok'), 'a passing state has no diagnostic');
      const extraProblems = diagnosticsOf(extraFile);
      assert.deepEqual(
        extraProblems.map((d) => [d.code, d.range.start.line, d.severity]),
        [['extra_missing', 1, vscode.DiagnosticSeverity.Error]],
        'the included module’s failure is in extra.sls on its ID line',
      );

      const { lastRun } = await api();
      assert.equal(lastRun, run, 'the API exposes the last run');
      // The tab model follows the workbench asynchronously.
      const resultsTabNow = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('saltContainers.results'));
      for (let waited = 0; !resultsTabNow() && waited < 5000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
      const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
      const resultsTab = resultsTabNow();
      assert.ok(resultsTab, `the results panel is not open; tabs: ${tabs.map((t) => `${t.label} ${JSON.stringify(t.input)}`).join(', ')}`);
      assert.equal(resultsTab.label, 'Salt Results');
      // The page's script ran under its CSP and drew every state of the run.
      for (let waited = 0; (await api()).resultsRendered?.total !== run.states.length && waited < 10_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual((await api()).resultsRendered, { title: fixture.module, shown: run.states.length, total: run.states.length });

      // Fix one state: its stale error goes away on the next run of that SLS; the rest stay.
      writeFileSync(initFile, init.join('\n').replace('/nonexistent/sc-fixture', '/etc/hostname'));
      const again = (await vscode.commands.executeCommand('saltContainers.applySls', vscode.Uri.file(initFile), { container })) as StateRun;
      assert.equal(again.states.find((s) => s.id === 'fixture_missing')?.result, true);
      const after = diagnosticsOf(initFile);
      assert.ok(!after.some((d) => d.code === 'fixture_missing'), 'the fixed state’s diagnostic is gone');
      assert.ok(after.some((d) => d.code === 'fixture_loop_1'));
      assert.equal(diagnosticsOf(extraFile).length, 1);

      // Deleting the files and applying again leaves no diagnostics behind for them.
      writeFileSync(initFile, 'fixture_ok:\n  test.succeed_without_changes:\n    - name: ok\n');
      writeFileSync(extraFile, '');
      await vscode.commands.executeCommand('saltContainers.applySls', vscode.Uri.file(initFile), { container });
      assert.deepEqual(diagnosticsOf(initFile), []);
    });

    it('shows a render error at the line Salt names', async () => {
      fixture = writeFixture({ 'init.sls': ['ok_state:', '  test.nop: []', '', 'broken: [', '  - name: x', ''].join('\n') });
      const initFile = join(fixture.dir, 'init.sls');
      const run = (await vscode.commands.executeCommand('saltContainers.applySls', vscode.Uri.file(initFile), { container })) as StateRun;
      assert.equal(run.retcode, 1);
      const render = run.errors.find((e) => e.kind === 'render');
      assert.ok(render, `no render error: ${JSON.stringify(run.errors)}`);
      const [problem] = diagnosticsOf(initFile);
      assert.ok(problem, 'the render error is a diagnostic in the file');
      assert.equal(problem.severity, vscode.DiagnosticSeverity.Error);
      assert.equal(problem.range.start.line, (render.line ?? 1) - 1);
      assert.ok(render.line !== undefined && render.line >= 4, `Salt named line ${render.line}`);
    });

    it('test mode reports pending changes as information and leaves the container unchanged', async () => {
      const marker = `/srv/sc-vscode-${randomBytes(3).toString('hex')}`;
      fixture = writeFixture({
        'init.sls': ['# would make a folder and a file', `marker_dir:`, '  file.directory:', `    - name: ${marker}`, '', 'marker_file:', '  file.managed:', `    - name: ${marker}/file`, '    - contents: hello', ''].join('\n'),
      });
      const initFile = join(fixture.dir, 'init.sls');
      // Another run in flight on the shared container (the UI suite) shows as its own run directory:
      // the engine's integration tests check that runs leave none; here only the states' effects count.
      const changes = async () => (await engine.diff(container)).filter((line) => !/ \/tmp\/salt-containers\.[0-9a-f]+(\/|$)/.test(line));
      const before = await changes();
      const run = (await vscode.commands.executeCommand('saltContainers.applySlsTest', vscode.Uri.file(initFile), { container })) as StateRun;
      assert.equal(run.test, true);
      assert.deepEqual(run.errors, []);
      assert.deepEqual(
        run.states.map((s) => [s.id, s.result]),
        [
          ['marker_dir', null],
          ['marker_file', null],
        ],
      );
      assert.deepEqual(await changes(), before, 'test mode changed the container');
      assert.equal((await engine.exec(container, ['test', '-e', marker])).exitCode, 1, `${marker} exists after a dry run`);
      const problems = diagnosticsOf(initFile);
      assert.deepEqual(
        problems.map((d) => [d.code, d.range.start.line, d.severity]),
        [
          ['marker_dir', 1, vscode.DiagnosticSeverity.Information],
          ['marker_file', 5, vscode.DiagnosticSeverity.Information],
        ],
      );
    });
  });

  describe('cancel', () => {
    it('stops the run, kills salt-call and cleans up', async () => {
      const fixture = writeFixture({ 'init.sls': ['slow:', '  cmd.run:', '    - name: sleep 47', ''].join('\n') });
      const abort = new AbortController();
      try {
        const started = Date.now();
        setTimeout(() => abort.abort(), 2500);
        const run = (await vscode.commands.executeCommand('saltContainers.applySls', vscode.Uri.file(join(fixture.dir, 'init.sls')), { container, signal: abort.signal })) as StateRun;
        assert.ok(Date.now() - started < 20_000, `the run went on for ${Date.now() - started} ms after Cancel`);
        assert.ok(
          run.errors.some((e) => e.kind === 'cancelled'),
          JSON.stringify(run.errors),
        );
        const processes = await engine.exec(container, ['sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done']);
        assert.ok(!/sleep 47|salt-call/.test(processes.stdout), `left running:\n${processes.stdout}`);
        const dirs = await engine.exec(container, ['sh', '-c', 'ls -d /dev/shm/salt-containers.* /tmp/salt-containers.* 2>/dev/null || true']);
        assert.equal(dirs.stdout.trim(), '', 'the run directory is left');
      } finally {
        fixture.remove();
      }
    });
  });

  describe('functions', () => {
    it('runs a Salt function with arguments and shows grains', async () => {
      const echo = (await vscode.commands.executeCommand('saltContainers.runFunction', undefined, { container, input: "test.echo 'hello from vscode'" })) as CallRun;
      assert.deepEqual(echo.errors, []);
      assert.equal(echo.return, 'hello from vscode');
      const grains = (await vscode.commands.executeCommand('saltContainers.showGrains', undefined, { container })) as CallRun;
      assert.deepEqual(grains.errors, []);
      assert.equal((grains.return as { os_family?: string }).os_family, 'Debian');
      const shown = vscode.window.activeTextEditor?.document;
      assert.equal(shown?.uri.scheme, 'salt-containers');
      assert.equal(JSON.parse(shown!.getText()).os_family, 'Debian');
    });
  });

  describe('container actions', () => {
    it('create from an image (kept alive), stop, start, remove', async () => {
      const { containersView } = await api();
      const name = `sc-vscode-made-${randomBytes(3).toString('hex')}`;
      try {
        const made = (await vscode.commands.executeCommand('saltContainers.createContainer', undefined, { image: testImage, name })) as { id: string; name: string };
        assert.equal(made.name, name);
        assert.equal((await engine.inspectContainer(name)).State.Running, true);
        const node = ((await containersView.getChildren()) as ContainersTreeNode[]).find((n): n is ContainerNode => n.kind === 'container' && n.info.name === name);
        assert.ok(node, 'the new container is in the view');
        assert.equal(await vscode.commands.executeCommand('saltContainers.stopContainer', node), true);
        // The keep-alive command stops at once on the stop signal (exit 0 from its trap), not killed
        // at the stop timeout (137): told by how it ended, not by a clock on a shared machine.
        const afterStop = (await engine.inspectContainer(name)).State;
        assert.equal(afterStop.Running, false);
        assert.equal(afterStop.ExitCode, 0, 'the keep-alive command ended on the stop signal');
        const stopped = ((await containersView.getChildren()) as ContainersTreeNode[]).find((n): n is ContainerNode => n.kind === 'container' && n.info.name === name)!;
        assert.equal(containersView.getTreeItem(stopped).contextValue, 'stoppedContainer');
        assert.equal(await vscode.commands.executeCommand('saltContainers.startContainer', stopped), true);
        assert.equal((await engine.inspectContainer(name)).State.Running, true);
        assert.equal(await vscode.commands.executeCommand('saltContainers.removeContainer', undefined, { container: name, confirmed: true }), true);
        await assert.rejects(engine.inspectContainer(name), /not found/);
      } finally {
        await engine.removeContainer(name, { force: true }).catch(() => undefined);
      }
    });
  });

  describe('an image the engine lacks', () => {
    it('Create Container from Image pulls it first (a notification with its progress), then creates the container', async () => {
      const image = await pushedImage();
      const name = `sc-vscode-pulled-${randomBytes(3).toString('hex')}`;
      try {
        await assert.rejects(engine.inspectImage(image.ref), /not found/);
        const made = (await vscode.commands.executeCommand('saltContainers.createContainer', undefined, { image: image.ref, name })) as { id: string; name: string } | undefined;
        assert.equal(made?.name, name);
        const inspected = await engine.inspectContainer(name);
        assert.equal(inspected.State.Running, true);
        assert.equal(inspected.Config.Image, image.ref);
      } finally {
        await engine.removeContainer(name, { force: true }).catch(() => undefined);
        await image.remove([engine]);
      }
    });

    it('a pull cancelled (the notification\'s Cancel, here its signal) creates nothing', async () => {
      const own = await startRegistry({ storage: 'own' });
      const image = await pushedLargeImage(engine, own.address, 16);
      const link = await slowLink(own.address, 1_000_000);
      const ref = image.ref.replace(own.address, link.address);
      const name = `sc-vscode-never-${randomBytes(3).toString('hex')}`;
      try {
        const controller = new AbortController();
        const passed = setInterval(() => link.bytes() > 0 && controller.abort(), 50);
        const made = await vscode.commands.executeCommand('saltContainers.createContainer', undefined, { image: ref, name, signal: controller.signal });
        clearInterval(passed);
        assert.equal(made, undefined);
        await assert.rejects(engine.inspectContainer(name), /not found/);
        await assert.rejects(engine.inspectImage(ref), /not found/);
      } finally {
        await engine.removeContainer(name, { force: true }).catch(() => undefined);
        await engine.removeImage(ref, { force: true }).catch(() => undefined);
        await image.remove([engine]);
        await link.close();
        await own.stop();
      }
    });
  });

  describe('build', () => {
    it('builds an image from an SLS and shows it in the Images view', async () => {
      const { imagesView } = await api();
      const fixture = writeFixture({ 'init.sls': ['built_marker:', '  file.managed:', '    - name: /etc/sc-vscode-built', '    - contents: built by the extension test', ''].join('\n') });
      const tag = `sc-vscode-build:${randomBytes(3).toString('hex')}`;
      try {
        const run = (await vscode.commands.executeCommand('saltContainers.buildImage', undefined, { module: fixture.module, baseImage: testImage, tag })) as BuildRun;
        assert.equal(run.kind, 'build', JSON.stringify(run));
        assert.deepEqual(run.errors, []);
        assert.equal(run.image?.tag, tag);
        assert.equal(run.image?.failed, false);
        const inspected = await engine.inspectImage(tag);
        assert.ok(inspected.Id);
        const nodes = (await imagesView.getChildren()) as ImagesTreeNode[];
        assert.ok(nodes.some((n) => n.kind === 'image' && n.info.tags.includes(tag)), 'the built image is in the Images view');
      } finally {
        fixture.remove();
        await engine.removeImage(tag, { force: true }).catch(() => undefined);
      }
    });
  });
});
