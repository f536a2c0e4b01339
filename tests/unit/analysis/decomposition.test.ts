/**
 * Cache analysis on the gpt2-tiny fixture: the decompositions sum back to the residual stream,
 * accumulatedResid ends at resid_post, and logit attributions of the full decomposition sum to the
 * model's logit difference (processed model), plus what holds on the unprocessed model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import type { ActivationCache } from '../../../src/hooks/activation_cache.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { accumulatedResid, decomposeResid } from '../../../src/analysis/residual.js';
import { getFullResidDecomposition, stackHeadResults, stackNeuronResults } from '../../../src/analysis/components.js';
import { logitAttrs } from '../../../src/analysis/logit_attrs.js';
import { loadReference, refRows } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');
const TOK_A = 17;
const TOK_B = 401;

let tokens: number[][];
let processed: HookedTransformer;
let raw: HookedTransformer;
const runs = new Map<string, { cache: ActivationCache; logits: tf.Tensor3D }>();

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

function run(name: 'processed' | 'raw'): { cache: ActivationCache; logits: tf.Tensor3D } {
  return runs.get(name) as { cache: ActivationCache; logits: tf.Tensor3D };
}

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  tokens = refRows(loadReference(FIXTURE), 'inputs/input_ids');
  processed = await HookedTransformer.fromPretrained(FIXTURE, { quiet: true });
  raw = await HookedTransformer.fromPretrainedNoProcessing(FIXTURE, { quiet: true });
  for (const [name, m] of [['processed', processed], ['raw', raw]] as const) {
    const [logits, cache] = m.runWithCache(tokens);
    runs.set(name, { cache, logits: logits as tf.Tensor3D });
  }
});

afterAll(() => {
  for (const r of runs.values()) {
    r.cache.dispose();
    r.logits.dispose();
  }
  processed?.dispose();
  raw?.dispose();
});

describe.each(['processed', 'raw'] as const)('residual decompositions (%s model)', (name) => {
  const model = (): HookedTransformer => (name === 'processed' ? processed : raw);

  it('accumulatedResid: labels, and the final entry equals the last resid_post', () => {
    const { cache } = run(name);
    const [stack, labels] = accumulatedResid(cache, model(), { returnLabels: true, inclMid: true });
    expect(labels).toEqual(['0_pre', '0_mid', '1_pre', '1_mid', 'final_post']);
    const last = tf.tidy(() => tf.squeeze(tf.slice(stack, [4, 0, 0, 0], [1, -1, -1, -1]), [0]));
    expect(maxDiff(last, cache.get('blocks.1.hook_resid_post'))).toBe(0);
    const upTo1 = accumulatedResid(cache, model(), { layer: 1, mlpInput: true, posSlice: -1, returnLabels: true });
    expect(upTo1[1]).toEqual(['0_pre', '1_pre', '1_mid']);
    expect(upTo1[0].shape).toEqual([3, 2, 64]);
    tf.dispose([stack, last, upTo1[0]]);
  });

  it('decomposeResid sums to resid_pre / resid_mid / the final resid_post within 1e-4', () => {
    const { cache } = run(name);
    const cases: [Parameters<typeof decomposeResid>[2], string][] = [
      [{}, 'blocks.1.hook_resid_post'],
      [{ layer: 1 }, 'blocks.1.hook_resid_pre'],
      [{ layer: 1, mlpInput: true }, 'blocks.1.hook_resid_mid'],
    ];
    for (const [opts, target] of cases) {
      const stack = decomposeResid(cache, model(), opts);
      const sum = tf.sum(stack, 0);
      expect(maxDiff(sum, cache.get(target)), target).toBeLessThan(1e-4);
      tf.dispose([stack, sum]);
    }
    const [, labels] = decomposeResid(cache, model(), { returnLabels: true });
    expect(labels).toEqual(['embed', 'pos_embed', '0_attn_out', '0_mlp_out', '1_attn_out', '1_mlp_out']);
    const [, attnLabels] = decomposeResid(cache, model(), { returnLabels: true, mode: 'attn', inclEmbeds: false });
    expect(attnLabels).toEqual(['0_attn_out', '1_attn_out']);
  });

  it('stackHeadResults + embeds + b_O + mlp_out sum to the residual; heads + b_O = attn_out', () => {
    const { cache } = run(name);
    const m = model();
    const bO = m.b_O; // read outside tidy: WeightsView builds weights lazily (see the report)
    const [heads, labels] = stackHeadResults(cache, m, { returnLabels: true });
    expect(labels).toEqual(['L0H0', 'L0H1', 'L0H2', 'L0H3', 'L1H0', 'L1H1', 'L1H2', 'L1H3']);
    expect(heads.shape).toEqual([8, 2, 12, 64]);
    const total = tf.tidy(() => {
      let t = tf.add(tf.sum(heads, 0), tf.add(cache.get('hook_embed'), cache.get('hook_pos_embed')));
      for (let l = 0; l < 2; l++) {
        t = tf.add(t, tf.add(cache.get(`blocks.${l}.hook_mlp_out`), tf.slice(bO, [l, 0], [1, -1]).reshape([64])));
      }
      return t;
    });
    expect(maxDiff(total, cache.get('blocks.1.hook_resid_post'))).toBeLessThan(1e-4);
    for (let l = 0; l < 2; l++) {
      const attn = tf.tidy(() => tf.add(tf.sum(tf.slice(heads, [4 * l, 0, 0, 0], [4, -1, -1, -1]), 0), tf.slice(bO, [l, 0], [1, -1]).reshape([64])));
      expect(maxDiff(attn, cache.get(`blocks.${l}.hook_attn_out`))).toBeLessThan(1e-4);
      attn.dispose();
    }
    const [withRest, restLabels] = stackHeadResults(cache, m, { inclRemainder: true, posSlice: -1, returnLabels: true });
    expect(restLabels.at(-1)).toBe('remainder');
    const s = tf.sum(withRest, 0);
    const want = tf.tidy(() => tf.squeeze(tf.slice(cache.get('blocks.1.hook_resid_post'), [0, 11, 0], [-1, 1, -1]), [1]));
    expect(maxDiff(s, want)).toBeLessThan(1e-4);
    tf.dispose([heads, total, withRest, s, want]);
  });

  it('getFullResidDecomposition (neurons or MLP layers) sums to the final residual; labels in TL order', () => {
    const { cache } = run(name);
    for (const expandNeurons of [true, false]) {
      const [stack, labels] = getFullResidDecomposition(cache, model(), { expandNeurons, returnLabels: true });
      expect(labels.slice(0, 2)).toEqual(['L0H0', 'L0H1']);
      expect(labels.slice(-3)).toEqual(['embed', 'pos_embed', 'bias']);
      expect(labels[8]).toBe(expandNeurons ? 'L0N0' : '0_mlp_out');
      expect(stack.shape[0]).toBe(8 + (expandNeurons ? 512 : 2) + 3);
      const sum = tf.sum(stack, 0);
      expect(maxDiff(sum, cache.get('blocks.1.hook_resid_post'))).toBeLessThan(1e-4);
      tf.dispose([stack, sum]);
    }
    const mid = getFullResidDecomposition(cache, model(), { layer: 1, mlpInput: true, expandNeurons: false, posSlice: [3, 5] });
    const midSum = tf.sum(mid, 0);
    const want = tf.tidy(() => tf.gather(cache.get('blocks.1.hook_resid_mid'), [3, 5], 1));
    expect(maxDiff(midSum, want)).toBeLessThan(1e-4);
    tf.dispose([mid, midSum, want]);
  });

  it('stackNeuronResults of a layer + b_out sums to mlp_out', () => {
    const { cache } = run(name);
    const bOut = model().b_out;
    const neurons = stackNeuronResults(cache, model(), { layer: 1, posSlice: { start: 2, stop: 6 } });
    expect(neurons.shape).toEqual([256, 2, 4, 64]);
    const got = tf.tidy(() => tf.add(tf.sum(neurons, 0), tf.slice(bOut, [0, 0], [1, -1]).reshape([64])));
    const want = tf.tidy(() => tf.slice(cache.get('blocks.0.hook_mlp_out'), [0, 2, 0], [-1, 4, -1]));
    expect(maxDiff(got, want)).toBeLessThan(1e-4);
    tf.dispose([neurons, got, want]);
  });
});

/** The model's logit difference at the last position: [batch]. */
function logitDiff(logits: tf.Tensor3D): number[] {
  return tf.tidy(() => {
    const last = tf.squeeze(tf.slice(logits, [0, 11, 0], [-1, 1, -1]), [1]); // [batch, d_vocab]
    return Array.from(tf.sub(tf.gather(last, TOK_A, 1), tf.gather(last, TOK_B, 1)).dataSync());
  });
}

