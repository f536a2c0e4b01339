/**
 * Training an encoder with masked-LM (DistilBERT, Sanh et al. 2019, without the distillation
 * terms): parameters as tf.Variables with the MLM projector tied to W_Eᵀ (HF `vocab_projector`),
 * and a loss computed only at the masked positions. The body is the inference forward pass
 * ({@link runEncoder}, head off); the hidden rows at masked positions are gathered before the MLM
 * head (dense → GELU → LayerNorm → unembed), so the [batch·pos, d_vocab] logits are never built.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import { gatherRows } from '../ops/gather.js';
import { layerNorm } from '../model/components/layer_norm.js';
import { affine } from '../ops/matmul.js';
import { activation } from '../model/components/mlp.js';
import { NO_HOOKS, type RunContext } from '../hooks/run_context.js';
import type { EncoderConfig } from '../model/encoder/encoder_config.js';
import { runEncoder } from '../model/encoder/encoder_forward.js';
import { encoderParamTensors, type EncoderBlockParams, type EncoderParams, type MlmHeadParams } from '../model/encoder/encoder_params.js';
import { encoderMaxLength } from '../model/encoder/position_ids.js';
import type { LayerNormParams } from '../model/params.js';
import type { MaskedPositions } from './mlm_data.js';

/** Encoder parameters held as variables. @category Training */
export interface TrainableEncoder {
  /** The trainable variables (the projector weight excluded when tied). */
  readonly variables: tf.Variable[];
  /** Parameters for a forward pass (tied W_U = W_Eᵀ is built here: call inside the loss closure). */
  params(): EncoderParams;
  /** A copy as plain tensors (W_U materialised), for saving or a HookedEncoder; the caller owns it. */
  snapshot(): EncoderParams;
  /** Free the variables. */
  dispose(): void;
}

type Mapper = <T extends tf.Tensor>(t: T) => T;

type Body = Omit<EncoderParams, 'mlmHead'>;
type HeadBody = Omit<MlmHeadParams, 'W_U'>;

/** Apply `f` to every tensor of the body (the MLM head excluded). */
function mapBody(p: Body, f: Mapper): Body {
  const ln = (x: LayerNormParams): LayerNormParams => ({ w: f(x.w), b: f(x.b) });
  const blocks: EncoderBlockParams[] = p.blocks.map((b) => ({
    attn: {
      wQ: f(b.attn.wQ), bQ: f(b.attn.bQ), wK: f(b.attn.wK), bK: f(b.attn.bK),
      wV: f(b.attn.wV), bV: f(b.attn.bV), wO: f(b.attn.wO), bO: f(b.attn.bO),
    },
    ln1: ln(b.ln1),
    mlp: { W_in: f(b.mlp.W_in), b_in: f(b.mlp.b_in), W_out: f(b.mlp.W_out), b_out: f(b.mlp.b_out) },
    ln2: ln(b.ln2),
  }));
  return {
    W_E: f(p.W_E), W_pos: f(p.W_pos), W_token_type: p.W_token_type === undefined ? undefined : f(p.W_token_type),
    embedLn: ln(p.embedLn), blocks,
  };
}

/** Apply `f` to every tensor of the MLM head except W_U (handled by the caller). */
function mapHead(h: HeadBody, f: Mapper): HeadBody {
  return { W: f(h.W), b: f(h.b), ln: { w: f(h.ln.w), b: f(h.ln.b) }, b_U: f(h.b_U) };
}

/**
 * Wrap initial parameters as variables. Takes ownership of `init` (its tensors are disposed).
 * @param init Initial parameters with an MLM head (e.g. `randomEncoderParams(cfg, { seed })`).
 * @param opts.tied Tie the projector to W_Eᵀ as DistilBERT does (default true); init's W_U is then ignored.
 * @returns The trainable encoder.
 * @throws {@link "tfjs-lens"!ConfigError} when `init` has no MLM head.
 * @example
 * const model = makeTrainableEncoder(randomEncoderParams(cfg, { seed: 0 }));
 * const loss = mlmLossAt(cfg, model.params(), batch, batch);
 * @category Training
 */
