/**
 * Induction evals on repeated random tokens (Olsson et al. 2022, "In-context learning and induction
 * heads"): TL `evals.induction_loss` (loss on the repeated half) and the Main Demo's per-head
 * induction score (mean attention from each token to the token after its previous occurrence).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';
import { seededRng } from '../utils/rng.js';

/**
 * Options of {@link repeatedRandomTokens}.
 * @category Evals
 */
export interface RepeatedTokensOptions {
  /** Lowest token id drawn (inclusive). */
  readonly low: number;
  /** Highest token id drawn (exclusive). */
  readonly high: number;
  /** RNG seed (default 0). */
  readonly seed?: number;
  /** Overwrite position 0 of every row with this id (TL writes BOS over the first token). */
  readonly bosOverwrite?: number;
}

/**
 * Rows of `seqLen` uniform random ids in [low, high), each repeated twice: [batch, 2·seqLen].
 * @param batch Rows.
 * @param seqLen Length of the random half.
 * @param opts Id range, seed, BOS overwrite.
 * @returns Token rows (plain arrays).
 * @throws {@link "tfjs-lens"!ConfigError} for an empty range or non-positive sizes.
 * @example repeatedRandomTokens(2, 5, { low: 100, high: 1000, seed: 1 })  // 2 rows of 10 ids
 * @category Evals
 */
export function repeatedRandomTokens(batch: number, seqLen: number, opts: RepeatedTokensOptions): number[][] {
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(seqLen) || seqLen < 1) {
    throw new ConfigError(`repeatedRandomTokens: batch and seqLen must be positive integers, got ${batch}, ${seqLen}`);
  }
  if (!(Number.isInteger(opts.low) && Number.isInteger(opts.high) && opts.low >= 0 && opts.low < opts.high)) {
    throw new ConfigError(`repeatedRandomTokens: need integers 0 <= low < high, got [${opts.low}, ${opts.high})`);
  }
  const rand = seededRng(opts.seed ?? 0);
  return Array.from({ length: batch }, () => {
    const half = Array.from({ length: seqLen }, () => opts.low + Math.floor(rand() * (opts.high - opts.low)));
    const row = [...half, ...half];
    if (opts.bosOverwrite !== undefined) row[0] = opts.bosOverwrite;
    return row;
  });
}

/** Default id range [low, high) clipped to the vocabulary; explicit values are checked. */
function idRange(dVocab: number, low: number | undefined, high: number | undefined, dLow: number, dHigh: number, fn: string): [number, number] {
  const hi = high ?? Math.min(dHigh, dVocab);
  const lo = low ?? Math.min(dLow, Math.floor(hi / 10));
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 0 && lo < hi && hi <= dVocab)) {
    throw new ConfigError(`${fn}: token range must satisfy 0 <= low < high <= d_vocab (${dVocab}), got [${lo}, ${hi})`);
  }
  return [lo, hi];
}

function checkLength(seqLen: number, nCtx: number, fn: string): void {
  if (!Number.isInteger(seqLen) || seqLen < 2 || 2 * seqLen > nCtx) {
    throw new ConfigError(`${fn}: need 2 <= seqLen and 2·seqLen <= n_ctx (${nCtx}), got seqLen ${seqLen}`);
  }
}

/**
 * Options of {@link inductionLoss}.
 * @category Evals
 */
export interface InductionLossOptions {
  /** Rows (default 4). */
  readonly batchSize?: number;
  /** Length of the random half (default min(384, n_ctx / 2)). */
  readonly subseqLen?: number;
  /** Overwrite position 0 with BOS (default true, TL). */
  readonly prependBos?: boolean;
  /** Lowest id (default 100, clipped to the vocabulary). */
  readonly low?: number;
  /** Highest id, exclusive (default min(20000, d_vocab)). */
  readonly high?: number;
  /** RNG seed (default 0). */
  readonly seed?: number;
}

/**
 * TL `induction_loss`: random tokens repeated twice (BOS written over position 0), and the mean
 * next-token loss over per-token losses `subseqLen + 1` onward (the repeated half). A model with
 * induction heads scores far below ln(d_vocab) there.
 * @param model The model.
 * @param opts Batch, length, BOS, id range, seed.
 * @returns The mean loss (a number).
 * @throws {@link "tfjs-lens"!ConfigError} for lengths beyond n_ctx, a bad range, or BOS asked for but unknown.
 * @example const loss = inductionLoss(model, { subseqLen: 50 });
 * @category Evals
 */
