/**
 * The synthetic anomaly benchmark's data (task seed 001): normal rows from Gaussian blobs (as
 * scikit-learn `make_blobs`: centres uniform in [−10, 10]^d, isotropic std 1), a small fraction of
 * anomalies from one Gaussian whose mean is the normal data's mean shifted by +4.0 in every
 * feature, and a stratified train/test split. All draws come from one seeded generator.
 */
import { ConfigError } from '../errors.js';
import { seededRng, type Rng } from '../utils/rng.js';
import type { FeatureMatrix } from './matrix.js';
import type { BinaryLabels } from './metrics.js';

/**
 * Options of {@link makeSyntheticAnomalies}.
 * @category Probe
 */
export interface SyntheticAnomalyOptions {
  /** Total rows (default 5,000). */
  readonly nSamples?: number;
  /** Features (default 20). */
  readonly nFeatures?: number;
  /** Normal blobs (default 3). */
  readonly nBlobs?: number;
  /** Fraction of anomalies, rounded to a count (default 0.03). */
  readonly anomalyFraction?: number;
  /** Shift of the anomaly mean from the normal mean, per feature (default +4.0). */
  readonly anomalyShift?: number;
  /** Std of the blobs and of the anomaly Gaussian (default 1.0). */
  readonly std?: number;
  /** Seed (default 0). */
  readonly seed?: number;
}

/** A standard normal draw (Box–Muller). */
function gauss(rand: Rng): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Generate the synthetic benchmark: normal blob rows then anomaly rows, shuffled together.
 * @param o Sizes, shift, seed.
 * @returns Raw (unscaled) rows [n_samples, n_features] and labels (1 = anomaly).
 * @throws {@link "tfjs-lens"!ConfigError} for non-positive sizes or a fraction outside (0, 0.5].
 * @example const { x, labels } = makeSyntheticAnomalies({ seed: 1 });  // 5000 × 20, 150 anomalies
 * @category Probe
 */
export function makeSyntheticAnomalies(o: SyntheticAnomalyOptions = {}): {
  /** Raw (unscaled) rows [n_samples, n_features]. */
  x: FeatureMatrix;
  /** Label of each row: 1 = anomaly, 0 = normal. */
  labels: (0 | 1)[];
} {
  const n = o.nSamples ?? 5000;
  const d = o.nFeatures ?? 20;
  const k = o.nBlobs ?? 3;
  const frac = o.anomalyFraction ?? 0.03;
  const std = o.std ?? 1;
  const shift = o.anomalyShift ?? 4;
  if (![n, d, k].every((v) => Number.isInteger(v) && v > 0)) throw new ConfigError(`makeSyntheticAnomalies: nSamples, nFeatures and nBlobs must be positive integers`);
  if (!(frac > 0 && frac <= 0.5)) throw new ConfigError(`makeSyntheticAnomalies: anomalyFraction must be in (0, 0.5], got ${frac}`);
  const rand = seededRng(o.seed ?? 0);
  const nAnom = Math.max(1, Math.round(n * frac));
  const nNorm = n - nAnom;
  const centers = Array.from({ length: k }, () => Array.from({ length: d }, () => 20 * rand() - 10));
  const rows: number[][] = [];
  for (let i = 0; i < nNorm; i++) {
    const c = centers[i % k] as number[];
    rows.push(c.map((v) => v + std * gauss(rand)));
  }
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((a, r) => a + (r[j] as number), 0) / nNorm);
  for (let i = 0; i < nAnom; i++) rows.push(mean.map((v) => v + shift + std * gauss(rand)));
  const labels: (0 | 1)[] = rows.map((_, i) => (i < nNorm ? 0 : 1));
  const order = shuffled(n, rand);
  const data = new Float32Array(n * d);
  order.forEach((src, dst) => data.set(rows[src] as number[], dst * d));
  return { x: { rows: n, cols: d, data }, labels: order.map((i) => labels[i] as 0 | 1) };
}

function shuffled(n: number, rand: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a;
}

/**
 * Stratified split: the same fraction of each class goes to the test part.
 * @param labels Class of each row.
 * @param testFraction Fraction per class, rounded (e.g. 0.2).
 * @param seed Shuffle seed.
 * @returns Sorted row indices of both parts.
 * @throws {@link "tfjs-lens"!ConfigError} for a fraction outside (0, 1).
 * @example const { trainIdx, testIdx } = stratifiedSplit(labels, 0.2, 0);
 * @category Probe
 */
export function stratifiedSplit(labels: BinaryLabels, testFraction: number, seed: number): {
  /** Row indices of the training part, ascending. */
  trainIdx: number[];
  /** Row indices of the test part, ascending. */
  testIdx: number[];
} {
  if (!(testFraction > 0 && testFraction < 1)) throw new ConfigError(`stratifiedSplit: testFraction must be in (0, 1), got ${testFraction}`);
  const rand = seededRng(seed);
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (const cls of [0, 1]) {
    const idx = labels.map((y, i) => (y === cls ? i : -1)).filter((i) => i >= 0);
    const perm = shuffled(idx.length, rand).map((p) => idx[p] as number);
    const nTest = Math.round(idx.length * testFraction);
    testIdx.push(...perm.slice(0, nTest));
    trainIdx.push(...perm.slice(nTest));
  }
  return { trainIdx: trainIdx.sort((a, b) => a - b), testIdx: testIdx.sort((a, b) => a - b) };
}
