/**
 * The encoder forward pass (TL `HookedEncoder` / `BertBlock`, post-LN; RoBERTa is the same with
 * padding-aware position ids, `position_ids.ts`):
 *   x = embed.ln(word + W_pos[position ids] [+ token_type])       → hook_full_embed
 *   resid_mid  = resid_pre + attn(resid_pre)                        (bidirectional, padded keys -inf)
 *   resid_post = ln1(resid_mid) + mlp(ln1(resid_mid));  out = ln2(resid_post)
 *   logits = unembed(ln(gelu(out · W + b)))                         (MLM head)
 *   logits = classifier(out[:, 0])                                  (sequence-classification head, `classifier/head.ts`)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderHookName } from '../../hooks/encoder_hooks.js';
import { blockPrefix } from '../../hooks/hook_spec.js';
import type { HookFlags } from '../../hooks/hook_spec.js';
import { attention, type AttnInput } from '../components/attention.js';
import { gatherRows } from '../../ops/gather.js';
import { fusedEmbed, fusedEmbedApplies, fusedEmbedOn, type EmbedTerm } from '../../backend/native_embed.js';
import { layerNorm } from '../components/layer_norm.js';
import { recordingGradients } from '../../hooks/bwd_hooks.js';
import { affine } from '../../ops/matmul.js';
import { activation, mlp } from '../components/mlp.js';
import type { HookDispatch, RunContext } from '../../hooks/run_context.js';
import type { EncoderConfig } from './encoder_config.js';
import type { EncoderBlockParams, EncoderParams } from './encoder_params.js';
import { encoderPositionIds } from './position_ids.js';
import { classifierHead } from '../classifier/head.js';
import type { SequenceClassifier } from '../classifier/head_params.js';

type Ctx = RunContext<EncoderHookName>;

/** The hooks the fused embedding skips (it gives only hook_full_embed's value). */
const FUSED_EMBED_SKIPS: readonly EncoderHookName[] = ['embed.hook_embed', 'embed.hook_pos_embed', 'embed.hook_token_type_embed', 'embed.ln.hook_scale', 'embed.ln.hook_normalized'];

/**
 * The embedding as one native kernel (src/backend/native_embed.ts: the same values, bit for bit)
 * when nothing is attached at the hooks it skips, no gradient is recorded and the native path is on;
 * undefined otherwise.
 */
function fusedEncoderEmbed(tokens: tf.Tensor2D, types: tf.Tensor2D | undefined, p: EncoderParams, cfg: EncoderConfig, ctx: Ctx): tf.Tensor3D | undefined {
  const live = ctx.hook.live;
  // Checked first: without the addon nothing below (RoBERTa's position ids) is worth computing.
  if (!fusedEmbedOn() || live === undefined || FUSED_EMBED_SKIPS.some((h) => live(h)) || recordingGradients()) return undefined;
  const [batch, pos] = tokens.shape;
  const terms: EmbedTerm[] = [
    { table: p.W_E, ids: tokens },
    cfg.modelType === 'roberta' ? { table: p.W_pos, ids: encoderPositionIds(tokens, cfg) } : { table: p.W_pos, period: pos },
  ];
  if (p.W_token_type !== undefined) terms.push(types !== undefined ? { table: p.W_token_type, ids: types } : { table: p.W_token_type, period: 1 });
  const norm = { w: p.embedLn.w, b: p.embedLn.b, eps: cfg.eps, rms: false };
  return fusedEmbedApplies(terms, batch * pos, norm) ? (fusedEmbed(terms, [batch, pos], norm) as tf.Tensor3D) : undefined;
}

