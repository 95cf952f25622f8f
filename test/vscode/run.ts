// Runs the extension-host tests (test/vscode/**/*.test.ts, mocha) inside a real VS Code: code-server's
// workbench in headless Chromium, with the extension under development and the tests handed over in the
// `payload` URL parameter (the @vscode/test-electron contract). Two launches: a trusted workspace, then
// the same folder untrusted (Restricted Mode) with the tests in test/vscode/untrusted/. The extension
// works on a real container, sc-vscode-test, made here and removed after. Ends with `N passed, N failed`.
import { join } from 'node:path';
import { DockerEngine } from '../../src/engine';
import {
  startVscodeTestContainer,
  examplesFolder,
  extensionTestEnv,
  openBrowser,
  remoteUri,
  runWithLimit,
  startCodeServer,
  vscodeTestContainer,
  workbenchUrl,
  type Browser,
  type CodeServer,
  type Counts,
  type TrustMode,
} from '../support/codeServer';
import { REPO_ROOT, removeContainer } from '../support/containers';
import { markReporterLines, reporterLineMarker } from './index';

// One launch may take most of the run (the trusted suite is the long one); the whole run stays under 5 min.
const launchTimeoutMs = 180_000;
const wholeRunTimeoutMs = 290_000;
const verbose = process.env.SALT_CONTAINERS_TEST_VERBOSE === '1';

interface LaunchResult {
  mode: TrustMode;
  passed: number;
  failed: number;
  seconds: number;
}

/** What is running now, so a timeout or Ctrl-C can stop it. */
const running: { server?: CodeServer; browser?: Browser } = {};

async function stopRunning(): Promise<void> {
  await running.browser?.close();
  await running.server?.stop();
  running.browser = undefined;
  running.server = undefined;
}

/** The reporter's line in a workbench log message (see index.ts), or undefined for the workbench's own messages. */
function reporterLine(message: string): string | undefined {
  return message.startsWith(reporterLineMarker) ? message.slice(reporterLineMarker.length) : undefined;
}

async function launch(mode: TrustMode): Promise<LaunchResult> {
  const started = Date.now();
  console.log(`\n--- extension-host tests, ${mode} workspace ---`);
  const server = await startCodeServer({
    workspaceTrust: mode === 'untrusted',
    testDriver: true,
    env: { ...extensionTestEnv(mode), [markReporterLines]: '1' },
  });
  running.server = server;
  const browser = await openBrowser();
  running.browser = browser;

  const output: string[] = [];
  // The workbench's own log (driver, lifecycle, gallery look-ups that fail offline): shown with
  // SALT_CONTAINERS_TEST_VERBOSE=1, and its tail when a launch fails.
  const workbenchLog: string[] = [];
  const exit = new Promise<number>((resolve) => {
    void browser.page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
  });
  await browser.page.exposeFunction('codeAutomationLog', (level: string, message: string) => {
    const line = reporterLine(String(message));
    if (line !== undefined) {
      output.push(line);
      console.log(line);
      return;
    }
    const entry = `[workbench ${level}] ${String(message).split('\n')[0]}`;
    workbenchLog.push(entry);
    if (verbose) console.log(entry);
  });
  browser.page.on('pageerror', (error) => workbenchLog.push(`[page error] ${error.message}`));
  const showWorkbenchLog = () => {
    if (!verbose) console.log(`the workbench's last log lines:\n${workbenchLog.slice(-30).join('\n')}`);
  };

  const payload: [string, string][] = [
    ['extensionDevelopmentPath', remoteUri(server, REPO_ROOT)],
    ['extensionTestsPath', remoteUri(server, join(REPO_ROOT, 'out', 'test', 'vscode', 'index.js'))],
    ['skipWelcome', 'true'],
  ];
  await browser.page.goto(workbenchUrl(server, examplesFolder, payload));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the ${mode} extension-host tests did not finish within ${launchTimeoutMs / 1000} s (no codeAutomationExit from the workbench)`)),
      launchTimeoutMs,
    );
  });
  try {
    const code = await Promise.race([exit, timeout]);
    const text = output.join('\n');
    const passing = Number(/^\s*(\d+) passing/m.exec(text)?.[1] ?? 0);
    let failing = Number(/^\s*(\d+) failing/m.exec(text)?.[1] ?? 0);
    if (code !== 0 && failing === 0) {
      console.log(`the ${mode} run ended with exit code ${code} and no failing test: counted as one failure`);
      showWorkbenchLog();
      failing = 1;
    }
    if (code === 0 && passing === 0) {
      console.log(`the ${mode} run passed no test: counted as one failure`);
      showWorkbenchLog();
      failing = Math.max(failing, 1);
    }
    return { mode, passed: passing, failed: failing, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    console.log((error as Error).message);
    showWorkbenchLog();
    const tail = server.output().split('\n').slice(-15).join('\n');
    if (tail.trim()) console.log(`code-server's last lines:\n${tail}`);
    // The tests that finished before the hang still count; the hang is one failure.
    const passed = output.filter((line) => /^\s*✔/.test(line)).length;
    const failed = output.filter((line) => /^\s*\d+\) /.test(line)).length + 1;
    return { mode, passed, failed, seconds: (Date.now() - started) / 1000 };
  } finally {
    clearTimeout(timer);
    await stopRunning();
  }
}

/**
 * After the trusted window closed (code-server stopped: the extension host is gone), the warm session
 * its last test left in the container must be gone too: no process, no directory in /dev/shm or /tmp.
 */
async function sessionEndedWithTheWindow(): Promise<LaunchResult> {
  const started = Date.now();
  const engine = new DockerEngine();
  const probe = async () => {
    const result = await engine.exec(vscodeTestContainer, ['sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done | grep -c "salt-containers\\.[0-9a-f]" ; ls -d /dev/shm/salt-containers.* /tmp/salt-containers.* 2>/dev/null || true']);
    return result.stdout.trim();
  };
  let left = await probe();
  for (let waited = 0; left !== '0' && waited < 15_000; waited += 500) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    left = await probe();
  }
  const ok = left === '0';
  console.log(`  ${ok ? '✔' : '✖'} the warm session ended with the window: ${ok ? 'no process, no directory left' : `left in the container:\n${left}`}`);
  return { mode: 'trusted', passed: ok ? 1 : 0, failed: ok ? 0 : 1, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<Counts> {
  const started = Date.now();
  await startVscodeTestContainer();
  const results: LaunchResult[] = [];
  for (const mode of ['trusted', 'untrusted'] as const) {
    results.push(await launch(mode));
    if (mode === 'trusted') results.push(await sessionEndedWithTheWindow());
  }
  console.log('');
  for (const r of results) console.log(`${r.mode.padEnd(10)} ${r.passed} passed; ${r.failed} failed in ${r.seconds.toFixed(1)} s`);
  console.log(`vscode tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { passed: results.reduce((n, r) => n + r.passed, 0), failed: results.reduce((n, r) => n + r.failed, 0) };
}

runWithLimit('the vscode suite', wholeRunTimeoutMs, main, async () => {
  await stopRunning();
  await removeContainer(new DockerEngine(), vscodeTestContainer);
});
