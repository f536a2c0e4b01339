/**
 * HookedEncoder behaviour beyond parity: text and pair input through the shipped WordPiece
 * tokenizer, token types, pseudo-log-likelihood, pooling, hooks and errors.
 */
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../src/backend/backend.js';
import { ConfigError, HookNameError, ShapeError, WeightLoadError } from '../../../../src/errors.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../../../../src/io/safetensors.js';
import type { EncoderConfig } from '../../../../src/model/encoder/encoder_config.js';
import { HookedEncoder } from '../../../../src/model/encoder/hooked_encoder.js';
import { maskedMeanPool, pseudoLogLikelihood } from '../../../../src/model/encoder/pooling.js';
import { randomEncoderParams } from '../../../../src/model/encoder/random_encoder.js';
import { loadTokenizer, shippedTokenizerDir } from '../../../../src/tokenizers/load.js';
import { fixtureDir } from '../../../helpers/fixtures.js';

let bert: HookedEncoder;
const cfg: EncoderConfig = {
  modelType: 'bert', nLayers: 2, dModel: 32, nHeads: 4, dHead: 8, dMlp: 64, dVocab: 30522, nCtx: 64,
  typeVocabSize: 2, actFn: 'gelu', eps: 1e-12, padTokenId: 0,
};

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  const tok = await loadTokenizer(shippedTokenizerDir('distilbert-base-uncased'), { modelType: 'bert' });
  bert = new HookedEncoder(cfg, randomEncoderParams(cfg, { seed: 3 }), tok);
});
afterAll(() => bert?.dispose());

describe('HookedEncoder with text input', () => {
  it('pads a batch, builds the mask and token types for pairs', () => {
    const b = bert.encode([['How old are you?', 'I am six.'], ['Hi', 'there']]);
    expect(b.ids[0]?.[0]).toBe(101);
    expect(b.tokenTypeIds[0]?.includes(1)).toBe(true);
    expect(b.attentionMask[1]?.includes(0)).toBe(true);
    const [logits, cache] = bert.runWithCache([['How old are you?', 'I am six.'], ['Hi', 'there']]);
    expect((logits as tf.Tensor).shape).toEqual([2, b.ids[0]?.length, 30522]);
    expect(cache.has('embed.hook_token_type_embed')).toBe(true);
    // Padded keys are -inf in the scores of the shorter row.
    const scores = cache.get('blocks.0.attn.hook_attn_scores').arraySync() as number[][][][];
    const lastKey = (b.ids[1]?.length ?? 0) - 1;
    expect(scores[1]?.[0]?.[0]?.[lastKey]).toBe(-Infinity);
    (logits as tf.Tensor).dispose();
    cache.dispose();
    expect(bert.toStrTokens('Héllo world')).toEqual(['[CLS]', 'hello', 'world', '[SEP]']);
  });

  it('text input equals the same ids passed by hand', () => {
    const b = bert.encode(['a cat sat', 'on the mat today, quietly']);
    const a = bert.forward(['a cat sat', 'on the mat today, quietly'], { returnType: 'embeddings' }) as tf.Tensor;
    const c = bert.forward(b.ids, { attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds, returnType: 'embeddings' }) as tf.Tensor;
    expect(Array.from(a.dataSync())).toEqual(Array.from(c.dataSync()));
    a.dispose();
    c.dispose();
  });

  it('pseudo-log-likelihood: one forward per masked token, finite, leaks nothing, batch-size independent', () => {
    const before = tf.memory().numTensors;
    const [r1] = pseudoLogLikelihood(bert, ['the cat sat on the mat'], { batchSize: 2 });
    const [r2] = pseudoLogLikelihood(bert, ['the cat sat on the mat'], { batchSize: 32 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r1?.nTokens).toBe(6);
    expect(r1?.pll).toBeLessThan(0);
    expect(Math.abs((r1?.pll ?? 0) - (r2?.pll ?? 1))).toBeLessThan(1e-3);
    expect(r1?.pseudoPerplexity).toBeCloseTo(Math.exp(-(r1?.pll ?? 0) / 6), 6);
  });

  it('maskedMeanPool averages valid positions and rejects bad masks', () => {
    const x = tf.tensor3d([[[1], [3], [100]]]);
    const p = maskedMeanPool(x, [[1, 1, 0]]);
    expect(Array.from(p.dataSync())).toEqual([2]);
    expect(() => maskedMeanPool(x, [[0, 0, 0]])).toThrow(ShapeError);
    expect(() => maskedMeanPool(x, [[1, 1]])).toThrow(/mask shape/);
    x.dispose();
    p.dispose();
  });

  it('hooks: names validated, removed after a throw; split inputs give the same output', () => {
    expect(() => bert.addHook('blocks.0.hook_attn_in', () => undefined)).toThrow(HookNameError);
    expect(() => bert.runWithHooks('hi', { fwdHooks: [['blocks.1.ln2.hook_normalized', () => { throw new Error('x'); }]] })).toThrow('x');
    expect(bert.hasHooks()).toBe(false);
    const a = bert.forward('split inputs check', { returnType: 'embeddings' }) as tf.Tensor;
    const [b, cache] = bert.runWithCache('split inputs check', { returnType: 'embeddings', useSplitQkvInput: true, useAttnResult: true, useHookMlpIn: true });
    expect(cache.get('blocks.0.hook_q_input').shape.slice(2)).toEqual([4, 32]);
    expect(cache.get('blocks.0.attn.hook_result').shape.slice(2)).toEqual([4, 32]);
    const err = Math.max(...Array.from(a.dataSync()).map((v, i) => Math.abs(v - ((b as tf.Tensor).dataSync()[i] as number))));
    expect(err).toBeLessThan(1e-4);
    a.dispose();
    (b as tf.Tensor).dispose();
    cache.dispose();
  });
});

describe('HookedEncoder loading errors', () => {
  const dir = fixtureDir('distilbert-tiny');
  it('missing, unexpected and wrong-shape tensors are listed in a WeightLoadError', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'enc-'));
    try {
      copyFileSync(join(dir, 'config.json'), join(tmp, 'config.json'));
      const { tensors } = await readSafetensorsFile(join(dir, 'model.safetensors'));
      const out = new Map([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.data }]));
      out.delete('distilbert.transformer.layer.1.ffn.lin2.bias');
      out.set('distilbert.extra.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
      const q = out.get('distilbert.transformer.layer.0.attention.q_lin.weight');
      if (q !== undefined) out.set('distilbert.transformer.layer.0.attention.q_lin.weight', { ...q, shape: [32, 128], data: q.data.slice(0, 4096) });
      await writeSafetensorsFile(join(tmp, 'model.safetensors'), out);
      const p = HookedEncoder.fromPretrained(tmp, { quiet: true });
      await expect(p).rejects.toThrow(WeightLoadError);
      await expect(HookedEncoder.fromPretrained(tmp, { quiet: true })).rejects.toThrow(
        /missing \(1\): transformer\.layer\.1\.ffn\.lin2\.bias.*unexpected \(1\): extra\.weight.*q_lin\.weight: expected \[64, 64\], got \[32, 128\]/,
      );
      writeFileSync(join(tmp, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
      await expect(HookedEncoder.fromPretrained(tmp, { quiet: true })).rejects.toThrow(ConfigError);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
