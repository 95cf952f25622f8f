// Restricted Mode: state tests are listed but do not run (they run the workspace's Salt states).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { SaltContainersApi } from '../../../src/extension/main';

describe('State tests in Restricted Mode', function () {
  this.timeout(30_000);

  it('lists the matrix but refuses to run it, and says why', async () => {
    const api = await vscode.extensions.getExtension<SaltContainersApi>('salt-containers.salt-containers')!.activate();
    await api.stateTests.discover();
    const items: vscode.TestItem[] = [];
    api.stateTests.controller.items.forEach((item) => items.push(item));
    assert.equal(items.length, 1);
    const cancel = new vscode.CancellationTokenSource();
    await api.stateTests.runOnce(new vscode.TestRunRequest(items), cancel.token);
    const outcomes = [...api.stateTests.outcomes.values()];
    assert.equal(outcomes.length, 2);
    for (const outcome of outcomes) {
      assert.equal(outcome.state, 'errored');
      if (outcome.state === 'errored') assert.match(String(outcome.messages[0].message), /disabled in Restricted Mode/);
    }
  });
});
