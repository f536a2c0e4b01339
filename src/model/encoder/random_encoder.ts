/**
 * Random encoder parameters (BERT init: normal(0, 0.02), LayerNorm w = 1, b = 0), seeded; for
 * tests, benchmarks and training from scratch.
 */
import { tfjsSeed } from '../../utils/rng.js';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerNormParams } from '../params.js';
import type { EncoderConfig } from './encoder_config.js';
import type { EncoderBlockParams, EncoderParams } from './encoder_params.js';

/**
 * @param cfg Architecture.
 * @param opts.seed Seed (default 0); opts.std Standard deviation (default 0.02); opts.mlmHead Include the MLM head (default true).
 * @returns New parameters (the caller owns them).
 * @example const enc = new HookedEncoder(cfg, randomEncoderParams(cfg, { seed: 1 }));
 * @category Encoder
 */
export function randomEncoderParams(cfg: EncoderConfig, opts: { seed?: number; std?: number; mlmHead?: boolean } = {}): EncoderParams {
  let seed = opts.seed ?? 0;
  const std = opts.std ?? 0.02;
  const { dModel: d, dMlp: m, dVocab: v } = cfg;
  const n2 = (a: number, b: number): tf.Tensor2D => tf.randomNormal([a, b], 0, std, 'float32', tfjsSeed(seed++));
  const z = (a: number): tf.Tensor1D => tf.zeros([a]);
  const ln = (): LayerNormParams => ({ w: tf.ones([d]), b: tf.zeros([d]) });
  const blocks: EncoderBlockParams[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    blocks.push({
      attn: { wQ: n2(d, d), bQ: z(d), wK: n2(d, d), bK: z(d), wV: n2(d, d), bV: z(d), wO: n2(d, d), bO: z(d) },
      ln1: ln(),
      mlp: { W_in: n2(d, m), b_in: z(m), W_out: n2(m, d), b_out: z(d) },
      ln2: ln(),
    });
  }
  const W_E = n2(v, d);
  return {
    W_E,
    W_pos: n2(cfg.nCtx, d),
    W_token_type: cfg.typeVocabSize > 0 ? n2(cfg.typeVocabSize, d) : undefined,
    embedLn: ln(),
    blocks,
    mlmHead: opts.mlmHead === false ? undefined : { W: n2(d, d), b: z(d), ln: ln(), W_U: tf.transpose(W_E), b_U: z(v) },
  };
}
