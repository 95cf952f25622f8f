// Flat config: typescript-eslint's recommended rules over src/, test/, bench/, and the house's layering
// (ARCHITECTURE.md): each folder of src/ imports only the layers below it, and the core never vscode.
import tseslint from 'typescript-eslint';

/**
 * The layers of src/ and what each may not import. engine/ and sls/ are the two foundations (neither
 * knows the other, but for the exceptions below), testing/ runs cells on the engine, server/ is the
 * language over sls/, cli/ is a front door over engine/, sls/ and testing/; extension/ may import all.
 */
const FORBIDDEN = {
  engine: ['sls', 'testing', 'server', 'cli', 'extension'],
  sls: ['engine', 'testing', 'server', 'cli', 'extension'],
  testing: ['server', 'cli', 'extension'],
  server: ['engine', 'testing', 'cli', 'extension'],
  cli: ['server', 'extension'],
};

/**
 * The cross-layer imports allowed, each to one module and for a reason; anything else across is an error.
 * `types`: only `import type` may cross.
 */
const ALLOWED = [
  // The tar's names and the editor's module <-> file mapping must agree on the path flavour (one spelling
  // per file, membership below a root, Windows drives): one module, sls/modules, a leaf (node:path only).
  { file: 'src/engine/bundle.ts', layer: 'sls', module: 'modules' },
  // The catalogue is made with Salt: the host Salt SaltSource finds, or the helper that made Salt on the
  // engine (it made the catalogue beside the thin). The one sls module that reaches into the engine; the
  // source model itself (parse, render, tree, locate, modules, roots) stays engine-free.
  { file: 'src/sls/catalogue.ts', layer: 'engine', module: 'salt/source|salt/scripts|docker/engine|helper/settings' },
  // The language server's process entry wires the engine whose helpers make the catalogue's Salt when this
  // machine has none; the features (service, symbols, completion, ...) never see it.
  { file: 'src/server/main.ts', layer: 'engine', module: 'docker/engine' },
  // The client passes the extension's helper settings as they are: one definition of their shape.
  { file: 'src/server/protocol.ts', layer: 'engine', module: 'helper/settings', types: true },
  // `salt-containers check` reports the language server's own diagnostics over files (one set of checks for
  // the editor and CI): the diagnostics and the service that holds the tree, nothing of the protocol's wiring.
  { file: 'src/cli/check.ts', layer: 'server', module: 'diagnostics|service' },
];

const VSCODE = { name: 'vscode', message: 'The core is VS Code-free: only src/extension may import vscode.' };
const climbs = '^(\\.\\./)+';
/** runner.ts is the facade only; it re-exports the engine's vocabulary for code outside src/, not for src/. */
const FACADE = { regex: '(^|/)engine/runner$|^\\.\\.?/runner$', allowImportNames: ['SaltRunner', 'SaltRunnerApi'], message: 'Import the engine\'s vocabulary from engine/spec.' };
/** run.ts, the cold run, is the facade's alone: what a warm session (or any other engine room) shares with it is in engine/launch. */
const COLD_RUN = { regex: '^\\.\\./run$', message: 'The cold run is the facade\'s: import the steps a cold run and a warm session share from engine/launch.' };

/** The rule's options for files of `layer`, with `allowed` (entries of ALLOWED) let through. */
function restrictions(layer, allowed = []) {
  const patterns = layer === 'engine' ? [FACADE, COLD_RUN] : [FACADE];
  for (const target of FORBIDDEN[layer] ?? []) {
    const message = `src/${layer} does not import src/${target} (the layering: ARCHITECTURE.md).`;
    const exception = allowed.find((a) => a.layer === target);
    if (!exception) {
      patterns.push({ regex: `${climbs}${target}(/|$)`, message });
      continue;
    }
    // Everything of `target` but the allowed modules; those, as types only when so allowed.
    patterns.push({ regex: `${climbs}${target}(/(?!(${exception.module})$)|$)`, message });
    if (exception.types) patterns.push({ regex: `${climbs}${target}/(${exception.module})$`, message: `${message} Types only.`, allowTypeImports: true });
  }
  return ['error', { paths: layer === 'extension' ? [] : [VSCODE], patterns }];
}

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'examples/**', 'media/**', '.vscode-test/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  // The core must run under plain Node: no vscode import below src/engine, src/sls, src/testing, src/cli,
  // src/server; and no layer imports one above it.
  ...[...Object.keys(FORBIDDEN), 'extension'].map((layer) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: { '@typescript-eslint/no-restricted-imports': restrictions(layer) },
  })),
  // Later blocks win: each allowed file gets its layer's rule less its one exception.
  ...ALLOWED.map((allowed) => ({
    files: [allowed.file],
    rules: { '@typescript-eslint/no-restricted-imports': restrictions(allowed.file.split('/')[1], [allowed]) },
  })),
);
