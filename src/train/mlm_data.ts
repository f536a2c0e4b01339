/**
 * Masked-LM data: packing tokenised documents into fixed-length `[CLS] … [SEP]` rows, BERT masking
 * (Devlin et al. 2019 §3.1; HF `DataCollatorForLanguageModeling.torch_mask_tokens`: each
 * non-special token is chosen with probability 0.15, then 80% → `[MASK]`, 10% → a random id, 10%
 * kept), and the unigram baselines a trained model must beat.
 */
import { ConfigError } from '../errors.js';
import type { SpecialTokenIds } from '../tokenizers/tokenizer.js';
import type { Rng } from '../utils/rng.js';

/** What masking needs from a tokenizer (a {@link "tfjs-lens"!Tokenizer} qualifies). @category Training */
export type MaskingTokenizer = SpecialTokenIds & {
  /** Number of ids; random replacements are drawn uniformly from [0, vocabSize). */
  readonly vocabSize: number;
};

/** Masked positions and their original ids. @category Training */
export interface MaskedPositions {
  /** `[row, pos]` of every masked position, row-major order. */
  readonly positions: readonly (readonly [number, number])[];
  /** Original token id at each position (the prediction target). */
  readonly labels: readonly number[];
}

/** A masked batch: model input plus targets. @category Training */
export interface MaskedBatch extends MaskedPositions {
  /** Input ids [batch, pos] with the chosen positions replaced. */
  readonly inputIds: number[][];
  /** Attention mask [batch, pos] (1 = real), or undefined when every token is real. */
  readonly attentionMask: number[][] | undefined;
}

/** Options of {@link maskTokens}. @category Training */
export interface MaskOptions {
  /** Probability that an eligible token is chosen (default 0.15). */
  readonly prob?: number;
  /** Of the chosen, fraction replaced by `[MASK]` (default 0.8). */
  readonly maskFraction?: number;
  /** Of the chosen, fraction replaced by a random id (default 0.1); the rest are kept. */
  readonly randomFraction?: number;
  /** If no token of the batch was chosen, choose one eligible token (default true), so the loss is defined. */
  readonly atLeastOne?: boolean;
}

/** The special ids of a tokenizer (never chosen for masking). */
function specialIds(tok: SpecialTokenIds): Set<number> {
  const ids = [tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId, tok.bosTokenId, tok.eosTokenId];
  return new Set(ids.filter((x): x is number => x !== undefined));
}

/**
 * Choose and corrupt tokens for masked-LM training. Special tokens and padding are never chosen.
 * @param rng Seeded generator (the same seed gives the same masking).
 * @param ids Token ids [batch, pos].
 * @param mask Attention mask [batch, pos] (1 = real, 0 = padding), or undefined (all real).
 * @param tok Special ids and vocabulary size (e.g. the DistilBERT tokenizer).
 * @param opts prob (0.15), maskFraction (0.8), randomFraction (0.1), atLeastOne (true).
 * @returns The corrupted batch with positions and labels (inputs are copies; `ids` is unchanged).
 * @throws {@link "tfjs-lens"!ConfigError} when the tokenizer has no mask token, the fractions are invalid, or
 *   `mask` does not match `ids`.
 * @example
 * const mb = maskTokens(seededRng(0), rows, undefined, tokenizer);
 * const loss = mlmLossAt(cfg, model.params(), mb, mb);
 * @category Training
 */
export function maskTokens(
  rng: Rng,
  ids: readonly (readonly number[])[],
  mask: readonly (readonly number[])[] | undefined,
  tok: MaskingTokenizer,
  opts: MaskOptions = {},
): MaskedBatch {
  const fn = 'maskTokens';
  const { prob = 0.15, maskFraction = 0.8, randomFraction = 0.1, atLeastOne = true } = opts;
  if (tok.maskTokenId === undefined) throw new ConfigError(`${fn}: the tokenizer has no mask token`);
  if (!(prob >= 0 && prob <= 1) || !(maskFraction >= 0) || !(randomFraction >= 0) || maskFraction + randomFraction > 1) {
    throw new ConfigError(`${fn}: need 0 ≤ prob ≤ 1 and maskFraction + randomFraction ≤ 1, got ${prob}, ${maskFraction}, ${randomFraction}`);
  }
  if (mask !== undefined && (mask.length !== ids.length || mask.some((r, b) => r.length !== ids[b]?.length))) {
    throw new ConfigError(`${fn}: mask shape must equal ids shape [${ids.length}, ${ids[0]?.length}]`);
  }
  const special = specialIds(tok);
  const eligible = (b: number, p: number): boolean => (mask === undefined || mask[b]?.[p] === 1) && !special.has(ids[b]?.[p] as number);
  const chosen: [number, number][] = [];
  ids.forEach((row, b) => row.forEach((_, p) => { if (eligible(b, p) && rng() < prob) chosen.push([b, p]); }));
  if (chosen.length === 0 && atLeastOne) {
    const all: [number, number][] = [];
    ids.forEach((row, b) => row.forEach((_, p) => { if (eligible(b, p)) all.push([b, p]); }));
    if (all.length > 0) chosen.push(all[Math.floor(rng() * all.length)] as [number, number]);
  }
  const inputIds = ids.map((r) => [...r]);
  const labels: number[] = [];
  for (const [b, p] of chosen) {
    const row = inputIds[b] as number[];
    labels.push(row[p] as number);
    const u = rng();
    if (u < maskFraction) row[p] = tok.maskTokenId;
    else if (u < maskFraction + randomFraction) row[p] = Math.floor(rng() * tok.vocabSize);
  }
  return { inputIds, attentionMask: mask?.map((r) => [...r]), positions: chosen, labels };
}

