/**
 * Pre-norm transformer block, read like the equation (TL `components/transformer_block.py`):
 *   resid_mid  = resid_pre + attn(ln1(resid_pre))
 *   resid_post = resid_mid + mlp(ln2(resid_mid))
 * or, with parallel attention and MLP (GPT-NeoX / Pythia), no resid_mid:
 *   resid_post = resid_pre + attn(ln1(resid_pre)) + mlp(ln2(resid_pre))
 * With split-input flags the attention input is repeated per head (hook_attn_in, hook_q/k/v_input;
 * k and v inputs per key/value head under GQA) and ln1 runs on each of q/k/v input (its hooks fire
 * three times, as in TL; the cache keeps v's). Without them ln1 runs once (TL runs it three times on
 * the same tensor: same values).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DecoderHookName } from '../../hooks/decoder_hooks.js';
import { blockPrefix } from '../../hooks/hook_spec.js';
import type { RunContext } from '../../hooks/run_context.js';
import { isRms, type ModelConfig } from '../config.js';
import type { BlockParams, MlpParams, NormParams } from '../params.js';
import { attention, type AttnInput, type KvSlot } from './attention.js';
import { layerNorm } from './layer_norm.js';
import { gatedMlp, mlp } from './mlp.js';
import { applyRotary, type RotaryTables } from './rotary.js';

type Ctx = RunContext<DecoderHookName>;

/** What a block needs besides its weights: head counts, rotary tables, this layer's key/value cache slot. */
export interface BlockSetup {
  /** Query heads. */
  readonly nHeads: number;
  /** Key/value heads (= nHeads without GQA). */
  readonly nKvHeads: number;
  /** cos/sin tables of rotary models. */
  readonly rotary: RotaryTables | undefined;
  /** Key/value cache slot (generation). */
  readonly kv: KvSlot | undefined;
}

/** Repeat x [batch, pos, d_model] along a new head axis: [batch, pos, n, d_model]. */
function perHead(x: tf.Tensor3D, n: number): tf.Tensor4D {
  return tf.tile(tf.expandDims<tf.Tensor4D>(x, 2), [1, 1, n, 1]);
}

function attnInput(residPre: tf.Tensor3D, p: BlockParams, cfg: ModelConfig, setup: BlockSetup, ctx: Ctx, b: `blocks.${number}`): AttnInput {
  const { useAttnIn, useSplitQkvInput } = ctx.flags;
  const rms = isRms(cfg);
  if (useAttnIn !== true && useSplitQkvInput !== true) {
    return { kind: 'shared', x: layerNorm(residPre, p.ln1, cfg.eps, `${b}.ln1`, ctx, rms) };
  }
  const { nHeads, nKvHeads } = setup;
  let attnIn = perHead(residPre, nHeads); // [batch, pos, n_heads, d_model]
  if (useAttnIn === true) attnIn = ctx.hook(`${b}.hook_attn_in`, attnIn);
  let qIn = attnIn;
  let kIn: tf.Tensor4D;
  let vIn: tf.Tensor4D;
  if (useSplitQkvInput === true) {
    qIn = ctx.hook(`${b}.hook_q_input`, attnIn);
    kIn = ctx.hook(`${b}.hook_k_input`, nKvHeads === nHeads ? attnIn : perHead(residPre, nKvHeads)); // [batch, pos, n_kv_heads, d_model]
    vIn = ctx.hook(`${b}.hook_v_input`, nKvHeads === nHeads ? attnIn : perHead(residPre, nKvHeads));
  } else if (nKvHeads === nHeads) {
    kIn = attnIn;
    vIn = attnIn;
  } else {
    // GQA with hook_attn_in only: key/value head j reads the input of its group's first query head.
    // (TL 2.12 fails here: its GQA einsum cannot take n_heads inputs for n_kv_heads weights.)
    const g = nHeads / nKvHeads;
    const first = tf.tensor1d(Array.from({ length: nKvHeads }, (_, j) => j * g), 'int32');
    kIn = tf.gather(attnIn, first, 2); // [batch, pos, n_kv_heads, d_model]
    vIn = kIn;
  }
  const ln = (x: tf.Tensor4D): tf.Tensor4D => layerNorm(x, p.ln1, cfg.eps, `${b}.ln1`, ctx, rms);
  return { kind: 'perHead', q: ln(qIn), k: ln(kIn), v: ln(vIn) };
}

/** ln2 → MLP → hook_mlp_out, on the MLP input (resid_mid, or resid_pre when parallel). */
function mlpBranch(x: tf.Tensor3D, m: MlpParams, ln2: NormParams | undefined, cfg: ModelConfig, ctx: Ctx, b: `blocks.${number}`): tf.Tensor3D {
  const mlpIn = ctx.flags.useHookMlpIn === true ? ctx.hook(`${b}.hook_mlp_in`, x) : x;
  const normed = layerNorm(mlpIn, ln2, cfg.eps, `${b}.ln2`, ctx, isRms(cfg)); // [batch, pos, d_model]
  const out = m.W_gate === undefined ? mlp(normed, m, cfg.actFn, ctx, `${b}.mlp`) : gatedMlp(normed, { ...m, W_gate: m.W_gate }, cfg.actFn, ctx, `${b}.mlp`);
  return ctx.hook(`${b}.hook_mlp_out`, out); // [batch, pos, d_model]
}

/**
 * @param resid Residual stream entering block `l` [batch, pos, d_model].
 * @param p Block weights.
 * @param cfg Model config.
 * @param setup Head counts, rotary tables and this layer's key/value cache slot.
 * @param ctx Run context.
 * @param l Layer index.
 * @returns Residual stream leaving the block [batch, pos, d_model].
 */
export function block(resid: tf.Tensor3D, p: BlockParams, cfg: ModelConfig, setup: BlockSetup, ctx: Ctx, l: number): tf.Tensor3D {
  const b = blockPrefix(l);
  const residPre = ctx.hook(`${b}.hook_resid_pre`, resid); // [batch, pos, d_model]
  const { rotary } = setup;
  const rotate =
    rotary === undefined ? undefined : (which: 'q' | 'k', x: tf.Tensor4D): tf.Tensor4D => ctx.hook(`${b}.attn.hook_rot_${which}`, applyRotary(x, rotary.cos, rotary.sin));
  const attnSetup = { nHeads: setup.nHeads, nKvHeads: setup.nKvHeads, rotate, kv: setup.kv };
  const attnOut = ctx.hook(`${b}.hook_attn_out`, attention(attnInput(residPre, p, cfg, setup, ctx, b), p.attn, attnSetup, ctx, `${b}.attn`)); // [batch, pos, d_model]
  const m = p.mlp;
  if (m === undefined) return ctx.hook(`${b}.hook_resid_post`, tf.add(residPre, attnOut));
  if (cfg.parallelAttnMlp === true) {
    const mlpOut = mlpBranch(residPre, m, p.ln2, cfg, ctx, b); // [batch, pos, d_model]
    return ctx.hook(`${b}.hook_resid_post`, tf.add(tf.add<tf.Tensor3D>(residPre, attnOut), mlpOut));
  }
  const residMid = ctx.hook(`${b}.hook_resid_mid`, tf.add<tf.Tensor3D>(residPre, attnOut)); // [batch, pos, d_model]
  return ctx.hook(`${b}.hook_resid_post`, tf.add(residMid, mlpBranch(residMid, m, p.ln2, cfg, ctx, b)));
}
