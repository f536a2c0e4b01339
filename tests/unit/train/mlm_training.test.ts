/**
 * Masked-LM training on a tiny DistilBERT: the masked-position loss equals cross-entropy of the
 * full HookedEncoder logits; one step leaks no tensors; the loss curve is a function of the seed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, ShapeError } from '../../../src/errors.js';
import type { EncoderConfig } from '../../../src/model/encoder/encoder_config.js';
import { disposeEncoderParams } from '../../../src/model/encoder/encoder_params.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { randomEncoderParams } from '../../../src/model/encoder/random_encoder.js';
import { maskTokens, type MaskingTokenizer } from '../../../src/train/mlm_data.js';
import { makeTrainableEncoder, mlmLossAt, mlmMetrics } from '../../../src/train/mlm_training.js';
import { createAdam } from '../../../src/ops/optimizer.js';
import { trainLoop } from '../../../src/train/trainer.js';
import { seededRng } from '../../../src/utils/rng.js';

const cfg: EncoderConfig = {
  modelType: 'distilbert', nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, dMlp: 32, dVocab: 120, nCtx: 16,
  typeVocabSize: 0, actFn: 'gelu', eps: 1e-12, padTokenId: 0,
};
const TOK: MaskingTokenizer = {
  padTokenId: 0, unkTokenId: 1, clsTokenId: 2, sepTokenId: 3, maskTokenId: 4, bosTokenId: undefined, eosTokenId: undefined, vocabSize: 120,
};

/** Rows with structure to learn: [CLS] a a+1 … a+9 [SEP] with 10 ≤ a < 20. */
function rows(rand: () => number, n: number): number[][] {
  return Array.from({ length: n }, () => {
    const a = 10 + Math.floor(rand() * 10);
    return [2, ...Array.from({ length: 10 }, (_, i) => a + i), 3]; // ids 10…28
  });
}

/** Train `steps` steps from a seed; returns the loss of every step. */
function lossCurve(seed: number, steps: number): number[] {
  const model = makeTrainableEncoder(randomEncoderParams(cfg, { seed }));
  const rand = seededRng(seed);
  const history = trainLoop({
    variables: model.variables,
    loss: () => {
      const mb = maskTokens(rand, rows(rand, 8), undefined, TOK);
      return mlmLossAt(cfg, model.params(), mb, mb);
    },
    optimizer: createAdam(1e-2),
    schedule: { lr: 1e-2, totalSteps: steps },
    clipNorm: 1,
    logEvery: 1,
    quiet: true,
  });
  model.dispose();
  return history.map((m) => m.loss);
}

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('MLM loss', () => {
  it('equals cross-entropy of the full HookedEncoder logits at the masked positions; metrics agree with argmax', () => {
    const model = makeTrainableEncoder(randomEncoderParams(cfg, { seed: 3 }));
    const mb = maskTokens(seededRng(5), rows(seededRng(4), 3), undefined, TOK, { prob: 0.3 });
    const loss = tf.tidy(() => mlmLossAt(cfg, model.params(), mb, mb).dataSync()[0] as number);
    const enc = new HookedEncoder(cfg, model.snapshot());
    const logits = enc.forward(mb.inputIds) as tf.Tensor3D; // [batch, pos, d_vocab]
    const logp = tf.logSoftmax(logits, -1).arraySync() as number[][][];
    const full = tf.tidy(() => logits.arraySync() as number[][][]);
    let ce = 0;
    let hits = 0;
    mb.positions.forEach(([b, p], i) => {
      const lab = mb.labels[i] as number;
      ce -= logp[b]?.[p]?.[lab] as number;
      const row = full[b]?.[p] as number[];
      if (row.indexOf(Math.max(...row)) === lab) hits++;
    });
    expect(loss).toBeCloseTo(ce / mb.labels.length, 5);
    let m = { loss: 0, accuracy: 0, count: 0 };
    tf.tidy(() => { m = mlmMetrics(cfg, model.params(), mb, mb); });
    expect(m.loss).toBeCloseTo(loss, 5);
    expect(m.accuracy).toBeCloseTo(hits / mb.labels.length, 10);
    expect(m.count).toBe(mb.labels.length);
    logits.dispose();
    enc.dispose();
    model.dispose();
  });

  it('rejects bad input', () => {
    const model = makeTrainableEncoder(randomEncoderParams(cfg, { seed: 3 }));
    tf.tidy(() => {
      const p = model.params();
      expect(() => mlmLossAt(cfg, p, { inputIds: [[2, 5, 3]] }, { positions: [], labels: [] })).toThrow(/no masked positions/);
      expect(() => mlmLossAt(cfg, p, { inputIds: [[2, 5, 3]] }, { positions: [[0, 5]], labels: [5] })).toThrow(ShapeError);
      expect(() => mlmLossAt(cfg, p, { inputIds: [Array<number>(20).fill(5)] }, { positions: [[0, 1]], labels: [5] })).toThrow(/exceeds n_ctx/);
    });
    model.dispose();
    const noHead = randomEncoderParams(cfg, { mlmHead: false });
    expect(() => makeTrainableEncoder(noHead)).toThrow(ConfigError);
    disposeEncoderParams(noHead);
  });
});

describe('MLM training', () => {
  it('one training step leaks no tensors; snapshot is tied and detached', () => {
    const model = makeTrainableEncoder(randomEncoderParams(cfg, { seed: 1 }));
    const opt = createAdam(1e-3);
    const mb = maskTokens(seededRng(2), rows(seededRng(3), 4), undefined, TOK);
    const step = (): void => {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => mlmLossAt(cfg, model.params(), mb, mb), model.variables);
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      });
    };
    step(); // creates Adam's moment variables
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    // The projector is tied: W_E plus 2·16 body tensors per layer… no separate W_U variable.
    expect(model.variables.some((v) => v.shape[0] === cfg.dModel && v.shape[1] === cfg.dVocab)).toBe(false);
    const snap = model.snapshot();
    const head = snap.mlmHead;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub((head as NonNullable<typeof head>).W_U, tf.transpose(snap.W_E)))).dataSync()[0])).toBe(0);
    const countBefore = tf.memory().numTensors;
    model.dispose();
    expect(countBefore - tf.memory().numTensors).toBe(model.variables.length);
    expect(snap.W_E.isDisposed).toBe(false);
    disposeEncoderParams(snap);
    opt.dispose();
  });

  it('the same seed gives the same loss curve, another seed another one; the loss falls', () => {
    const a = lossCurve(11, 25);
    const b = lossCurve(11, 25);
    const c = lossCurve(12, 25);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(a.slice(-5))).toBeLessThan(mean(a.slice(0, 5)) - 0.3);
  });
});
