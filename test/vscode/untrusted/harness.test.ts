// The harness in Restricted Mode: the same workspace, not trusted, with the extension still loaded.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';

const repoRoot = join(__dirname, '..', '..', '..', '..');

describe('harness (untrusted workspace)', () => {
  it('opens the example workspace examples/ without trusting it', () => {
    assert.equal(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, join(repoRoot, 'examples'));
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it('loads the extension under development from the repository', () => {
    const extension = vscode.extensions.getExtension('salt-containers.salt-containers');
    assert.ok(extension, 'salt-containers.salt-containers is not among the extensions');
    assert.equal(extension.extensionUri.fsPath, repoRoot);
  });
});
