// The one run funnel (src/extension/runs.ts) inside the real extension host, on the real engine and
// Salt: Run Salt Function is tracked like any run (apply on save on the same container waits for it:
// the container's own clock says the saved module ran after the function ended), and a function's
// failure is logged as a state run's is (`error: ...` after the run's `---` line in the output).
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { CallRun, StateRun } from '../../src/engine';
import { errorWithHint } from '../../src/extension/format';
import { api, fixtureModule, until } from './support';

const container = process.env.SALT_CONTAINERS_TEST_CONTAINER ?? 'sc-vscode-test';

/** The output lines written since `from` lines were there. */
async function logSince(from: number): Promise<string[]> {
  return (await api()).outputLines.slice(from);
}

describe('the run funnel', function () {
  this.timeout(120_000);
  let module: string;
  let file: string;
  let removeFixture: () => Promise<void>;

  before(async () => {
    // The container's clock in nanoseconds when the state runs.
    ({ module, file, remove: removeFixture } = await fixtureModule('sc_runs', ['stamp:', '  cmd.run:', '    - name: date +%s%N', ''].join('\n')));
  });
  after(async () => {
    await vscode.commands.executeCommand('saltContainers.selectTarget', vscode.Uri.file(file), { container: '' });
    await removeFixture();
  });

  it('tracks Run Salt Function: apply on save on its container waits for it to end', async () => {
    const uri = vscode.Uri.file(file);
    await vscode.commands.executeCommand('saltContainers.selectTarget', uri, { container });
    await vscode.workspace.getConfiguration('saltContainers').update('applyOnSave', 'apply', vscode.ConfigurationTarget.Workspace);
    const editor = await vscode.window.showTextDocument(uri);
    const before = (await api()).lastRun;
    // Four seconds, then the container's clock: the function's end.
    const calling = vscode.commands.executeCommand('saltContainers.runFunction', undefined, { container, input: `cmd.run "sh -c 'sleep 4; date +%s%N'"` }) as Thenable<CallRun>;
    await new Promise((r) => setTimeout(r, 800));
    await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), '# saved while the function runs\n'));
    await editor.document.save();
    // Watched from the save on: a run that did not wait would show (and be replaced) while the function runs.
    const saved = until(
      'the run after the save',
      async () => {
        const last = (await api()).lastRun;
        return last !== before && last?.kind === 'state' && last.mods.includes(module) ? last : undefined;
      },
      60_000,
    );
    const call = await calling;
    assert.deepEqual(call.errors, []);
    const callEnded = BigInt(String(call.return).trim());
    const run = await saved;
    assert.deepEqual(run.errors, []);
    const stamp = run.states.find((s) => s.id === 'stamp');
    const stdout = (stamp?.changes as { stdout?: string } | undefined)?.stdout;
    assert.ok(stdout, JSON.stringify(run.states));
    const applied = BigInt(stdout.trim());
    assert.ok(applied > callEnded, `the saved module ran ${Number(callEnded - applied) / 1e6} ms before the function ended`);
    await vscode.workspace.getConfiguration('saltContainers').update('applyOnSave', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it("logs a function's failure as it logs a state run's", async () => {
    const from = (await api()).outputLines.length;
    const call = (await vscode.commands.executeCommand('saltContainers.runFunction', undefined, { container, input: 'nosuch.fn' })) as CallRun;
    assert.ok(call.errors.length, 'the function failed');
    const callLog = await logSince(from);
    const started = callLog.findIndex((line) => /^--- \S+ nosuch\.fn on /.test(line));
    assert.ok(started >= 0, callLog.join('\n'));
    assert.ok(callLog.slice(started).includes(`error: ${errorWithHint(call.errors[0])}`), callLog.join('\n'));

    // A state run that fails the same way (Salt could not render the module) logs the same line.
    writeFileSync(file, ['broken:', '  cmd.run:', "    - name: {{ salt['nosuch.fn']() }}", ''].join('\n'));
    const stateFrom = (await api()).outputLines.length;
    const run = (await vscode.commands.executeCommand('saltContainers.applySlsTest', vscode.Uri.file(file), { container })) as StateRun;
    assert.ok(run.errors.length, JSON.stringify(run.states));
    const stateLog = await logSince(stateFrom);
    const stateStarted = stateLog.findIndex((line) => line.startsWith('--- ') && line.includes(`test ${module} on ${container}`));
    assert.ok(stateStarted >= 0, stateLog.join('\n'));
    assert.ok(stateLog.slice(stateStarted).includes(`error: ${errorWithHint(run.errors[0])}`), stateLog.join('\n'));
  });
});
