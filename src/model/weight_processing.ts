/**
 * TransformerLens 2.x weight processing (`HookedTransformer.process_weights_`, TL order):
 * fold_ln → center_writing_weights → center_unembed → fold_value_biases. Each step leaves the
 * model's function unchanged (logits shift by a per-position constant under center_unembed).
 * RMSNorm models (Llama family) fold only the norm weights (no bias, no centring of the reading
 * weights, RMS → RMSPre) and skip center_writing_weights, as TL does: without centring in the norm,
 * centring the residual stream would change the function.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isRms, kvHeads, type ModelConfig } from './config.js';
import { paramTensors, type AttnParams, type BlockParams, type DecoderParams, type MlpParams, type NormParams } from './params.js';

/** Which processing steps to apply. Defaults are TL `from_pretrained`'s (all true). @category Model */
export interface ProcessingOptions {
  /** Fold LayerNorm affines into the next linear layer and centre its reading weights (LN → LNPre). */
  readonly foldLn?: boolean;
  /** Subtract the d_model mean from every weight/bias writing to the residual stream. */
  readonly centerWritingWeights?: boolean;
  /** Subtract the vocab mean from W_U and b_U. */
  readonly centerUnembed?: boolean;
  /** Move b_V into b_O (exact, since each pattern row sums to 1). */
  readonly foldValueBiases?: boolean;
}

/** All steps on (TL `from_pretrained` defaults). @category Model */
export const DEFAULT_PROCESSING: Required<ProcessingOptions> = {
  foldLn: true,
  centerWritingWeights: true,
  centerUnembed: true,
  foldValueBiases: true,
};

/** No steps (TL `from_pretrained_no_processing`). @category Model */
export const NO_PROCESSING: Required<ProcessingOptions> = {
  foldLn: false,
  centerWritingWeights: false,
  centerUnembed: false,
  foldValueBiases: false,
};

/**
 * Fold a norm (w, and b for LayerNorm) into a reader W [d_model, n] with bias [n]; with `centre`
 * (LayerNorm), centre W over d_model.
 */
function foldInto(ln: NormParams, w: tf.Tensor2D, b: tf.Tensor1D, centre: boolean): [tf.Tensor2D, tf.Tensor1D] {
  const bNew = ln.b === undefined ? b : tf.add<tf.Tensor1D>(b, tf.squeeze(tf.matMul(tf.expandDims(ln.b, 0), w), [0])); // [n]
  const scaled = tf.mul<tf.Tensor2D>(w, tf.expandDims(ln.w, 1)); // [d_model, n]
  const wNew = centre ? tf.sub<tf.Tensor2D>(scaled, tf.mean(scaled, 0, true)) : scaled; // [d_model, n]
  return [wNew, bNew];
}

function foldLnBlock(blk: BlockParams, centre: boolean): BlockParams {
  let attn: AttnParams = blk.attn;
  if (blk.ln1 !== undefined) {
    const [wQ, bQ] = foldInto(blk.ln1, attn.wQ, attn.bQ, centre);
    const [wK, bK] = foldInto(blk.ln1, attn.wK, attn.bK, centre);
    const [wV, bV] = foldInto(blk.ln1, attn.wV, attn.bV, centre);
    attn = { ...attn, wQ, bQ, wK, bK, wV, bV };
  }
  let mlp: MlpParams | undefined = blk.mlp;
  const ln2 = blk.ln2;
  if (mlp !== undefined && ln2 !== undefined) {
    const [W_in, b_in] = foldInto(ln2, mlp.W_in, mlp.b_in, centre);
    // TL folds the norm weight into W_gate (a gate has no bias, and TL does not centre it).
    const W_gate = mlp.W_gate === undefined ? undefined : tf.mul<tf.Tensor2D>(mlp.W_gate, tf.expandDims(ln2.w, 1));
    mlp = { ...mlp, W_in, b_in, ...(W_gate === undefined ? {} : { W_gate }) };
  }
  return { ln1: undefined, ln2: undefined, attn, mlp };
}

