import { describe, expect, it } from 'vitest';
import { applyNormaliser, compareEnsembles, ensembleScores, equalWeightScores, fitNormaliser, fitWeightedEnsemble } from '../../../src/anomaly/ensemble.js';
import { ConfigError, DatasetError, ShapeError } from '../../../src/errors.js';
import { rocAuc } from '../../../src/probe/metrics.js';
import { seededRng } from '../../../src/utils/rng.js';

const rng = seededRng;

/** A planted problem: 'good' separates the classes, 'weak' a little, 'useless' is noise on a huge scale. */
function planted(n: number, seed: number): { scores: Record<string, number[]>; labels: (0 | 1)[] } {
  const r = rng(seed);
  const labels = Array.from({ length: n }, (_, i): 0 | 1 => (i % 4 === 0 ? 1 : 0));
  const g = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return {
    labels,
    scores: {
      good: labels.map((l) => 2 * l + g()),
      weak: labels.map((l) => 0.7 * l + g()),
      useless: labels.map(() => 1000 * g()),
    },
  };
}

describe('score normalisers', () => {
  it('z-scores with validation mean and std', () => {
    const n = fitNormaliser([1, 2, 3, 4], 'z');
    expect(n.mean).toBe(2.5);
    expect(n.std).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(applyNormaliser(n, [2.5, 4])[0]).toBe(0);
  });
  it('ranks as the mid-rank empirical CDF of validation', () => {
    const n = fitNormaliser([1, 2, 2, 3], 'rank');
    expect(applyNormaliser(n, [0, 1, 2, 3, 9])).toEqual([0, 0.125, 0.5, 0.875, 1]);
  });
});

describe('fitWeightedEnsemble', () => {
  it('weights fit on validation beat a useless detector and the equal-weight average (planted)', () => {
    const val = planted(400, 1);
    const test = planted(400, 2);
    for (const normalise of ['z', 'rank'] as const) {
      const c = compareEnsembles(val, test, { normalise });
      expect(c.bestSingle).toBe('good');
      expect(Math.abs(c.ensemble.weights[2] as number)).toBeLessThan(0.3 * (c.ensemble.weights[0] as number));
      expect(c.ensemble.weights[0] as number).toBeGreaterThan(c.ensemble.weights[1] as number);
      expect(c.weightedAuroc).toBeGreaterThan(c.singleAuroc['useless'] as number + 0.2);
      expect(c.weightedAuroc).toBeGreaterThan(c.equalAuroc);
      expect(c.weightedAuroc).toBeGreaterThan(c.bestSingleAuroc - 0.02);
    }
  });
  it('the ensemble score is the logistic logit of the normalised scores', () => {
    const val = planted(200, 3);
    const e = fitWeightedEnsemble(val.scores, val.labels);
    const s = ensembleScores(e, val.scores);
    const z = e.names.map((k, j) => applyNormaliser(e.normalisers[j]!, val.scores[k]!));
    expect(s[5]).toBeCloseTo(e.bias + z.reduce((a, c, j) => a + e.weights[j]! * c[5]!, 0), 10);
    // Stationary point of the penalised log-likelihood: the gradient wrt the bias is ~0.
    const g = s.reduce((a, v, i) => a + 1 / (1 + Math.exp(-v)) - val.labels[i]!, 0);
    expect(Math.abs(g)).toBeLessThan(1e-6);
    expect(rocAuc(s, val.labels)).toBeGreaterThan(0.8);
  });
  it('equal weights average the normalised scores', () => {
    const v = { a: [0, 2], b: [10, 30] };
    expect(equalWeightScores(v, { a: [2], b: [30] })).toEqual([1]);
  });
  it('rejects bad input', () => {
    expect(() => fitWeightedEnsemble({}, [0, 1])).toThrow(ConfigError);
    expect(() => fitWeightedEnsemble({ a: [1, 2] }, [0, 0])).toThrow(DatasetError);
    expect(() => fitWeightedEnsemble({ a: [1, 2, 3] }, [0, 1])).toThrow(ShapeError);
    const e = fitWeightedEnsemble({ a: [1, 2, 3], b: [3, 2, 1] }, [0, 1, 1]);
    expect(() => ensembleScores(e, { a: [1] })).toThrow(/no scores for detector 'b'/);
  });
});
