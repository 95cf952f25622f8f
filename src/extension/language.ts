/**
 * The client side of the SLS language: starts dist/server.js (Node, IPC) for sls and jinja documents,
 * passes it the settings it needs, and asks it to remake the state catalogue.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { engineSelection, languageSettings, saltWorkSettings } from './config';
import { REFRESH_CATALOGUE_REQUEST, type RefreshCatalogueResult, type ServerInitializationOptions } from '../server/protocol';

function initializationOptions(): ServerInitializationOptions {
  const options: ServerInitializationOptions = {};
  // The catalogue runs this Python: in Restricted Mode only the user's own setting counts, not the workspace's.
  const { saltPython, stateRoot } = languageSettings();
  if (saltPython) options.saltPython = saltPython;
  if (stateRoot) options.stateRoot = stateRoot;
  // Without a host Salt the catalogue is made on the engine, as for runs.
  const { saltOn, helpers } = saltWorkSettings();
  options.saltOn = saltOn;
  options.helpers = helpers;
  options.engine = engineSelection();
  return options;
}

export async function startLanguageClient(context: vscode.ExtensionContext): Promise<LanguageClient> {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'sls' },
      { scheme: 'untitled', language: 'sls' },
      { scheme: 'file', language: 'jinja' },
    ],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{sls,jinja,j2}') },
    initializationOptions: initializationOptions(),
    outputChannelName: 'Salt Containers: SLS Language Server',
  };
  const client = new LanguageClient('saltContainersSls', 'Salt Containers SLS', serverOptions, clientOptions);

  await client.start();
  return client;
}

/** Remakes the state catalogue with the host Salt (completion and hover), with progress and the outcome shown. */
export async function refreshStateCatalogue(client: LanguageClient): Promise<RefreshCatalogueResult | undefined> {
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Salt Containers: making the SLS state catalogue with the host Salt' },
      () => client.sendRequest<RefreshCatalogueResult | null>(REFRESH_CATALOGUE_REQUEST),
    );
    if (result) void vscode.window.showInformationMessage(`Salt Containers: state catalogue of Salt ${result.saltVersion} ready (${result.functions} state functions).`);
    return result ?? undefined;
  } catch (error) {
    void vscode.window.showErrorMessage(`Salt Containers: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
