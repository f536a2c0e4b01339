/**
 * Calibration of a classifier's probabilities (Guo et al. 2017, "On Calibration of Modern Neural
 * Networks"): expected calibration error over equal-width confidence bins (15 by default, a sample
 * falls in bin (lo, hi]), reliability-diagram bins, and temperature scaling: one T > 0 fitted on
 * validation logits by minimising the NLL of softmax(z / T), here by golden-section search on log T
 * (the NLL is convex in 1/T, so unimodal in log T).
 */
import { ConfigError, DatasetError, ShapeError } from '../errors.js';

/** One bin of a reliability diagram. @category Evals */
export interface CalibrationBin {
  /** Lower edge (exclusive). */
  readonly lo: number;
  /** Upper edge (inclusive). */
  readonly hi: number;
  /** Samples whose confidence falls in the bin. */
  readonly count: number;
  /** Fraction of them predicted correctly (0 when empty). */
  readonly accuracy: number;
  /** Their mean confidence (0 when empty). */
  readonly confidence: number;
}

/** Options of {@link fitTemperature}. @category Evals */
export interface TemperatureOptions {
  /** Smallest T searched (default 0.01). */
  readonly minT?: number;
  /** Largest T searched (default 100). */
  readonly maxT?: number;
  /** Stop when the log T bracket is narrower than this (default 1e-6). */
  readonly tol?: number;
}

/** What {@link temperatureScaling} returns. @category Evals */
export interface TemperatureScalingResult {
  /** The fitted temperature (divide logits by it). */
  readonly temperature: number;
  /** Mean NLL at T = 1. */
  readonly nllBefore: number;
  /** Mean NLL at the fitted T. */
  readonly nllAfter: number;
  /** ECE at T = 1. */
  readonly eceBefore: number;
  /** ECE at the fitted T. */
  readonly eceAfter: number;
}

function checkRows(logits: readonly (readonly number[])[], labels: readonly number[], fn: string): number {
  if (logits.length !== labels.length) throw new ShapeError(`${fn}: ${logits.length} rows but ${labels.length} labels`);
  if (logits.length === 0) throw new DatasetError(`${fn}: no samples — pass at least one row`);
  const c = (logits[0] as readonly number[]).length;
  if (c < 2) throw new ShapeError(`${fn}: rows need ≥ 2 classes, got ${c} (for one sigmoid logit z pass [0, z])`);
  logits.forEach((row, i) => {
    if (row.length !== c) throw new ShapeError(`${fn}: row ${i} has ${row.length} entries, row 0 has ${c}`);
    if (!row.every(Number.isFinite)) throw new DatasetError(`${fn}: row ${i} has a non-finite value — expected finite logits`);
    const y = labels[i] as number;
    if (!Number.isInteger(y) || y < 0 || y >= c) throw new DatasetError(`${fn}: label ${i} is ${y} — expected an integer class in [0, ${c - 1}]`);
  });
  return c;
}

/** log Σ exp(row / T) − row_y / T, stably. */
function rowNll(row: readonly number[], y: number, t: number): number {
  const m = Math.max(...row) / t;
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v / t - m), 0));
  return lse - (row[y] as number) / t;
}

/**
 * Softmax of each row of logits divided by a temperature.
 * @param logits Logits [batch, n_classes].
 * @param temperature T > 0 (default 1).
 * @returns Probabilities [batch, n_classes].
 * @throws {@link "tfjs-lens"!ConfigError} for T ≤ 0.
 * @example softmaxRows([[0, Math.log(3)]])  // [[0.25, 0.75]]
 * @category Evals
 */
export function softmaxRows(logits: readonly (readonly number[])[], temperature = 1): number[][] {
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new ConfigError(`softmaxRows: temperature must be > 0, got ${temperature}`);
  return logits.map((row) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp((v - m) / temperature));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  });
}

/**
 * Mean negative log-likelihood of labels under softmax(logits / T).
 * @param logits Logits [batch, n_classes].
 * @param labels True classes [batch].
 * @param temperature T > 0 (default 1).
 * @returns Mean NLL (nats).
 * @throws {@link "tfjs-lens"!ShapeError} for ragged rows, < 2 classes or a count mismatch;
 *   {@link "tfjs-lens"!DatasetError} for no rows, a non-finite logit or a bad label;
 *   {@link "tfjs-lens"!ConfigError} for T ≤ 0.
 * @example meanNll([[0, Math.log(3)]], [1])  // −log 0.75 = 0.2877
 * @category Evals
 */
export function meanNll(logits: readonly (readonly number[])[], labels: readonly number[], temperature = 1): number {
  checkRows(logits, labels, 'meanNll');
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new ConfigError(`meanNll: temperature must be > 0, got ${temperature}`);
  return logits.reduce((s, row, i) => s + rowNll(row, labels[i] as number, temperature), 0) / logits.length;
}

/**
 * Reliability-diagram bins: confidence = the largest probability of a row, prediction = its class.
 * @param probs Probabilities [batch, n_classes] (e.g. {@link softmaxRows}).
 * @param labels True classes [batch].
 * @param nBins Equal-width bins on [0, 1] (default 15, as Guo et al.).
 * @returns nBins bins; a sample with confidence c falls in the bin with lo < c ≤ hi.
 * @throws As {@link meanNll}; {@link "tfjs-lens"!ConfigError} for nBins < 1.
 * @example calibrationBins(softmaxRows(valLogits), valLabels).filter((b) => b.count > 0)
 * @category Evals
 */
