/** What the client and the server of the SLS language agree on, beyond LSP itself. */

/** Makes the state catalogue again with the host Salt; answers `{ saltVersion, functions }`. */
export const REFRESH_CATALOGUE_REQUEST = 'saltContainers/refreshStateCatalogue';

export interface RefreshCatalogueResult {
  saltVersion: string;
  functions: number;
}

export interface ServerInitializationOptions {
  /** A Python with Salt for the catalogue (the `saltContainers.saltPython` setting). */
  saltPython?: string;
  cacheDir?: string;
  /** The state tree root, relative to the workspace folder (the `saltContainers.stateRoot` setting). */
  stateRoot?: string;
  /** false: never run the host Salt for the catalogue. */
  catalogue?: boolean;
}
