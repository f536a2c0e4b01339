/**
 * The fused LayerNorm/RMSNorm of the native path (src/backend/native_norm.ts, native/blas_matmul.c
 * `layerNorm`): values equal the unfused tensor ops bit for bit, and gradients (always through the
 * unfused ops) are unchanged; a wrong kernel is refused at install; the models use it only when
 * neither norm hook is attached, and then still match the TransformerLens references (LayerNorm on GPT-2 raw, LNPre after fold_ln, RMSNorm on Llama). The
 * backend starts with TFJS_LENS_NATIVE_MATMUL=0 so that the tests install what they test.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { installNativeMatmul, nativeMatmulInfo } from '../../../src/backend/native_matmul.js';
import { checkAndSetNormAddon, fusedNormApplies, setNormAddon, type NormAddon } from '../../../src/backend/native_norm.js';
import { layerNorm } from '../../../src/model/components/layer_norm.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { NO_HOOKS, type RunContext } from '../../../src/hooks/run_context.js';
import { expectMatchesRef, loadReference, maxAbsDiff, refRows } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { buildTestAddon } from '../../helpers/native_addon.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-norm-'));
const addonPath = buildTestAddon(dir);
const SKIP = addonPath === undefined; // no C compiler or OpenBLAS here: the wasm path is tested elsewhere

/** A run context whose hooks are never attached (fused) or always attached (unfused). */
const ctx = (live: boolean): RunContext => ({
  flags: {},
  hook: Object.assign(<T extends tf.Tensor>(_n: string, x: T): T => x, { live: () => live }),
  additiveMask: undefined,
  mayHaveEmptyRows: false,
});

const r = (shape: number[], seed: number, mean = 0, std = 1): tf.Tensor => tf.randomNormal(shape, mean, std, 'float32', seed);

/** [shape, weight, bias, rms] */
const CASES: [number[], boolean, boolean, boolean][] = [
  [[2, 7, 64], true, true, false], // LayerNorm
  [[3, 5, 33], false, false, false], // LNPre (folded), odd width
  [[2, 4, 48], true, false, true], // RMSNorm
  [[9, 17], false, false, true], // RMSPre
  [[1, 2, 3, 40], true, true, false], // rank 4
  [[8, 100, 768], true, true, false], // 614,400 values: above the addon's threading threshold (2^19)
];

beforeAll(async () => {
  process.env['TFJS_LENS_NATIVE_MATMUL'] = '0';
  await initBackend('wasm', { quiet: true });
  if (!SKIP) {
    const info = installNativeMatmul(addonPath);
    expect(info.fusedNorm).toBe(true);
  }
});

