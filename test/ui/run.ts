// The workbench driven like a person, in code-server and headless Chromium, on the extension as users get
// it (the .vsix of `npm run package`, installed with --install-extension): open the example workspace,
// right-click salt/web/init.sls in the explorer, run "Apply SLS in Test Mode" and then "Apply SLS to
// Container" on the test container picked in the quick pick, and check what the Problems panel and the
// "Salt Results" panel show after each run. Then the edit loop: pick the target container in the status
// bar, run the file and one state from their CodeLens and read the results at the end of the lines,
// edit and save (apply on save is on in this workbench's settings), and open the rendered SLS.
// Screenshots go to test-output/ui/ (their paths are printed). Ends with `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { DockerEngine } from '../../src/engine';
import {
  startVscodeTestContainer,
  examplesFolder,
  openBrowser,
  runWithLimit,
  startCodeServer,
  vscodeTestContainer,
  waitForWorkbench,
  workbenchUrl,
  type Browser,
  type CodeServer,
  type Counts,
} from '../support/codeServer';
import { REPO_ROOT, removeContainer } from '../support/containers';

const wholeRunTimeoutMs = 330_000;
/** A Salt run on the test container takes a few seconds; this is the most a step waits for its results. */
const runTimeoutMs = 90_000;
const screenshotDir = join(REPO_ROOT, 'test-output', 'ui');
const slsFile = join(examplesFolder, 'salt', 'web', 'init.sls');
/** The state the checks look for, and the line that defines it (1-based, as the Problems panel says). */
const stateId = 'web_config';
const stateLine = readFileSync(slsFile, 'utf8').split('\n').findIndex((line) => line.startsWith(`${stateId}:`)) + 1;
const stateFile = '/etc/web/site.conf';
/** The file as it was: the apply-on-save step edits it, and it is put back however the run ends. */
const slsOriginal = readFileSync(slsFile, 'utf8');

const running: { server?: CodeServer; browser?: Browser } = {};
const extensionVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** `npm run package`'s script: the production .vsix (dist/ is rebuilt for development after it). */
function packageExtension(): string {
  const made = spawnSync('node', [join(REPO_ROOT, 'scripts', 'package.mjs')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000 });
  const vsix = join(REPO_ROOT, `salt-containers-${extensionVersion}.vsix`);
  if (made.status !== 0 || !existsSync(vsix)) throw new Error(`npm run package failed: ${made.stdout}${made.stderr}`);
  return vsix;
}

async function screenshot(page: Page, name: string): Promise<void> {
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path });
  console.log(`    screenshot ${relative(REPO_ROOT, path)}`);
}

/** The results webview's document (the workbench nests it in two iframes). */
function resultsView(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

/** Right-clicks salt/web/init.sls in the explorer, expanding salt and web first where they are collapsed. */
async function rightClickSlsFile(page: Page): Promise<void> {
  const tree = page.locator('.explorer-folders-view');
  for (const folder of ['salt', 'web']) {
    const row = tree.getByRole('treeitem', { name: folder, exact: true });
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  }
  const file = tree.locator('.monaco-list-row[aria-level="3"]').filter({ has: page.locator('.label-name', { hasText: /^init\.sls$/ }) });
  await file.click({ button: 'right' });
}

/** Picks an entry of the explorer's context menu on salt/web/init.sls. */
async function explorerMenu(page: Page, entry: string): Promise<void> {
  await rightClickSlsFile(page);
  // Pointing at the entry before clicking, as a person does: a click that lands the instant the menu
  // opens can be taken for the end of the right-click and ignored.
  const item = page.getByRole('menuitem', { name: entry, exact: true });
  await item.hover();
  await item.click();
  // Once in many runs the click is still not taken (the menu stays, the entry highlighted): the
  // keyboard picks the highlighted entry then, as a person would press Enter.
  const closed = await item.waitFor({ state: 'hidden', timeout: 2_000 }).then(
    () => true,
    () => false,
  );
  if (!closed) await page.keyboard.press('Enter');
  await item.waitFor({ state: 'hidden', timeout: 5_000 });
}

/** Picks the test container in the quick pick that the apply commands open. */
async function pickContainer(page: Page, shot?: string): Promise<void> {
  const option = page.locator('.quick-input-widget').getByRole('option', { name: new RegExp(`^${vscodeTestContainer}\\b`) });
  await option.waitFor({ timeout: 15_000 });
  if (shot) await screenshot(page, shot);
  await option.click();
}

/** Opens the Problems panel from the status bar, as a person would, unless it is open. */
async function showProblems(page: Page): Promise<void> {
  if (await page.locator('.markers-panel').isVisible()) return;
  await page.locator('.statusbar-item#status\\.problems').click();
  await page.locator('.markers-panel').waitFor({ state: 'visible', timeout: 10_000 });
}

/** The Problems panel's rows, by their accessible labels, after typing `filter` into its filter box. */
async function problems(page: Page, filter: string): Promise<string[]> {
  const box = page.getByPlaceholder(/^Filter \(e\.g\./);
  await box.fill(filter);
  await page.waitForTimeout(500); // the panel filters after a short debounce
  return page.locator('.markers-panel .monaco-list-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label') ?? ''));
}

