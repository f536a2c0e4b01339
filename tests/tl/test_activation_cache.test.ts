/**
 * Port of TransformerLens v2.18.0 tests/acceptance/test_activation_cache.py (29 test functions).
 * TL loads the pretrained "solu-2l" and "attn-only-2l" with fold_ln, center_writing_weights and
 * center_unembed; here random-init 2-layer GPT-2-style models (real GPT-2 tokenizer, so the IOI
 * prompts and names tokenise as in TL) get the same processing through `processWeights`
 * (refactor_factored_attn_matrices is not applied: no test depends on it). The "matches reference
 * code" tests recompute the expected values with TL's own formula written out with tf ops.
 * Cache methods of TL are free functions here (`accumulatedResid(cache, model, …)` etc.).
 *
 * Not ported:
 * - test_toggle_autodiff: TL flips torch's global grad mode; tfjs has no global autodiff state
 *   (gradients exist only inside tf.grad / tf.variableGrads), so there is no toggleAutodiff.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError, ShapeError } from '../../src/errors.js';
import type { ActivationCache } from '../../src/hooks/activation_cache.js';
import { actName } from '../../src/hooks/act_name.js';
import { validateConfig, type ModelConfig } from '../../src/model/config.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { randomDecoderParams } from '../../src/model/random_init.js';
import { processWeights } from '../../src/model/weight_processing.js';
import { loadTokenizer, shippedTokenizerDir } from '../../src/tokenizers/load.js';
import { Slice } from '../../src/utils/slice.js';
import { applyLnToStack } from '../../src/analysis/apply_ln.js';
import { accumulatedResid, decomposeResid, stackActivation } from '../../src/analysis/residual.js';
import { accumulatedBias, getFullResidDecomposition, stackHeadResults, stackNeuronResults } from '../../src/analysis/components.js';
import { logitAttrs, tokensToResidualDirections } from '../../src/analysis/logit_attrs.js';
import { computeHeadResults, getNeuronResults } from '../../src/analysis/results.js';
import { expectNoLeak } from '../helpers/memory.js';

const IOI_FORMATS = [
  'When John and Mary went to the shops,{} gave the bag to',
  'When Tom and James went to the park,{} gave the ball to',
  'When Dan and Sid went to the shops,{} gave an apple to',
  'After Martin and Amy went to the park,{} gave a drink to',
];
const IOI_NAMES: [string, string][] = [[' Mary', ' John'], [' Tom', ' James'], [' Dan', ' Sid'], [' Martin', ' Amy']];

/** TL get_ioi_tokens_and_answer_tokens: tokens [8, pos] and answer tokens [8, 2] (correct, incorrect). */
function ioiTokens(model: HookedTransformer): { tokens: tf.Tensor2D; answers: number[][] } {
  const prompts: string[] = [];
  const answers: number[][] = [];
  for (const [i, fmt] of IOI_FORMATS.entries()) {
    for (let j = 0; j < 2; j++) {
      const names = IOI_NAMES[i] as [string, string];
      const [correct, incorrect] = [names[j] as string, names[1 - j] as string];
      answers.push([model.toSingleToken(correct), model.toSingleToken(incorrect)]);
      prompts.push(fmt.replace('{}', incorrect));
    }
  }
  return { tokens: model.toTokens(prompts, { prependBos: true }), answers };
}

async function loadModel(attnOnly: boolean): Promise<HookedTransformer> {
  const cfg: ModelConfig = validateConfig({
    modelType: 'gpt2', nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, dMlp: 12, dVocab: 50257, nCtx: 32,
    actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN', attnOnly, bosTokenId: 50256, eosTokenId: 50256,
  });
  // Non-trivial LN weights and biases so fold_ln has something to fold.
  const params = randomDecoderParams(cfg, { seed: attnOnly ? 11 : 7, std: 0.3 });
  const processed = processWeights(params, cfg);
  return new HookedTransformer(processed.cfg, processed.params, await loadTokenizer(shippedTokenizerDir('gpt2')));
}

