/**
 * Stratified k-fold cross-validation as scikit-learn `StratifiedKFold(n_splits=k, shuffle, random_state)`:
 * the classes are dealt to folds so every fold keeps the class proportions (within one row) and the
 * fold sizes differ by at most one; with shuffle, each class's fold assignment is permuted by a seeded
 * mulberry32 generator (the same seed gives the same folds; they differ from NumPy's). Optionally a
 * stratified validation part is carved from each fold's training rows. Also: mean ± std of per-fold metrics.
 */
import { ConfigError, DatasetError } from '../errors.js';
import { seededRng, type Rng } from '../utils/rng.js';

/** Options of {@link stratifiedKFold}. @category Data */
export interface KFoldOptions {
  /** Number of folds k ≥ 2. */
  readonly k: number;
  /** Permute each class's rows before dealing them to folds (default true). */
  readonly shuffle?: boolean;
  /** Seed of the permutation (default 0). */
  readonly seed?: number;
  /**
   * Fraction of each fold's training rows held out (stratified) as a validation part, in [0, 1)
   * (default 0: no validation part); its size is ceil(fraction · n_train), as scikit-learn `train_test_split`.
   */
  readonly valFraction?: number;
}

/** One fold: row indices into the labels, each sorted ascending. @category Data */
export interface Fold {
  /** Rows to train on (the validation rows excluded). */
  readonly train: number[];
  /** Rows carved from the training part for validation (empty when valFraction is 0). */
  readonly val: number[];
  /** Held-out rows of this fold; every row is a test row of exactly one fold. */
  readonly test: number[];
}

function shuffleInPlace<T>(xs: T[], rand: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
  return xs;
}

/** Rows of each class, classes in order of first appearance (as scikit-learn encodes them). */
function rowsByClass<L extends string | number>(labels: readonly L[]): [L, number[]][] {
  const byClass = new Map<L, number[]>();
  labels.forEach((y, i) => {
    const rows = byClass.get(y);
    if (rows === undefined) byClass.set(y, [i]);
    else rows.push(i);
  });
  return [...byClass.entries()];
}

/**
 * Largest-remainder split of `total` rows over classes in proportion to their counts (scikit-learn's
 * `_approximate_mode` for stratified splits; ties go to the earlier class).
 */
function allocate(counts: readonly number[], total: number): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  const exact = counts.map((c) => (c * total) / n);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left === 0) break;
    out[i] = (out[i] as number) + 1;
    left--;
  }
  return out;
}

/** Deal one fold's training rows into train / val, stratified. */
function carveValidation<L extends string | number>(labels: readonly L[], trainRows: number[], frac: number, rand: Rng): { train: number[]; val: number[] } {
  if (frac === 0) return { train: trainRows, val: [] };
  const groups = rowsByClass(trainRows.map((i) => labels[i] as L)).map(([, local]) => local.map((j) => trainRows[j] as number));
  const nVal = allocate(groups.map((g) => g.length), Math.ceil(frac * trainRows.length));
  const val: number[] = [];
  const train: number[] = [];
  groups.forEach((g, c) => {
    const rows = shuffleInPlace([...g], rand);
    val.push(...rows.slice(0, nVal[c]));
    train.push(...rows.slice(nVal[c]));
  });
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}

function checkKFold(n: number, o: KFoldOptions): void {
  if (!(Number.isInteger(o.k) && o.k >= 2)) throw new ConfigError(`stratifiedKFold: k must be an integer ≥ 2, got ${o.k}`);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new ConfigError(`stratifiedKFold: seed must be an integer, got ${o.seed}`);
  const frac = o.valFraction ?? 0;
  if (!(frac >= 0 && frac < 1)) throw new ConfigError(`stratifiedKFold: valFraction must be in [0, 1), got ${frac}`);
  if (n === 0) throw new DatasetError('stratifiedKFold: no labels — pass one label per row');
}

/**
 * Stratified k-fold splits of rows by their labels.
 * @param labels Label of each row (class ids or names).
 * @param opts k, shuffle (default true), seed (default 0), valFraction (default 0).
 * @returns k folds; their test parts are disjoint and cover every row once, and each fold's train,
 *   val and test parts are disjoint.
 * @throws {@link "tfjs-lens"!ConfigError} for k < 2, a non-integer seed, valFraction outside [0, 1), or
 *   a class with fewer than k rows (named, with its count); {@link "tfjs-lens"!DatasetError} for no labels.
 * @example for (const { train, val, test } of stratifiedKFold(rows.map((r) => r.label), { k: 5, seed: 0, valFraction: 0.1 })) { … }
 * @category Data
 */
