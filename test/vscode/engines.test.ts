// The views and commands over several engines, inside the real extension host: the local dockerd,
// Podman's Docker API (an address in additionalDockerHosts) and the TLS dockerd by a Docker context
// (made by the real `docker context create` in a private DOCKER_CONFIG, listed by the contexts
// setting). Each engine lists its own containers and follows its own events; runs go to the engine
// of the container picked; dockerContext and `docker context use` change the primary engine; an
// engine that cannot be used says why. Settings and DOCKER_CONFIG are put back after.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DockerEngine, StateRun } from '../../src/engine';
import type { SaltContainersApi } from '../../src/extension/main';
import type { ContainerNode, ContainersTreeNode, EngineNode, ImageNode, ImagesTreeNode, MessageNode } from '../../src/extension/views/trees';
import { cleanDockerEnv, engineUnderTest, testEngines, tlsContext } from '../support/engines';

const TLS_CONTEXT = 'sc-vscode-tls';
const testImage = 'salt-containers-test:py3';

async function api(): Promise<SaltContainersApi> {
  return vscode.extensions.getExtension<SaltContainersApi>('salt-containers.salt-containers')!.activate();
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('engines in the views', function () {
  this.timeout(90_000);
  const engines = testEngines();
  const config = () => vscode.workspace.getConfiguration('saltContainers');
  const context = tlsContext(TLS_CONTEXT);
  const savedConfigDir = process.env.DOCKER_CONFIG;
  const others: { key: string; engine: DockerEngine; container: string }[] = [
    { key: engines.podman.host, engine: engineUnderTest('podman'), container: `sc-vscode-podman-${process.pid}` },
    { key: TLS_CONTEXT, engine: engineUnderTest('tls'), container: `sc-vscode-tls-${process.pid}` },
  ];
  const dockerContext = (...args: string[]) => execFileSync('docker', ['context', ...args], { env: { ...cleanDockerEnv(), DOCKER_CONFIG: context.configDir }, stdio: 'pipe' });

  before(async () => {
    process.env.DOCKER_CONFIG = context.configDir; // the extension runs in this process: it reads the contexts from there
    await config().update('additionalDockerHosts', [engines.podman.host], vscode.ConfigurationTarget.Global);
    await config().update('contexts', [TLS_CONTEXT], vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    for (const name of ['additionalDockerHosts', 'contexts', 'dockerContext']) await config().update(name, undefined, vscode.ConfigurationTarget.Global);
    if (savedConfigDir === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = savedConfigDir;
    for (const other of others) await other.engine.removeContainer(other.container, { force: true }).catch(() => undefined);
    context.remove();
    await vscode.commands.executeCommand('saltContainers.refresh');
  });

  const roots = async () => (await (await api()).containersView.getChildren()) as ContainersTreeNode[];
  const engineNode = async (key: string) => (await roots()).find((n): n is EngineNode => n.kind === 'engine' && n.engineKey === key);
  const containerIn = async (key: string, name: string) => {
    const node = await engineNode(key);
    const children = node ? ((await (await api()).containersView.getChildren(node)) as ContainersTreeNode[]) : [];
    return children.find((n): n is ContainerNode => n.kind === 'container' && n.info.name === name);
  };

  it('list the local engine, Podman and the TLS context, each with what it holds', async () => {
    const { containersView, imagesView } = await api();
    const nodes = await roots();
    assert.deepEqual(
      nodes.map((n) => [n.kind, n.kind === 'engine' ? n.label : '']),
      [
        ['engine', 'default'],
        ['engine', engines.podman.host],
        ['engine', TLS_CONTEXT],
      ],
    );
    const tls = containersView.getTreeItem(nodes[2]);
    assert.equal(tls.description, engines.tls.host);
    assert.match(String(tls.tooltip), new RegExp(`${engines.tls.host.replace(/[.]/g, '\\.')} \\(context ${TLS_CONTEXT}\\)\\nchosen by context`));
    const images = (await imagesView.getChildren()) as ImagesTreeNode[];
    for (const root of images) {
      const children = (await imagesView.getChildren(root)) as ImagesTreeNode[];
      assert.ok(
        children.some((n): n is ImageNode => n.kind === 'image' && n.info.tags.some((t) => t.endsWith(testImage))),
        `${(root as EngineNode).label} lists ${testImage}: ${children.map((n) => (n.kind === 'image' ? n.info.tags.join(',') : n.kind)).join(' ')}`,
      );
    }
  });

  it('follow each engine\'s events: a container made on Podman or the TLS engine shows under its engine, and goes', async () => {
    const { containersView } = await api();
    let changes = 0;
    const listener = containersView.onDidChangeTreeData(() => changes++);
    try {
      await vscode.commands.executeCommand('saltContainers.containers.focus');
      await new Promise((resolve) => setTimeout(resolve, 1500)); // the view shows and its streams connect
      for (const other of others) {
        // Only that engine's event stream can tell the view: nothing else refreshes it meanwhile.
        changes = 0;
        const id = await other.engine.createContainer(testImage, { name: other.container, keepAlive: ['sleep', 'infinity'] });
        await other.engine.startContainer(id);
        await until(`a refresh after ${other.container} started on ${other.key}`, async () => (changes > 0 ? true : undefined));
        const node = await containerIn(other.key, other.container);
        assert.equal(node && containersView.getTreeItem(node).contextValue, 'runningContainer');
        assert.equal(await containerIn('', other.container), undefined, 'not under the local engine');
        // Podman says `remove` where Docker says `destroy`: both refresh.
        await new Promise((resolve) => setTimeout(resolve, 800)); // the debounced refresh of the start is done
        changes = 0;
        await other.engine.removeContainer(id, { force: true });
        await until(`a refresh after ${other.container} was removed from ${other.key}`, async () => (changes > 0 ? true : undefined));
        assert.equal(await containerIn(other.key, other.container), undefined);
      }
    } finally {
      listener.dispose();
    }
  });

  it('runs go to the engine of the container picked', async () => {
    const web = vscode.Uri.file(join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'salt', 'web', 'init.sls'));
    for (const other of others) {
      await other.engine.startContainer(await other.engine.createContainer(testImage, { name: other.container, keepAlive: ['sleep', 'infinity'] }));
      const run = (await vscode.commands.executeCommand('saltContainers.applySlsTest', web, { container: other.container, engine: other.key })) as StateRun;
      assert.equal(run.retcode, 0, JSON.stringify(run.errors));
      assert.equal(run.container?.name, other.container);
      assert.ok(run.states.length > 0 && run.states.every((s) => s.result === null), `${other.key}: test mode on its container`);
    }
  });

  it('the dockerContext setting, and `docker context use`, make a context the primary engine', async () => {
    await config().update('dockerContext', TLS_CONTEXT, vscode.ConfigurationTarget.Global);
    let nodes = await roots();
    assert.deepEqual(nodes.map((n) => (n.kind === 'engine' ? n.label : n.kind)), [TLS_CONTEXT, engines.podman.host], 'the context is the primary, listed once');
    assert.match(String((await api()).containersView.getTreeItem(nodes[0]).tooltip), /chosen by the saltContainers\.dockerContext setting\nruns go here/);
    await config().update('dockerContext', undefined, vscode.ConfigurationTarget.Global);
    dockerContext('use', TLS_CONTEXT);
    try {
      nodes = await until('the current context to be the primary engine', async () => {
        const now = await roots();
        return now[0]?.kind === 'engine' && now[0].label === TLS_CONTEXT ? now : undefined;
      });
      assert.match(String((await api()).containersView.getTreeItem(nodes[0]).tooltip), /chosen by the current context/);
    } finally {
      dockerContext('use', 'default');
    }
    await until('the local engine to be the primary again', async () => {
      const [first] = await roots();
      return first?.kind === 'engine' && first.label === 'default' ? true : undefined;
    });
  });

  it('an engine that cannot be used says why, with what to do', async () => {
    await config().update('contexts', ['sc-vscode-no-such-context'], vscode.ConfigurationTarget.Global);
    try {
      const node = await engineNode('sc-vscode-no-such-context');
      assert.ok(node, 'the context is listed');
      const [message] = (await (await api()).containersView.getChildren(node)) as MessageNode[];
      assert.equal(message.kind, 'message');
      const item = (await api()).containersView.getTreeItem(message);
      assert.equal(item.label, 'Engine cannot be used as named');
      assert.equal(item.contextValue, 'engineError');
      assert.match(String(item.tooltip), /Docker context sc-vscode-no-such-context not found[\s\S]*How to fix: `docker context ls`/);
    } finally {
      await config().update('contexts', [TLS_CONTEXT], vscode.ConfigurationTarget.Global);
    }
  });
});
