/**
 * Text length and mean-pooled features. The mean of n token activations shrinks towards the corpus
 * token mean like 1/√n, so every distance-based detector fitted on mean-pooled features calls short
 * texts anomalous and long ones normal, whatever they say (on SMS Spam, where spam is longer than
 * ham, that turns an AUROC of ~0.9 into ~0.3). Two remedies, computed from the pooled means and the
 * token counts alone (no re-extraction):
 * - √n pooling: (mean − μ_tok)·√n, where μ_tok is the token mean of the normal training texts. For
 *   tokens drawn independently around μ_tok its spread no longer depends on n.
 * - a length-only detector, to show how much of any result text length alone explains.
 */
import { ConfigError, ShapeError } from '../errors.js';
import type { FittedDetector } from './baselines.js';
import type { FeatureMatrix } from './matrix.js';

function checkLengths(x: FeatureMatrix, lengths: readonly number[], fn: string): void {
  if (lengths.length !== x.rows) throw new ShapeError(`${fn}: ${lengths.length} lengths for ${x.rows} feature rows`);
  lengths.forEach((n, i) => {
    if (!(Number.isInteger(n) && n > 0)) throw new ConfigError(`${fn}: length ${i} is ${n}; need a positive token count`);
  });
}

/**
 * Token-weighted mean of mean-pooled rows: Σ nᵢ·xᵢ / Σ nᵢ, the mean activation over all tokens.
 * @param x Mean-pooled features [n, d].
 * @param lengths Tokens pooled per row (attention-mask sum).
 * @returns The token mean [d].
 * @throws {@link "tfjs-lens"!ShapeError} if the counts do not match the rows; {@link "tfjs-lens"!ConfigError} for a count ≤ 0.
 * @example const mu = tokenMean(trainX, trainLengths);
 * @category Probe
 */
export function tokenMean(x: FeatureMatrix, lengths: readonly number[]): Float64Array {
  checkLengths(x, lengths, 'tokenMean');
  const mu = new Float64Array(x.cols);
  let total = 0;
  for (let r = 0; r < x.rows; r++) {
    const n = lengths[r] as number;
    total += n;
    for (let c = 0; c < x.cols; c++) mu[c] = (mu[c] as number) + n * (x.data[r * x.cols + c] as number);
  }
  for (let c = 0; c < x.cols; c++) mu[c] = (mu[c] as number) / total;
  return mu;
}

/**
 * √n pooling from mean pooling: (xᵢ − μ_tok)·√nᵢ.
 * @param x Mean-pooled features [n, d].
 * @param lengths Tokens pooled per row.
 * @param mu Token mean from the normal training rows ({@link tokenMean}).
 * @returns New features [n, d].
 * @throws {@link "tfjs-lens"!ShapeError} for mismatched sizes; {@link "tfjs-lens"!ConfigError} for a count ≤ 0.
 * @example const z = sqrtNPooled(testX, testLengths, tokenMean(trainX, trainLengths));
 * @category Probe
 */
export function sqrtNPooled(x: FeatureMatrix, lengths: readonly number[], mu: Float64Array): FeatureMatrix {
  checkLengths(x, lengths, 'sqrtNPooled');
  if (mu.length !== x.cols) throw new ShapeError(`sqrtNPooled: token mean has ${mu.length} entries for ${x.cols} columns`);
  const data = new Float32Array(x.rows * x.cols);
  for (let r = 0; r < x.rows; r++) {
    const s = Math.sqrt(lengths[r] as number);
    for (let c = 0; c < x.cols; c++) data[r * x.cols + c] = ((x.data[r * x.cols + c] as number) - (mu[c] as number)) * s;
  }
  return { rows: x.rows, cols: x.cols, data };
}

/**
 * A detector that sees only text length: the squared z-score of log(token count) under the normal
 * training texts (two-sided: unusually short and unusually long both score high).
 * @param trainLengths Token counts of the normal training texts.
 * @returns The fitted detector ('length'); score() takes counts as a one-column matrix.
 * @throws {@link "tfjs-lens"!ConfigError} for fewer than two texts or a count ≤ 0.
 * @example const d = fitLengthDetector(trainLengths); d.score(lengthColumn(testLengths));
 * @category Probe
 */
export function fitLengthDetector(trainLengths: readonly number[]): FittedDetector {
  if (trainLengths.length < 2) throw new ConfigError(`fitLengthDetector: need at least 2 training lengths, got ${trainLengths.length}`);
  const col = lengthColumn(trainLengths);
  const logs = Array.from(col.data, Math.log);
  const mean = logs.reduce((a, v) => a + v, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, v) => a + (v - mean) ** 2, 0) / (logs.length - 1)) || 1;
  const score = (x: FeatureMatrix): number[] => Array.from(x.data, (n) => ((Math.log(n) - mean) / sd) ** 2);
  return { name: 'length', trainScores: score(col), score };
}

/**
 * Token counts as a one-column feature matrix (the input of the length detector).
 * @param lengths Token counts (positive integers).
 * @returns Matrix [n, 1].
 * @throws {@link "tfjs-lens"!ConfigError} for a count ≤ 0.
 * @example lengthColumn([12, 40])
 * @category Probe
 */
export function lengthColumn(lengths: readonly number[]): FeatureMatrix {
  const m = { rows: lengths.length, cols: 1, data: Float32Array.from(lengths) };
  checkLengths(m, lengths, 'lengthColumn');
  return m;
}
