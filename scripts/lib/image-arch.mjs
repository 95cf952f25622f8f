// Sets the architecture an image's config records, in an unpacked `docker save` folder, for the
// set-up's foreign-architecture test images: Debian's docker.io 20.10 `docker import` records the
// engine's architecture whatever `--platform` says. The image id is the sha256 of its config, so the
// config is written under its new digest and manifest.json points at it; `docker load` of the folder
// then gives the image with the same layers.
// Usage: node scripts/lib/image-arch.mjs DIR ARCH [VARIANT]
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [dir, arch, variant] = process.argv.slice(2);
if (!dir || !arch) {
  console.error('usage: node scripts/lib/image-arch.mjs DIR ARCH [VARIANT]');
  process.exit(2);
}

const manifestPath = join(dir, 'manifest.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
if (manifest.length !== 1) throw new Error(`${manifestPath}: one image expected, found ${manifest.length}`);
const [image] = manifest;
const config = JSON.parse(readFileSync(join(dir, image.Config), 'utf8'));
config.architecture = arch;
if (variant) config.variant = variant;
else delete config.variant;

const bytes = Buffer.from(JSON.stringify(config));
const digest = createHash('sha256').update(bytes).digest('hex');
// Where the old config was, under the new digest: `HEX.json` (docker 20.10) or `blobs/sha256/HEX` (OCI layout, docker 25+).
const name = image.Config.endsWith('.json') ? `${digest}.json` : digest;
const configPath = join(dirname(image.Config), name);
rmSync(join(dir, image.Config));
writeFileSync(join(dir, configPath), bytes);
image.Config = configPath;
writeFileSync(manifestPath, JSON.stringify(manifest));
// An OCI index names the old config's manifest: without it, load reads manifest.json alone.
for (const file of ['index.json', 'oci-layout']) if (existsSync(join(dir, file))) rmSync(join(dir, file));
console.log(`sha256:${digest}`);
