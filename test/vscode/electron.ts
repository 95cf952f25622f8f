// The same extension-host tests in a desktop VS Code, for machines that have one (or can download one):
// @vscode/test-electron's runTests with the entry and workspace that test/vscode/run.ts gives code-server.
// Not used here (no desktop VS Code can be had on these machines). Usage: node out/test/vscode/electron.js
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { DockerEngine } from '../../src/engine';
import { examplesFolder, startVscodeTestContainer, extensionTestEnv, quietSettings, vscodeTestContainer, type TrustMode } from '../support/codeServer';
import { REPO_ROOT, removeContainer } from '../support/containers';

async function runMode(mode: TrustMode): Promise<number> {
  const userData = mkdtempSync(join(tmpdir(), 'salt-containers-vscode-'));
  try {
    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(quietSettings(mode === 'untrusted'), null, 2));
    return await runTests({
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || undefined,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: join(REPO_ROOT, 'out', 'test', 'vscode', 'index.js'),
      extensionTestsEnv: extensionTestEnv(mode),
      launchArgs: [examplesFolder, `--user-data-dir=${userData}`, '--disable-extensions', ...(mode === 'trusted' ? ['--disable-workspace-trust'] : [])],
    });
  } catch (error) {
    console.error(`${mode}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    rmSync(userData, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await startVscodeTestContainer();
  let failed = 0;
  try {
    for (const mode of ['trusted', 'untrusted'] as const) if ((await runMode(mode)) !== 0) failed++;
  } finally {
    await removeContainer(new DockerEngine(), vscodeTestContainer);
  }
  process.exit(failed ? 1 : 0);
}

void main();
