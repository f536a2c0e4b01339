/**
 * Uncertainty of a ROC-AUC averaged over seeds: a stratified bootstrap that resamples every seed's
 * test rows (normal and anomalous separately, with replacement) and averages the seeds' AUROCs per
 * replicate; the 2.5/97.5 percentiles of those means are the 95% CI. The seeds themselves are not
 * resampled (three seeds are too few), so the interval covers test-sampling noise around the
 * realised splits and initialisations; the std over seeds is reported next to it.
 */
import { DatasetError } from '../errors.js';
import { seededRng, type Rng } from '../utils/rng.js';
import type { BinaryLabels } from './metrics.js';

/** One seed's test scores and labels. @category Probe */
export interface SeedScores {
  /** Scores (higher = more anomalous). */
  readonly scores: readonly number[];
  /** 1 = anomaly, aligned with scores. */
  readonly labels: BinaryLabels;
}

/** Mean, std over seeds and bootstrap CI of an AUROC. @category Probe */
export interface AurocSummary {
  /** Mean AUROC over seeds. */
  readonly mean: number;
  /** Population std over seeds. */
  readonly std: number;
  /** 2.5th percentile of the bootstrap means. */
  readonly lo: number;
  /** 97.5th percentile of the bootstrap means. */
  readonly hi: number;
  /** Per-seed AUROCs. */
  readonly perSeed: number[];
}

/** Rows sorted by score, with tie groups, for fast weighted AUROCs. */
interface Sorted {
  readonly groups: { pos: number[]; neg: number[] }[];
  readonly nPos: number;
  readonly nNeg: number;
}

function sortScores(s: SeedScores): Sorted {
  const idx = s.scores.map((_, i) => i).sort((a, b) => (s.scores[a] as number) - (s.scores[b] as number));
  const groups: Sorted['groups'] = [];
  let nPos = 0;
  let nNeg = 0;
  let last = NaN;
  for (const i of idx) {
    const v = s.scores[i] as number;
    if (groups.length === 0 || v !== last) groups.push({ pos: [], neg: [] });
    const g = groups[groups.length - 1] as Sorted['groups'][number];
    if (s.labels[i] === 1) g.pos.push(nPos++);
    else g.neg.push(nNeg++);
    last = v;
  }
  return { groups, nPos, nNeg };
}

/** AUROC with per-row weights (bootstrap multiplicities), ties counted half. */
function weightedAuroc(s: Sorted, wPos: Float64Array, wNeg: Float64Array): number {
  let negBelow = 0;
  let u = 0;
  let tp = 0;
  let tn = 0;
  for (const g of s.groups) {
    let p = 0;
    let n = 0;
    for (const i of g.pos) p += wPos[i] as number;
    for (const i of g.neg) n += wNeg[i] as number;
    u += p * (negBelow + n / 2);
    negBelow += n;
    tp += p;
    tn += n;
  }
  return u / (tp * tn);
}

function multiplicities(n: number, rand: Rng): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const j = Math.floor(rand() * n);
    w[j] = (w[j] as number) + 1;
  }
  return w;
}

const quantile = (sorted: readonly number[], q: number): number => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
};

/**
 * Mean ± std over seeds and a stratified-bootstrap 95% CI of the mean AUROC.
 * @param seeds One entry per seed (each with both classes).
 * @param opts resamples (default 1,000) and seed (default 0).
 * @returns The summary.
 * @throws {@link "tfjs-lens"!DatasetError} for no seeds or a seed with one class.
 * @example aurocOverSeeds([{ scores, labels }, …]).lo
 * @category Probe
 */
export function aurocOverSeeds(seeds: readonly SeedScores[], opts: { resamples?: number; seed?: number } = {}): AurocSummary {
  if (seeds.length === 0) throw new DatasetError('aurocOverSeeds: need at least one seed');
  const sorted = seeds.map(sortScores);
  if (sorted.some((s) => s.nPos === 0 || s.nNeg === 0)) throw new DatasetError('aurocOverSeeds: every seed needs both classes');
  const ones = sorted.map((s) => [new Float64Array(s.nPos).fill(1), new Float64Array(s.nNeg).fill(1)] as const);
  const perSeed = sorted.map((s, i) => weightedAuroc(s, ones[i]?.[0] as Float64Array, ones[i]?.[1] as Float64Array));
  const mean = perSeed.reduce((a, v) => a + v, 0) / perSeed.length;
  const std = Math.sqrt(perSeed.reduce((a, v) => a + (v - mean) ** 2, 0) / perSeed.length);
  const rand = seededRng(opts.seed ?? 0);
  const means: number[] = [];
  for (let b = 0; b < (opts.resamples ?? 1000); b++) {
    const m = sorted.reduce((a, s) => a + weightedAuroc(s, multiplicities(s.nPos, rand), multiplicities(s.nNeg, rand)), 0) / sorted.length;
    means.push(m);
  }
  means.sort((a, b) => a - b);
  return { mean, std, lo: quantile(means, 0.025), hi: quantile(means, 0.975), perSeed };
}
