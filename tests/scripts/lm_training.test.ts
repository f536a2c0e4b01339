/**
 * Decoder training: a step leaks no tensors, the loss falls, the same seed gives the same loss
 * curve, and the trained model round-trips through a HF GPT-2 checkpoint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { validateConfig, type ModelConfig } from '../../src/model/config.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { randomDecoderParams } from '../../src/model/random_init.js';
import { saveGpt2Checkpoint } from '../../scripts/lib/gpt2_save.js';
import { makeTrainableDecoder, nextTokenLossAt } from '../../scripts/lib/lm_training.js';
import { createAdam, lrAt } from '../../src/ops/optimizer.js';
import { repeatedTokenBatch } from '../../src/train/synthetic_data.js';
import { trainLoop } from '../../src/train/trainer.js';
import { seededRng } from '../../src/utils/rng.js';

const cfg: ModelConfig = validateConfig({
  modelType: 'gpt2', nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, dMlp: 32, dVocab: 50, nCtx: 32,
  actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN', attnOnly: false, bosTokenId: 0, eosTokenId: 0,
});

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

function run(seed: number, steps: number): number[] {
  const model = makeTrainableDecoder(randomDecoderParams(cfg, { seed }), { tied: true });
  const rand = seededRng(seed + 1);
  const history = trainLoop({
    variables: model.variables,
    loss: () => {
      const rows = repeatedTokenBatch(rand, { batch: 4, segLen: 6, low: 1, high: 50, bos: 0 });
      return nextTokenLossAt(cfg, model.params(), rows, rows.flatMap((_, b) => Array.from({ length: 12 }, (_, p) => [b, p] as [number, number])));
    },
    optimizer: createAdam(1e-2),
    schedule: { lr: 1e-2, totalSteps: steps },
    logEvery: 1,
    quiet: true,
  });
  model.dispose();
  return history.map((m) => m.loss);
}

describe('decoder training', () => {
  it('is reproducible with a seed, and the loss falls', () => {
    const a = run(3, 12);
    const b = run(3, 12);
    const c = run(4, 12);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    expect(a.at(-1) as number).toBeLessThan(a[0] as number);
  });

  it('one training step leaks no tensors (after the optimizer created its slots)', () => {
    const model = makeTrainableDecoder(randomDecoderParams(cfg, { seed: 1 }), { tied: true });
    const opt = createAdam(1e-3);
    const rows = [[0, 5, 6, 7, 5, 6, 7]];
    const step = (): void => {
      trainLoop({ variables: model.variables, loss: () => nextTokenLossAt(cfg, model.params(), rows, [[0, 3], [0, 4]]), optimizer: opt, schedule: { lr: 1e-3, totalSteps: 1 }, quiet: true });
    };
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    model.dispose();
  });

  it('a restricted softmax (candidates) is the exact loss over those ids', () => {
    const model = makeTrainableDecoder(randomDecoderParams(cfg, { seed: 2, std: 0.3 }), { tied: true });
    const rows = [[0, 5, 6, 7, 5, 6, 7], [0, 9, 8, 2, 9, 8, 2]];
    const pos: [number, number][] = [[0, 4], [0, 5], [1, 4], [1, 5]];
    const before = tf.memory().numTensors;
    const all = Array.from({ length: cfg.dVocab }, (_, i) => cfg.dVocab - 1 - i); // every id, reordered
    // params() builds W_U = W_Eᵀ, so every call goes inside a tidy (as in a loss closure).
    const loss = (candidates?: number[]): number => tf.tidy(() => nextTokenLossAt(cfg, model.params(), rows, pos, candidates === undefined ? {} : { candidates }).dataSync()[0] as number);
    const full = loss();
    expect(loss(all)).toBeCloseTo(full, 5);
    const cand = [2, 6, 7, 8, 9, 30];
    const sub = loss(cand);
    // By hand from the full logits: log-softmax over the candidate columns only.
    const byHand = tf.tidy(() => {
      const m = new HookedTransformer(cfg, model.snapshot());
      const logits = (m.forward(rows) as tf.Tensor3D).arraySync();
      m.dispose();
      const targets = pos.map(([b, p]) => rows[b]?.[p + 1] as number);
      const losses = pos.map(([b, p], i) => {
        const l = cand.map((c) => logits[b]?.[p]?.[c] as number);
        const lse = Math.log(l.reduce((a, v) => a + Math.exp(v), 0));
        return lse - (logits[b]?.[p]?.[targets[i] as number] as number);
      });
      return losses.reduce((a, v) => a + v, 0) / losses.length;
    });
    expect(sub).toBeCloseTo(byHand, 4);
    expect(sub).toBeLessThan(full);
    expect(() => loss([6, 7])).toThrow(/target token \d+ is not among the 2 candidates/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('the schedule warms up linearly and decays to minRatio', () => {
    const s = { lr: 1e-3, warmupSteps: 10, totalSteps: 110, decay: 'cosine' as const, minRatio: 0.1 };
    expect(lrAt(s, 4)).toBeCloseTo(5e-4, 10);
    expect(lrAt(s, 10)).toBeCloseTo(1e-3, 10);
    expect(lrAt(s, 110)).toBeCloseTo(1e-4, 10);
  });

  it('a trained model saves as a HF GPT-2 checkpoint and loads back with identical logits', async () => {
    const model = makeTrainableDecoder(randomDecoderParams(cfg, { seed: 2 }), { tied: true });
    const params = model.snapshot();
    const dir = mkdtempSync(join(tmpdir(), 'gpt2-save-'));
    try {
      await saveGpt2Checkpoint(dir, params, cfg, { tied: true });
      const loaded = await HookedTransformer.fromPretrainedNoProcessing(dir, { quiet: true, tokenizer: null });
      const direct = new HookedTransformer(cfg, params);
      const rows = [[0, 1, 2, 3, 4]];
      const a = loaded.logits(rows);
      const b = direct.logits(rows);
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      tf.dispose([a, b]);
      loaded.dispose();
      direct.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      model.dispose();
    }
  });
});
