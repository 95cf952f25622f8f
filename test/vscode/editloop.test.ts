// The edit loop inside the real extension host, on the real engine and Salt: the folder's target
// container (runs go there without asking, through its warm session), results at the end of the state
// lines (outdated after an edit), CodeLens runs of one state (IDs tpldir decides too), apply on save,
// Show Rendered SLS with its render errors on the source line (rendered again when the disk changes), the results history and its
// comparison, and the session ending with its target. A fixture module is written into the example state tree and removed after.
import * as assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { DockerEngine, type RenderRun, type StateRun } from '../../src/engine';
import { api, fixtureModule, until } from './support';

const container = process.env.SALT_CONTAINERS_TEST_CONTAINER ?? 'sc-vscode-test';
const engine = new DockerEngine();

/** Processes of our sessions in the container. */
async function sessionProcesses(): Promise<string[]> {
  const result = await engine.exec(container, ['sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done']);
  return result.stdout.split('\n').filter((l) => /salt-containers\.[0-9a-f]{16}/.test(l));
}

const lines = [
  '# the edit loop’s fixture', // 0
  'loop_dir:', // 1
  '  file.directory:', // 2
  '    - name: /srv/sc-editloop', // 3
  '', // 4
  'loop_file:', // 5
  '  file.managed:', // 6
  '    - name: /srv/sc-editloop/file', // 7
  "    - contents: {{ grains['os_family'] }}", // 8
  '    - require:', // 9
  '      - file: loop_dir', // 10
  '', // 11
  'loop_fails:', // 12
  '  file.exists:', // 13
  '    - name: /nonexistent/sc-editloop', // 14
  '',
];

