import { describe, expect, it } from 'vitest';
import { applyContextThresholds, calibratedProbabilities, calibratedThreshold, contextThresholdsFor, fitContextThresholds, percentileThreshold } from '../../../src/anomaly/thresholds.js';
import { ConfigError, DatasetError, ShapeError } from '../../../src/errors.js';

describe('percentileThreshold', () => {
  it('equals a hand computation (linear interpolation)', () => {
    // sorted [1, 2, 4, 8, 16]; q = 0.9 → h = 4 · 0.9 = 3.6 → 8 + 0.6 · (16 − 8) = 12.8
    const t = percentileThreshold([16, 2, 8, 1, 4], 0.9);
    expect(t.threshold).toBeCloseTo(12.8, 12);
    expect(t.n).toBe(5);
    // q = 0.5 of [1, 2, 3, 4] → 2.5
    expect(percentileThreshold([4, 3, 2, 1], 0.5).threshold).toBe(2.5);
  });
  it('rejects bad input', () => {
    expect(() => percentileThreshold([], 0.9)).toThrow(DatasetError);
    expect(() => percentileThreshold([1, NaN], 0.9)).toThrow(/score 1 is NaN/);
    expect(() => percentileThreshold([1, 2], 1.5)).toThrow(ConfigError);
  });
});

describe('fitContextThresholds', () => {
  const scores = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100];
  const ctx = ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'b', 'c'];
  it('differs per context and falls back under the minimum count', () => {
    const t = fitContextThresholds(scores, ctx, { quantile: 0.5, minCount: 3 });
    expect(t.byContext['a']).toEqual({ threshold: 3, n: 5, fallback: false });
    expect(t.byContext['b']).toEqual({ threshold: 30, n: 5, fallback: false });
    // c has 1 < 3 scores: the global median of all 11 scores (sorted: … 5, 10, …; median = 10)
    expect(t.global.threshold).toBe(10);
    expect(t.byContext['c']).toEqual({ threshold: 10, n: 1, fallback: true });
    expect(t.fallbacks).toEqual(['c']);
    expect(t.minCount).toBe(3);
  });
  it('applies each context threshold; an unseen context uses the global one', () => {
    const t = fitContextThresholds(scores, ctx, { quantile: 0.5, minCount: 3 });
    expect(contextThresholdsFor(t, ['a', 'b', 'zzz'])).toEqual([3, 30, 10]);
    expect(applyContextThresholds(t, [4, 4, 11, 11], ['a', 'b', 'zzz', 'c'])).toEqual([1, 0, 1, 1]);
  });
  it('rejects mismatched lengths and bad minCount', () => {
    expect(() => fitContextThresholds([1, 2], ['a'])).toThrow(ShapeError);
    expect(() => fitContextThresholds([1, 2], ['a', 'b'], { minCount: 0 })).toThrow(ConfigError);
  });
});

describe('calibratedThreshold', () => {
  // Over-confident logits: class 1 logit = 5·s with s the underlying evidence.
  const s = [-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.3, 0.5, 1, 1.5, 2, 2.5, 3, -0.2, 0.8];
  const y = [0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0];
  const logits = s.map((v) => [0, 5 * v]);
  it('reaches the target false-positive rate on validation', () => {
    const c = calibratedThreshold(logits, y, { fpr: 0.2 });
    expect(c.temperature).toBeGreaterThan(1); // over-confident → softened
    const p = calibratedProbabilities(logits, c);
    const fp = p.filter((v, i) => y[i] === 0 && v > c.threshold).length;
    expect(fp / y.filter((l) => l === 0).length).toBeLessThanOrEqual(0.2);
    expect(c.valFpr).toBeCloseTo(fp / 9, 12);
    expect(fp).toBe(1); // the lowest such cut: ⌊0.2 · 9⌋ = 1 normal above it (distinct scores)
  });
  it('max-F1 threshold on calibrated probabilities', () => {
    const c = calibratedThreshold(logits, y, 'f1');
    const p = calibratedProbabilities(logits, c);
    const pred = p.map((v) => (v > c.threshold ? 1 : 0));
    const tp = pred.filter((v, i) => v === 1 && y[i] === 1).length;
    const fp = pred.filter((v, i) => v === 1 && y[i] === 0).length;
    expect(c.valF1).toBeCloseTo((2 * tp) / (tp + fp + 7), 12);
    // no other cut of the calibrated scores has a higher F1
    for (const t of p) {
      const q = p.map((v) => (v > t ? 1 : 0));
      const tp2 = q.filter((v, i) => v === 1 && y[i] === 1).length;
      const fp2 = q.filter((v, i) => v === 1 && y[i] === 0).length;
      expect((2 * tp2) / (tp2 + fp2 + 7)).toBeLessThanOrEqual(c.valF1 + 1e-12);
    }
  });
  it('needs both classes', () => {
    expect(() => calibratedThreshold([[0, 1], [0, 2]], [0, 0])).toThrow(DatasetError);
    expect(() => calibratedThreshold(logits, y, { fpr: 2 })).toThrow(ConfigError);
  });
});
