/**
 * The decoder forward pass: embed → blocks → ln_final → unembed, one `tf.tidy` per stage so only
 * the residual stream (and whatever hooks keep) survives each layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DecoderHookName } from '../hooks/decoder_hooks.js';
import type { HookFlags } from '../hooks/hook_spec.js';
import type { HookDispatch, RunContext } from '../hooks/run_context.js';
import { affine } from '../ops/matmul.js';
import { block } from './components/block.js';
import { embed } from './components/embed.js';
import { layerNorm } from './components/layer_norm.js';
import type { ModelConfig } from './config.js';
import type { DecoderParams } from './params.js';

/** Additive mask [batch|1, 1, pos, pos]: 0 where allowed, -inf where masked (causal ∧ key mask). */
function buildMask(pos: number, mask: number[][] | undefined): tf.Tensor4D {
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

/** What one decoder run needs besides the tokens. */
interface DecoderRun {
  /** Architecture. */
  readonly cfg: ModelConfig;
  /** Parameters. */
  readonly params: DecoderParams;
  /** Hook dispatcher of the run ({@link NO_HOOKS} for none). */
  readonly hook: HookDispatch<DecoderHookName>;
  /** Optional-hook flags in force. */
  readonly flags: HookFlags;
}

/**
 * Run the decoder.
 * @param run Config, params, hook dispatcher and flags.
 * @param tokens Token ids [batch, pos] (int32).
 * @param mask Attention mask rows (left padding / explicit) or undefined.
 * @param stop Exclusive layer to stop at (already resolved to [0, n_layers]); when given (even
 *   n_layers) the residual stream entering that block is returned, without ln_final (TL).
 * @returns Logits [batch, pos, d_vocab], or the residual [batch, pos, d_model] with `stop`.
 */
export function runDecoder(run: DecoderRun, tokens: tf.Tensor2D, mask: number[][] | undefined, stop: number | undefined): tf.Tensor3D {
  const { cfg, params } = run;
  const pos = tokens.shape[1];
  const additiveMask = buildMask(pos, mask);
  const maskTensor = mask === undefined ? undefined : tf.tensor2d(mask, [mask.length, pos], 'int32');
  const ctx: RunContext<DecoderHookName> = { flags: run.flags, hook: run.hook, additiveMask, mayHaveEmptyRows: mask !== undefined };
  let resid: tf.Tensor3D | undefined;
  try {
    resid = tf.tidy(() => embed(tokens, params, maskTensor, ctx)); // [batch, pos, d_model]
    const end = stop ?? cfg.nLayers;
    for (let l = 0; l < end; l++) {
      const prev: tf.Tensor3D = resid;
      const blk = params.blocks[l];
      if (blk === undefined) break;
      resid = tf.tidy(() => block(prev, blk, cfg, ctx, l));
      prev.dispose();
    }
    if (stop !== undefined) {
      const out = resid;
      resid = undefined;
      return out;
    }
    const final: tf.Tensor3D = resid;
    return tf.tidy(() => {
      const normed = layerNorm(final, params.lnFinal, cfg.eps, 'ln_final', ctx); // [batch, pos, d_model]
      const [batch, , dModel] = normed.shape;
      const logits = affine(tf.reshape(normed, [batch * pos, dModel]), params.W_U, params.b_U); // [batch*pos, d_vocab]
      return tf.reshape<tf.Rank.R3>(logits, [batch, pos, cfg.dVocab]);
    });
  } finally {
    resid?.dispose(); // the residual (on success it was consumed or returned; on error it is freed)
    additiveMask.dispose();
    maskTensor?.dispose();
  }
}
