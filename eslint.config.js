// ESLint flat config: the house style (docs STYLE.md, Conventions 1, 3, 4, 13).
import { readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import ts from 'typescript';
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
  ['viz'],
  ['cli'],
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

// ---------------------------------------------------------------------------
// Import cycles, type-only edges included. import-x/no-cycle cannot do this: it
// always skips `import type` (and all-`type`-specifier) imports, with no option.
// The graph uses every static specifier TypeScript sees (import, import type,
// export ... from, import(), require), resolved with the same resolver as import-x.
const graph = new Map(); // file -> { checkedAt, mtimeMs, deps: string[] }
const resolved = new Map(); // dir \0 specifier -> file | null

function resolveDep(spec, fromFile) {
  const key = `${dirname(fromFile)}\0${spec}`;
  if (!resolved.has(key)) {
    const r = resolver.resolve(spec, fromFile);
    const file = r.found && r.path ? resolvePath(r.path) : null;
    const inRepo = file && !relative(ROOT, file).startsWith('..') && !file.includes('/node_modules/');
    resolved.set(key, inRepo && /\.[cm]?[jt]sx?$/.test(file) ? file : null);
  }
  return resolved.get(key);
}

function scanDeps(file, text) {
  const specs = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  return [...new Set(specs.map((s) => resolveDep(s, file)).filter(Boolean))];
}

function depsOf(file) {
  const now = Date.now();
  const entry = graph.get(file);
  if (entry && now - entry.checkedAt < 1000) return entry.deps;
  let mtimeMs;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return [];
  }
  if (entry && entry.mtimeMs === mtimeMs) {
    entry.checkedAt = now;
    return entry.deps;
  }
  const deps = scanDeps(file, readFileSync(file, 'utf8'));
  graph.set(file, { checkedAt: now, mtimeMs, deps });
  return deps;
}

/** For each module with an import path back to `file`: the next module on a shortest such path. */
function nextHopsTo(file) {
  const importers = new Map(); // module -> modules reachable from `file` that import it
  const seen = new Set([file]);
  for (const stack = [file]; stack.length > 0; ) {
    const from = stack.pop();
    for (const dep of depsOf(from)) {
      if (!importers.has(dep)) importers.set(dep, []);
      importers.get(dep).push(from);
      if (!seen.has(dep)) {
        seen.add(dep);
        stack.push(dep);
      }
    }
  }
  const next = new Map();
  for (const queue = [file]; queue.length > 0; ) {
    const to = queue.shift();
    for (const from of importers.get(to) ?? []) {
      if (from === file || next.has(from)) continue;
      next.set(from, to);
      queue.push(from);
    }
  }
  return next;
}

const isTypeOnly = (node) =>
  node.importKind === 'type' ||
  node.exportKind === 'type' ||
  (node.specifiers?.length > 0 && node.specifiers.every((s) => (s.importKind ?? s.exportKind) === 'type'));

const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid import cycles, including cycles made only of `import type` edges.' },
    schema: [],
    messages: { cycle: 'Import cycle: {{route}}{{note}}' },
  },
  create(context) {
    const file = resolvePath(context.physicalFilename);
    const edges = []; // { source: Literal, typeOnly, target }
    const add = (source, typeOnly) => {
      const target = typeof source?.value === 'string' ? resolveDep(source.value, file) : null;
      if (target) edges.push({ source, typeOnly, target });
    };
    return {
      ImportDeclaration: (node) => add(node.source, isTypeOnly(node)),
      ExportNamedDeclaration: (node) => add(node.source, isTypeOnly(node)),
      ExportAllDeclaration: (node) => add(node.source, isTypeOnly(node)),
      ImportExpression: (node) => add(node.source, false),
      TSImportType: (node) => add(node.source, true),
      TSImportEqualsDeclaration: (node) =>
        node.moduleReference.type === 'TSExternalModuleReference' &&
        add(node.moduleReference.expression, node.importKind === 'type'),
      'CallExpression[callee.name="require"]': (node) => add(node.arguments[0], false),
      'Program:exit'() {
        // This file's edges come from its AST (fresh even if unsaved); other files are scanned from disk.
        graph.set(file, { checkedAt: Date.now(), mtimeMs: -1, deps: [...new Set(edges.map((e) => e.target))] });
        if (edges.length === 0) return;
        const next = nextHopsTo(file);
        for (const { source, typeOnly, target } of edges) {
          if (target !== file && !next.has(target)) continue;
          const route = [file, target];
          for (let m = target; m !== file; m = next.get(m)) route.push(next.get(m));
          context.report({
            node: source,
            messageId: 'cycle',
            data: {
              route: route.map((f) => relative(ROOT, f)).join(' → '),
              note: typeOnly ? ' (this edge is type-only; type-only cycles are forbidden too)' : '',
            },
          });
        }
      },
    };
  },
};
const localPlugin = { meta: { name: 'tfjs-lens-local' }, rules: { 'no-import-cycle': noImportCycle } };

export default tseslint.config(
  { ignores: ['dist/**', 'docs/api/**', 'node_modules/**', 'results/**'] },
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
    // No import cycles anywhere (type-only cycles included).
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    plugins: { local: localPlugin },
    rules: { 'local/no-import-cycle': 'error' },
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
