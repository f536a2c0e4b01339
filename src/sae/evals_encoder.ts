/**
 * SAE evaluation on a masked-LM encoder (HookedEncoder with an MLM head, e.g. DistilBertForMaskedLM):
 * the same metrics as {@link "tfjs-lens"!evaluateSaeOnTokens} (explained variance, L0, dead fraction … via
 * {@link "tfjs-lens"!evaluateSae}) over the hook's activations at the non-special positions of token rows,
 * and SAELens's downstream CE-loss score with the decoder's next-token loss replaced by the masked-LM loss:
 * each row is BERT-masked once with a seeded generator (15% of non-special tokens chosen; 80% → [MASK],
 * 10% → random id, 10% kept; {@link "tfjs-lens"!maskTokens}), and the loss in nats at the chosen positions
 * is measured clean, with the SAE's reconstruction spliced in at the hook, and with the hook zero-ablated.
 * CE-loss score = (CE_abl − CE_sae) / (CE_abl − CE_clean) (SAELens `ce_loss_score`). As in SAELens,
 * positions whose input token is special keep their clean activation in the SAE run, except `[MASK]`:
 * the masked positions are the scored ones, so the SAE is spliced there too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { HookFn } from '../hooks/hook_point.js';
import { stopLayerAfterHook } from '../hooks/hook_point.js';
import type { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import { maskTokens, type MaskingTokenizer } from '../train/mlm_data.js';
import { seededRng } from '../utils/rng.js';
import type { BatchProvider } from './activation_store.js';
import { evaluateSae, type EvaluateSaeOnTokensOptions, type SaeEvalMetrics } from './evals.js';
import type { SparseAutoencoder } from './sae.js';
import { excludedTokenIds, keepMask, type ExcludeSpecialTokens, type SpecialTokenSource } from './special_tokens.js';
import { saeReplacementHook, spliceHookName, type SaeSplice } from './splice.js';

/** The encoder's special-token ids come from its tokenizer (its config has no BOS/EOS fields). */
const specialSource = (model: HookedEncoder): SpecialTokenSource => ({ cfg: {}, tokenizer: model.tokenizer });

/**
 * Activations of one hook at the kept positions of token rows, flattened over heads.
 * @param model The encoder.
 * @param hook Hook name, e.g. 'blocks.0.attn.hook_q'.
 * @param rows Token rows [n_rows, pos] (equal lengths, no padding).
 * @param opts Rows per forward pass (default 8); ids to leave out (default none).
 * @returns `x` [n_kept · d_in] row-major and `dIn` (n_heads · d_head for per-head hooks).
 * @throws {@link "tfjs-lens"!ConfigError} for empty rows; {@link "tfjs-lens"!HookNameError} for an unknown hook.
 * @example const { x, dIn } = encoderHookActivations(enc, 'blocks.0.attn.hook_q', rows);
 * @category SAE
 */
export function encoderHookActivations(
  model: HookedEncoder,
  hook: string,
  rows: readonly (readonly number[])[],
  opts: {
    /** Rows per forward pass (default 8). */
    readonly batchPrompts?: number;
    /** Token ids whose positions are left out (default none). */
    readonly excludeIds?: readonly number[];
  } = {},
): {
  /** Activations [n_kept, d_in], row-major. */
  x: Float32Array;
  /** Row width. */
  dIn: number;
} {
  if (rows.length === 0) throw new ConfigError('encoderHookActivations: rows is empty');
  const per = opts.batchPrompts ?? 8;
  const stop = stopLayerAfterHook(hook, model.cfg.nLayers);
  const parts: Float32Array[] = [];
  let dIn = 0;
  for (let i = 0; i < rows.length; i += per) {
    const batch = rows.slice(i, i + per).map((r) => [...r]);
    const keep = keepMask(batch, opts.excludeIds ?? []);
    const idx = Array.from(keep.keys()).filter((j) => keep[j] === 1);
    if (idx.length === 0) continue;
    const [, cache] = model.runWithCache(batch, { namesFilter: [hook], returnType: 'none', ...(stop !== undefined ? { stopAtLayer: stop } : {}) });
    try {
      const arr = tf.tidy(() => {
        const a = cache.get(hook); // [batch, pos, ...] (per-head hooks: [batch, pos, n_heads, d_head])
        const flat = tf.reshape(a, [a.shape[0] * (a.shape[1] as number), -1]) as tf.Tensor2D; // [batch·pos, d_in]
        dIn = flat.shape[1];
        return (idx.length === flat.shape[0] ? flat : tf.gather(flat, tf.tensor1d(idx, 'int32'))).dataSync() as Float32Array; // [n_kept, d_in]
      });
      parts.push(Float32Array.from(arr));
    } finally {
      cache.dispose();
    }
  }
  const x = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    x.set(p, off);
    off += p.length;
  }
  return { x, dIn };
}

