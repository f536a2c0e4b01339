/**
 * Hierarchical (cascade) detection: a cheap detector decides the clear cases and an expensive one
 * only the borderline band. The band is chosen on validation from the cheap detector's scores:
 * above `upper` lies the longest run of highest scores whose validation precision is still ≥ the
 * target (flagged by stage 1), at or below `lower` the longest run of lowest scores whose
 * validation NPV (fraction normal) is still ≥ the target (passed by stage 1); everything in
 * (lower, upper] goes to stage 2. Thresholds are midpoints between consecutive distinct validation
 * scores, so the validation figures are reproduced exactly.
 */
import { ConfigError, DatasetError, ShapeError } from '../errors.js';
import type { BinaryLabels } from '../probe/metrics.js';
import { checkFiniteScores } from './thresholds.js';

/**
 * The borderline band of a cheap detector's score.
 * @category Anomaly
 */
export interface CascadeBand {
  /** Scores ≤ this are normal at stage 1 (−∞: none). */
  readonly lower: number;
  /** Scores > this are anomalous at stage 1 (+∞: none). */
  readonly upper: number;
  /** Validation precision of stage 1's flags (NaN when it flags nothing). */
  readonly valPrecision: number;
  /** Validation NPV of stage 1's passes (NaN when it passes nothing). */
  readonly valNpv: number;
  /** Fraction of validation inputs in the band (escalated). */
  readonly valEscalated: number;
}

/**
 * Targets of {@link fitCascadeBand}.
 * @category Anomaly
 */
export interface CascadeBandOptions {
  /** Stage-1 flags must keep at least this validation precision (default 0.95). */
  readonly targetPrecision?: number;
  /** Stage-1 passes must keep at least this validation NPV (default 0.99). */
  readonly targetNpv?: number;
}

/**
 * Choose the borderline band of a cheap detector on validation (higher score = more anomalous).
 * @param valScores Cheap detector's validation scores.
 * @param valLabels Validation labels, 1 = anomaly.
 * @param opts targetPrecision, targetNpv (each in (0, 1]).
 * @returns The band and its validation figures.
 * @throws {@link "tfjs-lens"!ShapeError} for a length mismatch; {@link "tfjs-lens"!ConfigError} for a target outside (0, 1]; {@link "tfjs-lens"!DatasetError} for no or non-finite scores.
 * @example const band = fitCascadeBand(cheapVal, valLabels, { targetPrecision: 0.98, targetNpv: 0.995 });
 * @category Anomaly
 */
export function fitCascadeBand(valScores: readonly number[], valLabels: BinaryLabels, opts: CascadeBandOptions = {}): CascadeBand {
  const fn = 'fitCascadeBand';
  if (valScores.length !== valLabels.length) throw new ShapeError(`${fn}: ${valScores.length} scores but ${valLabels.length} labels`);
  checkFiniteScores(valScores, fn);
  const tp = opts.targetPrecision ?? 0.95;
  const tn = opts.targetNpv ?? 0.99;
  for (const [k, v] of [['targetPrecision', tp], ['targetNpv', tn]] as const) {
    if (!(v > 0 && v <= 1)) throw new ConfigError(`${fn}: ${k} must be in (0, 1], got ${v}`);
  }
  const upper = longestRun(valScores, valLabels, 'desc', tp);
  let lower = longestRun(valScores, valLabels, 'asc', tn);
  if (lower > upper) lower = upper; // the runs overlap: nothing is escalated, stage 1 cuts at `upper`
  let flagged = 0;
  let flaggedPos = 0;
  let passed = 0;
  let passedNeg = 0;
  let band = 0;
  valScores.forEach((s, i) => {
    if (s > upper) {
      flagged++;
      if (valLabels[i] === 1) flaggedPos++;
    } else if (s <= lower) {
      passed++;
      if (valLabels[i] === 0) passedNeg++;
    } else band++;
  });
  return { lower, upper, valPrecision: flagged === 0 ? NaN : flaggedPos / flagged, valNpv: passed === 0 ? NaN : passedNeg / passed, valEscalated: band / valScores.length };
}

/**
 * The cut of the longest run of extreme scores whose running purity stays ≥ target: 'desc' runs from
 * the highest score (purity = precision, cut = upper), 'asc' from the lowest (purity = NPV, cut = lower).
 */
function longestRun(scores: readonly number[], labels: BinaryLabels, dir: 'asc' | 'desc', target: number): number {
  const sign = dir === 'desc' ? -1 : 1;
  const idx = scores.map((_, i) => i).sort((a, b) => sign * ((scores[a] as number) - (scores[b] as number)));
  const want = dir === 'desc' ? 1 : 0;
  let good = 0;
  let bestEnd = 0; // number of inputs in the best run (always ends at a distinct-score boundary)
  for (let i = 0; i < idx.length; ) {
    const s = scores[idx[i] as number] as number;
    for (; i < idx.length && scores[idx[i] as number] === s; i++) if (labels[idx[i] as number] === want) good++;
    if (good / i >= target) bestEnd = i;
  }
  if (bestEnd === 0) return dir === 'desc' ? Infinity : -Infinity;
  const last = scores[idx[bestEnd - 1] as number] as number;
  const next = scores[idx[bestEnd] as number];
  if (next === undefined) return dir === 'desc' ? last - Math.max(1e-12, Math.abs(last) * 1e-9) : last;
  return (last + next) / 2;
}

/**
 * Which stage decides each input.
 * @category Anomaly
 */