export function stratifiedKFold<L extends string | number>(labels: readonly L[], opts: KFoldOptions): Fold[] {
  checkKFold(labels.length, opts);
  const { k } = opts;
  const classes = rowsByClass(labels);
  for (const [name, rows] of classes) {
    if (rows.length < k) {
      throw new ConfigError(`stratifiedKFold: class ${JSON.stringify(name)} has ${rows.length} rows, fewer than k = ${k} — lower k to ≤ ${rows.length} or merge rare classes`);
    }
  }
  // scikit-learn: sort rows by class, deal them round-robin to folds (row i → fold i mod k) to get
  // each fold's count per class, then give each class's rows fold ids in that proportion.
  const allocation = Array.from({ length: k }, () => new Array<number>(classes.length).fill(0));
  let r = 0;
  classes.forEach(([, rows], c) => {
    for (let j = 0; j < rows.length; j++, r++) {
      const counts = allocation[r % k] as number[];
      counts[c] = (counts[c] as number) + 1;
    }
  });
  const rand = seededRng(opts.seed ?? 0);
  const testFold = new Array<number>(labels.length).fill(0);
  classes.forEach(([, rows], c) => {
    const folds = allocation.flatMap((counts, f) => new Array<number>(counts[c] as number).fill(f));
    if (opts.shuffle ?? true) shuffleInPlace(folds, rand);
    rows.forEach((row, j) => (testFold[row] = folds[j] as number));
  });
  return Array.from({ length: k }, (_, f) => {
    const test = labels.map((_, i) => i).filter((i) => testFold[i] === f);
    const rest = labels.map((_, i) => i).filter((i) => testFold[i] !== f);
    return { ...carveValidation(labels, rest, opts.valFraction ?? 0, rand), test };
  });
}

/** Mean and spread of one metric over folds. @category Data */
export interface MeanStd {
  /** Mean over folds. */
  readonly mean: number;
  /** Standard deviation over folds (population or sample, as asked). */
  readonly std: number;
  /** Number of folds. */
  readonly n: number;
}

/**
 * Aggregate per-fold metrics into mean ± std for every key present in all folds. The default is the
 * population std (divide by n, NumPy `np.std`, what scikit-learn `cross_val_score` users report);
 * `'sample'` divides by n − 1.
 * @param perFold One record of metrics per fold.
 * @param std 'population' (default) or 'sample'.
 * @returns Per metric: mean, std and n.
 * @throws {@link "tfjs-lens"!DatasetError} for no folds, or a metric missing from some fold;
 *   {@link "tfjs-lens"!ConfigError} for a sample std over one fold.
 * @example aggregateFolds([{ f1: 0.9 }, { f1: 0.8 }]).f1  // { mean: 0.85, std: 0.05, n: 2 }
 * @category Data
 */
export function aggregateFolds(perFold: readonly Readonly<Record<string, number>>[], std: 'population' | 'sample' = 'population'): Record<string, MeanStd> {
  const first = perFold[0];
  if (first === undefined) throw new DatasetError('aggregateFolds: no folds — pass one metrics record per fold');
  const n = perFold.length;
  if (std === 'sample' && n < 2) throw new ConfigError('aggregateFolds: a sample std needs ≥ 2 folds, got 1 — use std = "population"');
  const out: Record<string, MeanStd> = {};
  for (const key of Object.keys(first)) {
    const xs = perFold.map((m, f) => {
      const v = m[key];
      if (v === undefined) throw new DatasetError(`aggregateFolds: fold ${f} has no "${key}" — every fold needs the same metrics`);
      return v;
    });
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
    out[key] = { mean, std: Math.sqrt(ss / (std === 'sample' ? n - 1 : n)), n };
  }
  return out;
}

/**
 * "mean ± std" text of an aggregated metric.
 * @param m A {@link MeanStd}.
 * @param digits Decimals (default 3).
 * @returns e.g. "0.850 ± 0.050".
 * @example formatMeanStd(aggregateFolds(perFold).f1)
 * @category Data
 */
export function formatMeanStd(m: MeanStd, digits = 3): string {
  return `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
}