export function makeTrainableEncoder(init: EncoderParams, opts: { tied?: boolean } = {}): TrainableEncoder {
  const initHead = init.mlmHead;
  if (initHead === undefined) throw new ConfigError('makeTrainableEncoder: init has no MLM head (use randomEncoderParams(cfg) with mlmHead not false)');
  const tied = opts.tied ?? true;
  const vars: tf.Variable[] = [];
  const toVar: Mapper = <T extends tf.Tensor>(t: T): T => {
    const x = tf.variable(t, true);
    vars.push(x);
    return x as unknown as T;
  };
  const body = mapBody(init, toVar);
  const h = mapHead(initHead, toVar);
  const ownWU = tied ? undefined : toVar(initHead.W_U);
  for (const t of encoderParamTensors(init)) t.dispose();
  const params = (): EncoderParams => ({ ...body, mlmHead: { ...h, W_U: ownWU ?? tf.transpose(body.W_E) } });
  return {
    variables: vars,
    params,
    snapshot: () => {
      const copy: Mapper = <T extends tf.Tensor>(t: T): T => tf.add<T>(t, 0); // a real copy, detached from the variable
      return { ...mapBody(body, copy), mlmHead: { ...mapHead(h, copy), W_U: ownWU === undefined ? tf.transpose(body.W_E) : copy(ownWU) } };
    },
    dispose: () => {
      for (const x of vars) x.dispose();
    },
  };
}

/** Input rows of an MLM batch. @category Training */
export interface MlmInput {
  /** Input ids [batch, pos] (already masked). */
  readonly inputIds: readonly (readonly number[])[];
  /** Attention mask [batch, pos] (1 = real), or undefined (all real). */
  readonly attentionMask?: readonly (readonly number[])[] | undefined;
}

function checkInput(cfg: EncoderConfig, batch: MlmInput, masked: MaskedPositions, fn: string): [number, number] {
  const nRows = batch.inputIds.length;
  const pos = batch.inputIds[0]?.length ?? 0;
  if (nRows === 0 || pos === 0 || batch.inputIds.some((r) => r.length !== pos)) {
    throw new ShapeError(`${fn}: inputIds must be a non-empty rectangular [batch, pos] array`);
  }
  const maxLen = encoderMaxLength(cfg);
  if (pos > maxLen) throw new ShapeError(`${fn}: sequence length ${pos} exceeds n_ctx ${maxLen} (positions the model can read)`);
  if (masked.positions.length === 0) throw new ShapeError(`${fn}: no masked positions (the loss is undefined)`);
  if (masked.labels.length !== masked.positions.length) {
    throw new ShapeError(`${fn}: ${masked.positions.length} positions but ${masked.labels.length} labels`);
  }
  for (const [b, p] of masked.positions) {
    if (!(b >= 0 && b < nRows && p >= 0 && p < pos)) throw new ShapeError(`${fn}: masked position [${b}, ${p}] outside [${nRows}, ${pos}]`);
  }
  return [nRows, pos];
}

/**
 * MLM logits at the masked positions only.
 * @param cfg Config.
 * @param params Parameters with an MLM head.
 * @param batch Input ids and mask.
 * @param masked Positions (labels unused here).
 * @returns Logits [n_masked, d_vocab].
 * @throws {@link "tfjs-lens"!ShapeError} on inconsistent shapes; {@link "tfjs-lens"!ConfigError} without an MLM head.
 * @example const logits = mlmLogitsAt(cfg, params, batch, batch);  // [n_masked, d_vocab]
 * @category Training
 */