function embed(tokens: tf.Tensor2D, types: tf.Tensor2D | undefined, p: EncoderParams, cfg: EncoderConfig, ctx: Ctx): tf.Tensor3D {
  const fused = fusedEncoderEmbed(tokens, types, p, cfg, ctx);
  if (fused !== undefined) return ctx.hook('hook_full_embed', fused);
  const [batch, pos] = tokens.shape;
  const d = cfg.dModel;
  const word = ctx.hook('embed.hook_embed', tf.reshape<tf.Rank.R3>(gatherRows(p.W_E, tf.reshape(tokens, [-1])), [batch, pos, d])); // [batch, pos, d_model]
  let sum: tf.Tensor3D;
  if (cfg.modelType !== 'roberta' && ctx.hook.live?.('embed.hook_pos_embed') === false && !recordingGradients()) {
    // Positions 0…pos−1 in every row and nobody looks at hook_pos_embed: add W_pos[:pos] by
    // broadcasting instead of gathering it batch times (the same sums; not under a gradient tape,
    // where the gather's gradient is the one kept).
    sum = tf.add<tf.Tensor3D>(word, tf.reshape(tf.slice(p.W_pos, [0, 0], [pos, d]), [1, pos, d]));
  } else {
    const posIds = encoderPositionIds(tokens, cfg); // [batch, pos]: 0…pos−1, or RoBERTa's padding-aware ids
    const posEmb = ctx.hook('embed.hook_pos_embed', tf.reshape<tf.Rank.R3>(gatherRows(p.W_pos, tf.reshape(posIds, [-1])), [batch, pos, d])); // [batch, pos, d_model]
    sum = tf.add<tf.Tensor3D>(word, posEmb);
  }
  if (p.W_token_type !== undefined) {
    const ids = types ?? tf.zeros([batch, pos], 'int32');
    const tt = ctx.hook('embed.hook_token_type_embed', tf.reshape<tf.Rank.R3>(gatherRows(p.W_token_type, tf.reshape(ids, [-1])), [batch, pos, d])); // [batch, pos, d_model]
    sum = tf.add(sum, tt);
  }
  return ctx.hook('hook_full_embed', layerNorm(sum, p.embedLn, cfg.eps, 'embed.ln', ctx));
}

function encoderBlock(resid: tf.Tensor3D, p: EncoderBlockParams, cfg: EncoderConfig, ctx: Ctx, l: number): tf.Tensor3D {
  const b = blockPrefix(l);
  const residPre = ctx.hook(`${b}.hook_resid_pre`, resid); // [batch, pos, d_model]
  let input: AttnInput = { kind: 'shared', x: residPre };
  if (ctx.flags.useSplitQkvInput === true) {
    const rep = tf.tile(tf.expandDims<tf.Tensor4D>(residPre, 2), [1, 1, cfg.nHeads, 1]); // [batch, pos, n_heads, d_model]
    input = { kind: 'perHead', q: ctx.hook(`${b}.hook_q_input`, rep), k: ctx.hook(`${b}.hook_k_input`, rep), v: ctx.hook(`${b}.hook_v_input`, rep) };
  }
  const attnOut = ctx.hook(`${b}.hook_attn_out`, attention(input, p.attn, { nHeads: cfg.nHeads, nKvHeads: cfg.nHeads }, ctx, `${b}.attn`)); // [batch, pos, d_model]
  const residMid = ctx.hook(`${b}.hook_resid_mid`, tf.add<tf.Tensor3D>(residPre, attnOut)); // [batch, pos, d_model]
  const mlpIn = ctx.flags.useHookMlpIn === true ? ctx.hook(`${b}.hook_mlp_in`, residMid) : residMid;
  const normedMid = layerNorm(mlpIn, p.ln1, cfg.eps, `${b}.ln1`, ctx); // [batch, pos, d_model]
  const mlpOut = ctx.hook(`${b}.hook_mlp_out`, mlp(normedMid, p.mlp, cfg.actFn, ctx, `${b}.mlp`)); // [batch, pos, d_model]
  const residPost = ctx.hook(`${b}.hook_resid_post`, tf.add<tf.Tensor3D>(normedMid, mlpOut)); // [batch, pos, d_model]
  return ctx.hook(`${b}.hook_normalized_resid_post`, layerNorm(residPost, p.ln2, cfg.eps, `${b}.ln2`, ctx));
}

/** Additive key mask [batch, 1, 1, pos_k]: 0 for real tokens, -inf for padding. */
function keyMask(mask: number[][]): tf.Tensor4D {
  const pos = mask[0]?.length ?? 0;
  const data = Float32Array.from(mask.flat().map((m) => (m === 1 ? 0 : -Infinity)));
  return tf.tensor4d(data, [mask.length, 1, 1, pos]);
}

