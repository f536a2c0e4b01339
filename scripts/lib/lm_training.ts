/**
 * Training a decoder: parameters as tf.Variables (optionally with W_U tied to W_Eᵀ, as GPT-2), and a
 * next-token loss on selected positions computed by the same forward pass as inference (so what is
 * trained is exactly what is later hooked and analysed).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../src/errors.js';
import { gatherRows } from '../../src/ops/gather.js';
import { layerNorm } from '../../src/model/components/layer_norm.js';
import { affine, linear } from '../../src/ops/matmul.js';
import { NO_HOOKS, type RunContext } from '../../src/hooks/run_context.js';
import { isRms, type ModelConfig } from '../../src/model/config.js';
import { runDecoder } from '../../src/model/forward.js';
import { paramTensors, type BlockParams, type DecoderParams, type NormParams } from '../../src/model/params.js';

/** Decoder parameters held as variables. @category Training */
export interface TrainableDecoder {
  /** The trainable variables (W_U excluded when tied). */
  readonly variables: tf.Variable[];
  /** Parameters for a forward pass (W_U = W_Eᵀ built inside when tied: call inside the loss closure). */
  params(): DecoderParams;
  /** A copy as plain tensors (W_U materialised), for saving or a HookedTransformer; caller owns it. */
  snapshot(): DecoderParams;
  /** Free the variables. */
  dispose(): void;
}

/**
 * Wrap initial parameters as variables. Takes ownership of `init` (its tensors are disposed).
 * @param init Initial parameters (e.g. `randomDecoderParams`).
 * @param opts.tied Tie W_U to W_Eᵀ (GPT-2); init.W_U is then ignored.
 * @returns The trainable decoder.
 * @category Training
 */
export function makeTrainableDecoder(init: DecoderParams, opts: { tied?: boolean } = {}): TrainableDecoder {
  const tied = opts.tied ?? true;
  const vars: tf.Variable[] = [];
  const v = <T extends tf.Tensor>(t: T): T => {
    const x = tf.variable(t, true);
    vars.push(x);
    return x as unknown as T;
  };
  const ln = (x: NormParams | undefined): NormParams | undefined => (x === undefined ? undefined : { w: v(x.w), b: x.b === undefined ? undefined : v(x.b) });
  const blocks: BlockParams[] = init.blocks.map((b) => ({
    ln1: ln(b.ln1),
    ln2: ln(b.ln2),
    attn: {
      wQ: v(b.attn.wQ), bQ: v(b.attn.bQ), wK: v(b.attn.wK), bK: v(b.attn.bK),
      wV: v(b.attn.wV), bV: v(b.attn.bV), wO: v(b.attn.wO), bO: v(b.attn.bO),
    },
    mlp:
      b.mlp === undefined
        ? undefined
        : {
            ...(b.mlp.W_gate === undefined ? {} : { W_gate: v(b.mlp.W_gate) }),
            W_in: v(b.mlp.W_in), b_in: v(b.mlp.b_in), W_out: v(b.mlp.W_out), b_out: v(b.mlp.b_out),
          },
  }));
  const base = { W_E: v(init.W_E), W_pos: init.W_pos === undefined ? undefined : v(init.W_pos), blocks, lnFinal: ln(init.lnFinal) };
  const W_U = tied ? undefined : v(init.W_U);
  const b_U = tied ? tf.keep(tf.zerosLike(init.b_U)) : v(init.b_U);
  for (const t of paramTensors(init)) t.dispose();
  const params = (): DecoderParams => ({ ...base, W_U: W_U ?? (tf.transpose(base.W_E) as tf.Tensor2D), b_U });
  return {
    variables: vars,
    params,
    snapshot: () =>
      tf.tidy(() => {
        const p = params();
        const copy = <T extends tf.Tensor>(t: T): T => tf.add(t, 0) as T; // a real copy, detached from the variable
        const cl = (x: NormParams | undefined) => (x === undefined ? undefined : { w: copy(x.w), b: x.b === undefined ? undefined : copy(x.b) });
        return {
          W_E: copy(p.W_E), W_pos: p.W_pos === undefined ? undefined : copy(p.W_pos), W_U: copy(p.W_U), b_U: copy(p.b_U), lnFinal: cl(p.lnFinal),
          blocks: p.blocks.map((b) => ({
            ln1: cl(b.ln1), ln2: cl(b.ln2),
            attn: Object.fromEntries(Object.entries(b.attn).map(([k, t]) => [k, copy(t)])) as unknown as BlockParams['attn'],
            mlp: b.mlp === undefined ? undefined : (Object.fromEntries(Object.entries(b.mlp).map(([k, t]) => [k, copy(t)])) as unknown as BlockParams['mlp']),
          })),
        } as unknown as tf.TensorContainer;
      }) as unknown as DecoderParams,
    dispose: () => {
      for (const x of vars) x.dispose();
      if (tied) b_U.dispose();
    },
  };
}

