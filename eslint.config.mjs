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
);
