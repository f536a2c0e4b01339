/**
 * Faithfulness of an attribution by deletion: remove the k tokens an attribution ranks highest
 * (largest positive attribution: the tokens pushing the anomaly score up) and compare the drop of
 * the score with removing k tokens drawn at random, for k = 1 … K, over a set of texts. A faithful
 * attribution moves the score more than chance. Tokens are deleted by dropping them from the sequence
 * ('drop', default; the row gets shorter, so no out-of-distribution [MASK]/PAD token is introduced) or
 * by replacing them with a token id ('replace', e.g. [MASK] or PAD). Protected positions (an encoder's
 * [CLS] and [SEP]) are never deleted.
 */
import { ConfigError } from '../errors.js';
import { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import { seededRng } from '../utils/rng.js';
import { scoresOf, type ExplainTarget, type TokenAttribution } from './explain.js';

/** Options of {@link deletionCurve}. @category Anomaly */
export interface DeletionOptions {
  /** Largest k (default 5). */
  readonly maxK?: number;
  /** 'drop' (default) or 'replace' with `replaceId`. */
  readonly mode?: 'drop' | 'replace';
  /** Token id written over deleted tokens in 'replace' mode (e.g. [MASK] = 103 in BERT's vocabulary). */
  readonly replaceId?: number;
  /** Random draws per text and k (default 5). */
  readonly randomDraws?: number;
  /** Seed of the random deletions (default 0). */
  readonly seed?: number;
  /** Positions never deleted (default: encoders the first and last token, [CLS] and [SEP]; decoders none). */
  readonly protect?: (position: number, length: number) => boolean;
}

/** Mean ± std of one curve point. @category Anomaly */
export interface CurvePoint {
  /** Tokens deleted. */
  readonly k: number;
  /** Mean score drop (score before − after) over texts. */
  readonly mean: number;
  /** Population std over texts. */
  readonly std: number;
  /** Texts counted (those with more than k deletable tokens). */
  readonly n: number;
}

/** One text's score drops by k (index k − 1; NaN where the text has ≤ k deletable tokens). @category Anomaly */
export interface TextDrops {
  /** Top-k deletion. */
  readonly top: number[];
  /** Random deletion, mean over the draws. */
  readonly random: number[];
}

/** Result of {@link deletionCurve}. @category Anomaly */
export interface DeletionCurve {
  /** Method of the attributions. */
  readonly method: string;
  /** Deletion mode. */
  readonly mode: 'drop' | 'replace';
  /** Top-k deletion: mean ± std of the score drop per k. */
  readonly topK: CurvePoint[];
  /** Random deletion (each text: mean over `randomDraws` draws): mean ± std of the drop per k. */
  readonly random: CurvePoint[];
  /** Per text: the top-k and random drops by k. */
  readonly perText: TextDrops[];
  /** True when the top-k mean drop exceeds the random mean drop at every k. */
  readonly topBeatsRandom: boolean;
}

function stats(xs: readonly number[]): { mean: number; std: number; n: number } {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, std: Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length), n: v.length };
}

/** The row with positions `del` deleted. */
function deleted(ids: readonly number[], del: ReadonlySet<number>, mode: 'drop' | 'replace', replaceId: number): number[] {
  return mode === 'drop' ? ids.filter((_, i) => !del.has(i)) : ids.map((t, i) => (del.has(i) ? replaceId : t));
}

/**
 * Deletion curves of attributions: top-k vs random-k score drop for k = 1 … maxK.
 * @param target The explained score (as the attributions were computed).
 * @param attributions One attribution per text (its `ids` are the row deleted from, its `score` the score before).
 * @param opts maxK, mode, replaceId, randomDraws, seed, protect.
 * @returns Both curves with per-k mean ± std, the per-text drops and whether top-k beats random at every k.
 * @throws {@link "tfjs-lens"!ConfigError} for maxK < 1, or 'replace' without `replaceId`.
 * @category Anomaly
 */
