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

/** Centre a reader [d_model, n] over d_model (each column's mean removed). */
const centreCols = (w: tf.Tensor2D): tf.Tensor2D => tf.sub(w, tf.mean(w, 0, true)); // [d_model, n]
/** Centre a writer [n, d_model] over d_model (each row's mean removed). */
const centreRows = (w: tf.Tensor2D): tf.Tensor2D => tf.sub(w, tf.mean(w, -1, true)); // [n, d_model]
const centreVec = (b: tf.Tensor1D): tf.Tensor1D => tf.sub(b, tf.mean(b));

/**
 * Fold a norm (w, and b for LayerNorm) into a reader W [d_model, n] with bias [n]; with `centre`
 * (LayerNorm), centre W over d_model.
 */
function foldInto(ln: NormParams, w: tf.Tensor2D, b: tf.Tensor1D, centre: boolean): [tf.Tensor2D, tf.Tensor1D] {
  const bNew = ln.b === undefined ? b : tf.add<tf.Tensor1D>(b, tf.squeeze(tf.matMul(tf.expandDims(ln.b, 0), w), [0])); // [n]
  const scaled = tf.mul<tf.Tensor2D>(w, tf.expandDims(ln.w, 1)); // [d_model, n]
  const wNew = centre ? centreCols(scaled) : scaled; // [d_model, n]
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

/** center_writing_weights on one block: W_O, b_O, W_out, b_out. */
function centreWritingBlock(blk: BlockParams): BlockParams {
  const attn = { ...blk.attn, wO: centreRows(blk.attn.wO), bO: centreVec(blk.attn.bO) };
  const mlp = blk.mlp === undefined ? undefined : { ...blk.mlp, W_out: centreRows(blk.mlp.W_out), b_out: centreVec(blk.mlp.b_out) };
  return { ...blk, attn, mlp };
}

/** fold_value_biases on one block: b_V into b_O; with GQA each key/value head's bias serves its group of query heads. */
function foldValueBiasesBlock(blk: BlockParams, cfg: ModelConfig): BlockParams {
  const g = cfg.nHeads / kvHeads(cfg);
  const { bV, wO, bO } = blk.attn;
  const perHead = tf.reshape(tf.tile(tf.reshape(bV, [-1, 1, cfg.dHead]), [1, g, 1]), [1, cfg.nHeads * cfg.dHead]); // [1, n_heads*d_head]
  const bONew = tf.add<tf.Tensor1D>(bO, tf.squeeze(tf.matMul(perHead, wO), [0])); // [d_model]
  return { ...blk, attn: { ...blk.attn, bO: bONew, bV: tf.zerosLike(bV) } };
}

/** Every processing step that touches one block, in TL's order (each step is per block). */
function processBlock(blk: BlockParams, cfg: ModelConfig, o: Required<ProcessingOptions>): BlockParams {
  const rms = isRms(cfg);
  let out = blk;
  if (o.foldLn) out = foldLnBlock(out, !rms);
  if (o.centerWritingWeights && !rms) out = centreWritingBlock(out);
  if (o.foldValueBiases) out = foldValueBiasesBlock(out, cfg);
  return out;
}

/** The parameters outside the blocks. */
type Globals = Pick<DecoderParams, 'W_E' | 'W_pos' | 'W_U' | 'b_U' | 'lnFinal'>;

function globalTensors(p: Globals): tf.Tensor[] {
  const out: tf.Tensor[] = [p.W_E, p.W_U, p.b_U];
  if (p.W_pos !== undefined) out.push(p.W_pos);
  if (p.lnFinal !== undefined) out.push(p.lnFinal.w);
  if (p.lnFinal?.b !== undefined) out.push(p.lnFinal.b);
  return out;
}

/**
 * Run one step in a tidy and dispose the tensors it replaced right away, so the peak is the
 * parameters plus one step's temporaries.
 */
function replaceStep<T>(before: readonly tf.Tensor[], step: () => T, tensorsOf: (r: T) => tf.Tensor[]): T {
  let out: T | undefined;
  const kept = tf.tidy(() => {
    out = step();
    return tensorsOf(out);
  });
  const keep = new Set(kept);
  for (const t of before) if (!keep.has(t)) t.dispose();
  return out as T;
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
  const rms = isRms(cfg);
  const globals = new Set(globalTensors(params));
  const blockTensors = (b: BlockParams): tf.Tensor[] => paramTensors({ ...params, blocks: [b] }).filter((t) => !globals.has(t));
  // One block at a time (each step of TL's order is per block), then the embeddings and unembedding,
  // one step at a time: the peak is the parameters plus one step's temporaries (two copies of a
  // block's matrices, or one of W_U).
  const blocks = params.blocks.map((b) => replaceStep(blockTensors(b), () => processBlock(b, cfg, o), blockTensors));
  let g: Globals = { W_E: params.W_E, W_pos: params.W_pos, W_U: params.W_U, b_U: params.b_U, lnFinal: params.lnFinal };
  const step = (f: (x: Globals) => Globals): void => {
    const cur = g;
    g = replaceStep(globalTensors(cur), () => f(cur), globalTensors);
  };
  if (o.foldLn && g.lnFinal !== undefined) {
    // fold_ln of the final norm in two steps, scale then centre (the same ops as foldInto), so the
    // unscaled W_U is freed before the centring copy: one W_U-sized temporary at a time.
    step((x) => {
      const [W_U, b_U] = x.lnFinal === undefined ? [x.W_U, x.b_U] : foldInto(x.lnFinal, x.W_U, x.b_U, false);
      return { ...x, W_U, b_U, lnFinal: undefined };
    });
    if (!rms) step((x) => ({ ...x, W_U: centreCols(x.W_U) }));
  }
  if (o.centerWritingWeights && !rms) {
    step((x) => ({ ...x, W_E: centreRows(x.W_E) }));
    step((x) => (x.W_pos === undefined ? x : { ...x, W_pos: centreRows(x.W_pos) }));
  }
  if (o.centerUnembed) step((x) => ({ ...x, W_U: centreRows(x.W_U), b_U: centreVec(x.b_U) }));
  const out: DecoderParams = { ...g, blocks };
  const normalizationType = o.foldLn ? (rms ? 'RMSPre' : 'LNPre') : cfg.normalizationType;
  return { params: out, cfg: { ...cfg, normalizationType } };
}
