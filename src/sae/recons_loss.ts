/**
 * Downstream SAE metrics (SAELens `evals.py` `get_recons_loss` + `get_downstream_reconstruction_metrics`,
 * read at jbloomAus/SAELens 91ca16cc = v6.18.0; unchanged at decoderesearch/SAELens 191d44eb): the
 * next-token loss in nats of the clean run, of the run with the SAE's reconstruction spliced in at its
 * hook, and of the run with the hook zero-ablated; KL(clean ‖ run) per position; and the scores
 * `ce_loss_score` = (CE_abl − CE_sae) / (CE_abl − CE_clean), `kl_div_score` = (KL_abl − KL_sae) / KL_abl.
 * Special tokens are masked as SAELens does: a position whose input token is special keeps its clean
 * activation in the SAE run and is left out of every mean (the loss at position p predicts token p + 1,
 * so the BOS position's prediction of the first real token is not scored). Zero ablation zeroes all positions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { HookFn } from '../hooks/hook_point.js';
import type { HookedTransformer, LogitsAndLoss } from '../model/hooked_transformer.js';
import { excludedTokenIds, keepMask, type ExcludeSpecialTokens } from './special_tokens.js';
import { saeReplacementHook, spliceHookName, type SaeSplice } from './splice.js';

/** Downstream metrics with the SAE spliced in; losses in nats per scored token. @category SAE */
export interface CeLossMetrics {
  /** Mean next-token loss of the clean model (nats; SAELens `ce_loss_without_sae`). */
  readonly ceLossWithoutSae: number;
  /** Mean next-token loss with the SAE's reconstruction at the hook (nats; `ce_loss_with_sae`). */
  readonly ceLossWithSae: number;
  /** Mean next-token loss with the hook zero-ablated (nats; `ce_loss_with_ablation`). */
  readonly ceLossWithAblation: number;
  /** (CE_abl − CE_sae) / (CE_abl − CE_clean): 1 = as good as clean, 0 = as bad as ablation. */
  readonly ceLossScore: number;
  /** Mean KL(clean ‖ with SAE) per scored position (nats). */
  readonly klDivWithSae: number;
  /** Mean KL(clean ‖ ablated) per scored position (nats). */
  readonly klDivWithAblation: number;
  /** (KL_abl − KL_sae) / KL_abl. */
  readonly klDivScore: number;
  /** Next-token predictions scored (positions p < pos − 1 whose input token is not excluded). */
  readonly nTokens: number;
  /** Positions scored by the KL means (all positions whose input token is not excluded). */
  readonly nKlPositions: number;
  /** The token ids left out (empty: no masking). */
  readonly excludedTokenIds: readonly number[];
}

/** Options of {@link ceLossRecovered}. @category SAE */
export interface CeLossOptions {
  /** Rows per forward pass (default 4). */
  readonly batchPrompts?: number;
  /** Leave special-token positions out (default true: every special token of the model, as SAELens). */
  readonly excludeSpecialTokens?: ExcludeSpecialTokens;
}

/** KL(clean ‖ other) per position [batch, pos]. */
function klPerPosition(clean: tf.Tensor3D, other: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const lp = tf.logSoftmax(clean, -1); // [batch, pos, d_vocab]
    return tf.sum(tf.mul(tf.exp(lp), tf.sub(lp, tf.logSoftmax(other, -1))), -1) as tf.Tensor2D; // [batch, pos]
  });
}

/** The replacement hook, leaving positions with keep = 0 at their clean activation (SAELens `torch.where(mask, …)`). */
function maskedReplacement(replace: HookFn, keep: tf.Tensor2D | undefined): HookFn {
  if (keep === undefined) return replace;
  return (act, ctx) => tf.tidy(() => {
    const recon = replace(act, ctx) as tf.Tensor; // [batch, pos, ...]
    const m = tf.reshape(keep, [...keep.shape, ...new Array<number>(act.rank - 2).fill(1)]); // [batch, pos, 1(, 1)]
    return tf.add(act, tf.mul(m, tf.sub(recon, act)));
  });
}

