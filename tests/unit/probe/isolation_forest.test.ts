/** Isolation Forest: far rows score higher, scores lie in (0, 1), seeded, typed errors. */
import { describe, expect, it } from 'vitest';
import { ConfigError, DatasetError } from '../../../src/errors.js';
import { fitIsolationForest } from '../../../src/probe/isolation_forest.js';
import { rocAuc } from '../../../src/probe/metrics.js';
import { seededRng } from '../../../src/utils/rng.js';

function rows(n: number, d: number, shift: number, seed: number): { rows: number; cols: number; data: Float32Array } {
  const r = seededRng(seed);
  const g = (): number => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  return { rows: n, cols: d, data: Float32Array.from({ length: n * d }, () => g() + shift) };
}

describe('fitIsolationForest', () => {
  it('separates shifted rows, scores in (0, 1), same seed same scores', () => {
    const train = rows(400, 5, 0, 1);
    const test = { rows: 100, cols: 5, data: Float32Array.from([...rows(50, 5, 0, 2).data, ...rows(50, 5, 3, 3).data]) };
    const labels = Array.from({ length: 100 }, (_, i) => (i < 50 ? 0 : 1) as 0 | 1);
    const f = fitIsolationForest(train, { seed: 4 });
    const s = f.score(test);
    expect(rocAuc(s, labels)).toBeGreaterThan(0.95);
    expect(s.every((v) => v > 0 && v < 1)).toBe(true);
    expect(fitIsolationForest(train, { seed: 4 }).score(test)).toEqual(s);
    expect(f.trainScores).toHaveLength(400);
  });

  it('typed errors', () => {
    expect(() => fitIsolationForest(rows(1, 3, 0, 1))).toThrow(DatasetError);
    expect(() => fitIsolationForest(rows(10, 3, 0, 1), { trees: 0 })).toThrow(ConfigError);
    expect(() => fitIsolationForest(rows(10, 3, 0, 1)).score(rows(2, 4, 0, 1))).toThrow(/fitted on 3/);
  });
});
