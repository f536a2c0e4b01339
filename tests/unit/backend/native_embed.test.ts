/**
 * The fused embedding of the native path (src/backend/native_embed.ts, native/blas_matmul.c
 * `embedNorm`): gathers, adds and the norm in one kernel, bit for bit the unfused ops' values,
 * with ids checked (typed error, nothing left allocated); a wrong kernel is refused at install; the
 * encoders (DistilBERT, BERT with and without token types, RoBERTa's padding-aware positions) use it
 * when no embedding hook is attached, bit-equal to the hooked run, and match Hugging Face where the
 * fixtures have a reference (all but BERT with token types set).
 * The backend starts with TFJS_LENS_NATIVE_MATMUL=0 so that the tests install what they test.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { installNativeMatmul, nativeMatmulInfo } from '../../../src/backend/native_matmul.js';
import { checkAndSetEmbedAddon, fusedEmbed, fusedEmbedApplies, NATIVE_EMBED_NORM, setEmbedAddon, type EmbedAddon, type EmbedTerm } from '../../../src/backend/native_embed.js';
import { unfusedNorm } from '../../../src/backend/native_norm.js';
import { ShapeError } from '../../../src/errors.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { expectMatchesRef, loadReference, maxAbsDiff, refRows } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { buildTestAddon } from '../../helpers/native_addon.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-embed-'));
const addonPath = buildTestAddon(dir);
const SKIP = addonPath === undefined; // no C compiler or OpenBLAS here: the wasm path is tested elsewhere

const r = (shape: number[], seed: number, mean = 0, std = 1): tf.Tensor => tf.randomNormal(shape, mean, std, 'float32', seed);

/** The gathers and adds of the unfused path, then the norm. */
function reference(terms: EmbedTerm[], shape: number[], norm: Parameters<typeof fusedEmbed>[2]): tf.Tensor {
  return tf.tidy(() => {
    const rows = shape.reduce((a, b) => a * b, 1);
    const d = terms[0]?.table.shape[1] as number;
    let sum: tf.Tensor | undefined;
    for (const t of terms) {
      const ids = t.ids !== undefined ? tf.reshape(t.ids, [-1]) : tf.tensor1d(Array.from({ length: rows }, (_, i) => i % (t.period as number)), 'int32');
      const g = tf.gather(t.table, ids);
      sum = sum === undefined ? g : tf.add(sum, g);
    }
    const s = tf.reshape(sum as tf.Tensor, [...shape, d]);
    return norm === undefined ? s : unfusedNorm(s, norm.w, norm.b, norm.eps, norm.rms);
  });
}

beforeAll(async () => {
  process.env['TFJS_LENS_NATIVE_MATMUL'] = '0';
  await initBackend('wasm', { quiet: true });
  if (!SKIP) expect(installNativeMatmul(addonPath).fusedEmbed).toBe(true);
});