/** What one encoder run needs besides the tokens. */
interface EncoderRun {
  /** Architecture. */
  readonly cfg: EncoderConfig;
  /** Parameters. */
  readonly params: EncoderParams;
  /** Hook dispatcher of the run ({@link NO_HOOKS} for none). */
  readonly hook: HookDispatch<EncoderHookName>;
  /** Optional-hook flags in force. */
  readonly flags: HookFlags;
}

/**
 * Run the encoder.
 * @param run Config, params, hook dispatcher and flags.
 * @param tokens Token ids [batch, pos].
 * @param mask Attention mask rows (1 = real) or undefined (all real).
 * @param types Token-type ids [batch, pos] or undefined (all 0).
 * @param head Apply the MLM head (logits [batch, pos, d_vocab]); otherwise return the final hidden
 *   states [batch, pos, d_model]. A sequence-classification head instead gives [batch, n_labels].
 * @param stop Exclusive layer to stop at (already resolved to [0, n_layers]); when given (even
 *   n_layers) the residual stream entering that block is returned and the head does not run.
 * @returns Logits, hidden states or the residual stream, as above.
 */
export function runEncoder(
  run: EncoderRun,
  tokens: tf.Tensor2D,
  mask: number[][] | undefined,
  types: tf.Tensor2D | undefined,
  head: boolean,
  stop: number | undefined,
): tf.Tensor3D;
/**
 * Run the encoder and a sequence-classification head on its first token.
 * @returns Class logits [batch, n_labels].
 */
export function runEncoder(
  run: EncoderRun,
  tokens: tf.Tensor2D,
  mask: number[][] | undefined,
  types: tf.Tensor2D | undefined,
  head: SequenceClassifier,
  stop: undefined,
): tf.Tensor2D;
export function runEncoder(
  run: EncoderRun,
  tokens: tf.Tensor2D,
  mask: number[][] | undefined,
  types: tf.Tensor2D | undefined,
  head: boolean | SequenceClassifier,
  stop: number | undefined,
): tf.Tensor3D | tf.Tensor2D {
  const { cfg, params } = run;
  const additiveMask = mask === undefined ? undefined : keyMask(mask);
  const ctx: Ctx = {
    flags: run.flags,
    hook: run.hook,
    additiveMask,
    mayHaveEmptyRows: mask !== undefined && mask.some((r) => r.every((v) => v === 0)),
  };
  let resid: tf.Tensor3D | undefined;
  try {
    resid = tf.tidy(() => embed(tokens, types, params, cfg, ctx));
    for (let l = 0; l < (stop ?? cfg.nLayers); l++) {
      const prev: tf.Tensor3D = resid;
      const blk = params.blocks[l];
      if (blk === undefined) break;
      resid = tf.tidy(() => encoderBlock(prev, blk, cfg, ctx, l));
      prev.dispose();
    }
    const h = params.mlmHead;
    const final: tf.Tensor3D = resid;
    if (head === false || stop !== undefined) {
      resid = undefined;
      return final;
    }
    if (typeof head === 'object') return classifierHead(final, head, new Array<number>(final.shape[0]).fill(0), ctx); // [CLS] / <s>
    if (h === undefined) {
      resid = undefined;
      return final;
    }
    return tf.tidy(() => {
      const [batch, pos, d] = final.shape;
      const x2 = tf.reshape(final, [batch * pos, d]); // [batch*pos, d_model]
      const dense = activation(affine(x2, h.W, h.b), cfg.actFn); // [batch*pos, d_model]
      const normed = layerNorm(tf.reshape<tf.Rank.R3>(dense, [batch, pos, d]), h.ln, cfg.eps, 'mlm_head.ln', ctx); // [batch, pos, d_model]
      const logits = affine(tf.reshape(normed, [batch * pos, d]), h.W_U, h.b_U); // [batch*pos, d_vocab]
      return tf.reshape<tf.Rank.R3>(logits, [batch, pos, cfg.dVocab]);
    });
  } finally {
    resid?.dispose();
    additiveMask?.dispose();
  }
}
