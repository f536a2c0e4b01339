/**
 * The pure SAE codec (src/sae/io_codec.ts) that browsers use: cfg.json text + safetensors bytes → the
 * same SAE as loadSae; its errors; and a static scan of its import graph (static relative imports followed
 * through the sources) finding no `node:` or Node built-in module. Dynamic `import()`s are not followed: the
 * only one reachable is src/backend/ensure.ts's `import('./backend.js')`, run by `ensureBackend` (Node start-up
 * of the backend), which the codec never calls; a bundler splits it into a chunk that is never loaded.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, WeightLoadError } from '../../../src/errors.js';
import { parseSaeSparsity, saeFromFiles } from '../../../src/sae/io_codec.js';
import { loadSae, readSaeSparsity, saeDir } from '../../../src/sae/io.js';

const DIRS = [saeDir('induction-2l', 'blocks.0.hook_resid_post'), saeDir('distilbert-mini', 'blocks.0.attn.hook_q')];

/** Every module reachable from `entry` through static relative imports/exports (type-only ones included), and the bare specifiers they name. */
function importGraph(entry: string): { files: string[]; bare: string[] } {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    const specs = [...src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string);
    for (const s of specs) {
      if (s.startsWith('.')) visit(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
      else bare.add(s);
    }
  };
  visit(resolve(entry));
  return { files: [...seen], bare: [...bare] };
}

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('io_codec (pure SAE parser)', () => {
  it('imports no node: or Node built-in module anywhere in its module graph', () => {
    const { files, bare } = importGraph('src/sae/io_codec.ts');
    expect(files.length).toBeGreaterThan(5);
    const node = bare.filter((s) => s.startsWith('node:') || builtinModules.includes(s));
    expect(node).toEqual([]);
    expect(bare.every((s) => s.startsWith('@tensorflow/'))).toBe(true);
  });

  it('the scan can fail: io.ts (Node) is caught', () => {
    expect(importGraph('src/sae/io.ts').bare.filter((s) => s.startsWith('node:')).length).toBeGreaterThan(0);
  });

  for (const dir of DIRS) {
    it(`saeFromFiles equals loadSae for ${dir.split('saes/')[1]}`, async () => {
      const before = tf.memory().numTensors;
      const fromBytes = saeFromFiles(readFileSync(join(dir, 'cfg.json'), 'utf8'), new Uint8Array(readFileSync(join(dir, 'sae_weights.safetensors'))), { source: dir });
      const fromDisk = await loadSae(dir);
      expect(fromBytes.cfg).toEqual(fromDisk.cfg);
      const [a, b] = [fromBytes.toArrays(), fromDisk.toArrays()];
      for (const k of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) expect(a[k]).toEqual(b[k]);
      expect(parseSaeSparsity(new Uint8Array(readFileSync(join(dir, 'sparsity.safetensors'))))).toEqual(await readSaeSparsity(dir));
      fromBytes.dispose();
      fromDisk.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('errors: bad JSON, bad cfg, missing tensor', () => {
    const dir = DIRS[0] as string;
    const cfgText = readFileSync(join(dir, 'cfg.json'), 'utf8');
    const bytes = new Uint8Array(readFileSync(join(dir, 'sae_weights.safetensors')));
    expect(() => saeFromFiles('{"d_in": NaN', bytes)).toThrow(WeightLoadError);
    expect(() => saeFromFiles('{"d_in": NaN', bytes)).toThrow(/NaN or Infinity/);
    expect(() => saeFromFiles(cfgText.replace('"topk"', '"topkk"'), bytes)).toThrow(ConfigError);
    expect(() => saeFromFiles(cfgText.replace('"topk"', '"topkk"'), bytes)).toThrow(/did you mean 'topk'/);
    expect(() => saeFromFiles(cfgText.replace('"architecture":"topk"', '"architecture":"jumprelu"'), bytes)).toThrow(/missing \[threshold\]/);
  });
});
