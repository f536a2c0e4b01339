/**
 * `model.OV` / `model.QK` (TL `HookedTransformer.OV` = FactoredMatrix(W_V, W_O), `QK` =
 * FactoredMatrix(W_Q, W_K.transpose(-2, -1)); HookedEncoder the same). TL v2.18.0 has no test of its
 * own for these properties: its only tests touching `OV` go through `SVDInterpreter`
 * (tests/unit/test_svd_interpreter.py), which tfjs-lens does not port here. The expected circuits are
 * built per head from the raw 2-D parameters (W_V / W_K columns of the head's key/value group, as
 * TL's repeat_interleave of the kv heads), independently of WeightsView.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, DisposedError } from '../../../src/errors.js';
import { attnCircuitFromBlocks } from '../../../src/model/attn_circuits.js';
import { kvHeads, validateConfig, type ModelConfig } from '../../../src/model/config.js';
import type { EncoderConfig } from '../../../src/model/encoder/encoder_config.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { randomEncoderParams } from '../../../src/model/encoder/random_encoder.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import type { AttnParams } from '../../../src/model/params.js';
import { randomDecoderParams } from '../../../src/model/random_init.js';
import type { FactoredMatrix } from '../../../src/ops/factored_matrix.js';
import { expectNoLeak } from '../../helpers/memory.js';
import { expectClose } from './helpers.js';

const base = { nLayers: 2, dModel: 16, dHead: 4, dMlp: 32, dVocab: 50, nCtx: 16, attnOnly: false, bosTokenId: 0, eosTokenId: 0 } as const;
const GPT2 = validateConfig({ ...base, modelType: 'gpt2', nHeads: 3, actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN' });
const LLAMA = validateConfig({
  ...base, modelType: 'llama', nHeads: 4, nKeyValueHeads: 2, actFn: 'silu', eps: 1e-6, normalizationType: 'RMS',
  positionalEmbeddingType: 'rotary', rotaryDim: 4, rotaryBase: 10000, gatedMlp: true, parallelAttnMlp: false,
});
const BERT: EncoderConfig = {
  modelType: 'bert', nLayers: 2, dModel: 16, nHeads: 4, dHead: 4, dMlp: 32, dVocab: 40, nCtx: 16,
  typeVocabSize: 2, actFn: 'gelu', eps: 1e-12, padTokenId: 0,
};

const cols = (w: tf.Tensor2D, start: number, n: number): tf.Tensor2D => tf.slice(w, [0, start], [-1, n]);
const rows = (w: tf.Tensor2D, start: number, n: number): tf.Tensor2D => tf.slice(w, [start, 0], [n, -1]);

/** OV[l, h] = W_V[kv(h)] · W_O[h], QK[l, h] = W_Q[h] · W_K[kv(h)]ᵀ, kv(h) = floor(h / group) (TL repeat_interleave). */
function expected(blocks: readonly { attn: AttnParams }[], nHeads: number, nKv: number, e: number, which: 'OV' | 'QK'): tf.Tensor {
  const g = nHeads / nKv;
  return tf.stack(blocks.map(({ attn }) => tf.stack(Array.from({ length: nHeads }, (_, h) => {
    const kv = Math.floor(h / g);
    return which === 'OV'
      ? tf.matMul(cols(attn.wV, kv * e, e), rows(attn.wO, h * e, e))
      : tf.matMul(cols(attn.wQ, h * e, e), cols(attn.wK, kv * e, e), false, true);
  }))));
}

const models: HookedTransformer[] = [];
let bert: HookedEncoder;
beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  models.push(new HookedTransformer(GPT2, randomDecoderParams(GPT2, { seed: 7, std: 0.3 })));
  models.push(new HookedTransformer(LLAMA, randomDecoderParams(LLAMA, { seed: 8, std: 0.3 })));
  bert = new HookedEncoder(BERT, randomEncoderParams(BERT, { seed: 9 }));
});
afterAll(() => {
  for (const m of models) m.dispose();
  bert.dispose();
});

