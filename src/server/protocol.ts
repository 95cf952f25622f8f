/** What the client and the server of the SLS language agree on, beyond LSP itself. */
import type { HelperSettings, SaltOn } from '../engine/helper/settings';

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
  /** Where Salt is made when this machine has none, and the helpers' images (the extension's settings). */
  saltOn?: SaltOn;
  helpers?: Partial<HelperSettings>;
  /** The engine whose helpers make it (the dockerHost or dockerContext setting; default as the docker CLI finds it). */
  engine?: { host?: string; context?: string };
}