let model: HookedTransformer;
let attnOnly: HookedTransformer;
let tokens: tf.Tensor2D;
let answers: number[][];
let cache: ActivationCache;
let answerTokens: tf.Tensor2D; // [8, 2] int32
const owned: tf.Tensor[] = [];

/** TL `torch.isclose(a, b, atol).all()` (rtol 1e-5 as torch). */
function isClose(a: tf.Tensor, b: tf.Tensor, atol = 1e-6): boolean {
  if (a.size === 0 && b.size === 0) return true; // torch: .all() of an empty tensor is True
  return tf.tidy(() => {
    const tol = tf.add(atol, tf.mul(1e-5, tf.abs(b)));
    return tf.all(tf.lessEqual(tf.abs(tf.sub(a, b)), tol)).dataSync()[0] === 1;
  });
}
function expectClose(a: tf.Tensor, b: tf.Tensor, atol = 1e-6): void {
  expect(a.shape).toEqual(b.shape);
  expect(isClose(a, b, atol)).toBe(true);
}
const keep = <T extends tf.Tensor>(t: T): T => {
  owned.push(t);
  return t;
};
/** x[:, -1] of [batch, pos, d] (TL `[:, -1]`). */
const lastPos = (x: tf.Tensor): tf.Tensor => tf.squeeze(tf.slice(x, [0, (x.shape[1] ?? 1) - 1, 0], [-1, 1, -1]), [1]);
/** Column `j` of the [8, 2] answer tokens as an int32 [8] tensor. */
const answerCol = (j: number): tf.Tensor1D => keep(tf.tensor1d(answers.map((r) => r[j] as number), 'int32'));

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await loadModel(false);
  attnOnly = await loadModel(true);
  ({ tokens, answers } = ioiTokens(model));
  answerTokens = tf.tensor2d(answers, [answers.length, 2], 'int32');
  const [logits, c] = model.runWithCache(tokens);
  logits.dispose();
  cache = c;
});

afterAll(() => {
  tf.dispose(owned);
  cache?.dispose();
  tokens?.dispose();
  answerTokens?.dispose();
  model?.dispose();
  attnOnly?.dispose();
});