/**
 * Pack tokenised documents into rows of exactly `seqLen` ids: the documents are joined into one
 * stream with `[SEP]` after each, cut into pieces of `seqLen − 2`, and each piece is framed as
 * `[CLS] piece [SEP]`. The incomplete tail is dropped.
 * @param docs Token ids of each document, without special tokens.
 * @param seqLen Row length (≥ 3).
 * @param tok `clsTokenId` and `sepTokenId`.
 * @returns Rows [n_rows, seqLen].
 * @throws {@link "tfjs-lens"!ConfigError} when seqLen < 3 or the tokenizer lacks `[CLS]` / `[SEP]`.
 * @example packTokenSequences([[7592, 2088]], 4, tok)  // [[101, 7592, 2088, 102]]
 * @category Training
 */
export function packTokenSequences(docs: readonly (readonly number[])[], seqLen: number, tok: SpecialTokenIds): number[][] {
  const { clsTokenId: cls, sepTokenId: sep } = tok;
  if (!Number.isInteger(seqLen) || seqLen < 3) throw new ConfigError(`packTokenSequences: seqLen must be an integer ≥ 3, got ${seqLen}`);
  if (cls === undefined || sep === undefined) throw new ConfigError('packTokenSequences: the tokenizer needs [CLS] and [SEP] ids');
  const stream: number[] = [];
  for (const d of docs) {
    for (const t of d) stream.push(t);
    stream.push(sep);
  }
  const piece = seqLen - 2;
  const rows: number[][] = [];
  for (let i = 0; i + piece <= stream.length; i += piece) rows.push([cls, ...stream.slice(i, i + piece), sep]);
  return rows;
}

/**
 * Count how often each id occurs at maskable positions (everything but special tokens): the
 * distribution masked-LM targets are drawn from.
 * @param rows Token ids [n_rows, pos].
 * @param tok Special ids and vocabulary size.
 * @returns Counts [vocabSize].
 * @throws {@link "tfjs-lens"!ConfigError} on an id outside [0, vocabSize).
 * @example const counts = targetTokenCounts(trainRows, tokenizer);
 * @category Training
 */
export function targetTokenCounts(rows: readonly (readonly number[])[], tok: MaskingTokenizer): Float64Array {
  const special = specialIds(tok);
  const counts = new Float64Array(tok.vocabSize);
  for (const r of rows) {
    for (const t of r) {
      if (special.has(t)) continue;
      if (!(t >= 0 && t < tok.vocabSize)) throw new ConfigError(`targetTokenCounts: id ${t} outside [0, ${tok.vocabSize})`);
      counts[t] = (counts[t] as number) + 1;
    }
  }
  return counts;
}

/** Baselines for masked-token prediction that ignore the context. @category Training */
export interface UnigramBaselines {
  /** The most frequent training target. */
  readonly mostFrequentId: number;
  /** Accuracy of always predicting it. */
  readonly mostFrequentAccuracy: number;
  /** Expected accuracy of predicting a token sampled from the training frequencies: Σ p_train(t)·p_eval(t). */
  readonly samplingAccuracy: number;
  /** Mean cross-entropy of the targets under the add-one-smoothed training unigram distribution (nats). */
  readonly unigramLoss: number;
}

/**
 * Context-free baselines from training target counts, scored on held-out labels.
 * @param counts Training target counts [vocabSize] ({@link targetTokenCounts}).
 * @param labels Held-out target ids.
 * @returns The baselines.
 * @throws {@link "tfjs-lens"!ConfigError} when counts or labels are empty.
 * @example const base = unigramBaselines(targetTokenCounts(trainRows, tok), evalBatch.labels);
 * @category Training
 */
export function unigramBaselines(counts: Float64Array, labels: readonly number[]): UnigramBaselines {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0 || labels.length === 0) throw new ConfigError('unigramBaselines: need non-empty counts and labels');
  let best = 0;
  counts.forEach((c, i) => { if (c > (counts[best] as number)) best = i; });
  const v = counts.length;
  let hits = 0;
  let sampled = 0;
  let nll = 0;
  for (const t of labels) {
    const c = counts[t] ?? 0;
    if (t === best) hits++;
    sampled += c / total;
    nll -= Math.log((c + 1) / (total + v));
  }
  const n = labels.length;
  return { mostFrequentId: best, mostFrequentAccuracy: hits / n, samplingAccuracy: sampled / n, unigramLoss: nll / n };
}
