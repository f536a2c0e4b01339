/**
 * The decoder forward pass: embed → blocks → ln_final → unembed, one `tf.tidy` per stage so only
 * the residual stream (and whatever hooks keep) survives each layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HookFlags } from '../hooks/hook_names.js';
import type { HookPoint } from '../hooks/hook_point.js';
import { block } from './components/block.js';
import { embed } from './components/embed.js';
import { layerNorm } from './components/layer_norm.js';
import { affine } from '../ops/matmul.js';
import { hookDispatcher, type RunContext } from '../hooks/run_context.js';
import type { ModelConfig } from './config.js';
import type { DecoderParams } from './params.js';

/** What the forward pass needs from the model. */
export interface ForwardModel {
  readonly cfg: ModelConfig;
  readonly params: DecoderParams;
  readonly hookDict: ReadonlyMap<string, HookPoint>;
}

/** Additive mask [batch|1, 1, pos, pos]: 0 where allowed, -inf where masked (causal ∧ key mask). */
function buildMask(pos: number, mask: number[][] | undefined): tf.Tensor {
  const rows = mask ?? [new Array<number>(pos).fill(1)];
  const data = new Float32Array(rows.length * pos * pos);
  rows.forEach((m, b) => {
    for (let q = 0; q < pos; q++) {
      for (let k = 0; k < pos; k++) {
        data[(b * pos + q) * pos + k] = k <= q && m[k] === 1 ? 0 : -Infinity;
      }
    }
  });
  return tf.tensor4d(data, [rows.length, 1, pos, pos]);
}

/** Normalise a possibly negative stopAtLayer to [0, nLayers]. */
export function resolveStopAtLayer(stop: number | undefined, nLayers: number): number {
  if (stop === undefined) return nLayers;
  const s = stop < 0 ? nLayers + stop : stop;
  return Math.max(0, Math.min(nLayers, s));
}

/**
 * Run the decoder.
 * @param model Config, params and hook points.
 * @param tokens Token ids [batch, pos] (int32).
 * @param mask Attention mask rows (left padding / explicit) or undefined.
 * @param flags Optional-hook flags in force.
 * @param stopAtLayer Exclusive layer to stop at; when given (even n_layers) the residual stream is returned.
 * @returns Logits [batch, pos, d_vocab], or the residual [batch, pos, d_model] with stopAtLayer.
 */
export function runDecoder(
  model: ForwardModel,
  tokens: tf.Tensor2D,
  mask: number[][] | undefined,
  flags: HookFlags,
  stopAtLayer: number | undefined,
): tf.Tensor3D {
  const { cfg, params, hookDict } = model;
  const pos = tokens.shape[1];
  const additiveMask = buildMask(pos, mask);
  const maskTensor = mask === undefined ? undefined : tf.tensor2d(mask, [mask.length, pos], 'int32');
  const ctx: RunContext = {
    flags,
    hook: hookDispatcher(hookDict),
    additiveMask,
    mayHaveEmptyRows: mask !== undefined,
  };
  const stop = resolveStopAtLayer(stopAtLayer, cfg.nLayers);
  let resid: tf.Tensor3D | undefined;
  try {
    resid = tf.tidy(() => embed(tokens, params, maskTensor, ctx)); // [batch, pos, d_model]
    for (let l = 0; l < stop; l++) {
      const prev: tf.Tensor3D = resid;
      const blk = params.blocks[l];
      if (blk === undefined) break;
      resid = tf.tidy(() => block(prev, blk, cfg, ctx, l));
      prev.dispose();
    }
    if (stopAtLayer !== undefined) {
      // TL: an explicit stop_at_layer (even n_layers) returns the residual stream, without ln_final.
      const out = resid;
      resid = undefined;
      return out;
    }
    const final: tf.Tensor3D = resid;
    return tf.tidy(() => {
      const normed = layerNorm(final, params.lnFinal, cfg.eps, ctx, 'ln_final') as tf.Tensor3D; // [batch, pos, d_model]
      const [batch, , dModel] = normed.shape;
      const logits = affine(tf.reshape(normed, [batch * pos, dModel]), params.W_U, params.b_U); // [batch*pos, d_vocab]
      return tf.reshape(logits, [batch, pos, cfg.dVocab]) as tf.Tensor3D;
    });
  } finally {
    resid?.dispose(); // the residual (on success it was consumed or returned; on error it is freed)
    additiveMask.dispose();
    maskTensor?.dispose();
  }
}
