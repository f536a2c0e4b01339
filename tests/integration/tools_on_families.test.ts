/**
 * The library's tools on the new decoder families, as TransformerLens 2.12 runs them: llama-tiny
 * (RMSNorm, rotary, grouped-query attention with 4 query / 2 key-value heads, gated MLP) and
 * pythia-tiny (LayerNorm, partial rotary, parallel attention and MLP: no resid_mid), with gpt2-tiny
 * as the control. Each check can fail: decompositions must sum to the stream they decompose, logit
 * attributions to the logit difference, each patching sweep must equal a patch made by hand, the
 * gradients a finite difference, the SAE source the cached activation; where a family lacks a
 * feature (resid_mid, per-head k/v edges) the tool must refuse with a ConfigError naming it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accumulatedResid, applyLnToStack, decomposeResid, directLogitAttribution, getFullResidDecomposition, logitAttrs, logitLens, stackHeadResults } from '../../src/analysis/index.js';
import { initBackend } from '../../src/backend/backend.js';
import { acdc, buildCircuitGraph, createSenderAblation, edgeAttributionPatching, edgeCircuitMetric, inductionTask, iterativePruning, logitDiffCircuitMetric, circuitMetricValue } from '../../src/circuits/index.js';
import { ConfigError, HookNameError } from '../../src/errors.js';
import { detectHead, inductionLoss, inductionScores } from '../../src/evals/index.js';
import type { ActivationCache } from '../../src/hooks/activation_cache.js';
import { actName } from '../../src/hooks/act_name.js';
import { kvHeads } from '../../src/model/config.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import * as P from '../../src/patching/index.js';
import { PATCH_PRESETS, type PatchPresetName, type PresetPatchFn } from '../../src/patching/presets.js';
import { extractPooledFeatures, probeHookName } from '../../src/probe/features.js';
import { ActivationStore, modelActivationSource } from '../../src/sae/activation_store.js';
import { saeConfig } from '../../src/sae/config.js';
import { trainSae } from '../../src/sae/train.js';
import { fixtureDir, type FixtureName } from '../helpers/fixtures.js';
import { expectNoLeak } from '../helpers/memory.js';

const FAMILIES = ['gpt2-tiny', 'llama-tiny', 'pythia-tiny'] as const satisfies readonly FixtureName[];
type Family = (typeof FAMILIES)[number];
const clean = [[5, 17, 42, 99, 3, 8], [1, 20, 30, 40, 50, 60]];
const corrupted = [[5, 17, 42, 7, 3, 8], [1, 20, 30, 41, 50, 60]];
const [TOK, WRONG] = [3, 9];
const POS = 6;
/** Mean logit of TOK at the last position: a scalar patching metric, differentiable. */
const metric = (l: tf.Tensor3D): tf.Scalar => tf.tidy(() => tf.mean(tf.slice(l, [0, POS - 1, TOK], [-1, 1, 1])));

const PRESET_FNS: Record<PatchPresetName, PresetPatchFn> = {
  resid_pre: P.getActPatchResidPre, resid_mid: P.getActPatchResidMid, attn_out: P.getActPatchAttnOut, mlp_out: P.getActPatchMlpOut,
  attn_head_out_by_pos: P.getActPatchAttnHeadOutByPos, attn_head_q_by_pos: P.getActPatchAttnHeadQByPos,
  attn_head_k_by_pos: P.getActPatchAttnHeadKByPos, attn_head_v_by_pos: P.getActPatchAttnHeadVByPos,
  attn_head_pattern_by_pos: P.getActPatchAttnHeadPatternByPos, attn_head_pattern_dest_src_pos: P.getActPatchAttnHeadPatternDestSrcPos,
  attn_head_out_all_pos: P.getActPatchAttnHeadOutAllPos, attn_head_q_all_pos: P.getActPatchAttnHeadQAllPos,
  attn_head_k_all_pos: P.getActPatchAttnHeadKAllPos, attn_head_v_all_pos: P.getActPatchAttnHeadVAllPos,
  attn_head_pattern_all_pos: P.getActPatchAttnHeadPatternAllPos,
};

