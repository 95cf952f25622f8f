/**
 * The SLS language server: `node dist/server.js --stdio` (or node-ipc when started by the client).
 * Incremental text sync; a document's diagnostics are recomputed shortly after it changes, open
 * documents again when a file they may depend on changes. The state catalogue is loaded in the
 * background and never blocks a request.
 */
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  ResponseError,
  ErrorCodes,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { fileURLToPath } from 'node:url';
import { SlsService, uriToPath } from './service';
import { documentSymbols, workspaceSymbols } from './symbols';
import { definition, highlights, prepareRename, references, rename } from './navigation';
import { completion, resolveCompletion } from './completion';
import { hover } from './hover';
import { diagnostics } from './diagnostics';
import { codeActions } from './actions';
import { REFRESH_CATALOGUE_REQUEST, type RefreshCatalogueResult, type ServerInitializationOptions } from './protocol';
import { DockerEngine } from '../engine/docker/engine';
import { getCatalogue, howToGetCatalogue, loadAnyCachedCatalogue, CatalogueUnavailable, type StateCatalogue } from '../sls/catalogue';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
let service = new SlsService([]);
let options: ServerInitializationOptions = {};
let catalogueTold = false;
let followsFolders = false;

function log(message: string) {
  connection.console.log(message);
}

async function loadCatalogue(refresh: boolean): Promise<StateCatalogue | undefined> {
  try {
    const started = Date.now();
    // A machine without Salt: the engine's helper makes it (first use, about a minute), as for a run.
    const engine = new DockerEngine({ dockerHost: options.engine?.host, context: options.engine?.context });
    const catalogue = await getCatalogue({ python: options.saltPython, cacheDir: options.cacheDir, refresh, engine, saltOn: options.saltOn, helpers: options.helpers });
    service.setCatalogue(catalogue);
    log(`state catalogue: Salt ${catalogue.saltVersion}, ${Object.keys(catalogue.functions).length} state functions (${Date.now() - started} ms)`);
    scheduleAll();
    return catalogue;
  } catch (error) {
    const reason = error instanceof CatalogueUnavailable ? error.message : `The SLS state catalogue could not be made: ${(error as Error).message}. ${howToGetCatalogue}`;
    log(reason);
    if (refresh) throw new ResponseError(ErrorCodes.InternalError, reason);
    // A catalogue from the cache is already serving: no need to trouble the user.
    if (!catalogueTold && !service.catalogue) {
      // One message per session, not one per file.
      catalogueTold = true;
      void connection.window.showInformationMessage(reason);
    }
    return undefined;
  }
}

connection.onInitialize((params: InitializeParams): InitializeResult => {
  options = (params.initializationOptions ?? {}) as ServerInitializationOptions;
  const folders = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => !!p);
  if (!folders.length && params.rootUri) folders.push(fileURLToPath(params.rootUri));
  service = new SlsService(folders, { stateRoot: options.stateRoot });
  followsFolders = !!params.capabilities.workspace?.workspaceFolders;
  return {
    capabilities: {
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
      documentSymbolProvider: true,
      workspaceSymbolProvider: true,
      definitionProvider: true,
      referencesProvider: true,
      documentHighlightProvider: true,
      renameProvider: { prepareProvider: true },
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['.', '/', ' '], resolveProvider: true },
      codeActionProvider: { codeActionKinds: ['quickfix'] },
    },
    serverInfo: { name: 'salt-containers-sls' },
  };
});

connection.onInitialized(() => {
  if (options.catalogue !== false) {
    // The newest cached catalogue serves at once; the host Salt's own (same or newer) replaces it when known.
    const cached = loadAnyCachedCatalogue(options.cacheDir);
    if (cached) service.setCatalogue(cached);
    void loadCatalogue(false);
  }
  if (followsFolders) {
    connection.workspace.onDidChangeWorkspaceFolders((event) => {
      for (const folder of event.removed) {
        const path = uriToPath(folder.uri);
        if (path) service.removeFolder(path);
      }
      for (const folder of event.added) {
        const path = uriToPath(folder.uri);
        if (path) service.addFolder(path);
      }
      scheduleAll();
    });
  }
  // Index the trees in the background so the first workspace symbol search is ready.
  setTimeout(() => {
    try {
      service.indexAll();
    } catch (error) {
      log(`indexing failed: ${(error as Error).message}`);
    }
  }, 50);
});

