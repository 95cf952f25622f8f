// Restricted Mode: the commands that run the workspace's Salt code refuse and say why; the views
// still list (they run nothing from the workspace); the capability is declared.
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DockerEngine } from '../../../src/engine';
import type { SaltContainersApi } from '../../../src/extension/main';
import type { ContainerNode, ContainersTreeNode } from '../../../src/extension/views/trees';

const container = process.env.SALT_CONTAINERS_TEST_CONTAINER ?? 'sc-vscode-test';

interface Refused {
  refused: true;
  reason: string;
  message: string;
}

describe('Salt Containers in Restricted Mode', function () {
  this.timeout(30_000);

  it('declares limited support and restricts the engine and Salt settings', () => {
    const extension = vscode.extensions.getExtension('salt-containers.salt-containers')!;
    const capability = extension.packageJSON.capabilities.untrustedWorkspaces;
    assert.equal(capability.supported, 'limited');
    for (const setting of ['saltPython', 'dockerHost', 'dockerContext', 'additionalDockerHosts', 'contexts', 'podman']) {
      assert.ok(capability.restrictedConfigurations.includes(`saltContainers.${setting}`), `saltContainers.${setting} is read from user settings only`);
    }
    assert.match(capability.description, /Restricted Mode/);
  });

  it('refuses apply, test, highstate, run-function and build with an explanation, and changes nothing', async () => {
    const engine = new DockerEngine();
    const before = await engine.diff(container);
    const web = vscode.Uri.file(join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'salt', 'web', 'init.sls'));
    const calls: [string, unknown[]][] = [
      ['saltContainers.applySls', [web, { container }]],
      ['saltContainers.applySlsTest', [web, { container }]],
      ['saltContainers.applyHighstate', [undefined, { container }]],
      ['saltContainers.applyState', [web, 'web_config', { container }]],
      ['saltContainers.applyStateTest', [web, 'web_config', { container }]],
      ['saltContainers.showRendered', [web, { container }]],
      ['saltContainers.runFunction', [undefined, { container, input: "cmd.run 'touch /tmp/sc-untrusted'" }]],
      ['saltContainers.buildImage', [undefined, { module: 'web', baseImage: 'salt-containers-test:py3', tag: 'sc-vscode-untrusted:never' }]],
    ];
    for (const [command, args] of calls) {
      const result = (await vscode.commands.executeCommand(command, ...args)) as Refused;
      assert.equal(result?.refused, true, `${command} ran in Restricted Mode`);
      assert.equal(result.reason, 'untrusted-workspace');
      assert.match(result.message, /Restricted Mode.*Trust the workspace/s);
    }
    assert.deepEqual(await engine.diff(container), before, 'the container changed');
    await assert.rejects(engine.inspectImage('sc-vscode-untrusted:never'), /not found/);
  });

  it('offers no CodeLens runs and no apply on save', async () => {
    const web = vscode.Uri.file(join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'salt', 'web', 'init.sls'));
    await vscode.workspace.openTextDocument(web);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', web)) ?? [];
    assert.deepEqual(
      lenses.filter((l) => l.command?.command.startsWith('saltContainers.')),
      [],
    );
    const api = (await vscode.extensions.getExtension<SaltContainersApi>('salt-containers.salt-containers')!.activate()) as SaltContainersApi;
    const before = api.lastRun;
    await vscode.workspace.getConfiguration('saltContainers').update('applyOnSave', 'apply', vscode.ConfigurationTarget.Global);
    const dir = join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'salt', `sc_untrusted_${Date.now()}`);
    mkdirSync(dir);
    try {
      const file = vscode.Uri.file(join(dir, 'init.sls'));
      writeFileSync(file.fsPath, 'untrusted_marker:\n  file.managed:\n    - name: /tmp/sc-untrusted-save\n');
      await vscode.commands.executeCommand('saltContainers.selectTarget', file, { container });
      const editor = await vscode.window.showTextDocument(file);
      await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), '# edited\n'));
      assert.equal(await editor.document.save(), true);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(api.lastRun, before, 'a save ran Salt in Restricted Mode');
      assert.equal((await new DockerEngine().exec(container, ['test', '-e', '/tmp/sc-untrusted-save'])).exitCode, 1);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(dir, { recursive: true, force: true });
      await vscode.workspace.getConfiguration('saltContainers').update('applyOnSave', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('still lists containers (nothing from the workspace runs for that)', async () => {
    const api = (await vscode.extensions.getExtension<SaltContainersApi>('salt-containers.salt-containers')!.activate()) as SaltContainersApi;
    const nodes = (await api.containersView.getChildren()) as ContainersTreeNode[];
    assert.ok(nodes.some((n): n is ContainerNode => n.kind === 'container' && n.info.name === container));
  });
});