/**
 * Reconstruction and sparsity metrics of an SAE on an encoder's token rows (SAELens
 * `get_sparsity_and_variance_metrics`; special-token positions left out by default, as SAELens).
 * @param model The encoder.
 * @param sae The SAE (its `metadata.hook_name` is read unless `opts.hookName` is given).
 * @param rows Token rows [n_rows, pos] (equal lengths, no padding).
 * @param opts Hook, rows per pass, special-token masking, dense threshold, bins, dead window.
 * @returns Metrics over all kept positions (one evaluation batch).
 * @throws {@link "tfjs-lens"!ConfigError} on empty rows, every position masked, or a d_in mismatch.
 * @example const m = evaluateSaeOnEncoderTokens(enc, sae, heldOutRows);
 * @category SAE
 */
export async function evaluateSaeOnEncoderTokens(
  model: HookedEncoder,
  sae: SparseAutoencoder,
  rows: readonly (readonly number[])[],
  opts: EvaluateSaeOnTokensOptions = {},
): Promise<SaeEvalMetrics> {
  const hook = spliceHookName({ sae, ...(opts.hookName !== undefined ? { hookName: opts.hookName } : {}) });
  const excludeIds = excludedTokenIds(specialSource(model), opts.excludeSpecialTokens ?? true);
  const { x, dIn } = encoderHookActivations(model, hook, rows, { excludeIds, ...(opts.batchPrompts !== undefined ? { batchPrompts: opts.batchPrompts } : {}) });
  const n = x.length / Math.max(dIn, 1);
  if (n === 0) throw new ConfigError(`evaluateSaeOnEncoderTokens: every position is masked (excluded ids ${excludeIds.join(', ')})`);
  if (dIn !== sae.cfg.dIn) throw new ConfigError(`evaluateSaeOnEncoderTokens: ${hook} has width ${dIn}, the SAE's d_in is ${sae.cfg.dIn}`);
  const provider: BatchProvider = { dIn, batchSize: n, nextBatch: () => Promise.resolve(x) };
  const { hookName: _h, batchPrompts: _b, excludeSpecialTokens: _e, ...rest } = opts;
  return evaluateSae(sae, provider, { ...rest, nBatches: 1 });
}

/** Masked-LM losses with the SAE spliced in (nats per masked position). @category SAE */
export interface EncoderCeLossMetrics {
  /** Mean masked-LM loss of the clean model. */
  readonly ceLossWithoutSae: number;
  /** Mean masked-LM loss with the SAE's reconstruction at the hook. */
  readonly ceLossWithSae: number;
  /** Mean masked-LM loss with the hook zero-ablated (all positions). */
  readonly ceLossWithAblation: number;
  /** (CE_abl − CE_sae) / (CE_abl − CE_clean). */
  readonly ceLossScore: number;
  /** Masked (scored) positions. */
  readonly nTokens: number;
  /** Seed of the masking generator. */
  readonly maskSeed: number;
  /** Probability that a non-special token is chosen. */
  readonly maskProb: number;
  /** Token ids whose positions keep their clean activation in the SAE run. */
  readonly excludedTokenIds: readonly number[];
}

/** Options of {@link encoderCeLossRecovered}. @category SAE */
export interface EncoderCeLossOptions {
  /** Seed of the masking generator (default 0). */
  readonly seed?: number;
  /** Probability that a non-special token is chosen (default 0.15). */
  readonly prob?: number;
  /** Rows per forward pass (default 8). */
  readonly batchPrompts?: number;
  /** Positions keeping their clean activation (default true: every special token but [MASK]). */
  readonly excludeSpecialTokens?: ExcludeSpecialTokens;
  /** Special ids and vocabulary for masking (default the model's tokenizer). */
  readonly tokenizer?: MaskingTokenizer;
}

