// The harness itself, inside the real extension host: the example workspace is open, the runner's
// environment reaches the extension host, and the extension under development is loaded.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';

const repoRoot = join(__dirname, '..', '..', '..');

describe('harness (trusted workspace)', () => {
  it('opens the example workspace examples/', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    assert.equal(folders[0].uri.fsPath, join(repoRoot, 'examples'));
  });

  it('passes the test container name to the extension host', () => {
    assert.match(process.env.SALT_CONTAINERS_TEST_CONTAINER ?? '', /^sc-vscode-test-[0-9a-f]{8}$/);
  });

  it('loads the extension under development from the repository', () => {
    const extension = vscode.extensions.getExtension('salt-containers.salt-containers');
    assert.ok(extension, 'salt-containers.salt-containers is not among the extensions');
    assert.equal(extension.extensionUri.fsPath, repoRoot);
  });

  it('runs in a trusted workspace', () => {
    assert.equal(vscode.workspace.isTrusted, true);
  });
});
