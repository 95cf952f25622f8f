// Flat config: typescript-eslint's recommended rules over src/, test/, bench/.
import tseslint from 'typescript-eslint';

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
  {
    // The core must run under plain Node: no vscode import below src/engine, src/sls, src/testing, src/cli, src/server.
    files: ['src/engine/**/*.ts', 'src/sls/**/*.ts', 'src/testing/**/*.ts', 'src/cli/**/*.ts', 'src/server/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'The core is VS Code-free: only src/extension may import vscode.' }] }],
    },
  },
);