/** Σ −log p(label) at the masked positions of one run's logits [batch, pos, d_vocab]. */
function maskedNll(logits: tf.Tensor, flatIdx: number[], labels: number[]): number {
  return tf.tidy(() => {
    const [b, p, v] = logits.shape as [number, number, number];
    const picked = tf.gather(tf.reshape(logits, [b * p, v]), tf.tensor1d(flatIdx, 'int32')); // [n_masked, d_vocab]
    const lp = tf.logSoftmax(picked, -1);
    return -(tf.sum(tf.mul(lp, tf.oneHot(tf.tensor1d(labels, 'int32'), v))).dataSync()[0] as number);
  });
}

/**
 * CE-loss score of an SAE on a masked-LM encoder: clean, SAE-spliced and zero-ablated masked-LM losses
 * on seeded BERT masking of the rows (see the module doc).
 * @param model An encoder with an MLM head.
 * @param splice The SAE (and hook).
 * @param rows Token rows [n_rows, pos] (equal lengths, no padding).
 * @param opts Masking seed and probability, rows per pass, special-token handling, tokenizer.
 * @returns Losses in nats and the score.
 * @throws {@link "tfjs-lens"!ConfigError} on empty rows, a model without an MLM head, or no tokenizer.
 * @example const { ceLossScore } = encoderCeLossRecovered(enc, { sae }, heldOutRows, { seed: 102 });
 * @category SAE
 */
export function encoderCeLossRecovered(model: HookedEncoder, splice: SaeSplice, rows: readonly (readonly number[])[], opts: EncoderCeLossOptions = {}): EncoderCeLossMetrics {
  const fn = 'encoderCeLossRecovered';
  if (rows.length === 0) throw new ConfigError(`${fn}: rows is empty`);
  if (!model.hasMlmHead) throw new ConfigError(`${fn}: the encoder has no MLM head; load a *ForMaskedLM checkpoint`);
  const tok = opts.tokenizer ?? model.tokenizer;
  if (tok === undefined) throw new ConfigError(`${fn}: the model has no tokenizer; pass opts.tokenizer`);
  const hook = spliceHookName(splice);
  const excluded = excludedTokenIds(specialSource(model), opts.excludeSpecialTokens ?? true).filter((id) => id !== tok.maskTokenId);
  const seed = opts.seed ?? 0;
  const prob = opts.prob ?? 0.15;
  const rng = seededRng(seed);
  const replace = saeReplacementHook({ ...splice, useErrorTerm: false });
  const per = opts.batchPrompts ?? 8;
  const s = { clean: 0, sae: 0, abl: 0, n: 0 };
  for (let i = 0; i < rows.length; i += per) {
    const mb = maskTokens(rng, rows.slice(i, i + per), undefined, tok, { prob });
    if (mb.labels.length === 0) continue;
    const width = mb.inputIds[0]?.length ?? 0;
    const flatIdx = mb.positions.map(([b, p]) => b * width + p);
    const keep = tf.tensor2d(keepMask(mb.inputIds, excluded), [mb.inputIds.length, width]); // [batch, pos]
    const spliced: HookFn = (act, ctx) => tf.tidy(() => {
      const recon = replace(act, ctx) as tf.Tensor; // as act
      const m = tf.reshape(keep, [...keep.shape, ...new Array<number>(act.rank - 2).fill(1)]); // [batch, pos, 1(, 1)]
      return tf.add(act, tf.mul(m, tf.sub(recon, act)));
    });
    const run = (h?: HookFn): number => {
      const logits = model.runWithHooks(mb.inputIds, { returnType: 'logits', fwdHooks: h !== undefined ? [[hook, h]] : [] }); // [batch, pos, d_vocab]
      try {
        return maskedNll(logits, flatIdx, [...mb.labels]);
      } finally {
        logits.dispose();
      }
    };
    try {
      s.clean += run();
      s.sae += run(spliced);
      s.abl += run((a) => tf.zerosLike(a));
      s.n += mb.labels.length;
    } finally {
      keep.dispose();
    }
  }
  if (s.n === 0) throw new ConfigError(`${fn}: no position was masked; pass more rows or a higher prob`);
  const ce = { clean: s.clean / s.n, sae: s.sae / s.n, abl: s.abl / s.n };
  return {
    ceLossWithoutSae: ce.clean, ceLossWithSae: ce.sae, ceLossWithAblation: ce.abl,
    ceLossScore: (ce.abl - ce.sae) / (ce.abl - ce.clean), nTokens: s.n, maskSeed: seed, maskProb: prob, excludedTokenIds: excluded,
  };
}
