// The extension-host test entry (the @vscode/test-electron contract: `run()` resolves when every test
// passed, rejects otherwise). Loaded inside the real extension host by test/vscode/run.ts (code-server)
// or test/vscode/electron.ts (a desktop VS Code). SALT_CONTAINERS_TEST_MODE=untrusted picks the tests
// meant for a workspace in Restricted Mode.
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';

/**
 * Marks the reporter's lines in the workbench log, where the extension host's console arrives mixed
 * with the workbench's own messages and with printf arguments unformatted; test/vscode/run.ts keeps
 * only the lines that carry it.
 */
export const reporterLineMarker = '[salt-containers-test] ';
/** The environment variable that asks for the marker (a desktop VS Code prints the console plainly). */
export const markReporterLines = 'SALT_CONTAINERS_TEST_MARK_LINES';

export async function run(): Promise<void> {
  const untrusted = process.env.SALT_CONTAINERS_TEST_MODE === 'untrusted';
  const dir = untrusted ? join(__dirname, 'untrusted') : __dirname;
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.test.js'))
    .sort()
    .map((name) => join(dir, name));
  if (files.length === 0) throw new Error(`no test files (*.test.js) in ${dir}`);

  // mocha's spec reporter without colours, each line formatted here and, for code-server, marked.
  const marker = process.env[markReporterLines] === '1' ? reporterLineMarker : '';
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => {
    for (const line of format(...args).split('\n')) console.log(marker + line);
  };
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 60_000 });
  for (const file of files) mocha.addFile(file);
  await mocha.loadFilesAsync();
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} extension-host test(s) failed`);
}