async function summaryText(page: Page, expect: RegExp): Promise<string> {
  const summary = resultsView(page).locator('#summary');
  await summary.filter({ hasText: expect }).waitFor({ timeout: runTimeoutMs });
  return (await summary.innerText()).replace(/\s+/g, ' ');
}

/** Opens salt/web/init.sls in the editor from the explorer. */
async function openSlsFile(page: Page): Promise<void> {
  const tree = page.locator('.explorer-folders-view');
  // Clicking the Explorer while it shows would close the side bar.
  if (!(await tree.isVisible())) await page.getByRole('tab', { name: /^Explorer/ }).click();
  for (const folder of ['salt', 'web']) {
    const row = tree.getByRole('treeitem', { name: folder, exact: true });
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  }
  await tree.locator('.monaco-list-row[aria-level="3"]').filter({ has: page.locator('.label-name', { hasText: /^init\.sls$/ }) }).click();
  await page.locator('.tabs-container .tab.active', { hasText: 'init.sls' }).waitFor({ timeout: 10_000 });
}

/** The texts at the ends of the editor's lines: VS Code draws them as CSS content after the line's text. */
async function lineEndTexts(page: Page): Promise<string[]> {
  return page.locator('.editor-instance .view-lines span').evaluateAll((spans) =>
    spans
      .map((span) => getComputedStyle(span, '::after').content)
      .filter((content) => content && content !== 'none' && content !== 'normal')
      .map((content) => content.replace(/^"|"$/g, '')),
  );
}

async function waitForLineEnds(page: Page, what: RegExp, timeoutMs = runTimeoutMs): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const texts = await lineEndTexts(page);
    if (texts.some((t) => what.test(t))) return texts;
    if (Date.now() > end) throw new Error(`no line end matches ${what}; they say: ${JSON.stringify(texts)}`);
    await page.waitForTimeout(250);
  }
}

/** Clicks a CodeLens by its words (above the line that defines `stateId`, or the file's first line). */
async function clickCodeLens(page: Page, words: string, nth = 0): Promise<void> {
  const lens = page.locator('.codelens-decoration a', { hasText: words }).nth(nth);
  await lens.waitFor({ timeout: 30_000 });
  await lens.click();
}

interface Step {
  name: string;
  run: (page: Page) => Promise<void>;
}

const engine = new DockerEngine();

