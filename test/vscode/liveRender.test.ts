// The live render inside the real extension host, on the real engine and Salt: unsaved edits to a module
// of the folder whose target is the test container are rendered by its warm Salt, Salt's errors land in
// the `salt-containers-live` collection at their lines (source `salt (container NAME)`), and go with the
// fix; the file on disk is never written; a fact the static checks state is not said again.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { api, fixtureModule, until } from './support';

const container = process.env.SALT_CONTAINERS_TEST_CONTAINER ?? 'sc-vscode-test';

const lines = [
  'live_dir:', // 0
  '  file.directory:', // 1
  '    - name: /srv/sc-live', // 2
  'live_file:', // 3
  '  file.managed:', // 4
  '    - name: /srv/sc-live/file', // 5
  "    - contents: {{ grains['os_family'] }}", // 6
  '    - require:', // 7
  '      - file: live_dir', // 8
  '',
];

describe('the live render', function () {
  this.timeout(90_000);
  let file: string;
  let uri: vscode.Uri;
  let removeFixture: () => Promise<void>;

  before(async () => {
    ({ file, remove: removeFixture } = await fixtureModule('sc_live', lines.join('\n')));
    uri = vscode.Uri.file(file);
    assert.notEqual(await vscode.commands.executeCommand('saltContainers.selectTarget', uri, { container }), undefined);
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await removeFixture();
  });

  const live = async () => (await api()).liveRender.collection.get(uri) ?? [];

  it("shows Salt's errors in the unsaved buffer at their lines, and clears them with the fix; the disk is never written", async () => {
    const editor = await vscode.window.showTextDocument(uri);
    const { liveRender } = await api();
    const before = liveRender.renders.length;
    await editor.edit((edit) => edit.replace(new vscode.Range(6, 0, 6, 100), '    - contents: {{ no_such_variable.attr }}'));
    const undefinedVariable = await until('the undefined variable from Salt', async () => (await live()).find((d) => d.range.start.line === 6));
    assert.equal(undefinedVariable.source, `salt (container ${container})`);
    assert.equal(undefinedVariable.severity, vscode.DiagnosticSeverity.Error);
    assert.match(undefinedVariable.message, /'no_such_variable' is undefined/);
    assert.equal(readFileSync(file, 'utf8'), lines.join('\n'), 'the buffer never reached the disk');
    assert.ok(liveRender.renders.length > before && liveRender.renders.at(-1)!.container === container);

    await editor.edit((edit) => edit.replace(new vscode.Range(6, 0, 6, 100), lines[6]));
    await until('the fix to clear it', async () => (await live()).length === 0);

    // A requisite to a state the container's grains name: the static checks cannot know; Salt says so at its line.
    await editor.edit((edit) => edit.replace(new vscode.Range(8, 0, 8, 100), "      - file: {{ grains['id'] }}"));
    const requisite = await until('the requisite to nothing from Salt', async () => (await live()).find((d) => d.range.start.line === 8));
    assert.equal(requisite.code, 'requisite');
    assert.match(requisite.message, new RegExp(`requisite.*${container}`));
    await editor.edit((edit) => edit.replace(new vscode.Range(8, 0, 8, 100), lines[8]));
    await until('the fix to clear it', async () => (await live()).length === 0);
    assert.equal(readFileSync(file, 'utf8'), lines.join('\n'));
  });

  it('says a fact the static checks state only once: a requisite to an ID that is not there', async () => {
    const editor = await vscode.window.showTextDocument(uri);
    const { liveRender } = await api();
    await editor.edit((edit) => edit.replace(new vscode.Range(8, 0, 8, 100), '      - file: not_declared'));
    const fromStatic = await until('the static check', () => vscode.languages.getDiagnostics(uri).find((d) => d.source === 'sls' && d.range.start.line === 8));
    assert.equal(fromStatic.code, 'unresolved-requisite');
    const rendered = liveRender.renders.length;
    await until('a live render of the edit', () => liveRender.renders.length > rendered);
    assert.deepEqual(
      (await live()).filter((d) => d.range.start.line === 8),
      [],
      'Salt said it too, and is left out',
    );
    await editor.edit((edit) => edit.replace(new vscode.Range(8, 0, 8, 100), lines[8]));
    await until('the fix to clear it', () => !vscode.languages.getDiagnostics(uri).some((d) => d.range.start.line === 8));
  });
});