export function mlmLogitsAt(cfg: EncoderConfig, params: EncoderParams, batch: MlmInput, masked: MaskedPositions): tf.Tensor2D {
  const fn = 'mlmLogitsAt';
  const [nRows, pos] = checkInput(cfg, batch, masked, fn);
  const h = params.mlmHead;
  if (h === undefined) throw new ConfigError(`${fn}: the parameters have no MLM head`);
  return tf.tidy(() => {
    const tokens = tf.tensor2d(batch.inputIds as number[][], [nRows, pos], 'int32');
    const mask = batch.attentionMask === undefined ? undefined : (batch.attentionMask as number[][]);
    const hidden = runEncoder({ cfg, params, hook: NO_HOOKS, flags: {} }, tokens, mask, undefined, false, undefined); // [batch, pos, d_model]
    const flat = tf.tensor1d(masked.positions.map(([b, p]) => b * pos + p), 'int32');
    const rows = gatherRows(tf.reshape(hidden, [-1, cfg.dModel]), flat); // [n, d_model]
    const ctx: RunContext = { flags: {}, hook: NO_HOOKS, additiveMask: undefined, mayHaveEmptyRows: false };
    const dense = activation(affine(rows, h.W, h.b), cfg.actFn); // [n, d_model]
    const normed = layerNorm(dense, h.ln, cfg.eps, 'mlm_head.ln', ctx); // [n, d_model]
    return affine(normed, h.W_U, h.b_U); // [n, d_vocab]
  });
}

/**
 * Mean cross-entropy of the original tokens at the masked positions (nats).
 * @param cfg Config.
 * @param params Parameters (variables inside a loss closure).
 * @param batch Input ids [batch, pos] and attention mask.
 * @param masked Masked positions and their labels.
 * @returns Scalar loss.
 * @throws {@link "tfjs-lens"!ShapeError} on inconsistent shapes or no masked positions.
 * @example const mb = maskTokens(rng, rows, undefined, tok); const loss = mlmLossAt(cfg, model.params(), mb, mb);
 * @category Training
 */
export function mlmLossAt(cfg: EncoderConfig, params: EncoderParams, batch: MlmInput, masked: MaskedPositions): tf.Scalar {
  return tf.tidy(() => {
    const logits = mlmLogitsAt(cfg, params, batch, masked); // [n, d_vocab]
    const logp = tf.logSoftmax(logits, -1);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(masked.labels as number[], 'int32'), cfg.dVocab)), -1); // [n]
    return tf.neg(tf.mean<tf.Scalar>(picked));
  });
}

/** Masked-LM figures of one batch. @category Training */
export interface MlmMetrics {
  /** Mean cross-entropy at the masked positions (nats). */
  readonly loss: number;
  /** Fraction of masked positions whose argmax prediction is the original token. */
  readonly accuracy: number;
  /** Number of masked positions scored. */
  readonly count: number;
}

/**
 * Loss and top-1 accuracy at the masked positions, without gradients.
 * @param cfg Config.
 * @param params Parameters.
 * @param batch Input ids and attention mask.
 * @param masked Masked positions and labels.
 * @returns Loss, accuracy and count (plain numbers; no tensors are left behind).
 * @throws {@link "tfjs-lens"!ShapeError} on inconsistent shapes.
 * @example const { loss, accuracy } = mlmMetrics(cfg, params, mb, mb);
 * @category Training
 */
export function mlmMetrics(cfg: EncoderConfig, params: EncoderParams, batch: MlmInput, masked: MaskedPositions): MlmMetrics {
  const [loss, pred] = tf.tidy(() => {
    const logits = mlmLogitsAt(cfg, params, batch, masked); // [n, d_vocab]
    const logp = tf.logSoftmax(logits, -1);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(masked.labels as number[], 'int32'), cfg.dVocab)), -1); // [n]
    return [tf.neg(tf.mean(picked)).dataSync()[0] as number, Array.from(tf.argMax(logits, -1).dataSync())];
  });
  const hits = pred.filter((t, i) => t === masked.labels[i]).length;
  return { loss, accuracy: hits / masked.labels.length, count: masked.labels.length };
}

/**
 * Top-1 accuracy at the masked positions.
 * @param cfg Config.
 * @param params Parameters.
 * @param batch Input ids and attention mask.
 * @param masked Masked positions and labels.
 * @returns Fraction in [0, 1].
 * @throws {@link "tfjs-lens"!ShapeError} on inconsistent shapes.
 * @example mlmAccuracy(cfg, model.params(), mb, mb)  // 0.31
 * @category Training
 */
export function mlmAccuracy(cfg: EncoderConfig, params: EncoderParams, batch: MlmInput, masked: MaskedPositions): number {
  return mlmMetrics(cfg, params, batch, masked).accuracy;
}
