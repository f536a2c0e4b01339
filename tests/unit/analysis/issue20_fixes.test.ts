/**
 * Issue 20 bug fixes: `actName` short names whose layer type holds a digit (TL `get_act_name`),
 * `detectHead` rejecting a text longer than n_ctx (TL asserts) instead of truncating it, and
 * `tokensToResidualDirections` taking a tensor and squeezing a single token to [d_model] (TL).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../../../src/errors.js';
import { actName } from '../../../src/hooks/act_name.js';
import { detectHead } from '../../../src/evals/head_detector.js';
import type { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { tokensToResidualDirections } from '../../../src/analysis/logit_attrs.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { tinyGpt2VocabModel } from '../../helpers/tiny_gpt2_vocab.js';

describe('actName: TL get_act_name short names', () => {
  it('layer types containing a digit', () => {
    expect(actName('scale1ln1')).toBe('blocks.1.ln1.hook_scale');
    expect(actName('scale4ln1')).toBe('blocks.4.ln1.hook_scale'); // TL docstring example
    expect(actName('normalized3ln2')).toBe('blocks.3.ln2.hook_normalized');
    expect(actName('scale0ln2')).toBe('blocks.0.ln2.hook_scale');
  });
  it('the other TL docstring examples still resolve', () => {
    expect(actName('k', 6, 'a')).toBe('blocks.6.attn.hook_k');
    expect(actName('pre', 2)).toBe('blocks.2.mlp.hook_pre');
    expect(actName('embed')).toBe('hook_embed');
    expect(actName('normalized', 27, 'ln2')).toBe('blocks.27.ln2.hook_normalized');
    expect(actName('k6')).toBe('blocks.6.attn.hook_k');
    expect(actName('pre5')).toBe('blocks.5.mlp.hook_pre');
    expect(actName('scale')).toBe('ln_final.hook_scale');
  });
});

describe('model-based fixes', () => {
  let model: HookedTransformer; // n_ctx 32, d_model 16, GPT-2 tokenizer
  beforeAll(async () => {
    model = await tinyGpt2VocabModel();
  });
  afterAll(() => model?.dispose());

  it('detectHead: a text longer than n_ctx throws a ConfigError naming n_ctx and the length', () => {
    const long = Array.from({ length: 40 }, () => ' the').join(''); // 40 tokens + BOS
    const n = model.toStrTokens(long, { truncate: false }).length;
    expect(n).toBeGreaterThan(model.cfg.nCtx);
    expect(() => detectHead(model, long, 'previous_token_head')).toThrow(ConfigError);
    expect(() => detectHead(model, long, 'previous_token_head')).toThrow(new RegExp(`${n} tokens.*n_ctx \\(${model.cfg.nCtx}\\)`));
    // Token ids are not truncated either.
    expect(() => detectHead(model, Array.from({ length: 33 }, () => 5), 'previous_token_head')).toThrow(/n_ctx \(32\)/);
    // A text that fits still works.
    const ok = detectHead(model, ' the cat sat on the mat', 'previous_token_head');
    expect(ok.length).toBe(model.cfg.nLayers);
  });

  it('tokensToResidualDirections: tensors, and one token gives [d_model]', () => {
    const d = model.cfg.dModel;
    const wU = model.weights.get('W_U'); // [d_model, d_vocab]
    const col = (id: number): number[] => tf.tidy(() => tf.squeeze(tf.slice(wU, [0, id], [-1, 1]), [1]).arraySync() as number[]);
    const cases: [string, () => tf.Tensor | number | number[] | string, number[]][] = [
      ['number', () => 42, [d]],
      ['number[] of one', () => [42], [d]],
      ['0-d tensor', () => tf.scalar(42, 'int32'), [d]],
      ['[1] tensor', () => tf.tensor1d([42], 'int32'), [d]],
      ['[1, 1] tensor', () => tf.tensor2d([[42]], [1, 1], 'int32'), [d]],
      ['string', () => model.toString([42]) as string, [d]],
    ];
    for (const [, make, shape] of cases) {
      const input = make();
      const dir = expectNoLeak(() => tokensToResidualDirections(model, input), () => 1);
      expect(dir.shape).toEqual(shape);
      expect(Array.from(dir.dataSync())).toEqual(col(42).map((v) => Math.fround(v)));
      tf.dispose([dir, input instanceof tf.Tensor ? input : []].flat());
    }
    const batch = tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32');
    const dirs = expectNoLeak(() => tokensToResidualDirections(model, batch), () => 1);
    expect(dirs.shape).toEqual([2, 3, d]);
    expect(tf.tidy(() => Array.from(tf.slice(dirs, [1, 2, 0], [1, 1, -1]).dataSync()))).toEqual(col(6));
    tf.dispose([dirs, batch]);
    const float = tf.tensor1d([1.5, 2]);
    expect(() => tokensToResidualDirections(model, float)).toThrow(ShapeError);
    float.dispose();
  });
});