describe('test_activation_cache (TL acceptance)', () => {
  it('test_logit_attrs_matches_reference_code', () => {
    tf.tidy(() => {
      const acc = accumulatedResid(cache, model, { layer: -1, inclMid: true, posSlice: -1 }); // [n, batch, d]
      const dirs = tokensToResidualDirections(model, answerTokens); // [batch, 2, d]
      const [d0, d1] = tf.unstack(dirs, 1) as [tf.Tensor, tf.Tensor];
      const diffDirs = tf.sub(d0, d1); // [batch, d]
      const scaled = applyLnToStack(cache, model, acc, { layer: -1, posSlice: -1 });
      // einsum("... batch d_model, batch d_model -> ...") / len(tokens)
      const ref = tf.div(tf.sum(tf.mul(scaled, diffDirs), [1, 2]), tokens.shape[0]);
      const diffs = logitAttrs(cache, model, acc, { posSlice: -1, tokens: answerCol(0), incorrectTokens: answerCol(1) });
      expectClose(ref, tf.mean(diffs, -1), 1.1e-6);
    });
  });

  it('test_logit_accumulated_resid_on_last_layer_variants', () => {
    tf.tidy(() => {
      const acc = accumulatedResid(cache, model, { layer: -1, inclMid: true, posSlice: -1 });
      const a = acc.arraySync();
      expect(accumulatedResid(cache, model, { layer: model.cfg.nLayers, inclMid: true, posSlice: -1 }).arraySync()).toEqual(a);
      expect(accumulatedResid(cache, model, { layer: undefined, inclMid: true, posSlice: -1 }).arraySync()).toEqual(a);
    });
  });

  it('test_logit_accumulated_resid_without_mid', () => {
    const [acc, labels] = accumulatedResid(cache, model, { layer: -1, inclMid: false, posSlice: -1, returnLabels: true });
    expect(labels.length).toBe(acc.shape[0]);
    expect(labels.every((l) => !l.includes('mid'))).toBe(true);
    acc.dispose();
  });

  it('test_logit_attrs_works_for_all_input_shapes', () => {
    tf.tidy(() => {
      const acc = accumulatedResid(cache, model, { layer: -1, inclMid: true, posSlice: -1, returnLabels: false }); // [n, 8, d]
      const dirs = tokensToResidualDirections(model, answerTokens); // [8, 2, d]
      const [d0, d1] = tf.unstack(dirs, 1) as [tf.Tensor, tf.Tensor];
      const scaled = applyLnToStack(cache, model, acc, { layer: -1, posSlice: -1 });
      let ref = tf.sum(tf.mul(scaled, tf.sub(d0, d1)), -1); // [n, 8]
      const nb = answers.length;
      const col = (t: tf.Tensor, b: number): tf.Tensor => tf.squeeze(tf.slice(t, [0, b], [-1, 1]), [1]); // t[:, b]
      const tok = (b: number, j: number): number => (answers[b] as number[])[j] as number;
      const last = nb - 1; // batch = -1

      // All tokens
      expectClose(ref, logitAttrs(cache, model, acc, { posSlice: -1, tokens: answerCol(0), incorrectTokens: answerCol(1) }), 1.1e-6);

      // Single token (0-d tensor), batch_slice -1, pos_slice Slice(-1)
      let got = logitAttrs(cache, model, acc, {
        batchSlice: -1, posSlice: new Slice(-1), tokens: tf.scalar(tok(last, 0), 'int32'), incorrectTokens: tf.scalar(tok(last, 1), 'int32'),
      });
      expectClose(col(ref, last), got, 1e-5);

      // Single token (int), batch_slice Slice(-1)
      got = logitAttrs(cache, model, acc, { batchSlice: new Slice(-1), posSlice: -1, tokens: tok(last, 0), incorrectTokens: tok(last, 1) });
      expectClose(col(ref, last), got, 1e-5);

      // Single token (str)
      got = logitAttrs(cache, model, acc, {
        batchSlice: -1, posSlice: -1, tokens: model.toString([tok(last, 0)]) as string, incorrectTokens: model.toString([tok(last, 1)]) as string,
      });
      expectClose(col(ref, last), got, 1e-5);

      // Single token and residual stack without batch dim
      got = logitAttrs(cache, model, col(acc, last), {
        hasBatchDim: false, batchSlice: -1, posSlice: -1, tokens: tf.scalar(tok(last, 0), 'int32'), incorrectTokens: tf.scalar(tok(last, 1), 'int32'),
      });
      expectClose(col(ref, last), got, 1e-5);

      // Array slice of tokens
      const batch = [2, 5, 7];
      const idx = tf.tensor1d(batch, 'int32');
      got = logitAttrs(cache, model, acc, {
        batchSlice: batch, posSlice: -1,
        tokens: tf.tensor1d(batch.map((b) => tok(b, 0)), 'int32'), incorrectTokens: tf.tensor1d(batch.map((b) => tok(b, 1)), 'int32'),
      });
      expectClose(tf.gather(ref, idx, 1), got, 1e-5);

      // Different shape for tokens and incorrect_tokens
      expect(() =>
        logitAttrs(cache, model, tf.gather(acc, idx, 1), {
          hasBatchDim: false, batchSlice: batch, posSlice: -1,
          tokens: tf.tensor1d(batch.map((b) => tok(b, 0)), 'int32'), incorrectTokens: tf.tensor2d(batch.map((b) => [tok(b, 0)]), [3, 1], 'int32'),
        }),
      ).toThrow(ShapeError);

      // No incorrect tokens
      ref = tf.sum(tf.mul(scaled, d0), -1);
      got = logitAttrs(cache, model, acc, { posSlice: -1, tokens: answerCol(0), incorrectTokens: undefined });
      expectClose(ref, got, 1e-5);
    });
  });

  it('test_accumulated_resid_with_apply_ln', () => {
    tf.tidy(() => {
      const acc = accumulatedResid(cache, model, { layer: -1, inclMid: true, posSlice: -1 });
      const ref = applyLnToStack(cache, model, acc, { layer: -1, posSlice: -1, recomputeLn: true });
      expectClose(ref, accumulatedResid(cache, model, { layer: -1, inclMid: true, posSlice: -1, applyLn: true }), 1e-6);
      const [scaled, labels] = accumulatedResid(cache, model, { layer: undefined, inclMid: true, posSlice: new Slice(-1), applyLn: true, returnLabels: true });
      expectClose(ref, scaled, 1e-6);
      const expected: string[] = [];
      for (let l = 0; l <= model.cfg.nLayers; l++) {
        if (l === model.cfg.nLayers) expected.push('final_post');
        else expected.push(`${l}_pre`, `${l}_mid`);
      }
      expect(labels).toEqual(expected);
    });
  });

  it('test_apply_ln_recompute_ln_differs_from_cached', () => {
    tf.tidy(() => {
      const acc = accumulatedResid(cache, model, { layer: -1, inclMid: true, posSlice: -1 });
      const withRecompute = applyLnToStack(cache, model, acc, { layer: -1, posSlice: -1, recomputeLn: true });
      const withCached = applyLnToStack(cache, model, acc, { layer: -1, posSlice: -1, recomputeLn: false });
      expect(withRecompute.shape).toEqual(withCached.shape);
      expect(isClose(withRecompute, withCached, 1e-7)).toBe(false);
    });
  });

  it('test_decompose_resid_with_apply_ln', () => {
    tf.tidy(() => {
      const perLayer = decomposeResid(cache, model, { layer: -1, posSlice: -1 });
      const ref = applyLnToStack(cache, model, perLayer, { layer: -1, posSlice: -1 });
      expectClose(ref, decomposeResid(cache, model, { layer: undefined, posSlice: new Slice(-1), applyLn: true }), 1e-7);
    });
  });

  it('test_decompose_resid_including_attention', () => {
    tf.tidy(() => {
      const ref = tf.stack(Array.from({ length: model.cfg.nLayers }, (_, l) => lastPos(cache.get('attn_out', l))));
      const stack = decomposeResid(cache, model, { layer: 1, posSlice: new Slice(-1), mlpInput: true, applyLn: false, inclEmbeds: false, mode: 'attn' });
      expectClose(ref, stack, 1e-7);
    });
  });

  it('test_stack_head_results_with_apply_ln', () => {
    tf.tidy(() => {
      const perHead = stackHeadResults(cache, model, { layer: -1, posSlice: -1 });
      const ref = applyLnToStack(cache, model, perHead, { layer: undefined, posSlice: new Slice(-1) });
      expectClose(ref, stackHeadResults(cache, model, { layer: -1, posSlice: -1, applyLn: true }), 1e-7);
    });
  });

  it('test_stack_head_results_including_remainder', () => {
    tf.tidy(() => {
      let refPost = tf.expandDims(lastPos(cache.get('resid_post', 0)), 0);
      let [perHead, labels] = stackHeadResults(cache, model, { layer: 1, posSlice: -1, inclRemainder: true, returnLabels: true });
      const n = perHead.shape[0] as number;
      const heads = tf.slice(perHead, [0], [n - 1]);
      const remainder = tf.sub(refPost, tf.sum(heads, 0, true));
      expectClose(remainder, tf.slice(perHead, [n - 1], [1]), 1e-6);
      expect(labels.slice(0, -1)).toEqual(Array.from({ length: model.cfg.nHeads }, (_, i) => `L0H${i}`));
      expect(labels.at(-1)).toBe('remainder');

      refPost = tf.expandDims(lastPos(cache.get('resid_post', -1)), 0);
      [perHead, labels] = stackHeadResults(cache, model, { layer: 0, posSlice: -1, inclRemainder: true, returnLabels: true });
      expectClose(refPost, perHead, 1e-7);
      expect(labels).toEqual(['remainder']);

      [perHead, labels] = stackHeadResults(cache, model, { layer: 0, posSlice: -1, inclRemainder: false, returnLabels: true });
      expectClose(perHead, tf.zerosLike(perHead));
      expect(labels.length).toBe(0);
    });
  });

  it('test_stack_neuron_results_with_apply_ln', () => {
    tf.tidy(() => {
      const neurons = stackNeuronResults(cache, model, { layer: -1, posSlice: -1 });
      const ref = applyLnToStack(cache, model, neurons, { layer: -1, posSlice: -1 });
      expectClose(ref, stackNeuronResults(cache, model, { layer: -1, posSlice: new Slice(-1), applyLn: true }), 1e-7);
    });
  });

  it('test_stack_neuron_results_including_remainder', () => {
    tf.tidy(() => {
      let refPost = tf.expandDims(lastPos(cache.get('resid_post', 0)), 0);
      let [stack, labels] = expectNoLeak(
        () => stackNeuronResults(cache, model, { layer: 1, posSlice: new Slice(-1), inclRemainder: true, returnLabels: true }),
        () => 1,
      );
      const n = stack.shape[0] as number;
      const remainder = tf.sub(refPost, tf.sum(tf.slice(stack, [0], [n - 1]), 0, true));
      expectClose(remainder, tf.slice(stack, [n - 1], [1]), 1e-6);
      expect(labels.slice(0, -1)).toEqual(Array.from({ length: model.cfg.dMlp }, (_, i) => `L0N${i}`));
      expect(labels.at(-1)).toBe('remainder');

      refPost = tf.expandDims(lastPos(cache.get('resid_post', -1)), 0);
      [stack, labels] = stackNeuronResults(cache, model, { layer: 0, posSlice: -1, inclRemainder: true, returnLabels: true });
      expectClose(refPost, stack, 1e-7);
      expect(labels).toEqual(['remainder']);

      [stack, labels] = stackNeuronResults(cache, model, { layer: 0, posSlice: -1, inclRemainder: false, returnLabels: true });
      expectClose(stack, tf.zerosLike(stack));
      expect(labels.length).toBe(0);
    });
  });

  it('test_stack_neuron_results_using_neuron_slice', () => {
    const [stack, labels] = expectNoLeak(
      () => stackNeuronResults(cache, model, { layer: 1, posSlice: new Slice(-1), neuronSlice: new Slice([0, 1, 2]), returnLabels: true }),
      () => 1,
    );
    expect(labels).toEqual([0, 1, 2].map((i) => `L0N${i}`));
    // Beyond TL: the rows are those neurons' results.
    tf.tidy(() => expectClose(stack, tf.slice(stackNeuronResults(cache, model, { layer: 1, posSlice: -1 }), [0], [3]), 1e-7));
    stack.dispose();
  });

  it('test_remove_batch_dim', () => {
    const first = tf.slice(tokens, [0, 0], [1, -1]);
    const [logits, c] = model.runWithCache(first);
    tf.dispose([first, logits]);
    try {
      expect(c.hasBatchDim).toBe(true);
      const before = new Map(c.entries().map(([k, v]) => [k, v.shape]));
      expectNoLeak(() => c.removeBatchDim());
      expect(c.hasBatchDim).toBe(false);
      for (const [k, v] of c.entries()) expect(v.shape).toEqual((before.get(k) as number[]).slice(1));

      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      c.removeBatchDim();
      expect(warn).toHaveBeenCalledTimes(1);
      warn.mockRestore();
      expect(c.hasBatchDim).toBe(false);
      for (const [k, v] of c.entries()) expect(v.shape).toEqual((before.get(k) as number[]).slice(1));

      // Beyond TL: the analysis functions accept a cache without a batch dimension.
      tf.tidy(() => {
        const [full] = model.runWithCache(tokens.slice([0, 0], [1, -1]), { returnType: 'none' }).slice(1) as [ActivationCache];
        try {
          const withBatch = getFullResidDecomposition(full, model, { posSlice: -1, applyLn: true });
          const without = getFullResidDecomposition(c, model, { posSlice: -1, applyLn: true });
          expectClose(tf.squeeze(withBatch, [1]), without, 1e-6);
          expectClose(tf.squeeze(getNeuronResults(full, model, 1), [0]), getNeuronResults(c, model, 1), 1e-7);
        } finally {
          full.dispose();
        }
      });
    } finally {
      c.dispose();
    }
  });

  it('test_remove_batch_dim_fails_if_batch_gt_1', () => {
    expect(cache.hasBatchDim).toBe(true);
    expect(() => cache.removeBatchDim()).toThrow(ConfigError);
    expect(() => cache.removeBatchDim()).toThrow(/batch size > 1/);
    expect(cache.hasBatchDim).toBe(true);
  });

  it('test_retrieve_activations', () => {
    const n = model.cfg.nLayers;
    expect(cache.get('scale', 1, 'ln1')).toBe(cache.get(actName('scale', 1, 'ln1')));
    expect(cache.get('scale', -1, 'ln1')).toBe(cache.get(`scale${n - 1}ln1`));
    expect(cache.get('k', -1)).toBe(cache.get(`blocks.${n - 1}.attn.hook_k`));
    expect(cache.get('embed')).toBe(cache.get(actName('embed')));
    expect(cache.get('embed', undefined)).toBe(cache.get(actName('embed', undefined)));
  });

  it('test_get_items', () => {
    const items = cache.items();
    const dict = cache.entries();
    expect(items.length).toBe(dict.length);
    items.forEach(([k, v], i) => {
      expect(k).toBe(dict[i]?.[0]);
      expect(v).toBe(dict[i]?.[1]);
    });
  });

  it('test_get_values', () => {
    const values = cache.values();
    const dict = cache.entries();
    expect(values.length).toBe(dict.length);
    values.forEach((v, i) => expect(v).toBe(dict[i]?.[1]));
  });

  it('test_get_keys', () => {
    const dict = cache.entries().map(([k]) => k);
    expect(cache.keys()).toEqual(dict);
    expect([...cache]).toEqual(dict); // __iter__ over keys
    expect(dict.slice(0, 3)).toEqual(['hook_embed', 'hook_pos_embed', 'blocks.0.hook_resid_pre']);
  });

  it('test_apply_slice_to_batch_dim', () => {
    expect(cache.hasBatchDim).toBe(true);
    let sliced = expectNoLeak(() => cache.applySliceToBatchDim(Slice.fromTuple([2, 4])), (c) => c.size);
    expect(sliced.hasBatchDim).toBe(true);
    for (const key of cache.keys()) {
      const want = tf.tidy(() => tf.slice(cache.get(key), [2], [2]).arraySync());
      expect(sliced.get(key).arraySync()).toEqual(want);
    }
    sliced.dispose();

    sliced = cache.applySliceToBatchDim(2);
    expect(sliced.hasBatchDim).toBe(false);
    for (const key of cache.keys()) {
      const want = tf.tidy(() => tf.squeeze(tf.slice(cache.get(key), [2], [1]), [0]).arraySync());
      expect(sliced.get(key).arraySync()).toEqual(want);
    }
    expect(() => sliced.applySliceToBatchDim(0)).toThrow(ConfigError);
    sliced.dispose();
  });

  it('test_stack_activation', () => {
    let stack = stackActivation(cache, model, 'scale', -1, 'ln1');
    for (let l = 0; l < model.cfg.nLayers; l++) {
      expect(tf.tidy(() => tf.squeeze(tf.slice(stack, [l], [1]), [0]).arraySync())).toEqual(cache.get('scale', l, 'ln1').arraySync());
    }
    expect(stack.shape[0]).toBe(model.cfg.nLayers);
    stack.dispose();
    stack = stackActivation(cache, model, 'scale', 1, 'ln1');
    expect(stack.shape[0]).toBe(1);
    expect(tf.tidy(() => tf.squeeze(stack, [0]).arraySync())).toEqual(cache.get('scale', 0, 'ln1').arraySync());
    stack.dispose();
  });

  it('test_get_full_resid_decomposition', () => {
    tf.tidy(() => {
      const nL = model.cfg.nLayers;
      const [refHeads, refHeadLabels] = stackHeadResults(cache, model, { layer: nL, posSlice: new Slice(-1), applyLn: true, returnLabels: true });
      const [refMlp, refMlpLabels] = decomposeResid(cache, model, {
        layer: nL, mlpInput: false, posSlice: new Slice(-1), inclEmbeds: false, mode: 'mlp', applyLn: true, returnLabels: true,
      });
      const refEmbed = applyLnToStack(cache, model, tf.expandDims(lastPos(cache.get('embed')), 0), { posSlice: new Slice(-1), mlpInput: false });
      const refPosEmbed = applyLnToStack(cache, model, tf.expandDims(lastPos(cache.get('pos_embed')), 0), { posSlice: new Slice(-1), mlpInput: false });
      const bias = accumulatedBias(model, nL, false, false);
      const refBias = applyLnToStack(cache, model, tf.broadcastTo(bias, [1, ...refHeads.shape.slice(1)]), { posSlice: new Slice(-1), mlpInput: false });
      const h = refHeads.shape[0] as number;
      const m = refMlp.shape[0] as number;
      const [stack, labels] = getFullResidDecomposition(cache, model, { layer: -1, posSlice: -1, applyLn: true, expandNeurons: false, returnLabels: true });
      const rows = (a: number, b: number): tf.Tensor => tf.slice(stack, [a], [b - a]);
      expectClose(refHeads, rows(0, h), 1e-7);
      expect(labels.slice(0, h)).toEqual(refHeadLabels);
      expectClose(refMlp, rows(h, h + m), 1e-6);
      expect(labels.slice(h, h + m)).toEqual(refMlpLabels);
      expectClose(refEmbed, rows(h + m, h + m + 1), 1e-7);
      expect(labels[h + m]).toBe('embed');
      expectClose(refPosEmbed, rows(h + m + 1, h + m + 2), 1e-7);
      expect(labels[h + m + 1]).toBe('pos_embed');
      expectClose(refBias, rows(h + m + 2, h + m + 3), 1e-7);
      expect(labels[h + m + 2]).toBe('bias');
    });
  });

  it('test_get_full_resid_decomposition_with_neurons_expanded', () => {
    tf.tidy(() => {
      const [refHeads] = stackHeadResults(cache, model, { layer: 1, posSlice: new Slice(-1), applyLn: true, returnLabels: true });
      const [rawNeurons, refNeuronLabels] = stackNeuronResults(cache, model, { layer: 1, posSlice: new Slice(-1), returnLabels: true });
      const refNeurons = applyLnToStack(cache, model, rawNeurons, { layer: 1, posSlice: new Slice(-1) });
      const h = refHeads.shape[0] as number;
      const n = refNeurons.shape[0] as number;
      const [stack, labels] = getFullResidDecomposition(cache, model, { layer: 1, posSlice: new Slice(-1), applyLn: true, expandNeurons: true, returnLabels: true });
      expectClose(refNeurons, tf.slice(stack, [h], [n]), 1e-7);
      expect(labels.slice(h, h + n)).toEqual(refNeuronLabels);
    });
  });

  it('test_get_full_resid_decomposition_without_applying_ln', () => {
    tf.tidy(() => {
      const refHeads = stackHeadResults(cache, model, { layer: 1, posSlice: new Slice(-1), applyLn: true, returnLabels: false });
      const refNeurons = stackNeuronResults(cache, model, { layer: 1, posSlice: new Slice(-1), returnLabels: false });
      const h = refHeads.shape[0] as number;
      const n = refNeurons.shape[0] as number;
      const stack = getFullResidDecomposition(cache, model, { layer: 1, posSlice: new Slice(-1), applyLn: false, expandNeurons: true, returnLabels: false });
      expectClose(refNeurons, tf.slice(stack, [h], [n]), 1e-7);
    });
  });

  it('test_get_full_resid_decomposition_attn_only_model', () => {
    const { tokens: t } = ioiTokens(attnOnly);
    const [logits, c] = attnOnly.runWithCache(t);
    tf.dispose([t, logits]);
    try {
      tf.tidy(() => {
        const refHeads = stackHeadResults(c, attnOnly, { layer: 1, posSlice: new Slice(-1), applyLn: false, returnLabels: false });
        const h = refHeads.shape[0] as number;
        const stack = getFullResidDecomposition(c, attnOnly, { layer: 1, posSlice: new Slice(-1), applyLn: false, expandNeurons: false, returnLabels: false });
        expectClose(refHeads, tf.slice(stack, [0], [h]), 1e-7);
      });
    } finally {
      c.dispose();
    }
  });

  it('test_compute_test_head_results_does_not_compute_results_twice', () => {
    const { tokens: t } = ioiTokens(attnOnly);
    const [logits, c] = attnOnly.runWithCache(t);
    tf.dispose([t, logits]);
    const name = 'blocks.0.attn.hook_result';
    try {
      expect(c.has(name)).toBe(false);
      expectNoLeak(() => computeHeadResults(c, attnOnly), () => attnOnly.cfg.nLayers);
      expect(c.has(name)).toBe(true);

      // Beyond TL: Σ_h result + b_O = attn_out.
      tf.tidy(() => {
        const bO = tf.slice(attnOnly.weights.get('b_O'), [0, 0], [1, -1]); // [1, d_model]
        expectClose(tf.add(tf.sum(c.get(name), 2), bO), c.get('blocks.0.hook_attn_out'), 1e-5);
      });

      const first = (): number => c.get(name).bufferSync().get(0, 0, 0, 0);
      expect(first()).not.toBe(Infinity);
      const buf = c.get(name).bufferSync();
      buf.set(Infinity, 0, 0, 0, 0);
      c.set(name, buf.toTensor());
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      computeHeadResults(c, attnOnly);
      expect(warn).toHaveBeenCalledTimes(1);
      warn.mockRestore();
      expect(first()).toBe(Infinity);
    } finally {
      c.dispose();
    }
  });

  it('test_get_neuron_results', () => {
    const layer = 1;
    tf.tidy(() => {
      const post = cache.get(`blocks.${layer}.mlp.hook_post`); // [batch, pos, d_mlp]
      const p = post.shape[1] as number;
      const acts = tf.squeeze(tf.slice(post, [0, p - 1, 0], [-1, 1, 2]), [1]); // [:, -1, :2]
      const wOut = tf.squeeze(tf.slice(model.weights.get('W_out'), [layer, 0, 0], [1, 2, -1]), [0]); // W_out[layer][:2]
      const ref = tf.mul(tf.expandDims(acts, -1), wOut);
      const got = expectNoLeak(() => getNeuronResults(cache, model, layer, [0, 1], -1), () => 1);
      expectClose(ref, got);
    });
  });

  it('test_get_neuron_results_without_slice', () => {
    const layer = 1;
    tf.tidy(() => {
      const post = cache.get(`blocks.${layer}.mlp.hook_post`);
      const wOut = tf.squeeze(tf.slice(model.weights.get('W_out'), [layer, 0, 0], [1, -1, -1]), [0]);
      const ref = tf.mul(tf.expandDims(post, -1), wOut);
      expectClose(ref, getNeuronResults(cache, model, layer, undefined, undefined));
    });
  });
});
