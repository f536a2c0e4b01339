/**
 * Pre-LN transformer block (GPT-2), read like the equation (TL `components/transformer_block.py`):
 *   resid_mid  = resid_pre + attn(ln1(resid_pre))
 *   resid_post = resid_mid + mlp(ln2(resid_mid))
 * With split-input flags the attention input is repeated per head (hook_attn_in, hook_q/k/v_input)
 * and ln1 runs on each of q/k/v input (its hooks fire three times, as in TL; the cache keeps v's).
 * Without them ln1 runs once (TL runs it three times on the same tensor: same values).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DecoderHookName } from '../../hooks/decoder_hooks.js';
import { blockPrefix } from '../../hooks/hook_spec.js';
import type { RunContext } from '../../hooks/run_context.js';
import type { ModelConfig } from '../config.js';
import type { BlockParams } from '../params.js';
import { attention, type AttnInput } from './attention.js';
import { layerNorm } from './layer_norm.js';
import { mlp } from './mlp.js';

type Ctx = RunContext<DecoderHookName>;

function attnInput(residPre: tf.Tensor3D, p: BlockParams, cfg: ModelConfig, ctx: Ctx, b: `blocks.${number}`): AttnInput {
  const { useAttnIn, useSplitQkvInput } = ctx.flags;
  if (useAttnIn !== true && useSplitQkvInput !== true) {
    return { kind: 'shared', x: layerNorm(residPre, p.ln1, cfg.eps, `${b}.ln1`, ctx) };
  }
  let attnIn = tf.tile(tf.expandDims<tf.Tensor4D>(residPre, 2), [1, 1, cfg.nHeads, 1]); // [batch, pos, n_heads, d_model]
  if (useAttnIn === true) attnIn = ctx.hook(`${b}.hook_attn_in`, attnIn);
  let qIn = attnIn;
  let kIn = attnIn;
  let vIn = attnIn;
  if (useSplitQkvInput === true) {
    qIn = ctx.hook(`${b}.hook_q_input`, attnIn);
    kIn = ctx.hook(`${b}.hook_k_input`, attnIn);
    vIn = ctx.hook(`${b}.hook_v_input`, attnIn);
  }
  const ln = (x: tf.Tensor4D): tf.Tensor4D => layerNorm(x, p.ln1, cfg.eps, `${b}.ln1`, ctx);
  return { kind: 'perHead', q: ln(qIn), k: ln(kIn), v: ln(vIn) };
}

/**
 * @param resid Residual stream entering block `l` [batch, pos, d_model].
 * @param p Block weights.
 * @param cfg Model config.
 * @param ctx Run context.
 * @param l Layer index.
 * @returns Residual stream leaving the block [batch, pos, d_model].
 */
export function block(resid: tf.Tensor3D, p: BlockParams, cfg: ModelConfig, ctx: Ctx, l: number): tf.Tensor3D {
  const b = blockPrefix(l);
  const residPre = ctx.hook(`${b}.hook_resid_pre`, resid); // [batch, pos, d_model]
  const attnOut = ctx.hook(`${b}.hook_attn_out`, attention(attnInput(residPre, p, cfg, ctx, b), p.attn, cfg.nHeads, ctx, `${b}.attn`)); // [batch, pos, d_model]
  if (p.mlp === undefined) return ctx.hook(`${b}.hook_resid_post`, tf.add(residPre, attnOut));
  const residMid = ctx.hook(`${b}.hook_resid_mid`, tf.add<tf.Tensor3D>(residPre, attnOut)); // [batch, pos, d_model]
  const mlpIn = ctx.flags.useHookMlpIn === true ? ctx.hook(`${b}.hook_mlp_in`, residMid) : residMid;
  const normed = layerNorm(mlpIn, p.ln2, cfg.eps, `${b}.ln2`, ctx); // [batch, pos, d_model]
  const mlpOut = ctx.hook(`${b}.hook_mlp_out`, mlp(normed, p.mlp, cfg.actFn, ctx, `${b}.mlp`)); // [batch, pos, d_model]
  return ctx.hook(`${b}.hook_resid_post`, tf.add(residMid, mlpOut));
}
