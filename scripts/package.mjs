// `npm run package`: the installable extension, salt-containers-<version>.vsix, made by @vscode/vsce from
// the production bundles (minified, no source maps). dist/ is built again for development afterwards,
// so tests and `npm start` keep their source maps. Prints the .vsix's path, size and file count.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
process.chdir(root);
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const vsix = join(root, `salt-containers-${version}.vsix`);

function run(command, args) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    console.error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
    process.exit(1);
  }
}

run('node', ['scripts/build.mjs', '--production']);
try {
  // The bundles carry their dependencies: node_modules stays out. No repository yet: vsce would ask.
  run(join(root, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--out', vsix]);
} finally {
  run('node', ['scripts/build.mjs']);
}
console.log(`${vsix} (${(statSync(vsix).size / 1024 / 1024).toFixed(1)} MB)`);