/** Σ(values · mask) and Σ mask as numbers. */
function maskedSum(values: tf.Tensor, mask: tf.Tensor2D): [number, number] {
  return tf.tidy(() => {
    const d = tf.stack([tf.sum(tf.mul(values, mask)), tf.sum(mask)]).dataSync();
    return [d[0] as number, d[1] as number];
  });
}

/**
 * CE loss recovered and KL score (SAELens `get_recons_loss`): clean, SAE-spliced and zero-ablated runs.
 * @param model A HookedTransformer.
 * @param splice The SAE (and hook; the error term is never used here).
 * @param rows Token rows [n_rows, pos] (equal lengths).
 * @param opts Rows per pass (default 4); special-token masking (default on).
 * @returns Losses in nats, KLs and both scores.
 * @throws {@link "tfjs-lens"!ConfigError} on empty rows or when every position is masked;
 *   {@link "tfjs-lens"!HookNameError} for an unknown hook.
 * @example const { ceLossWithSae, ceLossScore } = ceLossRecovered(model, { sae }, rows);
 * @category SAE
 */
export function ceLossRecovered(model: HookedTransformer, splice: SaeSplice, rows: readonly (readonly number[])[], opts: CeLossOptions = {}): CeLossMetrics {
  if (rows.length === 0) throw new ConfigError('ceLossRecovered: rows is empty');
  const hook = spliceHookName(splice);
  const excluded = excludedTokenIds(model, opts.excludeSpecialTokens ?? true);
  const s = { clean: 0, sae: 0, abl: 0, tokens: 0, klSae: 0, klAbl: 0, positions: 0 };
  const per = opts.batchPrompts ?? 4;
  const replace = saeReplacementHook({ ...splice, useErrorTerm: false });
  for (let i = 0; i < rows.length; i += per) {
    const batch = rows.slice(i, i + per).map((r) => [...r]);
    const [b, p] = [batch.length, batch[0]?.length ?? 0];
    const keep = tf.tensor2d(keepMask(batch, excluded), [b, p]); // [batch, pos]
    const lossKeep = tf.slice(keep, [0, 0], [b, p - 1]); // [batch, pos − 1]: position t predicts token t + 1
    const run = (fn?: HookFn): LogitsAndLoss =>
      model.runWithHooks(batch, { returnType: 'both', lossPerToken: true, fwdHooks: fn ? [[hook, fn]] : [] });
    const clean = run();
    const withSae = run(maskedReplacement(replace, excluded.length > 0 ? keep : undefined));
    const abl = run((a) => tf.zerosLike(a));
    const klS = klPerPosition(clean.logits, withSae.logits);
    const klA = klPerPosition(clean.logits, abl.logits);
    const [c, n] = maskedSum(clean.loss, lossKeep);
    s.clean += c;
    s.sae += maskedSum(withSae.loss, lossKeep)[0];
    s.abl += maskedSum(abl.loss, lossKeep)[0];
    s.tokens += n;
    const [ks, np] = maskedSum(klS, keep);
    s.klSae += ks;
    s.klAbl += maskedSum(klA, keep)[0];
    s.positions += np;
    tf.dispose([keep, lossKeep, klS, klA, clean.logits, clean.loss, withSae.logits, withSae.loss, abl.logits, abl.loss]);
  }
  if (s.tokens === 0) throw new ConfigError(`ceLossRecovered: every position is masked (excluded ids ${excluded.join(', ')}); pass excludeSpecialTokens: false or longer rows`);
  const ce = { clean: s.clean / s.tokens, sae: s.sae / s.tokens, abl: s.abl / s.tokens };
  const kl = { sae: s.klSae / s.positions, abl: s.klAbl / s.positions };
  return {
    ceLossWithoutSae: ce.clean, ceLossWithSae: ce.sae, ceLossWithAblation: ce.abl,
    ceLossScore: (ce.abl - ce.sae) / (ce.abl - ce.clean),
    klDivWithSae: kl.sae, klDivWithAblation: kl.abl, klDivScore: (kl.abl - kl.sae) / kl.abl,
    nTokens: s.tokens, nKlPositions: s.positions, excludedTokenIds: excluded,
  };
}
