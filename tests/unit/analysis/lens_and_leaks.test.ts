/**
 * Logit lens and DLA helpers, hook_result vs z·W_O, error paths, and leak checks (the tensor count
 * grows by exactly what each analysis function returns).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, HookNameError, ShapeError } from '../../../src/errors.js';
import type { ActivationCache } from '../../../src/hooks/activation_cache.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { applyLnToStack } from '../../../src/analysis/apply_ln.js';
import { accumulatedBias, getFullResidDecomposition, stackHeadResults, stackNeuronResults } from '../../../src/analysis/components.js';
import { directLogitAttribution, logitLens } from '../../../src/analysis/lens.js';
import { logitAttrs, residualStackToLogitDiff, tokensToResidualDirections } from '../../../src/analysis/logit_attrs.js';
import { accumulatedResid, decomposeResid, stackActivation } from '../../../src/analysis/residual.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { loadReference, refRows } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');
let tokens: number[][];
let model: HookedTransformer;
let raw: HookedTransformer;
let cache: ActivationCache;
let rawCache: ActivationCache;
let logits: tf.Tensor3D;
let rawLogits: tf.Tensor3D;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  tokens = refRows(loadReference(FIXTURE), 'inputs/input_ids');
  model = await HookedTransformer.fromPretrained(FIXTURE, { quiet: true });
  raw = await HookedTransformer.fromPretrainedNoProcessing(FIXTURE, { quiet: true });
  let out;
  [out, cache] = model.runWithCache(tokens);
  logits = out as tf.Tensor3D;
  [out, rawCache] = raw.runWithCache(tokens);
  rawLogits = out as tf.Tensor3D;
});

afterAll(() => {
  tf.dispose([logits, rawLogits]);
  cache?.dispose();
  rawCache?.dispose();
  model?.dispose();
  raw?.dispose();
});

const lastRow = (t: tf.Tensor3D, b: number): Float32Array =>
  tf.tidy(() => tf.slice(t, [b, 11, 0], [1, 1, -1]).dataSync() as Float32Array);

describe('logitLens', () => {
  it.each([['processed'], ['raw']] as const)('final_post reproduces the model logits (%s model)', (which) => {
    const [m, c, lg] = which === 'processed' ? [model, cache, logits] : [raw, rawCache, rawLogits];
    const lens = logitLens(c, m, { targets: [3, 500], topK: 3 });
    expect(lens.labels).toEqual(['0_pre', '1_pre', 'final_post']);
    for (let b = 0; b < 2; b++) {
      const row = lastRow(lg, b);
      const final = lens.values[2]?.[b] as number[];
      expect(Math.abs((final[0] as number) - (row[3] as number))).toBeLessThan(1e-4);
      expect(Math.abs((final[1] as number) - (row[500] as number))).toBeLessThan(1e-4);
      const rank3 = Array.from(row).filter((v) => v > (row[3] as number)).length;
      expect(lens.ranks[2]?.[b]?.[0]).toBe(rank3);
      const argmax = Array.from(row).indexOf(Math.max(...row));
      expect(lens.topIds?.[2]?.[b]?.[0]).toBe(argmax);
    }
  });

  it('probs sum to at most 1 and need targets or topK', () => {
    const lens = logitLens(cache, model, { topK: 1000, returnType: 'probs', inclMid: true });
    expect(lens.labels).toEqual(['0_pre', '0_mid', '1_pre', '1_mid', 'final_post']);
    const total = (lens.topValues?.[0]?.[0] ?? []).reduce((a, v) => a + v, 0);
    expect(total).toBeCloseTo(1, 4);
    expect(() => logitLens(cache, model, {})).toThrow(ConfigError);
    expect(() => logitLens(cache, model, { targets: [1000] })).toThrow(ShapeError);
  });
});

describe('directLogitAttribution', () => {
  it.each(['layer', 'head', 'neuron'] as const)('%s: Σ attrs + unembedBias = logit diff', (granularity) => {
    const dla = directLogitAttribution(cache, model, { tokens: [5, 6], incorrectTokens: [7, 8], granularity });
    expect(dla.attrs.length).toBe(dla.labels.length);
    for (let b = 0; b < 2; b++) {
      const row = lastRow(logits, b);
      const want = (row[b === 0 ? 5 : 6] as number) - (row[b === 0 ? 7 : 8] as number);
      const got = dla.attrs.reduce((a, r) => a + (r[b] as number), 0) + (dla.unembedBias[b] as number);
      expect(Math.abs(got - want)).toBeLessThan(1e-4);
    }
    if (granularity === 'head') expect(dla.labels).toContain('L1H3');
    expect(dla.mean[0]).toBeCloseTo(((dla.attrs[0]?.[0] ?? 0) + (dla.attrs[0]?.[1] ?? 0)) / 2, 6);
  });

  it('rejects per-position tokens and batch mismatches', () => {
    expect(() => directLogitAttribution(cache, model, { tokens: [[1, 2]] })).toThrow(ShapeError);
    expect(() => directLogitAttribution(cache, model, { tokens: [1, 2, 3] })).toThrow(/3 tokens for a batch of 2/);
  });
});

describe('logitAttrs token shapes', () => {
  it('[batch, pos] tokens on a full stack agree with [batch] tokens on the last position', () => {
    const full = decomposeResid(cache, model);
    const last = decomposeResid(cache, model, { posSlice: -1 });
    const perPos = tokens.map((r) => r.map((_, p) => (p === 11 ? r[0] as number : 0)));
    const a = logitAttrs(cache, model, full, { tokens: perPos }); // [n, batch, pos]
    const b = logitAttrs(cache, model, last, { tokens: tokens.map((r) => r[0] as number), posSlice: -1 }); // [n, batch]
    expect(a.shape).toEqual([6, 2, 12]);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.squeeze(tf.slice(a, [0, 0, 11], [-1, -1, 1]), [2]), b))).dataSync()[0] as number);
    expect(d).toBeLessThan(1e-5);
    tf.dispose([full, last, a, b]);
  });
});

describe('head results from hook_result equal z·W_O', () => {
  it('with useAttnResult the cached results are used and agree', () => {
    const [out, withResult] = model.runWithCache(tokens, { useAttnResult: true });
    const a = stackHeadResults(withResult, model);
    const b = stackHeadResults(cache, model);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
    expect(d).toBeLessThan(1e-5);
    tf.dispose([a, b, out as tf.Tensor]);
    withResult.dispose();
  });
});

describe('applyLnToStack and stackActivation', () => {
  it('cached-scale LN of the final stream equals ln_final.hook_normalized (processed)', () => {
    const stack = tf.tidy(() => tf.expandDims(cache.get('blocks.1.hook_resid_post'), 0));
    const out = applyLnToStack(cache, model, stack);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.squeeze(out, [0]), cache.get('ln_final.hook_normalized')))).dataSync()[0] as number);
    expect(d).toBeLessThan(1e-5);
    const ln1 = applyLnToStack(cache, model, stack, { layer: 1, mlpInput: true });
    expect(ln1.shape).toEqual(stack.shape);
    tf.dispose([stack, out, ln1]);
  });

  it('stackActivation stacks over layers', () => {
    const p = stackActivation(cache, model, 'pattern');
    expect(p.shape).toEqual([2, 2, 4, 12, 12]);
    const s = stackActivation(cache, model, 'scale', 1, 'ln2');
    expect(s.shape).toEqual([1, 2, 12, 1]);
    tf.dispose([p, s]);
  });
});

describe('errors', () => {
  it('bad layers, mlpInput at the unembed, missing hooks, token shapes', () => {
    expect(() => accumulatedResid(cache, model, { layer: 3 })).toThrow(ConfigError);
    expect(() => accumulatedResid(cache, model, { layer: 3 })).toThrow(/layer must be in \[0, 2\] or -1, got 3/);
    expect(() => decomposeResid(cache, model, { mlpInput: true })).toThrow(ConfigError);
    expect(() => getFullResidDecomposition(cache, model, { mlpInput: true })).toThrow(ConfigError);
    const bad = tf.zeros([1, 2, 12, 5]);
    expect(() => applyLnToStack(cache, model, bad)).toThrow(ShapeError);
    bad.dispose();
    expect(() => accumulatedBias(model, 2, true)).toThrow(ConfigError);
    expect(() => stackActivation(cache, model, 'pattern', 0)).toThrow(ConfigError);
    expect(() => accumulatedResid(cache, model, { posSlice: 12 })).toThrow(/position 12 is out of range/);
    const [o, partial] = model.runWithCache(tokens, { namesFilter: (n) => n.endsWith('resid_pre') });
    expect(() => accumulatedResid(partial, model)).toThrow(HookNameError);
    expect(() => stackHeadResults(partial, model)).toThrow(HookNameError);
    partial.dispose();
    (o as tf.Tensor).dispose();
    const stack = decomposeResid(cache, model, { posSlice: -1 });
    expect(() => logitAttrs(cache, model, stack, { tokens: [1, 2], incorrectTokens: 3, posSlice: -1 })).toThrow(/same shape/);
    expect(() => logitAttrs(cache, model, stack, { tokens: [1, 2, 3], posSlice: -1 })).toThrow(/do not broadcast/);
    expect(() => logitAttrs(cache, model, stack, { tokens: 'x', posSlice: -1 })).toThrow(/no tokenizer/);
    stack.dispose();
  });
});

describe('no tensor leaks beyond what is returned', () => {
  it('every tensor-returning analysis function', () => {
    const one = (): number => 1;
    const pair = (r: [tf.Tensor, string[]]): number => (r[0] ? 1 : 0);
    const track: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => {
      track.push(t);
      return t;
    };
    keep(expectNoLeak(() => accumulatedResid(cache, model, { applyLn: true, inclMid: true }), one));
    keep(expectNoLeak(() => accumulatedResid(cache, model, { applyLn: true, layer: 1, posSlice: [1, 2] }), one));
    keep(expectNoLeak(() => decomposeResid(cache, model, { applyLn: true, layer: 1, mlpInput: true }), one));
    keep(expectNoLeak(() => stackHeadResults(cache, model, { inclRemainder: true, applyLn: true, returnLabels: true }), pair)[0]);
    keep(expectNoLeak(() => stackHeadResults(cache, model, { layer: 0, inclRemainder: true }), one));
    keep(expectNoLeak(() => stackHeadResults(cache, model, { layer: 0 }), one));
    keep(expectNoLeak(() => stackNeuronResults(cache, model, { applyLn: true, posSlice: -1 }), one));
    keep(expectNoLeak(() => getFullResidDecomposition(cache, model, { applyLn: true, posSlice: -1 }), one));
    keep(expectNoLeak(() => getFullResidDecomposition(cache, model, { layer: 1, mlpInput: true, expandNeurons: false }), one));
    keep(expectNoLeak(() => accumulatedBias(model, 1, true), one));
    keep(expectNoLeak(() => stackActivation(cache, model, 'z'), one));
    keep(expectNoLeak(() => tokensToResidualDirections(model, [[1, 2], [3, 4]]), one));
    const stack = keep(decomposeResid(cache, model, { posSlice: -1 }));
    keep(expectNoLeak(() => applyLnToStack(cache, model, stack, { posSlice: -1 }), one));
    keep(expectNoLeak(() => logitAttrs(cache, model, stack, { tokens: [1, 2], incorrectTokens: [3, 4], posSlice: -1 }), one));
    keep(expectNoLeak(() => residualStackToLogitDiff(cache, model, stack, { tokens: 1, incorrectTokens: 2, posSlice: -1 }), one));
    expectNoLeak(() => logitLens(cache, model, { targets: [1], topK: 2 }));
    expectNoLeak(() => directLogitAttribution(cache, model, { tokens: 1, granularity: 'neuron' }));
    expectNoLeak(() => expect(() => logitAttrs(cache, model, stack, { tokens: [1, 2, 3], posSlice: -1 })).toThrow());
    expectNoLeak(() => expect(() => directLogitAttribution(cache, model, { tokens: [1, 2, 3] })).toThrow());
    tf.dispose(track);
  });
});