/** Runs a handler; an unexpected error becomes an empty answer and a log line, never a crash. */
function guard<P, R>(name: string, empty: R, handler: (params: P) => R): (params: P) => R {
  return (params: P) => {
    try {
      return handler(params);
    } catch (error) {
      log(`${name} failed: ${(error as Error).stack ?? error}`);
      return empty;
    }
  };
}

/** The service sees the editor's text, not the disk's. */
function sync(uri: string) {
  const document = documents.get(uri);
  if (document) service.update(uri, document.getText());
}

const pending = new Map<string, NodeJS.Timeout>();
function schedule(uri: string, delay = 150) {
  clearTimeout(pending.get(uri));
  pending.set(
    uri,
    setTimeout(() => {
      pending.delete(uri);
      const document = documents.get(uri);
      if (!document) return;
      const version = document.version;
      const published = guard('diagnostics', [], () => {
        sync(uri);
        return diagnostics(service, uri, document.getText());
      })(undefined);
      void connection.sendDiagnostics({ uri, version, diagnostics: published });
    }, delay),
  );
}
function scheduleAll(delay = 300) {
  for (const document of documents.all()) schedule(document.uri, delay);
}

documents.onDidOpen((e) => {
  sync(e.document.uri);
  schedule(e.document.uri, 0);
});
documents.onDidChangeContent((e) => {
  guard('sync', undefined, () => sync(e.document.uri))(undefined);
  schedule(e.document.uri);
  // Other open files may include this one.
  for (const document of documents.all()) if (document.uri !== e.document.uri) schedule(document.uri, 600);
});
documents.onDidClose((e) => {
  clearTimeout(pending.get(e.document.uri));
  service.reload(e.document.uri);
  service.forgetTemplate(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

connection.onDidChangeWatchedFiles((params) => {
  for (const change of params.changes) {
    if (documents.get(change.uri)) continue;
    service.reload(change.uri);
  }
  scheduleAll();
});

connection.onDocumentSymbol(guard('documentSymbol', [], (p) => (sync(p.textDocument.uri), documentSymbols(service, p.textDocument.uri))));
connection.onWorkspaceSymbol(guard('workspaceSymbol', [], (p) => workspaceSymbols(service, p.query)));
connection.onDefinition(guard('definition', [], (p) => (sync(p.textDocument.uri), definition(service, p.textDocument.uri, p.position))));
connection.onDocumentHighlight(guard('documentHighlight', [], (p) => (sync(p.textDocument.uri), highlights(service, p.textDocument.uri, p.position))));
connection.onPrepareRename(guard('prepareRename', null, (p) => (sync(p.textDocument.uri), prepareRename(service, p.textDocument.uri, p.position))));
connection.onRenameRequest(guard('rename', null, (p) => (sync(p.textDocument.uri), rename(service, p.textDocument.uri, p.position, p.newName))));
connection.onReferences(guard('references', [], (p) => (sync(p.textDocument.uri), references(service, p.textDocument.uri, p.position, p.context.includeDeclaration))));
connection.onCompletion(guard('completion', [], (p) => (sync(p.textDocument.uri), completion(service, p.textDocument.uri, p.position))));
connection.onCompletionResolve((item) => {
  try {
    return resolveCompletion(service, item);
  } catch {
    return item;
  }
});
connection.onHover(guard('hover', null, (p) => (sync(p.textDocument.uri), hover(service, p.textDocument.uri, p.position))));
connection.onCodeAction(guard('codeAction', [], (p) => (sync(p.textDocument.uri), codeActions(service, p.textDocument.uri, p.context.diagnostics))));

connection.onRequest(REFRESH_CATALOGUE_REQUEST, async (): Promise<RefreshCatalogueResult | null> => {
  const catalogue = await loadCatalogue(true);
  return catalogue ? { saltVersion: catalogue.saltVersion, functions: Object.keys(catalogue.functions).length } : null;
});

documents.listen(connection);
connection.listen();