export type CascadeStage = 1 | 2;

/**
 * What {@link runCascade} returns.
 * @category Anomaly
 */
export interface CascadeResult {
  /** 1 = anomaly, 0 = normal, per input. */
  readonly predictions: (0 | 1)[];
  /** The stage that decided each input. */
  readonly stage: CascadeStage[];
  /** Cheap scores of every input. */
  readonly cheapScores: number[];
  /** Expensive scores of the escalated inputs, by input index. */
  readonly expensiveScores: ReadonlyMap<number, number>;
  /** Indices of the escalated inputs, in order. */
  readonly escalated: number[];
  /** Fraction of inputs decided at stage 1 and reaching stage 2 (the two sum to 1). */
  readonly fractions: {
    /** Decided by the cheap detector. */
    readonly stage1: number;
    /** Escalated to the expensive detector. */
    readonly stage2: number;
  };
  /** Wall time of the cheap detector on every input and of the expensive one on the band (seconds). */
  readonly seconds: {
    /** Cheap detector on every input. */
    readonly stage1: number;
    /** Expensive detector on the band (0 when empty). */
    readonly stage2: number;
    /** stage1 + stage2. */
    readonly total: number;
  };
}

/**
 * A detector over a batch of inputs (higher = more anomalous); may be async.
 * @category Anomaly
 */
export type BatchScorer<T> = (inputs: readonly T[]) => readonly number[] | Promise<readonly number[]>;

/**
 * Run a cascade: the cheap detector on every input, the expensive one only on the band.
 * @param inputs Inputs.
 * @param cheap Cheap detector.
 * @param expensive Expensive detector (called once, with the escalated inputs only; not called when none).
 * @param band Band from {@link fitCascadeBand}.
 * @param expensiveThreshold Stage 2 flags expensive scores strictly above this (chosen on validation).
 * @returns Predictions, stages, fractions and wall times.
 * @throws {@link "tfjs-lens"!ShapeError} when a detector returns the wrong number of scores; {@link "tfjs-lens"!DatasetError} for a non-finite cheap score; whatever the detectors throw.
 * @example const r = await runCascade(texts, bowScores, (t) => loraScores(t), band, loraThreshold); r.fractions.stage2
 * @category Anomaly
 */
export async function runCascade<T>(inputs: readonly T[], cheap: BatchScorer<T>, expensive: BatchScorer<T>, band: CascadeBand, expensiveThreshold: number): Promise<CascadeResult> {
  const fn = 'runCascade';
  const t0 = performance.now();
  const cheapScores = [...(await cheap(inputs))];
  const t1 = performance.now();
  if (cheapScores.length !== inputs.length) throw new ShapeError(`${fn}: the cheap detector returned ${cheapScores.length} scores for ${inputs.length} inputs`);
  if (inputs.length > 0) checkFiniteScores(cheapScores, `${fn} (cheap detector)`);
  const stage: CascadeStage[] = cheapScores.map((s) => (s > band.lower && s <= band.upper ? 2 : 1));
  const escalated = stage.flatMap((st, i) => (st === 2 ? [i] : []));
  const expensiveScores = new Map<number, number>();
  let s2 = 0;
  if (escalated.length > 0) {
    const t = performance.now();
    const ex = await expensive(escalated.map((i) => inputs[i] as T));
    s2 = (performance.now() - t) / 1000;
    if (ex.length !== escalated.length) throw new ShapeError(`${fn}: the expensive detector returned ${ex.length} scores for ${escalated.length} escalated inputs`);
    escalated.forEach((i, k) => expensiveScores.set(i, ex[k] as number));
  }
  const predictions = cheapScores.map((s, i): 0 | 1 => {
    if (stage[i] === 2) return (expensiveScores.get(i) as number) > expensiveThreshold ? 1 : 0;
    return s > band.upper ? 1 : 0;
  });
  const n = Math.max(inputs.length, 1);
  const s1 = (t1 - t0) / 1000;
  return {
    predictions, stage, cheapScores, expensiveScores, escalated,
    fractions: { stage1: (inputs.length - escalated.length) / n, stage2: escalated.length / n },
    seconds: { stage1: s1, stage2: s2, total: s1 + s2 },
  };
}

/**
 * Time saved by a cascade against the expensive detector on everything.
 * @param r A cascade result.
 * @param expensiveAllSeconds Measured wall time of the expensive detector on every input.
 * @returns Seconds saved and the speed-up factor.
 * @throws {@link "tfjs-lens"!DatasetError} for a non-positive or non-finite time.
 * @example cascadeSavings(r, 42.1).speedup
 * @category Anomaly
 */
export function cascadeSavings(r: CascadeResult, expensiveAllSeconds: number): {
  /** Expensive-on-everything time minus the cascade's time. */
  readonly savedSeconds: number;
  /** Expensive-on-everything time over the cascade's time. */
  readonly speedup: number;
  /** savedSeconds over the expensive-on-everything time. */
  readonly savedFraction: number;
} {
  if (!(expensiveAllSeconds > 0 && Number.isFinite(expensiveAllSeconds))) throw new DatasetError(`cascadeSavings: expensiveAllSeconds must be a finite time > 0, got ${expensiveAllSeconds}`);
  const saved = expensiveAllSeconds - r.seconds.total;
  return { savedSeconds: saved, speedup: expensiveAllSeconds / Math.max(r.seconds.total, 1e-9), savedFraction: saved / expensiveAllSeconds };
}