describe('the edit loop', function () {
  this.timeout(90_000);
  let module: string;
  let dir: string;
  let file: string;
  let uri: vscode.Uri;
  let removeFixture: () => Promise<void>;

  before(async () => {
    ({ module, dir, file, remove: removeFixture } = await fixtureModule('sc_editloop', lines.join('\n')));
    uri = vscode.Uri.file(file);
  });
  after(() => removeFixture());

  it('runs on the folder’s target container without asking, through a warm session, and puts the results on the state lines', async () => {
    assert.notEqual(await vscode.commands.executeCommand('saltContainers.selectTarget', uri, { container }), undefined);
    await vscode.window.showTextDocument(uri);
    // No container option: the target is used (a quick pick would never be answered here).
    const run = (await vscode.commands.executeCommand('saltContainers.applySls', uri)) as StateRun;
    assert.equal(run.kind, 'state', JSON.stringify(run));
    assert.equal(run.container?.name, container);
    assert.equal(run.warm, true, 'the run on the target goes through its warm session');
    assert.deepEqual(run.errors, []);
    assert.equal(run.retcode, 2);
    assert.equal((await sessionProcesses()).length >= 1, true, 'the session stays in the container');

    const inline = (await api()).inlineResults(file);
    assert.ok(inline, 'no inline results for the file');
    assert.equal(inline.outdated, false);
    assert.deepEqual(
      inline.results.map((r) => [r.line, r.outcome, r.label.replace(/ · .*$/, '')]),
      [
        [1, 'changed', '● changed (1)'],
        [5, 'changed', '● changed (1)'],
        [12, 'failed', '✗ failed'],
      ],
    );
    assert.match(inline.results[2].hover, /\/nonexistent\/sc-editloop/, 'the hover has the comment');
    assert.match(inline.results[1].hover, /```/, 'the hover shows the changes');

    // A second run on the same session: unchanged now.
    const again = (await vscode.commands.executeCommand('saltContainers.applySls', uri)) as StateRun;
    assert.equal(again.warm, true);
    assert.deepEqual(
      (await api()).inlineResults(file)!.results.map((r) => [r.line, r.outcome]),
      [
        [1, 'succeeded'],
        [5, 'succeeded'],
        [12, 'failed'],
      ],
    );
  });

  it('marks a file’s results outdated once it is edited', async () => {
    const editor = await vscode.window.showTextDocument(uri);
    await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), '# edited\n'));
    assert.equal((await api()).inlineResults(file)?.outdated, true);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('offers CodeLens per state and per file; a state’s Apply runs that state alone', async () => {
    const lenses = await until('the CodeLens', async () => {
      const found = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
      return found.length ? found : undefined;
    });
    const titles = (line: number) => lenses.filter((l) => l.range.start.line === line).map((l) => l.command?.title);
    assert.deepEqual(titles(0), ['$(play) Apply file', '$(beaker) Test file', '$(file-code) Show rendered']);
    assert.deepEqual(titles(5), ['$(play) Apply', '$(beaker) Test']);
    const test = lenses.find((l) => l.range.start.line === 5 && l.command?.command === 'saltContainers.applyStateTest')!;
    const run = (await vscode.commands.executeCommand(test.command!.command, ...(test.command!.arguments ?? []))) as StateRun;
    assert.equal(run.stateId, 'loop_file');
    assert.equal(run.test, true);
    // state.sls_id runs the state and what it requires, nothing else of the module.
    assert.deepEqual(run.states.map((s) => s.id).sort(), ['loop_dir', 'loop_file']);
  });

  it('offers CodeLens on an ID that tpldir decides, and Salt runs the state by that ID', async () => {
    const tplFile = join(dir, 'tpl.sls');
    writeFileSync(tplFile, ["{%- set tplroot = tpldir.split('/')[0] %}", '{{ tplroot }}-marker:', '  test.succeed_without_changes: []', ''].join('\n'));
    const tplUri = vscode.Uri.file(tplFile);
    await vscode.window.showTextDocument(tplUri); // the workbench asks providers for open documents only
    const lenses = await until('the CodeLens', async () => {
      const found = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', tplUri, 100)) ?? [];
      return found.length ? found : undefined;
    });
    const test = lenses.find((l) => l.range.start.line === 1 && l.command?.command === 'saltContainers.applyStateTest');
    assert.ok(test, lenses.map((l) => `${l.range.start.line} ${l.command?.title}`).join(', '));
    const [lensUri, id] = test.command!.arguments ?? [];
    assert.deepEqual([String(lensUri), id], [tplUri.toString(), `${module}-marker`]);
    const run = (await vscode.commands.executeCommand(test.command!.command, ...(test.command!.arguments ?? []))) as StateRun;
    assert.deepEqual(run.errors, []);
    assert.deepEqual(
      run.states.map((s) => [s.id, s.result]),
      [[`${module}-marker`, true]],
    );
  });

  it('applies on save (test mode here) on the target, results inline', async () => {
    await vscode.workspace.getConfiguration('saltContainers').update('applyOnSave', 'test', vscode.ConfigurationTarget.Workspace);
    const before = (await api()).lastRun;
    const editor = await vscode.window.showTextDocument(uri);
    await editor.edit((edit) => edit.replace(new vscode.Range(14, 0, 14, 100), '    - name: /etc/hostname'));
    await editor.document.save();
    const run = await until('the run after the save', async () => {
      const last = (await api()).lastRun;
      return last !== before && last?.kind === 'state' ? last : undefined;
    });
    assert.equal(run.test, true);
    assert.equal(run.container?.name, container);
    assert.deepEqual(run.mods, [module]);
    assert.equal(run.states.find((s) => s.id === 'loop_fails')?.result, true, 'the saved edit ran');
    const inline = (await api()).inlineResults(file)!;
    assert.equal(inline.outdated, false);
    assert.deepEqual(
      inline.results.find((r) => r.line === 12)?.outcome,
      'succeeded',
    );
    await vscode.workspace.getConfiguration('saltContainers').update('applyOnSave', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('on save, pillar data kept in the state tree (a kitchen suite’s pillar folder) runs nothing, and says so in the output', async () => {
    await vscode.workspace.getConfiguration('saltContainers').update('applyOnSave', 'test', vscode.ConfigurationTarget.Workspace);
    try {
      const pillarFile = join(dir, 'pillar', 'suite.sls');
      mkdirSync(join(dir, 'pillar'));
      writeFileSync(pillarFile, 'editloop:\n  name: kitchen\n');
      const before = (await api()).lastRun;
      const from = (await api()).outputLines.length;
      const editor = await vscode.window.showTextDocument(vscode.Uri.file(pillarFile));
      await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), '# edited\n'));
      await editor.document.save();
      // Said at the save, before the debounce: no run was queued (it was: the file as module `MOD.pillar.suite`).
      await until('the save seen', async () => (await api()).outputLines.slice(from).find((line) => line.includes(`apply on save: ${pillarFile} is used by no SLS module`)));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal((await api()).lastRun, before);
    } finally {
      await vscode.workspace.getConfiguration('saltContainers').update('applyOnSave', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('keeps the runs in the results panel and compares two runs of the module', async () => {
    const { resultsHistory, compareResults } = await api();
    assert.ok(resultsHistory.length >= 3);
    assert.ok(resultsHistory.length <= 20);
    const [latest] = resultsHistory;
    const older = resultsHistory.findIndex((m, i) => i > 0 && m.key === latest.key);
    assert.ok(older > 0, 'an older run of the same module');
    const comparison = await compareResults(0, older);
    assert.ok(comparison);
    assert.ok(comparison.rows.some((r) => r.id === 'loop_fails' && r.before === 'failed' && r.after === 'succeeded'), JSON.stringify(comparison.rows));
  });

  it('shows the rendered SLS beside the source, and a render error on the source line', async () => {
    const run = (await vscode.commands.executeCommand('saltContainers.showRendered', uri)) as RenderRun;
    assert.deepEqual(run.errors, []);
    assert.match(run.rendered ?? '', /- contents: Debian/);
    const rendered = await until('the rendered document', () => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'salt-rendered' && d.uri.query === uri.toString()));
    assert.match(rendered.getText(), /- contents: Debian/);
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document === rendered), 'shown beside the source');

    // A broken template, saved: the rendered document is rendered again, the error goes on its line in the source.
    const editor = await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One });
    await editor.edit((edit) => edit.replace(new vscode.Range(8, 0, 8, 100), '    - contents: {{ nosuch.attr }}'));
    await editor.document.save();
    const broken = await until('the render after the save', () => {
      const last = api().then((a) => a.lastRender(file));
      return last.then((r) => (r && r !== run ? r : undefined));
    });
    assert.equal(broken.errors[0]?.kind, 'render');
    const problem = await until('the render error', () => vscode.languages.getDiagnostics(uri).find((d) => d.source === 'salt' && d.code === 'render'));
    assert.equal(problem.range.start.line, 8);
    await until('the rendered document to say so', () => /could not render/.test(rendered.getText()));
    await editor.edit((edit) => edit.replace(new vscode.Range(8, 0, 8, 100), lines[8]));
    await editor.document.save();
    await until('the render error to go with the fix', () => !vscode.languages.getDiagnostics(uri).some((d) => d.source === 'salt' && d.code === 'render'));
    await until('the rendered document after the fix', () => /- contents: Debian/.test(rendered.getText()));

    // Changed outside the editor (a git pull, sed -i: a new file renamed over it): rendered again from the disk.
    const outside = lines.map((line, i) => (i === 8 ? "    - contents: pulled-{{ grains['os_family'] }}" : line)).join('\n');
    writeFileSync(`${file}.pulled`, outside);
    renameSync(`${file}.pulled`, file);
    await until('the render after the change on disk', () => /- contents: pulled-Debian/.test(rendered.getText()));
    writeFileSync(file, lines.join('\n'));
    await until('the render after the file is put back', () => /- contents: Debian/.test(rendered.getText()));
  });

  it('ends the target’s warm session when the target changes: nothing is left in the container', async () => {
    assert.ok((await sessionProcesses()).length >= 1);
    await vscode.commands.executeCommand('saltContainers.selectTarget', uri, { container: '' });
    await until('the session to end', async () => (await api()).sessionsEnded.some((e) => e.container === container && e.reason === 'target-changed'));
    await until('no session process', async () => (await sessionProcesses()).length === 0);
    const dirs = await engine.exec(container, ['sh', '-c', 'ls -d /dev/shm/salt-containers.* /tmp/salt-containers.* 2>/dev/null || true']);
    assert.equal(dirs.stdout.trim(), '');
  });

  it('leaves a warm session on the target for the window to end (the harness checks the container after the window closed)', async () => {
    await vscode.commands.executeCommand('saltContainers.selectTarget', uri, { container });
    const run = (await vscode.commands.executeCommand('saltContainers.applySls', uri)) as StateRun;
    assert.equal(run.warm, true);
    assert.ok((await sessionProcesses()).length >= 1);
  });
});
