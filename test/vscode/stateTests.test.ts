// State tests in the Testing view of a real VS Code: the example workspace's salt-containers.yml
// discovered as file -> suite -> cell -> phase; a run on the real engine (common passes, web's
// module.run fails idempotence at its line, with the changes as a diff; the converge inline at the
// state lines); continuous run; nothing left.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DockerEngine } from '../../src/engine';
import type { SaltContainersApi } from '../../src/extension/main';

const engine = new DockerEngine();
const workspace = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const matrixFile = () => join(workspace(), 'salt-containers.yml');

async function stateTests(): Promise<SaltContainersApi['stateTests']> {
  const api = await vscode.extensions.getExtension<SaltContainersApi>('salt-containers.salt-containers')!.activate();
  await api.stateTests.discover();
  return api.stateTests;
}

function children(item: vscode.TestItem): vscode.TestItem[] {
  const list: vscode.TestItem[] = [];
  item.children.forEach((child) => list.push(child));
  return list;
}

async function containersOfMatrix(): Promise<string[]> {
  return (await engine.listContainers()).filter((c) => c.labels['io.salt-containers.test-matrix'] === matrixFile()).map((c) => c.name);
}

describe('State tests in the Testing view', function () {
  this.timeout(120_000);

  it('discovers salt-containers.yml as file -> suite -> cell (image@salt) -> phase, at their lines', async () => {
    const tests = await stateTests();
    const file = tests.controller.items.get(vscode.Uri.file(matrixFile()).toString());
    assert.ok(file, 'the matrix file is a test item');
    assert.equal(file.label, 'salt-containers.yml');
    const suites = children(file);
    assert.deepEqual(suites.map((s) => s.label), ['common', 'web']);
    const lines = readFileSync(matrixFile(), 'utf8').split('\n');
    assert.match(lines[suites[1].range!.start.line], /- name: web/);
    const [cell] = children(suites[1]);
    assert.equal(cell.label, 'salt-containers-test:py3@default');
    assert.deepEqual(children(cell).map((p) => p.label), ['converge', 'idempotence']);
    assert.equal(tests.runProfile.kind, vscode.TestRunProfileKind.Run);
    assert.equal(tests.runProfile.supportsContinuousRun, true);
    assert.equal(tests.runProfile.isDefault, true);
  });

  it('runs cells on the engine: passed phases, an idempotence failure at its line with the changes as a diff, no container left', async () => {
    const tests = await stateTests();
    const file = tests.controller.items.get(vscode.Uri.file(matrixFile()).toString())!;
    const cancel = new vscode.CancellationTokenSource();
    await tests.runOnce(new vscode.TestRunRequest(children(file)), cancel.token);
    const [common, web] = children(file).map((suite) => children(suite)[0]);
    const state = (item: vscode.TestItem) => tests.outcomes.get(item.id)?.state;
    assert.equal(state(common), 'passed');
    assert.deepEqual(children(common).map(state), ['passed', 'passed']);
    assert.equal(state(web), 'failed');
    const [converge, idempotence] = children(web);
    assert.equal(state(converge), 'passed');
    const outcome = tests.outcomes.get(idempotence.id)!;
    assert.equal(outcome.state, 'failed');
    const messages = outcome.state === 'failed' ? outcome.messages : [];
    const greeting = messages.find((m) => String(m.message).startsWith('web_greeting (module.run'));
    assert.ok(greeting, `no message for web_greeting: ${messages.map((m) => m.message).join(' | ')}`);
    assert.match(String(greeting.message), /not idempotent: changed again on the second run/);
    const webSls = join(workspace(), 'salt', 'web', 'init.sls');
    assert.equal(greeting.location?.uri.fsPath, webSls);
    assert.match(readFileSync(webSls, 'utf8').split('\n')[greeting.location!.range.start.line], /^web_greeting:/);
    assert.equal(greeting.expectedOutput, 'no changes\n');
    assert.match(greeting.actualOutput ?? '', /demo\.greet/);
    // Results inline, as after an apply: the converge's outcome at the end of web_greeting's line.
    const api = await vscode.extensions.getExtension<SaltContainersApi>('salt-containers.salt-containers')!.activate();
    const inline = api.inlineResults(webSls)?.results.find((r) => r.ids.includes('web_greeting'));
    assert.ok(inline, `no inline result for web_greeting: ${JSON.stringify(api.inlineResults(webSls))}`);
    assert.equal(inline.line, greeting.location!.range.start.line);
    assert.match(inline.label, /changed \(\d+\)/);
    assert.deepEqual(await containersOfMatrix(), []);
  });

  it('a continuous run runs again when a Salt file changes, until it is stopped', async () => {
    const tests = await stateTests();
    const file = tests.controller.items.get(vscode.Uri.file(matrixFile()).toString())!;
    const common = children(children(file)[0])[0];
    const cancel = new vscode.CancellationTokenSource();
    const before = tests.runs;
    const running = tests.runHandler(new vscode.TestRunRequest([common], undefined, tests.runProfile, true), cancel.token);
    const waitForRuns = async (count: number) => {
      for (let waited = 0; tests.runs < count || tests.outcomes.get(common.id)?.state !== 'passed'; waited += 200) {
        if (waited > 60_000) assert.fail(`${tests.runs - before} runs, ${tests.outcomes.get(common.id)?.state}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    await waitForRuns(before + 1);
    const touched = join(workspace(), 'salt', `sc_vscode_touch_${randomBytes(3).toString('hex')}.sls`);
    try {
      writeFileSync(touched, '# a change a continuous run sees\n');
      await waitForRuns(before + 2);
    } finally {
      rmSync(touched, { force: true });
      cancel.cancel();
      await running;
    }
    assert.equal(tests.runs, before + 2);
    assert.deepEqual(await containersOfMatrix(), []);
  });
});
