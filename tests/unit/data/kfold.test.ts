/**
 * Stratified k-fold: scikit-learn StratifiedKFold's fold assignment without shuffling (worked by
 * hand from its algorithm), and with shuffling: stratification within one row, disjoint test parts
 * covering every row once, no test row in its fold's train/val, determinism by seed, the stratified
 * validation part, typed errors; mean ± std aggregation (population by default).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, DatasetError } from '../../../src/errors.js';
import { aggregateFolds, formatMeanStd, stratifiedKFold } from '../../../src/data/kfold.js';
import { seededRng } from '../../../src/utils/rng.js';

describe('stratifiedKFold without shuffle (scikit-learn assignment)', () => {
  it('matches the scikit-learn docs example', () => {
    const folds = stratifiedKFold([0, 0, 1, 1], { k: 2, shuffle: false });
    expect(folds.map((f) => f.test)).toEqual([[0, 2], [1, 3]]);
    expect(folds.map((f) => f.train)).toEqual([[1, 3], [0, 2]]);
  });

  it('deals the rows sorted by class (first appearance) round-robin to folds', () => {
    // classes in order of appearance: '1' (rows 0–2), '0' (rows 3–9); allocation per fold [1, 3], [1, 2], [1, 2]
    const folds = stratifiedKFold([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], { k: 3, shuffle: false });
    expect(folds.map((f) => f.test)).toEqual([[0, 3, 4, 5], [1, 6, 7], [2, 8, 9]]);
  });
});

describe('stratifiedKFold with shuffle', () => {
  const rand = seededRng(3);
  const labels = Array.from({ length: 203 }, () => {
    const u = rand();
    return u < 0.6 ? 'ham' : u < 0.9 ? 'spam' : 'phish';
  });
  const count = (rows: number[], c: string): number => rows.filter((i) => labels[i] === c).length;

  it('is stratified, disjoint and covers every row once as test', () => {
    const k = 5;
    const folds = stratifiedKFold(labels, { k, seed: 0 });
    expect(folds).toHaveLength(k);
    const seen = new Array<number>(labels.length).fill(0);
    for (const f of folds) {
      f.test.forEach((i) => (seen[i] = (seen[i] as number) + 1));
      expect(f.train.filter((i) => f.test.includes(i))).toEqual([]);
      expect(f.train.length + f.test.length).toBe(labels.length);
      for (const c of ['ham', 'spam', 'phish']) {
        const expected = count(labels.map((_, i) => i), c) / k;
        expect(Math.abs(count(f.test, c) - expected)).toBeLessThanOrEqual(1);
      }
    }
    expect(seen.every((n) => n === 1)).toBe(true);
    const sizes = folds.map((f) => f.test.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('is a function of the seed', () => {
    expect(stratifiedKFold(labels, { k: 4, seed: 11 })).toEqual(stratifiedKFold(labels, { k: 4, seed: 11 }));
    expect(stratifiedKFold(labels, { k: 4, seed: 11 })).not.toEqual(stratifiedKFold(labels, { k: 4, seed: 12 }));
  });

  it('carves a stratified validation part from each training part', () => {
    const folds = stratifiedKFold(labels, { k: 5, seed: 1, valFraction: 0.2 });
    for (const f of folds) {
      const nTrain = labels.length - f.test.length;
      expect(f.val).toHaveLength(Math.ceil(0.2 * nTrain));
      expect(f.train.length + f.val.length + f.test.length).toBe(labels.length);
      expect(new Set([...f.train, ...f.val, ...f.test]).size).toBe(labels.length);
      for (const c of ['ham', 'spam', 'phish']) {
        const inTrain = count([...f.train, ...f.val], c);
        expect(Math.abs(count(f.val, c) - inTrain * 0.2)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('throws typed errors naming the class', () => {
    expect(() => stratifiedKFold([0, 0, 1], { k: 1 })).toThrow(/k must be an integer ≥ 2, got 1/);
    expect(() => stratifiedKFold(['a', 'a', 'a', 'b', 'b'], { k: 3 })).toThrow(ConfigError);
    expect(() => stratifiedKFold(['a', 'a', 'a', 'b', 'b'], { k: 3 })).toThrow(/class "b" has 2 rows, fewer than k = 3/);
    expect(() => stratifiedKFold([0, 1], { k: 2, valFraction: 1 })).toThrow(/valFraction/);
    expect(() => stratifiedKFold([0, 1], { k: 2, seed: 0.5 })).toThrow(/seed/);
    expect(() => stratifiedKFold([], { k: 2 })).toThrow(DatasetError);
  });
});

describe('aggregateFolds', () => {
  it('gives mean and population std by default, sample std on request', () => {
    const perFold = [{ f1: 0.9, acc: 1 }, { f1: 0.8, acc: 1 }];
    const pop = aggregateFolds(perFold);
    expect(pop.f1?.mean).toBeCloseTo(0.85, 12);
    expect(pop.f1?.std).toBeCloseTo(0.05, 12);
    expect(pop.acc).toEqual({ mean: 1, std: 0, n: 2 });
    expect(aggregateFolds(perFold, 'sample').f1?.std).toBeCloseTo(Math.SQRT2 * 0.05, 12);
    expect(formatMeanStd(pop.f1!)).toBe('0.850 ± 0.050');
  });

  it('throws for no folds, a missing metric, or a sample std of one fold', () => {
    expect(() => aggregateFolds([])).toThrow(DatasetError);
    expect(() => aggregateFolds([{ f1: 1 }, {}])).toThrow(/fold 1 has no "f1"/);
    expect(() => aggregateFolds([{ f1: 1 }], 'sample')).toThrow(ConfigError);
  });
});