export function inductionLoss(model: HookedTransformer, opts: InductionLossOptions = {}): number {
  const { nCtx, dVocab, bosTokenId } = model.cfg;
  const subseq = opts.subseqLen ?? Math.min(384, Math.floor(nCtx / 2));
  checkLength(subseq, nCtx, 'inductionLoss');
  const [low, high] = idRange(dVocab, opts.low, opts.high, 100, 20000, 'inductionLoss');
  const bos = opts.prependBos === false ? undefined : bosTokenId;
  if (opts.prependBos !== false && bos === undefined) {
    throw new ConfigError('inductionLoss: the model has no BOS token id; pass prependBos: false');
  }
  const rows = repeatedRandomTokens(opts.batchSize ?? 4, subseq, { low, high, seed: opts.seed, bosOverwrite: bos });
  const perToken = model.loss(rows, { lossPerToken: true }); // [batch, 2·subseq - 1]
  try {
    return tf.tidy(() => tf.mean(tf.slice(perToken, [0, subseq + 1], [-1, -1])).dataSync()[0] as number);
  } finally {
    perToken.dispose();
  }
}

/**
 * Options of {@link inductionScores}.
 * @category Evals
 */
export interface InductionScoreOptions {
  /** Rows (default 10, the Main Demo). */
  readonly batch?: number;
  /** Length of the random half (default min(50, n_ctx / 2)). */
  readonly seqLen?: number;
  /** Lowest id (default 1000, clipped to the vocabulary). */
  readonly low?: number;
  /** Highest id, exclusive (default min(10000, d_vocab)). */
  readonly high?: number;
  /** RNG seed (default 0). */
  readonly seed?: number;
}

/**
 * What {@link inductionScores} returns.
 * @category Evals
 */
export interface InductionScoresResult {
  /** Score per head, [n_layers][n_heads]. */
  readonly scores: number[][];
  /** The repeated random token rows used, [batch][2·seqLen]. */
  readonly tokens: number[][];
}

/**
 * Induction score per head (TL Main Demo): on random tokens repeated twice (no BOS), the mean over
 * rows and positions of `pattern.diagonal(offset = 1 - seqLen)`, i.e. attention from each token to
 * the token just after its previous occurrence. Near 1 for an induction head.
 * @param model The model.
 * @param opts Batch, length, id range, seed.
 * @returns `scores` [n_layers][n_heads] and the token rows used.
 * @throws {@link "tfjs-lens"!ConfigError} for lengths beyond n_ctx or a bad range.
 * @example const { scores } = inductionScores(model);  // scores[5][5] is high for GPT-2 small
 * @category Evals
 */
export function inductionScores(model: HookedTransformer, opts: InductionScoreOptions = {}): InductionScoresResult {
  const { nCtx, dVocab, nLayers, nHeads } = model.cfg;
  const seqLen = opts.seqLen ?? Math.min(50, Math.floor(nCtx / 2));
  checkLength(seqLen, nCtx, 'inductionScores');
  const [low, high] = idRange(dVocab, opts.low, opts.high, 1000, 10000, 'inductionScores');
  const tokens = repeatedRandomTokens(opts.batch ?? 10, seqLen, { low, high, seed: opts.seed });
  const [, cache] = model.runWithCache(tokens, { namesFilter: (n) => n.endsWith('attn.hook_pattern'), returnType: 'none' }); // no output: returnType 'none'
  try {
    const total = 2 * seqLen;
    const scores: number[][] = [];
    for (let l = 0; l < nLayers; l++) {
      const p = cache.get(`blocks.${l}.attn.hook_pattern`).dataSync(); // [batch, n_heads, pos_q, pos_k]
      const row: number[] = [];
      for (let h = 0; h < nHeads; h++) {
        let sum = 0;
        let count = 0;
        for (let b = 0; b < tokens.length; b++) {
          for (let q = seqLen - 1; q < total; q++) {
            sum += p[((b * nHeads + h) * total + q) * total + (q - seqLen + 1)] as number;
            count++;
          }
        }
        row.push(sum / count);
      }
      scores.push(row);
    }
    return { scores, tokens };
  } finally {
    cache.dispose();
  }
}
