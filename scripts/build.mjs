// One esbuild script for every output (as vscode-eslint does): the extension, the language server and
// the CLI are bundled into dist/ with `vscode` external; src/, test/ and bench/ are transpiled file by
// file into out/ for node --test and the extension-host tests. Type checking is `tsc --noEmit`.
// The Python the engine runs lives in .py files (src/**/py/): every output carries them as text.
import * as esbuild from 'esbuild';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

function tsFiles(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') continue;
    if (statSync(path).isDirectory()) out = out.concat(tsFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // ssh2 (dockerode's ssh:// transport) has optional native speed-ups; they stay out of the bundle.
  external: ['vscode', 'cpu-features'],
  loader: { '.node': 'empty', '.py': 'text' },
};

// The extension's work-time code (engine, SLS parser) and its language client are their own files,
// loaded on first use, so activation neither parses nor runs them: src/extension/engines.ts imports
// './runtime' and src/extension/main.ts imports './language' lazily.
const lazyParts = { './runtime': ['engines.ts', './extension-runtime.js'], './language': ['main.ts', './extension-language.js'] };
const lazyExtensionParts = {
  name: 'lazy-extension-parts',
  setup(build) {
    build.onResolve({ filter: /^\.\/(runtime|language)$/ }, (args) => {
      const [importer, file] = lazyParts[args.path];
      return args.importer.endsWith(join('src', 'extension', importer)) ? { path: file, external: true } : undefined;
    });
  },
};

// dockerode loads gRPC and protobuf at require time for BuildKit sessions (docker.buildImage with
// version 2), which the engine never uses: in the extension's runtime bundle they are a stub that says
// so if ever reached. A third less code to load before the views can paint.
const withoutBuildKitSessions = {
  name: 'without-buildkit-sessions',
  setup(build) {
    build.onResolve({ filter: /^@grpc\/(grpc-js|proto-loader)$/ }, (args) => ({ path: args.path, namespace: 'buildkit-session-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'buildkit-session-stub' }, () => ({
      loader: 'js',
      contents: `module.exports = new Proxy({}, { get(_t, key) {
        if (typeof key === 'symbol' || key === '__esModule') return undefined;
        throw new Error('BuildKit sessions (gRPC) are not part of the Salt Containers extension bundle');
      } });`,
    }));
  },
};

/**
 * Removes what out/ holds for sources that are gone (a deleted test must not run), and nothing else:
 * out/ is rewritten in place, so a build during someone's test run leaves that run its files.
 */
function removeOrphans(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) removeOrphans(path);
    else if (!existsSync(path.slice('out/'.length).replace(/\.js(\.map)?$/, '.ts'))) rmSync(path);
  }
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}

// out/ is transpiled file by file, and a transpiled `import X from './py/x.py'` would stay a require
// Node cannot load: the files that import Python are bundled instead, with every import but the .py
// ones left external, so each is still its own file requiring its neighbours as before.
const outFiles = [...tsFiles('src'), ...tsFiles('test'), ...tsFiles('bench')];
const importsPython = (file) => /from '[^']+\.py';/.test(readFileSync(file, 'utf8'));
const onlyPythonInlined = {
  name: 'only-python-inlined',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => (args.kind === 'entry-point' || args.path.endsWith('.py') ? undefined : { path: args.path, external: true }));
  },
};
const outOptions = { outdir: 'out', outbase: '.', platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };

const builds = [
  { ...common, entryPoints: { extension: 'src/extension/main.ts' }, outdir: 'dist', plugins: [lazyExtensionParts], supported: { 'dynamic-import': false } },
  { ...common, entryPoints: { 'extension-runtime': 'src/extension/runtime.ts' }, outdir: 'dist', plugins: [withoutBuildKitSessions] },
  { ...common, entryPoints: { 'extension-language': 'src/extension/language.ts' }, outdir: 'dist' },
  { ...common, entryPoints: { server: 'src/server/main.ts' }, outdir: 'dist' },
  { ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  { ...outOptions, entryPoints: outFiles.filter((f) => !importsPython(f)), bundle: false },
  { ...outOptions, entryPoints: outFiles.filter(importsPython), bundle: true, loader: { '.py': 'text' }, plugins: [onlyPythonInlined] },
];

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
  removeOrphans('out');
  chmodSync('dist/cli.js', 0o755);
}
