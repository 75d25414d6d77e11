// One linter for the whole repository: typescript-eslint's recommended rules on our TypeScript.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', '**/.baton/', '.vscode-test/', 'examples/**/node_modules/'] },
  ...tseslint.configs.recommended,
  // The demo apps and the init fixtures are plain CommonJS user code.
  {
    files: ['examples/**/*.js', 'test/fixtures/**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // The process boundary (ARCHITECTURE.md): the gateway never loads the editor's API, and the extension
  // reaches the gateway only through its protocol (types, control client, gateway file).
  {
    files: ['gateway/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'vscode', message: 'gateway/ runs outside the editor: never import vscode.' }] },
      ],
    },
  },
  {
    files: ['extension/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../gateway/*', '!../gateway/protocol'],
              message: 'extension/ may import only gateway/protocol/ (types, control client, gateway file).',
            },
          ],
        },
      ],
    },
  },
);
