'use strict'
// `npm run lint`: eslint's recommended rules over the hand-written JS (CommonJS, Node 20+;
// browser globals for the web UI's page script).

const js = require('@eslint/js')
const globals = require('globals')

module.exports = [
  { ignores: ['node_modules/', 'target/', 'binding.js', 'binding.d.ts', 'bench/rust-floor/', 'npm/'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'commonjs', globals: { ...globals.node } },
    rules: {
      // `catch {}` is how best-effort cleanup says "ignore".
      'no-empty': ['error', { allowEmptyCatch: true }],
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  { files: ['examples/web/public/**/*.js'], languageOptions: { sourceType: 'script', globals: { ...globals.browser } } },
  // page.evaluate() callbacks run in the browser.
  { files: ['__test__/webui.test.js'], languageOptions: { globals: { document: 'readonly' } } },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module', globals: { ...globals.node } } },
]
