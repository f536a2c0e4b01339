/**
 * MLP: hook_pre = x·W_in + b_in, hook_post = act(pre), out = post·W_out + b_out
 * (TL `components/mlps/mlp.py`). Gated MLP (Llama SwiGLU, TL `gated_mlp.py`): hook_pre = x·W_gate,
 * hook_pre_linear = x·W_in, hook_post = act(pre) ⊙ pre_linear + b_in. GELU-new is computed as
 * x·sigmoid(2y) = 0.5x(1 + tanh y), which is the same function and 3x faster than tanh on tfjs-wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunContext } from '../../hooks/run_context.js';
import { affine, linear } from '../../ops/matmul.js';
import type { ActFn } from '../config.js';
import type { MlpParams } from '../params.js';

const GELU_C = Math.sqrt(2 / Math.PI);

/** Apply an activation function elementwise (same shape as x). */
export function activation<X extends tf.Tensor>(x: X, act: ActFn): X {
  if (act === 'relu') return tf.relu(x);
  if (act === 'silu') return tf.mul<X>(x, tf.sigmoid(x));
  if (act === 'gelu') {
    // exact: 0.5 x (1 + erf(x / sqrt 2))
    return tf.mul<X>(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  }
  // gelu_new: 0.5 x (1 + tanh(c (x + 0.044715 x³))) = x · sigmoid(2 c (x + 0.044715 x³))
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), 0.044715)), 2 * GELU_C);
  return tf.mul<X>(x, tf.sigmoid(inner));
}

/** The hooks of an MLP at `blocks.{l}.mlp`. */
type MlpHook = `blocks.${number}.mlp.hook_${'pre' | 'post'}`;

/**
 * @param x ln2 output [batch, pos, d_model].
 * @param p Weights.
 * @param act Activation.
 * @param ctx Run context.
 * @param prefix `blocks.{l}.mlp`.
 * @returns MLP output [batch, pos, d_model].
 */
export function mlp(x: tf.Tensor3D, p: MlpParams, act: ActFn, ctx: RunContext<MlpHook>, prefix: `blocks.${number}.mlp`): tf.Tensor3D {
  const [batch, pos, dModel] = x.shape;
  const dMlp = p.W_in.shape[1];
  const x2 = tf.reshape(x, [batch * pos, dModel]); // [batch*pos, d_model]
  const pre = ctx.hook(`${prefix}.hook_pre`, tf.reshape<tf.Rank.R3>(affine(x2, p.W_in, p.b_in), [batch, pos, dMlp])); // [batch, pos, d_mlp]
  const post = ctx.hook(`${prefix}.hook_post`, activation(pre, act)); // [batch, pos, d_mlp]
  const out = affine(tf.reshape(post, [batch * pos, dMlp]), p.W_out, p.b_out); // [batch*pos, d_model]
  return tf.reshape(out, [batch, pos, dModel]);
}

/** The hooks of a gated MLP at `blocks.{l}.mlp`. */
type GatedMlpHook = `blocks.${number}.mlp.hook_${'pre' | 'pre_linear' | 'post'}`;

/**
 * Gated MLP (TL `GatedMLP`): hook_pre = x·W_gate, hook_pre_linear = x·W_in,
 * hook_post = act(pre) ⊙ pre_linear + b_in, out = post·W_out + b_out.
 * @param x ln2 output [batch, pos, d_model].
 * @param p Weights with W_gate.
 * @param act Activation (SiLU for Llama-family models).
 * @param ctx Run context.
 * @param prefix `blocks.{l}.mlp`.
 * @returns MLP output [batch, pos, d_model].
 */
export function gatedMlp(
  x: tf.Tensor3D,
  p: MlpParams & { readonly W_gate: tf.Tensor2D },
  act: ActFn,
  ctx: RunContext<GatedMlpHook>,
  prefix: `blocks.${number}.mlp`,
): tf.Tensor3D {
  const [batch, pos, dModel] = x.shape;
  const dMlp = p.W_in.shape[1];
  const x2 = tf.reshape(x, [batch * pos, dModel]); // [batch*pos, d_model]
  const pre = ctx.hook(`${prefix}.hook_pre`, tf.reshape<tf.Rank.R3>(linear(x2, p.W_gate), [batch, pos, dMlp])); // [batch, pos, d_mlp]
  const preLinear = ctx.hook(`${prefix}.hook_pre_linear`, tf.reshape<tf.Rank.R3>(linear(x2, p.W_in), [batch, pos, dMlp])); // [batch, pos, d_mlp]
  const post = ctx.hook(`${prefix}.hook_post`, tf.add<tf.Tensor3D>(tf.mul(activation(pre, act), preLinear), p.b_in)); // [batch, pos, d_mlp]
  const out = affine(tf.reshape(post, [batch * pos, dMlp]), p.W_out, p.b_out); // [batch*pos, d_model]
  return tf.reshape(out, [batch, pos, dModel]);
}
