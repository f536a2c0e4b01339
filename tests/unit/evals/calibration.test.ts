/**
 * Calibration: softmax / NLL by hand, ECE with Guo et al.'s 15 bins on a worked example, and
 * temperature scaling recovering the temperature of deliberately over-confident logits.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, DatasetError, ShapeError } from '../../../src/errors.js';
import {
  calibrationBins,
  expectedCalibrationError,
  fitTemperature,
  meanNll,
  softmaxRows,
  temperatureScaling,
} from '../../../src/evals/calibration.js';
import { seededRng } from '../../../src/utils/rng.js';

describe('softmaxRows and meanNll', () => {
  it('match hand values', () => {
    const [row] = softmaxRows([[0, Math.log(3)]]);
    expect(row?.[0]).toBeCloseTo(0.25, 12);
    expect(softmaxRows([[0, 2]], 2)[0]?.[1]).toBeCloseTo(Math.E / (1 + Math.E), 12);
    expect(meanNll([[0, Math.log(3)], [1, 1]], [1, 0])).toBeCloseTo((-Math.log(0.75) + Math.log(2)) / 2, 12);
    expect(meanNll([[0, 2]], [1], 2)).toBeCloseTo(Math.log(1 + Math.exp(-1)), 12);
  });

  it('throw typed errors', () => {
    expect(() => softmaxRows([[1, 2]], 0)).toThrow(ConfigError);
    expect(() => meanNll([[1, 2]], [0, 1])).toThrow(ShapeError);
    expect(() => meanNll([[1]], [0])).toThrow(/≥ 2 classes/);
    expect(() => meanNll([[1, 2], [1]], [0, 0])).toThrow(/row 1 has 1 entries/);
    expect(() => meanNll([[1, Infinity]], [0])).toThrow(DatasetError);
    expect(() => meanNll([[1, 2]], [2])).toThrow(/label 0 is 2/);
    expect(() => meanNll([], [])).toThrow(DatasetError);
  });
});

describe('expectedCalibrationError', () => {
  const probs = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]];
  const labels = [0, 1, 1, 1];

  it('is Σ |B|/n · |acc − conf| over 15 equal-width bins', () => {
    // one sample per bin: |1 − 0.9| + |0 − 0.8| + |1 − 0.7| + |1 − 0.6|, over 4
    expect(expectedCalibrationError(probs, labels)).toBeCloseTo(0.4, 12);
    // 2 bins: (0.5, 1] holds all four, acc 3/4, mean conf 0.75 → 0
    expect(expectedCalibrationError(probs, labels, 2)).toBeCloseTo(0, 12);
  });

  it('bins are (lo, hi]', () => {
    const bins = calibrationBins([[0.6, 0.4], [0.2, 0.8]], [0, 0], 5);
    expect(bins.map((b) => b.count)).toEqual([0, 0, 1, 1, 0]); // 0.6 ∈ (0.4, 0.6], 0.8 ∈ (0.6, 0.8]
    expect(bins[3]).toMatchObject({ accuracy: 0, confidence: 0.8 });
    expect(() => calibrationBins([[0.5, 0.5]], [0], 0)).toThrow(ConfigError);
  });
});

describe('temperature scaling', () => {
  /** Logits whose labels are drawn from softmax(z), then multiplied by 3 (over-confident). */
  function overconfident(n: number, seed: number): { logits: number[][]; labels: number[] } {
    const rand = seededRng(seed);
    const logits: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const z = [rand() * 4 - 2, rand() * 4 - 2, rand() * 4 - 2];
      const p = softmaxRows([z])[0] as number[];
      const u = rand();
      labels.push(u < (p[0] as number) ? 0 : u < (p[0] as number) + (p[1] as number) ? 1 : 2);
      logits.push(z.map((v) => 3 * v));
    }
    return { logits, labels };
  }

  it('recovers T ≈ 3 and lowers NLL and ECE', () => {
    const { logits, labels } = overconfident(3000, 7);
    const r = temperatureScaling(logits, labels);
    expect(r.temperature).toBeGreaterThan(2.6);
    expect(r.temperature).toBeLessThan(3.4);
    expect(r.nllAfter).toBeLessThan(r.nllBefore);
    expect(r.eceAfter).toBeLessThan(r.eceBefore);
    expect(r.eceAfter).toBeLessThan(0.05);
  });

  it('finds the NLL minimum (neighbours are no better)', () => {
    const { logits, labels } = overconfident(300, 1);
    const t = fitTemperature(logits, labels);
    const at = (x: number): number => meanNll(logits, labels, x);
    expect(at(t)).toBeLessThanOrEqual(at(t * 1.001));
    expect(at(t)).toBeLessThanOrEqual(at(t / 1.001));
  });

  it('rejects a bad range', () => {
    expect(() => fitTemperature([[0, 1]], [1], { minT: 2, maxT: 1 })).toThrow(ConfigError);
    expect(() => fitTemperature([[0, 1]], [1], { tol: 0 })).toThrow(/tol/);
  });
});
