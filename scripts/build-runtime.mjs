// The set-up's bundled Python runtime: the product's own builder (src/engine/runtime/build.ts, built into
// out/) puts it into the cache for each architecture named, exactly as a run does on first use.
// Usage: node scripts/build-runtime.mjs ARCH ...; prints one line per architecture.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const load = (path) => createRequire(import.meta.url)(join(root, 'out', 'src', 'engine', ...path));
const { buildRuntime, cachedRuntime } = load(['runtime', 'build.js']);
const { defaultCacheDir } = load(['salt', 'source.js']);

const cacheDir = defaultCacheDir();
const lines = [];
let failed = false;
for (const arch of process.argv.slice(2)) {
  const present = cachedRuntime(cacheDir, arch);
  try {
    const runtime = present ?? (await buildRuntime(arch, { cacheDir }));
    lines.push(`${arch}: ${present ? 'present' : 'built'} (Python ${runtime.pythonFull}, ${(runtime.bytes / 1e6).toFixed(1)} MB)`);
  } catch (error) {
    console.error(`${arch}: ${error.message}${error.hint ? ` (${error.hint})` : ''}`);
    failed = true;
  }
}
console.log(lines.join('; '));
process.exit(failed ? 1 : 0);