const centreRows = (w: tf.Tensor2D): tf.Tensor2D => tf.sub(w, tf.mean(w, -1, true));
const centreVec = (b: tf.Tensor1D): tf.Tensor1D => tf.sub(b, tf.mean(b));

function centreWriting(p: DecoderParams): DecoderParams {
  const blocks = p.blocks.map((blk): BlockParams => {
    const attn = { ...blk.attn, wO: centreRows(blk.attn.wO), bO: centreVec(blk.attn.bO) };
    const mlp =
      blk.mlp === undefined
        ? undefined
        : { ...blk.mlp, W_out: centreRows(blk.mlp.W_out), b_out: centreVec(blk.mlp.b_out) };
    return { ...blk, attn, mlp };
  });
  return { ...p, W_E: centreRows(p.W_E), W_pos: p.W_pos === undefined ? undefined : centreRows(p.W_pos), blocks };
}

/** Move b_V into b_O; with GQA each key/value head's bias serves its group of query heads. */
function foldValueBiases(p: DecoderParams, cfg: ModelConfig): DecoderParams {
  const g = cfg.nHeads / kvHeads(cfg);
  const blocks = p.blocks.map((blk): BlockParams => {
    const { bV, wO, bO } = blk.attn;
    const perHead = tf.reshape(tf.tile(tf.reshape(bV, [-1, 1, cfg.dHead]), [1, g, 1]), [1, cfg.nHeads * cfg.dHead]); // [1, n_heads*d_head]
    const bONew = tf.add<tf.Tensor1D>(bO, tf.squeeze(tf.matMul(perHead, wO), [0])); // [d_model]
    return { ...blk, attn: { ...blk.attn, bO: bONew, bV: tf.zerosLike(bV) } };
  });
  return { ...p, blocks };
}

function applySteps(p: DecoderParams, cfg: ModelConfig, o: Required<ProcessingOptions>): DecoderParams {
  const rms = isRms(cfg);
  let out = p;
  if (o.foldLn) {
    let { W_U, b_U } = out;
    if (out.lnFinal !== undefined) [W_U, b_U] = foldInto(out.lnFinal, W_U, b_U, !rms);
    out = { ...out, blocks: out.blocks.map((b) => foldLnBlock(b, !rms)), lnFinal: undefined, W_U, b_U };
  }
  if (o.centerWritingWeights && !rms) out = centreWriting(out);
  if (o.centerUnembed) {
    out = { ...out, W_U: centreRows(out.W_U), b_U: centreVec(out.b_U) };
  }
  if (o.foldValueBiases) out = foldValueBiases(out, cfg);
  return out;
}

/**
 * Apply TransformerLens weight processing. Consumes `params`: tensors it replaces are disposed,
 * the rest are carried over into the result.
 * @param params Unprocessed parameters (ownership passes to the result).
 * @param cfg Model config.
 * @param opts Steps to apply (default: all, as TL `from_pretrained`).
 * @returns Processed params and the config (normalizationType 'LNPre' / 'RMSPre' after fold_ln).
 * @example const { params: p2, cfg: c2 } = processWeights(params, cfg, { foldLn: true });
 * @category Model
 */
export function processWeights(
  params: DecoderParams,
  cfg: ModelConfig,
  opts: ProcessingOptions = DEFAULT_PROCESSING,
): {
  /** The processed parameters (owned by the caller). */
  params: DecoderParams;
  /** `cfg` with `normalizationType` 'LNPre' (or 'RMSPre') when `foldLn` ran. */
  cfg: ModelConfig;
} {
  const o = { ...NO_PROCESSING, ...opts };
  const before = paramTensors(params);
  let out: DecoderParams = params;
  // tidy keeps the tensors of the returned array (the result) and frees the temporaries.
  const kept = tf.tidy(() => {
    out = applySteps(params, cfg, o);
    return paramTensors(out);
  });
  const after = new Set(kept);
  for (const t of before) if (!after.has(t)) t.dispose();
  const rms = isRms(cfg);
  const normalizationType = o.foldLn ? (rms ? 'RMSPre' : 'LNPre') : cfg.normalizationType;
  return { params: out, cfg: { ...cfg, normalizationType } };
}
