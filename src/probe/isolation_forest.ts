/**
 * Isolation Forest (Liu, Ting & Zhou, ICDM 2008), as scikit-learn's `IsolationForest` defaults:
 * 100 trees, each grown on 256 rows sampled without replacement, random non-constant feature and
 * uniform split value, depth limit ⌈log2 256⌉ = 8; score s(x) = 2^(−E[h(x)] / c(256)), higher = more anomalous,
 * where h is the path length plus c(size) of the leaf reached and c(n) = 2H(n − 1) − 2(n − 1)/n.
 */
import { ConfigError, DatasetError } from '../errors.js';
import { seededRng, type Rng } from '../utils/rng.js';
import { toFeatureMatrix, type FeatureMatrix } from './matrix.js';
import type { FittedDetector } from './baselines.js';

type Node = { leaf: true; size: number } | { leaf: false; feature: number; split: number; left: Node; right: Node };

/**
 * Average path length of an unsuccessful binary-search-tree search among n rows, the Isolation
 * Forest's depth correction (scikit-learn's `_average_path_length`): 0 for n ≤ 1, 1 for n = 2, else
 * 2(ln(n − 1) + γ) − 2(n − 1)/n with γ the Euler–Mascheroni constant.
 * @param n Rows (a leaf's training rows, or the subsample size).
 * @returns c(n).
 * @throws Never.
 * @example isolationForestPathCorrection(256)  // ≈ 10.2448
 * @category Probe
 */
export function isolationForestPathCorrection(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + 0.5772156649015329) - (2 * (n - 1)) / n;
}
const c = isolationForestPathCorrection;

function grow(x: FeatureMatrix, rows: number[], depth: number, limit: number, rand: Rng): Node {
  if (depth >= limit || rows.length <= 1) return { leaf: true, size: rows.length };
  const d = x.cols;
  // Draw features without replacement until one varies on these rows (as scikit-learn's random
  // splitter, which skips constant features): the split feature is uniform over the non-constant ones.
  const order = Array.from({ length: d }, (_, j) => j);
  for (let tries = 0; tries < d; tries++) {
    const pick = tries + Math.floor(rand() * (d - tries));
    [order[tries], order[pick]] = [order[pick] as number, order[tries] as number];
    const feature = order[tries] as number;
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of rows) {
      const v = x.data[r * d + feature] as number;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (hi <= lo) continue;
    const split = lo + rand() * (hi - lo);
    const left = rows.filter((r) => (x.data[r * d + feature] as number) < split);
    const right = rows.filter((r) => (x.data[r * d + feature] as number) >= split);
    return { leaf: false, feature, split, left: grow(x, left, depth + 1, limit, rand), right: grow(x, right, depth + 1, limit, rand) };
  }
  return { leaf: true, size: rows.length }; // every feature constant on these rows
}

function pathLength(node: Node, x: FeatureMatrix, r: number, depth: number): number {
  if (node.leaf) return depth + c(node.size);
  const v = x.data[r * x.cols + node.feature] as number;
  return pathLength(v < node.split ? node.left : node.right, x, r, depth + 1);
}

/**
 * Fit an Isolation Forest on (normal) training rows.
 * @param train Rows [n, d] (n ≥ 2).
 * @param opts trees (default 100), sampleSize (default min(256, n)), seed (default 0).
 * @returns The detector (name 'isolation_forest').
 * @throws {@link "tfjs-lens"!DatasetError} for fewer than 2 rows or non-finite values; {@link "tfjs-lens"!ConfigError} for bad options.
 * @example fitIsolationForest(trainX, { seed: 1 }).score(testX)
 * @category Probe
 */
export function fitIsolationForest(train: FeatureMatrix, opts: { trees?: number; sampleSize?: number; seed?: number } = {}): FittedDetector {
  const m = toFeatureMatrix(train, 'fitIsolationForest');
  if (m.rows < 2) throw new DatasetError(`fitIsolationForest: need at least 2 rows, got ${m.rows}`);
  const trees = opts.trees ?? 100;
  const psi = Math.min(opts.sampleSize ?? 256, m.rows);
  if (!(Number.isInteger(trees) && trees >= 1 && Number.isInteger(psi) && psi >= 2)) throw new ConfigError(`fitIsolationForest: trees must be ≥ 1 and sampleSize ≥ 2 (integers), got ${trees} and ${psi}`);
  const rand = seededRng(opts.seed ?? 0);
  const limit = Math.ceil(Math.log2(psi));
  const forest: Node[] = [];
  for (let t = 0; t < trees; t++) {
    const idx = Array.from({ length: m.rows }, (_, i) => i);
    for (let i = 0; i < psi; i++) {
      const j = i + Math.floor(rand() * (m.rows - i));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    forest.push(grow(m, idx.slice(0, psi), 0, limit, rand));
  }
  const score = (x: FeatureMatrix): number[] => {
    const q = toFeatureMatrix(x, 'isolationForest.score');
    if (q.cols !== m.cols) throw new DatasetError(`isolationForest.score: rows have ${q.cols} features, the forest was fitted on ${m.cols}`);
    return Array.from({ length: q.rows }, (_, r) => 2 ** (-forest.reduce((a, tr) => a + pathLength(tr, q, r, 0), 0) / trees / c(psi)));
  };
  return { name: 'isolation_forest', trainScores: score(m), score };
}
