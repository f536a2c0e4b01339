/**
 * The browser bundle imports nothing from Node: it is parsed (acorn) and every static import,
 * re-export, dynamic `import()` and `require()` call is listed; none may name a `node:` module or a
 * bare Node built-in (fs, path, os, crypto, …). Code inside string literals (tfjs-backend-wasm
 * carries its Node worker bootstrap as a string) is not code and is not counted. Also: the wasm
 * files sit beside the bundle, and the source map is there.
 * Builds the bundle first when it is missing or older than src/ (no browser needed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from 'acorn';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, ensureBrowserBundle } from '../helpers/browser_bundle.js';

interface AstNode {
  type: string;
  start: number;
  [key: string]: unknown;
}

const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));

/** Every module specifier the program loads: [specifier, how, offset]. */
function moduleSpecifiers(code: string): [string, string, number][] {
  const program = parse(code, { ecmaVersion: 'latest', sourceType: 'module' }) as unknown as AstNode;
  const found: [string, string, number][] = [];
  const lit = (n: unknown): string | undefined => {
    const node = n as AstNode | null | undefined;
    if (node?.type === 'Literal' && typeof node['value'] === 'string') return node['value'] as string;
    if (node?.type === 'TemplateLiteral' && (node['expressions'] as unknown[]).length === 0) {
      return ((node['quasis'] as AstNode[])[0]?.['value'] as { cooked: string }).cooked;
    }
    return undefined;
  };
  const stack: unknown[] = [program];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object') continue;
    if (Array.isArray(n)) {
      stack.push(...n);
      continue;
    }
    const node = n as AstNode;
    if (typeof node.type !== 'string') continue;
    if (/^(Import|ExportAll|ExportNamed)Declaration$/.test(node.type) && node['source'] != null) {
      found.push([lit(node['source']) ?? '?', node.type, node.start]);
    } else if (node.type === 'ImportExpression') {
      found.push([lit(node['source']) ?? '<computed>', 'import()', node.start]);
    } else if (node.type === 'CallExpression' && (node['callee'] as AstNode).type === 'Identifier' && /^(require|__require)$/.test((node['callee'] as AstNode)['name'] as string)) {
      found.push([lit((node['arguments'] as unknown[])[0]) ?? '<computed>', 'require()', node.start]);
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'type' && typeof v === 'object') stack.push(v);
  }
  return found;
}

beforeAll(async () => {
  await ensureBrowserBundle();
}, 120_000);

describe('browser bundle scan', () => {
  it('imports no node: module and no bare Node built-in', () => {
    const code = readFileSync(BUNDLE, 'utf8');
    const specs = moduleSpecifiers(code);
    const offenders = specs
      .filter(([s]) => s.startsWith('node:') || BUILTINS.has(s) || BUILTINS.has(s.split('/')[0] as string))
      .map(([s, how, at]) => `${how} '${s}' at offset ${at}: …${code.slice(Math.max(0, at - 60), at + 60)}…`);
    console.log(`bundle_scan: ${(code.length / 1024).toFixed(0)} KiB, ${specs.length} module loads in code: ${JSON.stringify(specs.map(([s, how]) => `${how} ${s}`))}`);
    expect(offenders, `Node modules in ${BUNDLE}:\n${offenders.join('\n')}`).toEqual([]);
  });

  it('the scan finds what it looks for (planted offenders)', () => {
    const planted = 'import fs from "fs"; export * from "node:path"; const os = require("os"); const s = `require("worker_threads")`; import("node:crypto");';
    const specs = moduleSpecifiers(planted).map(([s]) => s).sort();
    expect(specs).toEqual(['fs', 'node:crypto', 'node:path', 'os']);
  });

  it('has its source map and the tfjs wasm files beside it', () => {
    const dir = dirname(BUNDLE);
    expect(existsSync(`${BUNDLE}.map`)).toBe(true);
    for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) expect(existsSync(join(dir, f)), f).toBe(true);
  });
});
