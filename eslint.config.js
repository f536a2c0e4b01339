// ESLint flat config: the house style (docs STYLE.md, Conventions 1, 3, 4, 13, 15) and the layer order of
// src/ (docs/architecture.md). Import cycles (type-only ones included) are checked by madge in `npm run lint`
// (.madgerc): import-x/no-cycle always skips `import type` edges.
import { dirname, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const ROOT = dirname(fileURLToPath(import.meta.url));
const resolver = createTypeScriptImportResolver({ project: resolvePath(ROOT, 'tsconfig.json') });

// ---------------------------------------------------------------------------
// Architecture: layer order of src/ (lower may never import higher; same level may).
// One row per level, lowest first. src/index.ts is the package entry point and may
// import every layer; a src/<folder>/index.ts barrel sits at its folder's level.
const LAYERS = [
  ['utils', 'errors.ts'],
  ['io', 'hooks', 'tokenizers', 'ops', 'backend', 'data'],
  ['model'],
  ['analysis', 'patching', 'evals', 'train'],
  ['sae', 'circuits', 'probe'],
  ['anomaly'],
  ['viz'],
  ['cli', 'browser'],
];
const LAYER_ORDER = LAYERS.map((level) => level.map((m) => m.replace(/\.ts$/, '')).join(', ')).join(' → ');
const layerZones = LAYERS.flatMap((lower, lo) =>
  LAYERS.slice(lo + 1).flatMap((higher, i) =>
    lower.flatMap((target) =>
      higher.map((from) => ({
        target: `src/${target}`,
        from: `src/${from}`,
        message: `src/${target} (level ${lo}) must not import src/${from} (level ${lo + 1 + i}): layer order ${LAYER_ORDER}`,
      })),
    ),
  ),
);
const boundaryZones = [
  {
    target: 'src',
    from: ['tests', 'bench', 'scripts', 'examples'],
    message: 'src/ must not import from tests/, bench/, scripts/ or examples/.',
  },
  {
    target: 'src',
    from: 'src/**/index.ts',
    message: 'Barrel (index.ts) files are entry points only: import the defining module instead.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'docs/api/**', 'node_modules/**', 'results/**', '.scratch*/**', '.cache/**'] }, // generated or git-ignored scratch output
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only (STYLE Convention 3).' },
        {
          selector: "CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name='only']",
          message: 'No focused tests (STYLE Convention 13).',
        },
      ],
    },
  },
  {
    // Tool config files must default-export their config.
    files: ['*.config.js', '*.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  {
    // Layer order of src/ and its outward boundaries.
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [resolver] },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: ROOT, zones: [...layerZones, ...boundaryZones] }],
    },
  },
);
