/**
 * A small LSP client for the protocol tests: spawns `node dist/server.js --stdio` and speaks JSON-RPC to
 * it over its stdin/stdout, as an editor would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { installedSalt, PINNED_SALT_VERSION } from '../../src/engine/salt/install';
import { defaultCacheDir } from '../../src/engine/salt/source';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

export const repoRoot = resolve(__dirname, '..', '..', '..');
export const serverPath = resolve(repoRoot, 'dist', 'server.js');
export const fixtureTree = resolve(repoRoot, 'test', 'fixtures', 'sls', 'tree');
export const examplesWorkspace = resolve(repoRoot, 'examples');
/** State trees written in the style of public Salt formulas (see test/fixtures/sls/corpus/README.md). */
export const corpus = resolve(repoRoot, 'test', 'fixtures', 'sls', 'corpus');
/** The corpus's state trees, one workspace folder each. */
export const corpusFolders = readdirSync(corpus, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => join(corpus, e.name));

/** The corpus's state files: every .sls outside its pillar folders. */
export function corpusStateFiles(dir = corpus): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'pillar') out.push(...corpusStateFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.sls')) out.push(path);
  }
  return out.sort();
}
export const uriOf = (file: string) => pathToFileURL(file).href;

export interface StartOptions {
  folder: string;
  /** More workspace folders after `folder`. */
  moreFolders?: string[];
  env?: NodeJS.ProcessEnv;
  /** `env` is the whole environment (a bare host's), not additions to this process's. */
  envOnly?: boolean;
  initializationOptions?: Record<string, unknown>;
  capabilities?: Record<string, unknown>;
}

export class LspClient {
  readonly connection: MessageConnection;
  readonly diagnostics = new Map<string, Diagnostic[]>();
  readonly logs: string[] = [];
  readonly shownMessages: string[] = [];
  private readonly waiters: (() => void)[] = [];
  private versions = new Map<string, number>();
  stderr = '';
  exited = false;

  private constructor(readonly child: ChildProcess) {
    this.connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    this.connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p.diagnostics);
      this.poke();
    });
    this.connection.onNotification('window/logMessage', (p: { message: string }) => {
      this.logs.push(p.message);
      this.poke();
    });
    this.connection.onNotification('window/showMessage', (p: { message: string }) => {
      this.shownMessages.push(p.message);
      this.poke();
    });
    this.connection.onRequest('window/showMessageRequest', (p: { message: string }) => {
      this.shownMessages.push(p.message);
      this.poke();
      return null;
    });
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('workspace/configuration', () => []);
    child.stderr!.on('data', (chunk) => (this.stderr += chunk));
    child.on('exit', () => {
      this.exited = true;
      this.poke();
    });
    this.connection.listen();
  }

  static async start(options: StartOptions): Promise<LspClient> {
    const child = spawn(process.execPath, [serverPath, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env: options.envOnly ? options.env : { ...process.env, ...options.env } });
    const client = new LspClient(child);
    await client.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: uriOf(options.folder),
      workspaceFolders: [options.folder, ...(options.moreFolders ?? [])].map((folder, i) => ({ uri: uriOf(folder), name: `ws${i}` })),
      capabilities: options.capabilities ?? { textDocument: { synchronization: { didSave: true }, publishDiagnostics: { versionSupport: true } }, workspace: { workspaceFolders: true } },
      initializationOptions: options.initializationOptions ?? {},
    });
    await client.connection.sendNotification('initialized', {});
    return client;
  }

  private poke() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Waits until `check` returns a value (re-checked on every message from the server). */
  async until<T>(what: string, check: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (this.exited) throw new Error(`server exited while waiting for ${what}: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          done();
        });
      });
    }
  }

  open(file: string, text = readFileSync(file, 'utf8'), languageId = 'sls'): string {
    const uri = uriOf(file);
    this.versions.set(uri, 1);
    this.diagnostics.delete(uri);
    void this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    return uri;
  }

  /** Incremental change: replace the range with text. */
  change(uri: string, range: { start: { line: number; character: number }; end: { line: number; character: number } } | undefined, text: string) {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    this.diagnostics.delete(uri);
    void this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [range ? { range, text } : { text }] });
  }

  close(uri: string) {
    void this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  diagnosticsOf(uri: string): Promise<Diagnostic[]> {
    return this.until(`diagnostics of ${uri}`, () => this.diagnostics.get(uri));
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest(method, params) as Promise<R>;
  }

  async stop() {
    if (this.exited) return;
    try {
      await Promise.race([this.connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      await this.connection.sendNotification('exit');
    } catch {
      // already gone
    }
    await Promise.race([new Promise((r) => this.child.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
    if (!this.exited) this.child.kill();
    this.connection.dispose();
  }
}

export const pos = (line: number, character: number) => ({ line, character });

/** The host Python with Salt the set-up provides (scripts/setup-env.sh). */
export const saltPython = process.env.SALT_CONTAINERS_PYTHON || (installedSalt(defaultCacheDir())?.python ?? join(defaultCacheDir(), 'salt', PINNED_SALT_VERSION, 'bin', 'python'));

/** A server with the state catalogue of the host Salt, made in a fresh cache folder; ready once the catalogue is. */
export async function startWithCatalogue(options: Omit<StartOptions, 'env'>, cachePrefix: string): Promise<{ client: LspClient; cache: string }> {
  assert.ok(existsSync(saltPython), `a Python with Salt is needed at ${saltPython} (scripts/setup-env.sh makes it)`);
  const cache = mkdtempSync(join(tmpdir(), cachePrefix));
  const client = await LspClient.start({ ...options, env: { SALT_CONTAINERS_CACHE: cache, SALT_CONTAINERS_PYTHON: saltPython } });
  await client.until('the catalogue', () => client.logs.find((l) => l.startsWith('state catalogue: Salt')), 120_000);
  return { client, cache };
}