describe.skipIf(SKIP)('fused embedding (native path)', () => {
  it('gives the unfused gathers, adds and norm bit for bit, on one thread and split across threads, leaving only its output', () => {
    // [shape, d, terms (ids or a period), norm]; the 96×64×96 case is above the addon's threading threshold (2^19 values).
    const cases: [number[], number, ('ids' | number)[], 'ln' | 'rms' | 'pre' | 'none'][] = [
      [[3, 7], 64, ['ids', 7, 'ids'], 'ln'], // BERT: word, positions, token types
      [[2, 5], 33, ['ids', 5], 'pre'], // odd width, no affine
      [[4, 6], 48, ['ids', 'ids', 1], 'rms'], // RoBERTa-style position ids, one token type
      [[2, 9], 40, ['ids'], 'none'], // a plain gather
      [[96, 64], 96, ['ids', 64, 1], 'ln'], // 6,144 rows × 96: split across threads when there are several
    ];
    cases.forEach(([shape, d, kinds, normKind], i) => {
      const rows = (shape[0] as number) * (shape[1] as number);
      const terms: EmbedTerm[] = kinds.map((k, t) => {
        const n = k === 'ids' ? 50 + t : Math.max(k, 3) + 2;
        const table = tf.add(r([n, d], 100 * i + t, 0, 1), t);
        return k === 'ids' ? { table, ids: tf.tensor2d(Array.from({ length: rows }, (_, j) => (j * 31 + t) % n), shape as [number, number], 'int32') } : { table, period: k };
      });
      const norm = normKind === 'none' ? undefined : {
        w: normKind === 'ln' || normKind === 'rms' ? r([d], 7 + i, 1, 0.3) : undefined,
        b: normKind === 'ln' ? r([d], 8 + i, 0, 0.3) : undefined,
        eps: 1e-12, rms: normKind === 'rms',
      };
      expect(fusedEmbedApplies(terms, rows, norm), `case ${i}`).toBe(true);
      const before = tf.memory().numTensors;
      const got = fusedEmbed(terms, shape, norm);
      expect(tf.memory().numTensors, `case ${i}`).toBe(before + 1);
      expect(got.shape).toEqual([...shape, d]);
      const want = reference(terms, shape, norm);
      expect(maxAbsDiff(got, want), `case ${i}`).toBe(0);
      tf.dispose([got, want, ...terms.flatMap((t) => [t.table, ...(t.ids === undefined ? [] : [t.ids])]), ...(norm === undefined ? [] : [norm.w, norm.b].filter((t): t is tf.Tensor => t !== undefined))]);
    });
  });

  it('rejects an id outside its table with a ShapeError naming it, allocating nothing', () => {
    const table = r([10, 8], 1);
    const ids = tf.tensor1d([1, 10, 2], 'int32');
    const before = tf.memory().numTensors;
    expect(() => fusedEmbed([{ table, ids }], [3])).toThrow(ShapeError);
    expect(() => fusedEmbed([{ table, ids }], [3])).toThrow(/index 10 is not in \[0, 9\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([table, ids]);
  });

  it('the addon checks its own arguments: ids of the wrong type, an id or a period outside its table, too many terms', () => {
    const addon = createRequire(import.meta.url)(addonPath as string) as EmbedAddon;
    const table = new Float32Array(4 * 3).fill(1);
    const out = new Float32Array(2 * 3);
    const call = (terms: unknown[]): void => addon.embedNorm(out, 2, 3, terms as Parameters<EmbedAddon['embedNorm']>[3], null, null, 1e-5, false, false);
    expect(() => call([[table, new Float32Array([0, 1]), 0]])).toThrow(/expected an Int32Array/);
    expect(() => call([[table, new Int32Array([0, 4]), 0]])).toThrow(/id outside its table/);
    expect(() => call([[table, null, 5]])).toThrow(/period outside/);
    expect(() => call(Array.from({ length: 5 }, () => [table, null, 1]))).toThrow(/1 to 4 terms/);
    call([[table, new Int32Array([3, 0]), 0], [table, null, 2]]);
    expect([...out]).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('applies only to what it can run: a period past the table, ids of the wrong count, int32 tables or a wrong-sized weight go to the unfused ops', () => {
    const table = r([6, 8], 2);
    const ids = tf.tensor1d([0, 1, 2, 3], 'int32');
    expect(fusedEmbedApplies([{ table, ids }, { table, period: 4 }], 4)).toBe(true);
    expect(fusedEmbedApplies([{ table, ids }, { table, period: 7 }], 4)).toBe(false);
    expect(fusedEmbedApplies([{ table, ids }], 5)).toBe(false);
    const asInt = tf.cast(table, 'int32');
    expect(fusedEmbedApplies([{ table: asInt, ids }], 4)).toBe(false);
    const w = r([7], 3);
    expect(fusedEmbedApplies([{ table, ids }], 4, { w, b: undefined, eps: 1e-5, rms: false })).toBe(false);
    tf.dispose([table, ids, asInt, w]);
  });

  it('refuses a kernel with wrong values at install (the unfused ops stay)', () => {
    expect(nativeMatmulInfo()?.fusedEmbed).toBe(true);
    const wrong: EmbedAddon = { embedNorm: (out) => out.fill(0) };
    expect(checkAndSetEmbedAddon(wrong)).toBeUndefined();
    expect(checkAndSetEmbedAddon({})).toBeUndefined(); // an addon built before the fused embedding
    const table = r([4, 8], 4);
    expect(fusedEmbedApplies([{ table, period: 2 }], 4)).toBe(false);
    tf.dispose(table);
    expect(checkAndSetEmbedAddon(createRequire(import.meta.url)(addonPath as string) as EmbedAddon)).toBeLessThan(1e-4);
  });

  /** Whether a run used the fused kernel, and what it returned. */
  async function profiled(f: () => tf.Tensor): Promise<{ out: tf.Tensor; fused: boolean }> {
    let out: tf.Tensor | undefined;
    const info = await tf.profile(() => {
      out = f();
      return out;
    });
    return { out: out as tf.Tensor, fused: info.kernelNames.includes(NATIVE_EMBED_NORM) };
  }

  it.each([
    ['distilbert-tiny', 'hf_mlm/logits', false],
    ['bert-tiny', 'hf/logits', false],
    ['bert-tiny', undefined, true],
    ['roberta-tiny', 'hf_mlm/logits', false],
  ] as const)('%s (reference %s, token types %s): the no-hook forward uses it, matches the reference and equals the hooked run bit for bit', async (name, refKey, withTypes) => {
    const fixture = fixtureDir(name);
    const ref = loadReference(fixture);
    const model = await HookedEncoder.fromPretrained(fixture, { quiet: true });
    const ids = refRows(ref, 'inputs/input_ids');
    const mask = refRows(ref, 'inputs/attention_mask');
    const tokenTypeIds = withTypes ? ids.map((row) => row.map((_, j) => (j >= row.length / 2 ? 1 : 0))) : undefined;
    const opts = { attentionMask: mask, returnType: 'logits' as const, ...(tokenTypeIds === undefined ? {} : { tokenTypeIds }) };
    const before = tf.memory().numTensors;
    const { out, fused } = await profiled(() => model.forward(ids, opts) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(fused).toBe(true);
    if (refKey !== undefined) expectMatchesRef(out, ref, refKey);
    // Any embedding hook attached: the unfused gathers, adds and norm, the same bits.
    const hookNames = ['embed.hook_embed', 'embed.hook_pos_embed', 'embed.ln.hook_normalized'];
    const [hooked, cache] = model.runWithCache(ids, { ...opts, namesFilter: hookNames });
    expect(cache.keys()).toEqual(hookNames);
    expect(maxAbsDiff(out, hooked as tf.Tensor)).toBe(0);
    tf.dispose([out, hooked as tf.Tensor]);
    cache.dispose();
    model.dispose();
  });
});

it('without the addon (or with it off) the embedding takes the unfused ops', () => {
  const saved = nativeMatmulInfo();
  setEmbedAddon(undefined);
  const table = r([5, 4], 9);
  expect(fusedEmbedApplies([{ table, period: 2 }], 4)).toBe(false);
  tf.dispose(table);
  if (saved?.fusedEmbed === true) checkAndSetEmbedAddon(createRequire(import.meta.url)(addonPath as string) as EmbedAddon);
});