describe.skipIf(SKIP)('fused LayerNorm (native path)', () => {
  it('gives the unfused ops\' values bit for bit (LN, LNPre, RMS, RMSPre), leaving only its output; gradients go through the unfused ops', () => {
    CASES.forEach(([shape, hasW, hasB, rms], i) => {
      const d = shape[shape.length - 1] as number;
      const x = tf.add(r(shape, 10 + i, 0, 3), 5);
      const p = hasW ? { w: r([d], 20 + i, 1, 0.3) as tf.Tensor1D, b: hasB ? (r([d], 30 + i, 0, 0.3) as tf.Tensor1D) : undefined } : undefined;
      expect(fusedNormApplies(x, p?.w, rms ? undefined : p?.b)).toBe(true);
      const before = tf.memory().numTensors;
      const fused = layerNorm(x, p, 1e-5, 'ln', ctx(false), rms);
      expect(tf.memory().numTensors, `case ${i}`).toBe(before + 1);
      const plain = tf.tidy(() => layerNorm(x, p, 1e-5, 'ln', ctx(true), rms));
      expect(maxAbsDiff(fused, plain), `case ${i} values`).toBe(0);
      // Under a gradient tape the fused kernel (which has no gradient) is not used.
      const dy = r(shape, 40 + i);
      const loss = (live: boolean) => (xs: tf.Tensor, ...ws: tf.Tensor[]): tf.Scalar => {
        const q = ws.length === 0 ? undefined : { w: ws[0] as tf.Tensor1D, b: ws[1] as tf.Tensor1D | undefined };
        return tf.sum(tf.mul(layerNorm(xs, q, 1e-5, 'ln', ctx(live), rms), dy));
      };
      const args = [x, ...(p === undefined ? [] : [p.w, ...(p.b === undefined ? [] : [p.b])])];
      const gf = tf.grads(loss(false))(args);
      const gu = tf.grads(loss(true))(args);
      gf.forEach((g, j) => expect(maxAbsDiff(g, gu[j] as tf.Tensor), `case ${i} gradient ${j}`).toBe(0));
      tf.dispose([x, fused, plain, dy, ...gf, ...gu, ...(p === undefined ? [] : [p.w, ...(p.b === undefined ? [] : [p.b])])]);
    });
  });

  it('is used only when the kernel applies: the NO_HOOKS context fuses, int32 or a wrong-sized weight does not', () => {
    const x = r([4, 8], 1);
    expect(fusedNormApplies(x, undefined, undefined)).toBe(true);
    expect(fusedNormApplies(tf.cast(x, 'int32'), undefined, undefined)).toBe(false);
    expect(fusedNormApplies(x, r([7], 2), undefined)).toBe(false);
    expect(NO_HOOKS.live?.('blocks.0.ln1.hook_scale')).toBe(false);
    tf.dispose(x);
  });

  it('refuses a kernel with wrong values at install (the unfused ops stay)', () => {
    const real = nativeMatmulInfo();
    expect(real?.fusedNorm).toBe(true);
    const wrong: NormAddon = { layerNorm: (x, out) => out.set(x.subarray(0, out.length)) };
    expect(checkAndSetNormAddon(wrong)).toBeUndefined();
    expect(checkAndSetNormAddon({})).toBeUndefined(); // an addon built before the fused norm
    expect(fusedNormApplies(r([2, 8], 3), undefined, undefined)).toBe(false);
    // the real one back
    const addon = createRequire(import.meta.url)(addonPath as string) as NormAddon;
    expect(checkAndSetNormAddon(addon)).toBeLessThan(1e-4);
  });

  it('GPT-2 (LayerNorm; LNPre after fold_ln) and Llama (RMSNorm) match TransformerLens with the fused norm, and hooks still see hook_scale', async () => {
    for (const [name, processed] of [['gpt2-tiny', false], ['gpt2-tiny', true], ['llama-tiny', false], ['llama-tiny', true]] as const) {
      const fixture = fixtureDir(name);
      const ref = loadReference(fixture);
      const model = processed ? await HookedTransformer.fromPretrained(fixture, { quiet: true }) : await HookedTransformer.fromPretrainedNoProcessing(fixture, { quiet: true });
      const tokens = refRows(ref, 'inputs/input_ids');
      const before = tf.memory().numTensors;
      const logits = model.forward(tokens) as tf.Tensor; // no hooks attached: every norm fused
      expect(tf.memory().numTensors).toBe(before + 1);
      expectMatchesRef(logits, ref, `${processed ? 'tl_processed_out' : 'tl_raw_out'}/logits`);
      // With the scale cached, ln_final runs unfused and its hooks fire; logits agree with the fused run.
      const [logits2, cache] = model.runWithCache(tokens, { namesFilter: ['ln_final.hook_scale'] });
      expect(cache.get('ln_final.hook_scale').shape).toEqual([tokens.length, (tokens[0] as number[]).length, 1]);
      expect(maxAbsDiff(logits, logits2 as tf.Tensor)).toBe(0);
      tf.dispose([logits, logits2 as tf.Tensor]);
      cache.dispose();
      model.dispose();
    }
  });
});

it('without the addon (or with it off) the norm takes the unfused ops', () => {
  const saved = nativeMatmulInfo();
  setNormAddon(undefined);
  const x = r([3, 16], 5);
  expect(fusedNormApplies(x, undefined, undefined)).toBe(false);
  const y = tf.tidy(() => layerNorm(x, undefined, 1e-5, 'ln', ctx(false), false)); // the component's callers tidy its intermediates
  expect(Math.abs(tf.mean(y).dataSync()[0] as number)).toBeLessThan(1e-5);
  tf.dispose([x, y]);
  if (saved?.fusedNorm === true) checkAndSetNormAddon(createRequire(import.meta.url)(addonPath as string) as NormAddon);
});