/**
 * Mean next-token cross-entropy over chosen positions: position p of row b predicts token p+1.
 * @param cfg Config.
 * @param params Parameters (variables inside a loss closure).
 * @param tokens Token rows [batch, pos].
 * @param positions `[row, pos]` pairs to score (pos ≤ len-2).
 * @param opts.candidates Restrict the softmax to these token ids (every target must be one of them):
 *   the exact loss of a model that only ever predicts them, at a fraction of the cost of a
 *   50,257-way unembedding. Default: the full vocabulary.
 * @returns Scalar loss.
 * @throws {@link ConfigError} if a target is not among the candidates.
 * @category Training
 */
export function nextTokenLossAt(
  cfg: ModelConfig,
  params: DecoderParams,
  tokens: number[][],
  positions: readonly (readonly [number, number])[],
  opts: { candidates?: readonly number[] } = {},
): tf.Scalar {
  const targets = positions.map(([b, p]) => tokens[b]?.[p + 1] ?? 0);
  const cand = opts.candidates;
  const classOf = cand === undefined ? undefined : new Map(cand.map((id, i) => [id, i]));
  const classes = classOf === undefined ? targets : targets.map((t) => {
    const c = classOf.get(t);
    if (c === undefined) throw new ConfigError(`nextTokenLossAt: target token ${t} is not among the ${classOf.size} candidates`);
    return c;
  });
  return tf.tidy(() => {
    const t = tf.tensor2d(tokens, [tokens.length, tokens[0]?.length ?? 0], 'int32');
    const resid = runDecoder({ cfg, params, hook: NO_HOOKS, flags: {} }, t, undefined, cfg.nLayers); // [batch, pos, d_model]
    const pos = tokens[0]?.length ?? 0;
    const rows = gatherRows(tf.reshape(resid, [-1, cfg.dModel]), tf.tensor1d(positions.map(([b, p]) => b * pos + p), 'int32')); // [n, d_model]
    const ctx: RunContext = { flags: {}, hook: NO_HOOKS, additiveMask: undefined, mayHaveEmptyRows: false };
    const normed = layerNorm(rows, params.lnFinal, cfg.eps, 'ln_final', ctx, isRms(cfg)); // [n, d_model]
    let logits: tf.Tensor;
    if (cand === undefined) {
      logits = affine(normed, params.W_U, params.b_U); // [n, d_vocab]
    } else {
      const ids = tf.tensor1d([...cand], 'int32');
      const wU = tf.transpose(gatherRows(tf.transpose(params.W_U), ids)); // [d_model, n_cand]
      logits = tf.add(linear(normed, wU), gatherRows(tf.reshape(params.b_U, [-1, 1]), ids).reshape([-1])); // [n, n_cand]
    }
    const logp = tf.logSoftmax(logits, -1);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(classes, 'int32'), logits.shape[1] as number)), -1); // [n]
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}