interface Run { model: HookedTransformer; cache: ActivationCache; logits: tf.Tensor3D }
const runs = new Map<Family, Run>();
const get = (f: Family): Run => runs.get(f) as Run;
const num = (t: tf.Tensor): number => tf.tidy(() => t.dataSync()[0] as number);
const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
};
/** Logit difference TOK − WRONG at the last position, per prompt. */
const logitDiffs = (r: Run): number[] =>
  clean.map((_, b) => tf.tidy(() => { const v = tf.slice(r.logits, [b, POS - 1, 0], [1, 1, -1]).dataSync(); return (v[TOK] as number) - (v[WRONG] as number); }));

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  for (const f of FAMILIES) {
    const model = await HookedTransformer.fromPretrained(fixtureDir(f), { quiet: true });
    for (const w of ['W_U', 'b_U', 'W_O', 'b_O', 'W_out', 'b_out'] as const) model.weights.get(w); // lazily built, owned by the model
    const [logits, cache] = model.runWithCache(clean);
    runs.set(f, { model, cache, logits });
  }
});
afterAll(() => {
  for (const r of runs.values()) {
    r.cache.dispose();
    r.logits.dispose();
    r.model.dispose();
  }
});

describe.each(FAMILIES)('cache analysis on %s', (f) => {
  const parallel = f === 'pythia-tiny';
  const mlpInputName = (l: number): string => (parallel ? `blocks.${l}.hook_resid_pre` : `blocks.${l}.hook_resid_mid`);

  it('decomposeResid: rotary models have no pos_embed row (as TL); the stack sums to the final residual, resid_pre[1] and the MLP input', () => {
    const { model, cache } = get(f);
    const L = model.cfg.nLayers;
    const [stack, labels] = expectNoLeak(() => decomposeResid(cache, model, { returnLabels: true }), () => 1);
    expect(labels.slice(0, 2)).toEqual(f === 'gpt2-tiny' ? ['embed', 'pos_embed'] : ['embed', '0_attn_out']);
    expect(maxDiff(tf.tidy(() => tf.sum(stack, 0)), cache.get(`blocks.${L - 1}.hook_resid_post`))).toBeLessThan(1e-4);
    stack.dispose();
    const pre1 = decomposeResid(cache, model, { layer: 1 });
    expect(maxDiff(tf.tidy(() => tf.sum(pre1, 0)), cache.get('blocks.1.hook_resid_pre'))).toBeLessThan(1e-4);
    // The MLP input of layer 1: resid_mid, or resid_pre when attention and MLP run in parallel (TL adds attn_out there).
    const [mid1, midLabels] = decomposeResid(cache, model, { layer: 1, mlpInput: true, returnLabels: true });
    expect(midLabels.includes('1_attn_out')).toBe(!parallel);
    expect(maxDiff(tf.tidy(() => tf.sum(mid1, 0)), cache.get(mlpInputName(1)))).toBeLessThan(1e-4);
    tf.dispose([pre1, mid1]);
  });

  it('stackHeadResults from z·W_O (W_O per query head) equals the cached attn.hook_result; with the remainder it sums to the residual', () => {
    const { model, cache } = get(f);
    const [out, withResult] = model.runWithCache(clean, { useAttnResult: true, namesFilter: (n) => n.endsWith('attn.hook_result') });
    out.dispose();
    const fromZ = expectNoLeak(() => stackHeadResults(cache, model, {}), () => 1);
    const fromResult = stackHeadResults(withResult, model, {});
    expect(fromZ.shape[0]).toBe(model.cfg.nLayers * model.cfg.nHeads);
    expect(maxDiff(fromZ, fromResult)).toBeLessThan(1e-4);
    const rest = stackHeadResults(cache, model, { inclRemainder: true, layer: 1 });
    expect(maxDiff(tf.tidy(() => tf.sum(rest, 0)), cache.get('blocks.0.hook_resid_post'))).toBeLessThan(1e-4);
    tf.dispose([fromZ, fromResult, rest]);
    withResult.dispose();
  });

  it('getFullResidDecomposition (neurons and MLP layers) sums to the final residual and to the MLP input of layer 1', () => {
    const { model, cache } = get(f);
    const L = model.cfg.nLayers;
    for (const expandNeurons of [true, false]) {
      const [all, labels] = expectNoLeak(() => getFullResidDecomposition(cache, model, { expandNeurons, returnLabels: true }), () => 1);
      expect(labels.includes('pos_embed')).toBe(f === 'gpt2-tiny');
      expect(maxDiff(tf.tidy(() => tf.sum(all, 0)), cache.get(`blocks.${L - 1}.hook_resid_post`))).toBeLessThan(1e-4);
      all.dispose();
    }
    const [mid, labels] = getFullResidDecomposition(cache, model, { layer: 1, mlpInput: true, expandNeurons: false, returnLabels: true });
    expect(labels.includes('L1H0')).toBe(!parallel);
    expect(maxDiff(tf.tidy(() => tf.sum(mid, 0)), cache.get(mlpInputName(1)))).toBeLessThan(1e-4);
    mid.dispose();
  });

  it('applyLnToStack: the cached scale maps the decomposition to ln_final.hook_normalized, recomputeLn the last stream too; ln2 for the MLP input', () => {
    const { model, cache } = get(f);
    const L = model.cfg.nLayers;
    const scaled = decomposeResid(cache, model, { applyLn: true });
    expect(maxDiff(tf.tidy(() => tf.sum(scaled, 0)), cache.get('ln_final.hook_normalized'))).toBeLessThan(1e-4);
    const acc = accumulatedResid(cache, model, {});
    const lens = expectNoLeak(() => applyLnToStack(cache, model, acc, { recomputeLn: true }), () => 1);
    expect(maxDiff(tf.tidy(() => tf.squeeze(tf.slice(lens, [L], [1]), [0])), cache.get('ln_final.hook_normalized'))).toBeLessThan(1e-4);
    // accumulatedResid up to the MLP input of layer 1 ends at that input, normalised by ln2.
    const [toMlp, labels] = accumulatedResid(cache, model, { layer: 1, mlpInput: true, applyLn: true, returnLabels: true });
    expect(labels).toEqual(parallel ? ['0_pre', '1_pre'] : ['0_pre', '1_pre', '1_mid']);
    const last = tf.tidy(() => tf.squeeze(tf.slice(toMlp, [toMlp.shape[0] - 1], [1]), [0]));
    expect(maxDiff(last, cache.get('blocks.1.ln2.hook_normalized'))).toBeLessThan(1e-4);
    tf.dispose([scaled, acc, lens, toMlp, last]);
  });

  it('logitAttrs, directLogitAttribution (layer, head, neuron) and the logit lens add up to the model logits', () => {
    const r = get(f);
    const { model, cache } = r;
    const diffs = logitDiffs(r);
    const bU = model.weights.get('b_U').dataSync();
    const bias = (bU[TOK] as number) - (bU[WRONG] as number);
    const stack = getFullResidDecomposition(cache, model, { posSlice: -1 });
    const attrs = expectNoLeak(() => logitAttrs(cache, model, stack, { tokens: TOK, incorrectTokens: WRONG, posSlice: -1 }), () => 1); // [n, batch]
    const sums = tf.tidy(() => tf.sum(attrs, 0).arraySync() as number[]);
    sums.forEach((s, b) => expect(s + bias).toBeCloseTo(diffs[b] as number, 4));
    tf.dispose([stack, attrs]);
    for (const granularity of ['layer', 'head', 'neuron'] as const) {
      const dla = expectNoLeak(() => directLogitAttribution(cache, model, { tokens: TOK, incorrectTokens: WRONG, granularity }));
      expect(dla.labels.includes('pos_embed')).toBe(f === 'gpt2-tiny');
      diffs.forEach((d, b) => expect(dla.attrs.reduce((a, row) => a + (row[b] as number), 0) + (dla.unembedBias[b] as number)).toBeCloseTo(d, 4));
    }
    const lensOut = expectNoLeak(() => logitLens(cache, model, { targets: [TOK], topK: 2 }));
    expect(lensOut.labels).toEqual(['0_pre', '1_pre', 'final_post']);
    const final = lensOut.values.at(-1) as number[][];
    clean.forEach((_, b) => expect(final[b]?.[0]).toBeCloseTo(num(tf.tidy(() => tf.slice(r.logits, [b, POS - 1, TOK], [1, 1, 1]))), 4));
  });

  it(`resid_mid streams: ${parallel ? 'refused with a ConfigError naming parallel attention and resid_pre' : 'stacked as in TL'}`, () => {
    const { model, cache } = get(f);
    if (!parallel) {
      const [s, labels] = accumulatedResid(cache, model, { inclMid: true, returnLabels: true });
      expect(labels).toEqual(['0_pre', '0_mid', '1_pre', '1_mid', 'final_post']);
      s.dispose();
      expect(logitLens(cache, model, { targets: [TOK], inclMid: true }).labels).toHaveLength(5);
      return;
    }
    const before = tf.memory().numTensors;
    expect(() => accumulatedResid(cache, model, { inclMid: true })).toThrow(ConfigError);
    expect(() => logitLens(cache, model, { targets: [TOK], inclMid: true })).toThrow(/in parallel .*no resid_mid.*drop inclMid/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** The clean activation written into the corrupted one where every indexed axis equals `at` (independent of the setters). */
function handPatch(x: tf.Tensor, cleanAct: tf.Tensor, actAxes: readonly number[], at: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    let mask: tf.Tensor = tf.onesLike(x);
    actAxes.forEach((ax, k) => {
      const shape = x.shape.map((d, i) => (i === ax ? d : 1));
      mask = tf.mul(mask, tf.reshape(tf.oneHot(at[k] as number, x.shape[ax] as number), shape));
    });
    return tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(cleanAct, mask));
  });
}

/** A preset's output shape: k/v presets sweep the key/value heads, the others the query heads. */
function presetShape(model: HookedTransformer, name: PatchPresetName): number[] {
  const p = PATCH_PRESETS[name];
  const heads = /^(k|v)$/.test(p.activation) ? kvHeads(model.cfg) : model.cfg.nHeads;
  return p.axes.map((a) => (a === 'layer' ? model.cfg.nLayers : a === 'head' ? heads : a === 'head_index' ? model.cfg.nHeads : POS));
}

describe.each(FAMILIES)('activation patching on %s', (f) => {
  const presets = (Object.keys(PRESET_FNS) as PatchPresetName[]).filter((n) => !(f === 'pythia-tiny' && n === 'resid_mid'));

  it('every getActPatch* preset: head axis n_kv_heads for k/v, each sweep entry equal to a patch made by hand', () => {
    const { model, cache } = get(f);
    for (const name of presets) {
      const p = PATCH_PRESETS[name];
      const expected = presetShape(model, name);
      const r = expectNoLeak(() => (PRESET_FNS[name] as PresetPatchFn)(model, corrupted, cache, metric), () => 1);
      expect(r.shape, name).toEqual(expected);
      const vals = r.dataSync();
      r.dispose();
      for (const row of [expected.map((d) => d - 1), expected.map(() => 0)]) {
        const [layer, ...at] = row as [number, ...number[]];
        const hook = actName(p.activation, layer);
        const byHand = tf.tidy(() => num(metric(model.runWithHooks(corrupted, { fwdHooks: [[hook, (x: tf.Tensor) => handPatch(x, cache.get(hook), p.setter.actAxes ?? [], at)]] }))));
        const flat = row.reduce((acc, i, k) => acc * (expected[k] as number) + i, 0);
        expect(vals[flat], `${name} at [${row.join(', ')}]`).toBeCloseTo(byHand, 4);
      }
    }
  });

  it('patching the clean resid_pre at the corrupted position gives the clean metric; the every-sweeps stack or refuse', () => {
    const { model, cache, logits } = get(f);
    const r = P.getActPatchResidPre(model, corrupted, cache, metric);
    expect((r.arraySync() as number[][])[0]?.[3]).toBeCloseTo(num(metric(logits)), 4);
    r.dispose();
    const block = expectNoLeak(() => P.getActPatchBlockEvery(model, corrupted, cache, metric), () => 1);
    expect(block.shape).toEqual([3, model.cfg.nLayers, POS]);
    block.dispose();
    if (f === 'llama-tiny') {
      expect(() => P.getActPatchAttnHeadAllPosEvery(model, corrupted, cache, metric)).toThrow(ConfigError);
      expect(() => P.getActPatchAttnHeadByPosEvery(model, corrupted, cache, metric)).toThrow(/grouped-query attention .*KAllPos/);
    } else {
      const every = P.getActPatchAttnHeadAllPosEvery(model, corrupted, cache, metric);
      expect(every.shape).toEqual([5, model.cfg.nLayers, model.cfg.nHeads]);
      every.dispose();
    }
  });

  it("genericActivationPatch's head axis uses the hook's own head count (k, rot_k: n_kv_heads; q, z: n_heads)", () => {
    const { model, cache } = get(f);
    const kv = kvHeads(model.cfg);
    const axes: P.AxisName[] = ['layer', 'pos', 'head'];
    const shapeOf = (act: string): number[] => {
      const t = P.genericActivationPatch(model, corrupted, cache, metric, P.layerPosHeadVectorPatchSetter, act, { indexAxisNames: axes });
      const s = t.shape;
      t.dispose();
      return s;
    };
    expect(shapeOf('k')).toEqual([2, POS, kv]);
    expect(shapeOf('z')).toEqual([2, POS, model.cfg.nHeads]);
    if (f === 'gpt2-tiny') {
      expect(() => shapeOf('rot_k')).toThrow(HookNameError); // learned positions: no rotary hooks
      return;
    }
    expect(shapeOf('rot_k')).toEqual([2, POS, kv]);
    expect(() => P.genericActivationPatch(model, corrupted, cache, metric, P.layerPosPatchSetter, 'pos_embed', { indexAxisNames: ['layer', 'pos'] })).toThrow(/rotary positions/);
  });

  it('gradientsAtHooks equals a finite difference (resid_pre, k with n_kv_heads); attribution patching has every preset shape', () => {
    const { model, cache } = get(f);
    const names = ['blocks.1.hook_resid_pre', 'blocks.0.attn.hook_k'];
    const g = expectNoLeak(() => P.gradientsAtHooks(model, corrupted, metric, names), () => names.length); // the gradients, owned by g.grads
    expect(g.grads.get('blocks.0.attn.hook_k').shape).toEqual([2, POS, kvHeads(model.cfg), model.cfg.dHead]);
    for (const n of names) {
      const grad = g.grads.get(n);
      const dir = tf.randomNormal(grad.shape, 0, 1, 'float32', 7);
      const eps = 1e-2;
      const at = (s: number): number => tf.tidy(() => num(metric(model.runWithHooks(corrupted, { fwdHooks: [[n, (x: tf.Tensor) => tf.add(x, tf.mul(dir, s))]] }))));
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      const analytic = num(tf.tidy(() => tf.sum(tf.mul(grad, dir))));
      expect(Math.abs(fd - analytic), n).toBeLessThan(1e-2 * Math.max(1, Math.abs(fd)));
      dir.dispose();
    }
    g.grads.dispose();
    const attr = expectNoLeak(() => P.attributionPatchMany(model, cache, corrupted, metric, presets), (m) => m.size);
    for (const [name, t] of attr) {
      expect(t.shape, name).toEqual(presetShape(model, name));
      expect(Array.from(t.dataSync()).every(Number.isFinite), name).toBe(true);
      t.dispose();
    }
  });
});

describe('resid_mid on parallel attention and MLP (pythia-tiny): a ConfigError, never a deep KeyError', () => {
  it('the preset, attribution patching, gradients, SAE source and probe features refuse, naming the feature and resid_pre', async () => {
    const { model, cache } = get('pythia-tiny');
    const msg = /'blocks\.0\.hook_resid_mid' does not exist: .*in parallel .*resid_pre/;
    expect(() => P.getActPatchResidMid(model, corrupted, cache, metric)).toThrow(ConfigError);
    expect(() => P.getActPatchResidMid(model, corrupted, cache, metric)).toThrow(msg);
    expect(() => P.attributionPatch(model, cache, corrupted, metric, 'resid_mid')).toThrow(msg);
    expect(() => P.gradientsAtHooks(model, corrupted, metric, 'blocks.0.hook_resid_mid')).toThrow(msg);
    await expect(modelActivationSource(model, 'blocks.0.hook_resid_mid', clean)).rejects.toThrow(msg);
    expect(() => extractPooledFeatures(model, { ids: clean, attentionMask: clean.map((r) => r.map(() => 1)) }, { hookName: probeHookName('resid_mid', 0, 2) })).toThrow(msg);
  });
});

describe.each(FAMILIES)('evals on %s', (f) => {
  it('induction scores read each head\'s pattern; the head detector and induction loss run', () => {
    const { model } = get(f);
    const { scores, tokens } = expectNoLeak(() => inductionScores(model, { batch: 2, seqLen: 8, low: 10, high: 900 }));
    expect([scores.length, scores[0]?.length]).toEqual([model.cfg.nLayers, model.cfg.nHeads]);
    const [, c] = model.runWithCache(tokens, { namesFilter: (n) => n === 'blocks.1.attn.hook_pattern', returnType: 'none' });
    const h = model.cfg.nHeads - 1;
    const byHand = tf.tidy(() => {
      const p = tf.slice(c.get('blocks.1.attn.hook_pattern'), [0, h, 0, 0], [-1, 1, -1, -1]).arraySync() as number[][][][];
      const vals = p.flatMap((b) => Array.from({ length: 9 }, (_, i) => b[0]?.[i + 7]?.[i] as number));
      return vals.reduce((a, v) => a + v, 0) / vals.length;
    });
    c.dispose();
    expect(scores[1]?.[h]).toBeCloseTo(byHand, 6);
    const prev = expectNoLeak(() => detectHead(model, [[5, 6, 7, 8, 5, 6, 7, 8]], 'previous_token_head'));
    expect(prev.flat().every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(inductionLoss(model, { subseqLen: 8, batchSize: 2, low: 10, high: 900 })).toBeGreaterThan(0);
  });
});

describe.each(FAMILIES)('SAE and probe features on %s', (f) => {
  const rows = Array.from({ length: 16 }, (_, i) => Array.from({ length: 8 }, (_, j) => 10 + ((i * 37 + j * 11) % 900)));

  it('modelActivationSource streams blocks.0.hook_resid_post exactly; a few SAE training steps lower the MSE, no leaks', async () => {
    const { model } = get(f);
    const before = tf.memory().numTensors;
    const src = await modelActivationSource(model, 'blocks.0.hook_resid_post', rows, { batchPrompts: 4 });
    expect(src.dIn).toBe(model.cfg.dModel);
    const first = (await src.next()) as Float32Array;
    const [out, c] = model.runWithCache(rows.slice(0, 4), { namesFilter: ['blocks.0.hook_resid_post'] });
    const want = c.get('blocks.0.hook_resid_post').dataSync();
    out.dispose();
    c.dispose();
    expect(first.length).toBe(want.length);
    expect(Math.max(...first.map((v, i) => Math.abs(v - (want[i] as number))))).toBeLessThan(1e-5);
    const store = new ActivationStore(src, { batchSize: 32, bufferBatches: 4, seed: 0 });
    const res = await trainSae({
      store,
      cfg: saeConfig({ architecture: 'standard', dIn: model.cfg.dModel, dSae: 128 }),
      training: { steps: 40, batchSize: 32, lr: 3e-3, seed: 0 },
      quiet: true,
      logEvery: 10,
    });
    expect((res.history.at(-1)?.mseLoss ?? Infinity)).toBeLessThan(res.history[0]?.mseLoss ?? 0);
    res.sae.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('extractPooledFeatures on a decoder: right padding leaves each row as if alone; k features are n_kv_heads wide', () => {
    const { model } = get(f);
    const ids = [[5, 17, 42, 99, 3, 8], [7, 8, 9, 0, 0, 0]];
    const attentionMask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]];
    const hookName = probeHookName('resid_post', 0, model.cfg.nLayers);
    const both = expectNoLeak(() => extractPooledFeatures(model, { ids, attentionMask }, { hookName }));
    expect([both.rows, both.cols]).toEqual([2, model.cfg.dModel]);
    const alone = extractPooledFeatures(model, { ids: [[7, 8, 9]], attentionMask: [[1, 1, 1]] }, { hookName });
    expect(Math.max(...alone.data.map((v, i) => Math.abs(v - (both.data[model.cfg.dModel + i] as number))))).toBeLessThan(1e-4);
    const k = extractPooledFeatures(model, { ids, attentionMask }, { hookName: probeHookName('k', 1, model.cfg.nLayers) });
    expect(k.cols).toBe(kvHeads(model.cfg) * model.cfg.dHead);
  });
});

describe('circuits', () => {
  const task = inductionTask({ batch: 2, segLen: 5, low: 10, high: 900, bos: 0 });

  it('grouped-query attention (llama-tiny): ACDC and EAP refuse with a ConfigError naming the alternatives; node pruning works', () => {
    const { model } = get('llama-tiny');
    const msg = /grouped-query attention .*not supported by edge-level circuit discovery.*iterativePruning/;
    expect(() => acdc(model, { ...task, threshold: 0.01, quiet: true })).toThrow(ConfigError);
    expect(() => acdc(model, { ...task, threshold: 0.01, quiet: true })).toThrow(msg);
    expect(() => edgeAttributionPatching(model, { ...task, topN: 5, quiet: true })).toThrow(msg);
    const res = expectNoLeak(() => iterativePruning(model, { ...task, threshold: 0.05, strategy: 'reverse', quiet: true }));
    expect(res.nodes).toEqual(expect.arrayContaining(['input', 'logits']));
    expect(Object.keys(res.nodeScores)).toHaveLength(model.cfg.nLayers * (model.cfg.nHeads + 1));
  });

  it.each(['gpt2-tiny', 'pythia-tiny'] as const)('%s: the graph has head→MLP edges only for sequential blocks; removing every edge gives the corrupted run', (f) => {
    const { model } = get(f);
    const graph = buildCircuitGraph(model.cfg);
    const sameLayer = graph.edges.filter((e) => /^a(\d+)\.\d+->m\1$/.test(e.id));
    expect(sameLayer.length).toBe(f === 'pythia-tiny' ? 0 : model.cfg.nLayers * model.cfg.nHeads);
    const metricDef = logitDiffCircuitMetric(task);
    const source = createSenderAblation(model, graph, task, 'resample');
    try {
      const full = edgeCircuitMetric(model, graph, task.prompts, metricDef, new Set(), source);
      const none = edgeCircuitMetric(model, graph, task.prompts, metricDef, new Set(graph.edges.map((e) => e.id)), source);
      expect(full).toBeCloseTo(circuitMetricValue(model, task.prompts, metricDef, [], {}), 3);
      expect(none).toBeCloseTo(circuitMetricValue(model, task.corrupted ?? [], metricDef, [], {}), 3);
      // Cutting every edge into m1 hands the MLP its input from the corrupted run: resid_mid[1], or
      // resid_pre[1] with parallel attention and MLP (an edge from a layer-1 head would add more).
      const input = f === 'pythia-tiny' ? 'blocks.1.hook_resid_pre' : 'blocks.1.hook_resid_mid';
      const [, corr] = model.runWithCache(task.corrupted ?? [], { namesFilter: [input], returnType: 'none' });
      const byHand = circuitMetricValue(model, task.prompts, metricDef, [['blocks.1.hook_mlp_in', () => tf.clone(corr.get(input))]], { useHookMlpIn: true });
      corr.dispose();
      const cut = edgeCircuitMetric(model, graph, task.prompts, metricDef, new Set(graph.edges.filter((e) => e.to === 'm1').map((e) => e.id)), source);
      expect(cut).toBeCloseTo(byHand, 3);
      expect(Math.abs(cut - full)).toBeGreaterThan(1e-3); // the cut matters, so the comparison means something
    } finally {
      source.dispose();
    }
    const eap = expectNoLeak(() => edgeAttributionPatching(model, { ...task, topN: 8, quiet: true }));
    const found = expectNoLeak(() => acdc(model, { ...task, threshold: 0.05, quiet: true }));
    for (const e of [...eap.edges, ...found.edges]) expect(graph.edges.some((g) => g.id === e)).toBe(true);
  });
});