export function deletionCurve(target: ExplainTarget, attributions: readonly TokenAttribution[], opts: DeletionOptions = {}): DeletionCurve {
  const maxK = opts.maxK ?? 5;
  const mode = opts.mode ?? 'drop';
  const draws = opts.randomDraws ?? 5;
  if (!Number.isInteger(maxK) || maxK < 1) throw new ConfigError(`deletionCurve: maxK must be an integer ≥ 1, got ${maxK} (try 5)`);
  if (mode === 'replace' && opts.replaceId === undefined) throw new ConfigError("deletionCurve: mode 'replace' needs replaceId (the [MASK] or PAD token id); or use mode 'drop'");
  const enc = target.model instanceof HookedEncoder;
  const protect = opts.protect ?? ((p: number, n: number) => enc && (p === 0 || p === n - 1));
  const rand = seededRng(opts.seed ?? 0);
  // Every row to score: [text, kind ('top' | draw index), k] → ids.
  const rows: number[][] = [];
  const keys: { t: number; k: number; draw: number }[] = []; // draw −1 = top-k
  attributions.forEach((a, t) => {
    const n = a.ids.length;
    const free = a.ids.map((_, i) => i).filter((i) => !protect(i, n));
    const ranked = [...free].sort((x, y) => (a.attributions[y] as number) - (a.attributions[x] as number));
    for (let k = 1; k <= maxK; k++) {
      if (free.length <= k) continue; // keep at least one deletable token
      rows.push(deleted(a.ids, new Set(ranked.slice(0, k)), mode, opts.replaceId ?? 0));
      keys.push({ t, k, draw: -1 });
      for (let d = 0; d < draws; d++) {
        const pool = [...free];
        for (let i = pool.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [pool[i], pool[j]] = [pool[j] as number, pool[i] as number];
        }
        rows.push(deleted(a.ids, new Set(pool.slice(0, k)), mode, opts.replaceId ?? 0));
        keys.push({ t, k, draw: d });
      }
    }
  });
  const len = rows.reduce((m, r) => Math.max(m, r.length), 1);
  // Right padding with the id the model pads with (a decoder head finds each row's last token by it).
  const m = target.model;
  const pad = m instanceof HookedEncoder ? m.cfg.padTokenId : (m.classifierHead?.padTokenId ?? 0);
  const scores = scoresOf(target, rows.map((r) => [...r, ...new Array<number>(len - r.length).fill(pad)]), rows.map((r) => Array.from({ length: len }, (_, i) => (i < r.length ? 1 : 0))));
  const perText = attributions.map(() => ({ top: new Array<number>(maxK).fill(NaN), random: new Array<number>(maxK).fill(NaN), sums: new Array<number>(maxK).fill(0), counts: new Array<number>(maxK).fill(0) }));
  keys.forEach((key, i) => {
    const p = perText[key.t];
    const a = attributions[key.t];
    if (p === undefined || a === undefined) return;
    const drop = a.score - (scores[i] as number);
    if (key.draw === -1) p.top[key.k - 1] = drop;
    else {
      p.sums[key.k - 1] = (p.sums[key.k - 1] as number) + drop;
      p.counts[key.k - 1] = (p.counts[key.k - 1] as number) + 1;
    }
  });
  for (const p of perText) for (let k = 0; k < maxK; k++) if ((p.counts[k] as number) > 0) p.random[k] = (p.sums[k] as number) / (p.counts[k] as number);
  const curve = (pick: (p: { top: number[]; random: number[] }) => number[]): CurvePoint[] => Array.from({ length: maxK }, (_, k) => ({ k: k + 1, ...stats(perText.map((p) => pick(p)[k] as number)) }));
  const topK = curve((p) => p.top);
  const random = curve((p) => p.random);
  return {
    method: attributions[0]?.method ?? '?', mode, topK, random,
    perText: perText.map((p) => ({ top: p.top, random: p.random })),
    topBeatsRandom: topK.every((c, k) => c.n > 0 && c.mean > (random[k]?.mean ?? Infinity)),
  };
}