const steps: Step[] = [
  {
    name: 'the workbench opens the example workspace with the extension',
    run: async (page) => {
      const tree = page.locator('.explorer-folders-view');
      await tree.getByRole('treeitem', { name: 'salt', exact: true }).waitFor({ timeout: 30_000 });
      await tree.getByRole('treeitem', { name: 'pillar', exact: true }).waitFor({ timeout: 5_000 });
      await page.getByRole('tab', { name: 'Salt Containers' }).waitFor({ timeout: 30_000 });
      await screenshot(page, '01-workbench');
    },
  },
  {
    name: 'the Salt Containers view lists the test container and its image',
    run: async (page) => {
      await page.getByRole('tab', { name: 'Salt Containers' }).click();
      const views = page.locator('.sidebar');
      await views.getByRole('treeitem', { name: new RegExp(vscodeTestContainer) }).first().waitFor({ timeout: 30_000 });
      await views.getByRole('treeitem', { name: /salt-containers-test:py3/ }).first().waitFor({ timeout: 30_000 });
      await screenshot(page, '02-containers-view');
      await page.getByRole('tab', { name: /^Explorer/ }).click();
      await page.locator('.explorer-folders-view').waitFor({ state: 'visible', timeout: 10_000 });
    },
  },
  {
    name: 'the explorer context menu on web/init.sls offers the Salt commands',
    run: async (page) => {
      await rightClickSlsFile(page);
      for (const entry of ['Apply SLS to Container', 'Apply SLS in Test Mode', 'Apply Highstate', 'Build Image from SLS']) {
        await page.getByRole('menuitem', { name: entry, exact: true }).waitFor({ timeout: 10_000 });
      }
      await screenshot(page, '03-context-menu');
      await page.keyboard.press('Escape');
    },
  },
  {
    name: 'Apply SLS in Test Mode: the results panel lists pending states, the Problems panel has them at their lines',
    run: async (page) => {
      await explorerMenu(page, 'Apply SLS in Test Mode');
      await pickContainer(page, '04-quick-pick');
      await page.getByRole('tab', { name: /Salt Results/ }).waitFor({ timeout: runTimeoutMs });
      const summary = await summaryText(page, /pending/);
      if (!/[1-9]\d* pending/.test(summary) || !/\b0 failed/.test(summary)) throw new Error(`summary after test mode: ${summary}`);
      const subtitle = await resultsView(page).locator('#subtitle').innerText();
      if (!subtitle.includes(vscodeTestContainer) || !subtitle.includes('test mode')) throw new Error(`subtitle: ${subtitle}`);
      await resultsView(page).locator('#results tbody tr', { hasText: stateId }).first().waitFor({ timeout: 5_000 });
      await showProblems(page);
      const rows = await problems(page, stateFile);
      const expected = `at line ${stateLine} and character 1`;
      if (!rows.some((row) => row.startsWith('Info:') && row.includes(stateFile) && row.includes(expected))) {
        throw new Error(`no Info problem for ${stateId} ${expected} in the Problems panel; rows: ${JSON.stringify(rows)}`);
      }
      if (!rows.some((row) => /problems? in file init\.sls of folder salt\/web/.test(row))) throw new Error(`the problem is not under salt/web/init.sls: ${JSON.stringify(rows)}`);
      await screenshot(page, '05-test-mode');
      const probe = await engine.exec(vscodeTestContainer, ['test', '-e', stateFile]);
      if (probe.exitCode === 0) throw new Error(`test mode changed the container: ${stateFile} exists`);
    },
  },
  {
    name: 'Apply SLS to Container: the results panel shows the changes, the Problems panel is clear again',
    run: async (page) => {
      await problems(page, ''); // a person clears the filter before looking again
      await explorerMenu(page, 'Apply SLS to Container');
      await pickContainer(page);
      // The panel shows the new run once its subtitle no longer says test mode.
      await resultsView(page).locator('#subtitle').filter({ hasNotText: 'test mode' }).waitFor({ timeout: runTimeoutMs });
      const errors = resultsView(page).locator('#errors');
      if (await errors.isVisible()) throw new Error(`the run failed: ${await errors.innerText()}`);
      const summary = await summaryText(page, /changed/);
      if (!/[1-9]\d* changed/.test(summary) || !/\b0 failed/.test(summary)) throw new Error(`summary after apply: ${summary}`);
      const row = resultsView(page).locator('#results tbody tr', { hasText: stateId }).first();
      await row.waitFor({ timeout: 5_000 });
      const rowText = (await row.innerText()).replace(/\s+/g, ' ');
      if (/pending/i.test(rowText)) throw new Error(`${stateId} is still pending: ${rowText}`);
      await showProblems(page);
      const rows = await problems(page, '');
      const stale = rows.filter((label) => /salt\/web|^Info:/.test(label));
      if (stale.length) throw new Error(`the test-mode problems stayed after the real run: ${JSON.stringify(stale)}`);
      await screenshot(page, '06-applied');
      const content = await engine.exec(vscodeTestContainer, ['cat', stateFile]);
      if (content.exitCode !== 0) throw new Error(`${stateFile} is not in the container after apply: ${content.stderr}`);
    },
  },
  {
    name: 'the status bar picks the target container; the CodeLens “Apply file” runs there and the results sit at the end of the state lines',
    run: async (page) => {
      await openSlsFile(page);
      const item = page.locator('.statusbar-item', { hasText: 'No target' });
      await item.waitFor({ timeout: 15_000 });
      await item.click();
      await pickContainer(page, '07-target-pick');
      await page.locator('.statusbar-item', { hasText: vscodeTestContainer }).waitFor({ timeout: 10_000 });
      await clickCodeLens(page, 'Apply file');
      // No quick pick this time: the target is used. The lines say unchanged (the last step applied them all).
      const texts = await waitForLineEnds(page, /unchanged · /);
      if (!texts.some((t) => /^✓ unchanged · \d/.test(t))) throw new Error(`line ends: ${JSON.stringify(texts)}`);
      if (!texts.some((t) => /2 states: 2 unchanged/.test(t))) throw new Error(`the Jinja loop's two states are not summed up on their line: ${JSON.stringify(texts)}`);
      await screenshot(page, '08-inline-results');
    },
  },
  {
    name: 'the CodeLens “Test” above web_config runs that state alone, its line says pending after an edit on the container',
    run: async (page) => {
      await engine.exec(vscodeTestContainer, ['sh', '-c', `echo changed by hand > ${stateFile}`]);
      const lenses = page.locator('.codelens-decoration a', { hasText: /^\W*Test$/ });
      await lenses.first().waitFor({ timeout: 30_000 });
      // The lenses above state IDs, in file order: web_conf_dir first, then web_config.
      await lenses.nth(1).click();
      const texts = await waitForLineEnds(page, /pending \(1 change\)/);
      await resultsView(page).locator('#title', { hasText: `${stateId} (web)` }).waitFor({ timeout: runTimeoutMs });
      await screenshot(page, '09-codelens-test');
      if (!texts.some((t) => /^◐ pending \(1 change\) · /.test(t))) throw new Error(`line ends: ${JSON.stringify(texts)}`);
    },
  },
  {
    name: 'saving the file applies it again on the target (apply on save), the results fresh at the line ends',
    run: async (page) => {
      const editor = page.locator('.editor-instance .monaco-editor').first();
      await editor.click();
      await page.keyboard.press('Control+Home');
      await page.keyboard.type('# edited in the UI test\n');
      await waitForLineEnds(page, /\(outdated\)/, 10_000);
      await page.keyboard.press('Control+S');
      // The hand-made change is put right again by the applied state: changed, and no longer outdated.
      const texts = await waitForLineEnds(page, /^● changed \(1\) · /);
      if (texts.some((t) => /outdated/.test(t))) throw new Error(`still outdated after the run: ${JSON.stringify(texts)}`);
      const content = await engine.exec(vscodeTestContainer, ['cat', stateFile]);
      if (!/^listen 8080$/m.test(content.stdout)) throw new Error(`the save did not apply ${stateId}: ${content.stdout}`);
      await screenshot(page, '10-apply-on-save');
    },
  },
  {
    name: 'Show rendered opens what Salt renders the file to, beside it',
    run: async (page) => {
      await clickCodeLens(page, 'Show rendered');
      const tab = page.locator('.tabs-container .tab', { hasText: 'init.sls.rendered.yaml' });
      await tab.waitFor({ timeout: runTimeoutMs });
      const view = page.locator('.editor-group-container', { has: page.locator('.tab.active', { hasText: 'init.sls.rendered.yaml' }) }).locator('.view-lines');
      await view.filter({ hasText: 'web_site_blog:' }).waitFor({ timeout: runTimeoutMs });
      const text = await view.innerText();
      if (!/listen|8080/.test(text) && !/port: 8080/.test(text)) throw new Error(`the rendered view has no pillar value: ${text.slice(0, 400)}`);
      await screenshot(page, '11-rendered');
    },
  },
];