describe('HookedTransformer.OV / .QK', () => {
  for (const [name, i] of [['GPT-2', 0], ['Llama (grouped-query: 4 query / 2 kv heads)', 1]] as const) {
    it(`${name}: OV.AB and QK.AB equal W_V·W_O and W_Q·W_Kᵀ per head`, () => {
      const m = models[i] as HookedTransformer;
      const cfg: ModelConfig = m.cfg;
      for (const which of ['OV', 'QK'] as const) {
        const fm: FactoredMatrix = which === 'OV' ? m.OV : m.QK;
        expect(fm.shape).toEqual([cfg.nLayers, cfg.nHeads, cfg.dModel, cfg.dModel]);
        expect([fm.ldim, fm.mdim, fm.rdim]).toEqual([cfg.dModel, cfg.dHead, cfg.dModel]);
        expectClose(fm.AB, expected(m.params.blocks, cfg.nHeads, kvHeads(cfg), cfg.dHead, which), 1e-5, 1e-4);
        // The factors are TL's: OV = (W_V, W_O), QK = (W_Q, W_Kᵀ).
        expectClose(fm.A, which === 'OV' ? m.W_V : m.W_Q, 0, 0);
        expectClose(fm.B, which === 'OV' ? m.W_O : tf.transpose(m.W_K, [0, 1, 3, 2]), 0, 0);
        fm.dispose();
      }
    });
  }

  it('Llama: query heads of one kv group share the same W_V factor (repeat_interleave)', () => {
    const ov = (models[1] as HookedTransformer).OV;
    const a = ov.A.arraySync() as number[][][][];
    expect(a[1]?.[0]).toEqual(a[1]?.[1]);
    expect(a[1]?.[2]).toEqual(a[1]?.[3]);
    expect(a[1]?.[1]).not.toEqual(a[1]?.[2]);
    ov.dispose();
  });

  it('returns a new FactoredMatrix each call (2 tensors), which the caller disposes; the model is untouched', () => {
    const m = models[0] as HookedTransformer;
    m.OV.dispose(); // warm the model-owned W_V / W_O cache
    m.QK.dispose();
    const ov = expectNoLeak(() => m.OV, () => 2);
    const qk = expectNoLeak(() => m.QK, () => 2);
    const before = tf.memory().numTensors;
    ov.dispose();
    qk.dispose();
    expect(tf.memory().numTensors).toBe(before - 4);
    expect(m.W_V.isDisposed).toBe(false);
    expect(() => ov.AB).toThrow(DisposedError);
  });

  it('eigenvalues of one head\'s OV circuit equal those of the dense W_V·W_O (nonzero part)', () => {
    const ov = (models[0] as HookedTransformer).OV;
    const head = ov.get(1, 2);
    const { real, imag } = head.eigenvalues;
    expect(real.shape).toEqual([GPT2.dHead]);
    // trace(AB) = trace(BA) = Σλ, and Σλ² = trace((AB)²): two checks against the dense product.
    const ab = head.AB;
    const sum = tf.sum(real).dataSync()[0] as number;
    expect(Math.abs(tf.sum(imag).dataSync()[0] as number)).toBeLessThan(1e-4);
    expect(sum).toBeCloseTo(tf.sum(tf.mul(ab, tf.eye(GPT2.dModel))).dataSync()[0] as number, 4);
    const sq = tf.sum(tf.sub(tf.square(real), tf.square(imag))).dataSync()[0] as number;
    expect(sq).toBeCloseTo(tf.sum(tf.mul(tf.matMul(ab, ab), tf.eye(GPT2.dModel))).dataSync()[0] as number, 4);
    tf.dispose([real, imag, ab]);
    head.dispose();
    ov.dispose();
  });
});

describe('HookedEncoder.OV / .QK', () => {
  it('BERT: OV.AB and QK.AB equal W_V·W_O and W_Q·W_Kᵀ per head; no leaks', () => {
    for (const which of ['OV', 'QK'] as const) {
      const fm = expectNoLeak(() => (which === 'OV' ? bert.OV : bert.QK), () => 2);
      expect(fm.shape).toEqual([BERT.nLayers, BERT.nHeads, BERT.dModel, BERT.dModel]);
      expectClose(fm.AB, expected(bert.params.blocks, BERT.nHeads, BERT.nHeads, BERT.dHead, which), 1e-5, 1e-4);
      fm.dispose();
    }
  });

  it('the encoder stateDict factors agree: OV.A[l] is blocks.l.attn.W_V', () => {
    const sd = bert.stateDict();
    const ov = bert.OV;
    const qk = bert.QK;
    for (let l = 0; l < BERT.nLayers; l++) {
      const a = ov.get(l);
      const q = qk.get(l);
      expectClose(a.A, sd.get(`blocks.${l}.attn.W_V`) as tf.Tensor, 0, 0);
      expectClose(a.B, sd.get(`blocks.${l}.attn.W_O`) as tf.Tensor, 0, 0);
      expectClose(q.B, tf.transpose(sd.get(`blocks.${l}.attn.W_K`) as tf.Tensor, [0, 2, 1]), 0, 0);
      a.dispose();
      q.dispose();
    }
    ov.dispose();
    qk.dispose();
    tf.dispose([...sd.values()]);
  });

  it('attnCircuitFromBlocks refuses grouped key/value heads and empty models', () => {
    const m = models[1] as HookedTransformer;
    expect(() => attnCircuitFromBlocks(m.params.blocks, LLAMA.nHeads, 'OV')).toThrow(ConfigError);
    expect(() => attnCircuitFromBlocks(m.params.blocks, LLAMA.nHeads, 'QK')).toThrow(/grouped key\/value heads/);
    expect(() => attnCircuitFromBlocks([], 4, 'OV')).toThrow(/no layers/);
  });
});
