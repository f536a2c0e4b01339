/**
 * Random decoder parameters (GPT-2 init: normal(0, 0.02), norm w = 1, b = 0), for benchmarks,
 * tests and training from scratch, for any config (rotary models get no W_pos, RMSNorm no bias,
 * gated MLPs a W_gate, GQA narrower key/value projections). Seeded: the same seed gives the same weights.
 */
import { tfjsSeed } from '../utils/rng.js';
import * as tf from '@tensorflow/tfjs-core';
import { hasNormWeights, isRms, isRotary, kvHeads, type ModelConfig } from './config.js';
import type { BlockParams, DecoderParams, NormParams } from './params.js';

/**
 * @param cfg Architecture.
 * @param opts.seed Seed (default 0); opts.std Standard deviation (default 0.02); opts.embedStd Standard
 *   deviation of W_E (default: std).
 * @returns New parameters (caller owns them; pass them to a model).
 * @example const model = new HookedTransformer(cfg, randomDecoderParams(cfg, { seed: 1 }));
 * @category Model
 */
export function randomDecoderParams(cfg: ModelConfig, opts: { seed?: number; std?: number; embedStd?: number } = {}): DecoderParams {
  let seed = opts.seed ?? 0;
  const std = opts.std ?? 0.02;
  const { dModel: d, nHeads: h, dHead: e, dMlp: m, dVocab: v, nCtx } = cfg;
  const normal = (rows: number, cols: number, sd = std): tf.Tensor2D => tf.randomNormal([rows, cols], 0, sd, 'float32', tfjsSeed(seed++));
  const kv = kvHeads(cfg) * e;
  const ln = (): NormParams | undefined =>
    hasNormWeights(cfg) ? { w: tf.ones([d]), b: isRms(cfg) ? undefined : tf.zeros([d]) } : undefined;
  const blocks: BlockParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    blocks.push({
      ln1: ln(),
      attn: {
        wQ: normal(d, h * e), bQ: tf.zeros([h * e]), wK: normal(d, kv), bK: tf.zeros([kv]),
        wV: normal(d, kv), bV: tf.zeros([kv]), wO: normal(h * e, d), bO: tf.zeros([d]),
      },
      ln2: cfg.attnOnly ? undefined : ln(),
      mlp: cfg.attnOnly
        ? undefined
        : {
            ...(cfg.gatedMlp === true ? { W_gate: normal(d, m) } : {}),
            W_in: normal(d, m), b_in: tf.zeros([m]), W_out: normal(m, d), b_out: tf.zeros([d]),
          },
    });
  }
  const W_E = normal(v, d, opts.embedStd ?? std);
  return {
    W_E,
    W_pos: isRotary(cfg) ? undefined : normal(nCtx, d),
    blocks,
    lnFinal: ln(),
    W_U: tf.transpose(W_E),
    b_U: tf.zeros([v]),
  };
}