describe('logit attributions sum to the logit difference', () => {
  it('processed model: Σ logitAttrs(full decomposition, applyLn) + Δb_U = logit diff within 1e-4', () => {
    const { cache, logits } = run('processed');
    const want = logitDiff(logits);
    for (const expandNeurons of [true, false]) {
      const stack = getFullResidDecomposition(cache, processed, { expandNeurons, posSlice: -1 });
      const attrs = logitAttrs(cache, processed, stack, { tokens: TOK_A, incorrectTokens: TOK_B, posSlice: -1 });
      expect(attrs.shape).toEqual([stack.shape[0], 2]);
      const sums = Array.from(tf.tidy(() => tf.sum(attrs, 0)).dataSync());
      const bU = processed.b_U.dataSync();
      const dBU = (bU[TOK_A] as number) - (bU[TOK_B] as number);
      expect(Math.abs(dBU)).toBeGreaterThan(1e-3); // the fixture's b_U matters (ln_f.b folded in)
      sums.forEach((s, b) => expect(Math.abs(s + dBU - (want[b] as number))).toBeLessThan(1e-4));
      tf.dispose([stack, attrs]);
    }
  });

  it('processed model: decomposeResid with applyLn sums to ln_final.hook_normalized', () => {
    const { cache } = run('processed');
    const stack = decomposeResid(cache, processed, { applyLn: true });
    const sum = tf.sum(stack, 0);
    expect(maxDiff(sum, cache.get('ln_final.hook_normalized'))).toBeLessThan(1e-4);
    tf.dispose([stack, sum]);
  });

  it('raw model: attributions omit ln_final w and b (as TL); with w⊙ΔW_U plus b·ΔW_U they sum to the logit diff', () => {
    const { cache, logits } = run('raw');
    const want = logitDiff(logits);
    const stack = getFullResidDecomposition(cache, raw, { posSlice: -1, applyLn: true });
    const plain = Array.from(tf.tidy(() => tf.sum(logitAttrs(cache, raw, stack, { tokens: TOK_A, incorrectTokens: TOK_B, posSlice: -1 }), 0)).dataSync());
    expect(Math.max(...plain.map((s, b) => Math.abs(s - (want[b] as number))))).toBeGreaterThan(1e-2);
    const ln = raw.params.lnFinal;
    expect(ln).toBeDefined();
    const [wU, bU] = [raw.W_U, raw.b_U];
    const fixed = tf.tidy(() => {
      const dW = tf.sub(tf.gather(wU, TOK_A, 1), tf.gather(wU, TOK_B, 1)); // [d_model]
      const w = ln?.w as tf.Tensor1D;
      const b = ln?.b as tf.Tensor1D;
      const perComp = tf.sum(tf.mul(stack, tf.mul(w, dW)), -1); // [n, batch]
      const constant = tf.add(tf.sum(tf.mul(b, dW)), tf.sub(tf.gather(bU, TOK_A), tf.gather(bU, TOK_B)));
      return Array.from(tf.add(tf.sum(perComp, 0), constant).dataSync());
    });
    fixed.forEach((s, b) => expect(Math.abs(s - (want[b] as number))).toBeLessThan(1e-4));
    stack.dispose();
  });
});