async function main(): Promise<Counts> {
  const started = Date.now();
  rmSync(screenshotDir, { recursive: true, force: true });
  mkdirSync(screenshotDir, { recursive: true });
  await startVscodeTestContainer();
  // What users install is what is tested: the .vsix of `npm run package`, installed into code-server.
  // Apply on save is on in this workbench (a person turns it on once in the settings).
  const vsix = packageExtension();
  const server = await startCodeServer({ testDriver: true, install: [vsix], settings: { 'saltContainers.applyOnSave': 'apply' } });
  running.server = server;
  const installed = server.installedExtensions();
  if (!installed.includes(`salt-containers.salt-containers@${extensionVersion}`)) throw new Error(`the .vsix did not install: code-server lists ${JSON.stringify(installed)}`);
  console.log(`installed ${relative(REPO_ROOT, vsix)} into code-server: ${installed.join(', ')}`);
  const browser = await openBrowser();
  running.browser = browser;
  const page = browser.page;
  await page.goto(workbenchUrl(server, examplesFolder, [['skipWelcome', 'true']]));
  await waitForWorkbench(page);
  console.log(`workbench ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const counts: Counts = { passed: 0, failed: 0 };
  let broken: string | undefined;
  for (const step of steps) {
    if (broken) {
      // Each step builds on the one before: after a failure the rest cannot run, and count as failed.
      console.log(`  ✖ ${step.name}: not run (${broken} failed)`);
      counts.failed++;
      continue;
    }
    const t = Date.now();
    try {
      await step.run(page);
      console.log(`  ✔ ${step.name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
      counts.passed++;
    } catch (error) {
      console.log(`  ✖ ${step.name}\n    ${error instanceof Error ? error.message.split('\n').join('\n    ') : String(error)}`);
      await screenshot(page, `failed-${counts.passed + counts.failed + 1}`).catch(() => undefined);
      counts.failed++;
      broken = `"${step.name}"`;
    }
  }
  console.log(`screenshots in ${relative(REPO_ROOT, screenshotDir)}/: ${readdirSync(screenshotDir).sort().join(', ')}`);
  console.log(`ui tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return counts;
}

runWithLimit('the ui suite', wholeRunTimeoutMs, main, async () => {
  writeFileSync(slsFile, slsOriginal);
  await running.browser?.close();
  await running.server?.stop();
  await removeContainer(engine, vscodeTestContainer);
});