export function calibrationBins(probs: readonly (readonly number[])[], labels: readonly number[], nBins = 15): CalibrationBin[] {
  if (!(Number.isInteger(nBins) && nBins >= 1)) throw new ConfigError(`calibrationBins: nBins must be an integer ≥ 1, got ${nBins}`);
  checkRows(probs, labels, 'calibrationBins');
  const edges = Array.from({ length: nBins + 1 }, (_, b) => b / nBins);
  const count = new Array<number>(nBins).fill(0);
  const correct = new Array<number>(nBins).fill(0);
  const confSum = new Array<number>(nBins).fill(0);
  probs.forEach((row, i) => {
    let pred = 0;
    row.forEach((p, c) => {
      if (p > (row[pred] as number)) pred = c;
    });
    const conf = row[pred] as number;
    let b = 0;
    while (b < nBins - 1 && conf > (edges[b + 1] as number)) b++;
    count[b] = (count[b] as number) + 1;
    confSum[b] = (confSum[b] as number) + conf;
    if (pred === labels[i]) correct[b] = (correct[b] as number) + 1;
  });
  return count.map((n, b) => ({
    lo: edges[b] as number, hi: edges[b + 1] as number, count: n,
    accuracy: n === 0 ? 0 : (correct[b] as number) / n, confidence: n === 0 ? 0 : (confSum[b] as number) / n,
  }));
}

/**
 * Expected calibration error: Σ_bins (|B| / n) · |accuracy(B) − confidence(B)| (Guo et al. 2017).
 * @param probs Probabilities [batch, n_classes].
 * @param labels True classes [batch].
 * @param nBins Equal-width bins (default 15).
 * @returns ECE in [0, 1].
 * @throws As {@link calibrationBins}.
 * @example expectedCalibrationError(softmaxRows(testLogits, t), testLabels)
 * @category Evals
 */
export function expectedCalibrationError(probs: readonly (readonly number[])[], labels: readonly number[], nBins = 15): number {
  const bins = calibrationBins(probs, labels, nBins);
  return bins.reduce((s, b) => s + (b.count / probs.length) * Math.abs(b.accuracy - b.confidence), 0);
}

/**
 * The temperature that minimises the mean NLL of validation labels: golden-section search on log T
 * over [minT, maxT].
 * @param logits Validation logits [batch, n_classes].
 * @param labels Validation classes [batch].
 * @param opts minT, maxT, tol.
 * @returns T > 0 (T > 1 softens over-confident predictions).
 * @throws As {@link meanNll}; {@link "tfjs-lens"!ConfigError} for a bad search range.
 * @example const t = fitTemperature(valLogits, valLabels); const probs = softmaxRows(testLogits, t);
 * @category Evals
 */
export function fitTemperature(logits: readonly (readonly number[])[], labels: readonly number[], opts: TemperatureOptions = {}): number {
  checkRows(logits, labels, 'fitTemperature');
  const minT = opts.minT ?? 0.01;
  const maxT = opts.maxT ?? 100;
  const tol = opts.tol ?? 1e-6;
  if (!(minT > 0 && maxT > minT && Number.isFinite(maxT))) {
    throw new ConfigError(`fitTemperature: need 0 < minT < maxT < ∞, got minT ${minT} and maxT ${maxT}`);
  }
  if (!(tol > 0)) throw new ConfigError(`fitTemperature: tol must be > 0, got ${tol}`);
  const f = (u: number): number => logits.reduce((s, row, i) => s + rowNll(row, labels[i] as number, Math.exp(u)), 0);
  const g = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(minT);
  let b = Math.log(maxT);
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > tol) {
    if (fc <= fd) {
      [b, d, fd] = [d, c, fc];
      c = b - g * (b - a);
      fc = f(c);
    } else {
      [a, c, fc] = [c, d, fd];
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return Math.exp((a + b) / 2);
}

/**
 * Fit a temperature on validation logits and report NLL and ECE before (T = 1) and after.
 * @param logits Validation logits [batch, n_classes].
 * @param labels Validation classes [batch].
 * @param opts Search options of {@link fitTemperature}, and nBins for the ECE (default 15).
 * @returns The temperature and the figures on these logits (apply T to the test logits yourself).
 * @throws As {@link fitTemperature}.
 * @example const { temperature, eceBefore, eceAfter } = temperatureScaling(valLogits, valLabels);
 * @category Evals
 */
export function temperatureScaling(
  logits: readonly (readonly number[])[],
  labels: readonly number[],
  opts: TemperatureOptions & { readonly nBins?: number } = {},
): TemperatureScalingResult {
  const temperature = fitTemperature(logits, labels, opts);
  return {
    temperature,
    nllBefore: meanNll(logits, labels, 1),
    nllAfter: meanNll(logits, labels, temperature),
    eceBefore: expectedCalibrationError(softmaxRows(logits, 1), labels, opts.nBins),
    eceAfter: expectedCalibrationError(softmaxRows(logits, temperature), labels, opts.nBins),
  };
}
