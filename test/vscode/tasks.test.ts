// The `salt-containers` check task inside the real extension host: offered for the workspace folder, it
// runs the bundled CLI over the trees (a file nobody opened included), exits 1 on an error, and its
// problem matcher puts the finding in the Problems view at its line; after the fix a rerun exits 0 and
// the finding is gone.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { until } from './support';

const workspace = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

/** Runs a task to its end: its exit code. */
async function runTask(task: vscode.Task): Promise<number | undefined> {
  const ended: vscode.TaskProcessEndEvent[] = [];
  const listener = vscode.tasks.onDidEndTaskProcess((e) => ended.push(e));
  try {
    const execution = await vscode.tasks.executeTask(task);
    const end = await until('the task to end', async () => ended.find((e) => e.execution === execution), 60_000);
    return end.exitCode;
  } finally {
    listener.dispose();
  }
}

const fromTask = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'salt-containers check');

describe('the check task', function () {
  this.timeout(120_000);

  it('puts the problems of the whole tree, unopened files included, in the Problems view, and clears them after the fix', async () => {
    const file = join(workspace(), 'salt', `sc_task_${randomBytes(3).toString('hex')}.sls`);
    const uri = vscode.Uri.file(file);
    // An `if` never closed: Jinja's error is at the block's opening line (line 3).
    writeFileSync(file, ['task_ok:', '  test.nop: []', '{% if grains.os %}', 'task_more:', '  test.nop: []', ''].join('\n'));
    try {
      const tasks = await vscode.tasks.fetchTasks({ type: 'salt-containers' });
      const check = tasks.find((t) => t.definition.verb === 'check' && typeof t.scope === 'object' && t.scope.uri.fsPath === workspace());
      assert.ok(check, `a check task for the folder among ${tasks.map((t) => t.name).join(', ')}`);
      assert.equal(vscode.workspace.textDocuments.some((d) => d.uri.fsPath === file), false, 'the broken file is not open');

      assert.equal(await runTask(check), 1);
      const found = await until('the finding in the Problems view', async () => (fromTask(uri).length ? fromTask(uri) : undefined), 30_000);
      assert.deepEqual(
        found.map((d) => [d.range.start.line, d.severity]),
        [[2, vscode.DiagnosticSeverity.Error]],
      );
      assert.match(found[0].message, /Unexpected end of template/);

      writeFileSync(file, ['task_ok:', '  test.nop: []', ''].join('\n'));
      assert.equal(await runTask(check), 0);
      await until('the finding cleared', async () => fromTask(uri).length === 0 || undefined, 30_000);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("reads the folder's trees from the settings, as the extension's runs do: saltContainers.pillarRoot naming a pillar.example is checked as pillar data", async () => {
    const name = `sc_task_${randomBytes(3).toString('hex')}.example`;
    const file = join(workspace(), name);
    // A key given twice at the top level (as bind-formula's pillar.example does): Salt's YAML loader refuses it.
    writeFileSync(file, ['site:', '  name: one', 'site:', '  name: two', ''].join('\n'));
    const settingsDir = join(workspace(), '.vscode');
    const hadSettings = existsSync(settingsDir);
    const config = vscode.workspace.getConfiguration('saltContainers', vscode.workspace.workspaceFolders![0].uri);
    await config.update('pillarRoot', name, vscode.ConfigurationTarget.WorkspaceFolder);
    try {
      const check = (await vscode.tasks.fetchTasks({ type: 'salt-containers' })).find((t) => t.definition.verb === 'check');
      assert.ok(check);
      assert.equal(await runTask(check), 1);
      const found = await until('the pillar finding in the Problems view', async () => (fromTask(vscode.Uri.file(file)).length ? fromTask(vscode.Uri.file(file)) : undefined), 30_000);
      assert.deepEqual(
        found.map((d) => [d.range.start.line, d.severity]),
        [[2, vscode.DiagnosticSeverity.Error]],
      );
      assert.match(found[0].message, /found conflicting ID 'site'/);
    } finally {
      await config.update('pillarRoot', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
      // The example workspace as it was: no settings folder the update made.
      if (!hadSettings) rmSync(settingsDir, { recursive: true, force: true });
      rmSync(file, { force: true });
    }
  });
});
