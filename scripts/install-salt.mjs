// The set-up's Salt: the product's own installer (src/engine/salt/install.ts, built into out/) puts the
// pinned Salt, or the versions named, into the cache, exactly as a user's `--install-salt` would.
// Usage: node scripts/install-salt.mjs [VERSION ...]; prints one line per version.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { installSalt, installedSalt, PINNED_SALT_VERSION } = createRequire(import.meta.url)(join(root, 'out', 'src', 'engine', 'salt', 'install.js'));
const { defaultCacheDir } = createRequire(import.meta.url)(join(root, 'out', 'src', 'engine', 'salt', 'source.js'));

const cacheDir = defaultCacheDir();
const versions = process.argv.slice(2).length ? process.argv.slice(2) : [PINNED_SALT_VERSION];
let failed = false;
for (const version of versions) {
  const present = installedSalt(cacheDir, version);
  if (present) {
    console.log(`salt ${version}: present (${present.python})`);
    continue;
  }
  try {
    const installed = await installSalt({ version, cacheDir });
    console.log(`salt ${version}: installed (${installed.python})`);
  } catch (error) {
    console.error(`salt ${version}: ${error.message}${error.hint ? ` (${error.hint})` : ''}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
