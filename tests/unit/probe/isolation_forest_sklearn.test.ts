/**
 * Our Isolation Forest against scikit-learn's definition: the path-length correction c(n) equals
 * sklearn's `_average_path_length` (0 for n ≤ 1, 1 for n = 2, else 2(ln(n − 1) + γ) − 2(n − 1)/n),
 * which approximates the exact 2·H(n − 1) − 2(n − 1)/n; the expected values are computed here from
 * those formulas. Also: as sklearn's random splitter, a node splits on a feature that varies on its
 * rows whenever one exists (constant features are skipped, so a mostly constant table still splits).
 */
import { describe, expect, it } from 'vitest';
import { fitIsolationForest, isolationForestPathCorrection } from '../../../src/probe/isolation_forest.js';
import { seededRng } from '../../../src/utils/rng.js';

const EULER_GAMMA = 0.5772156649015329;

/** scikit-learn's `_average_path_length`, written from its definition. */
function sklearnC(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** Exact average unsuccessful-search depth: 2·H(n − 1) − 2(n − 1)/n. */
function exactC(n: number): number {
  let h = 0;
  for (let i = 1; i <= n - 1; i++) h += 1 / i;
  return 2 * h - (2 * (n - 1)) / n;
}

describe('isolationForestPathCorrection (sklearn _average_path_length)', () => {
  it('matches sklearn at n = 0, 1, 2, 3, 10, 100, 256, 10000', () => {
    for (const n of [0, 1, 2, 3, 10, 100, 256, 10000]) expect(isolationForestPathCorrection(n)).toBeCloseTo(sklearnC(n), 12);
    expect(isolationForestPathCorrection(256)).toBeCloseTo(2 * (Math.log(255) + EULER_GAMMA) - 510 / 256, 12);
  });

  it('approaches the exact harmonic form for large n', () => {
    for (const n of [256, 1000, 10000]) expect(Math.abs(isolationForestPathCorrection(n) - exactC(n))).toBeLessThan(2 / n + 1e-9);
  });

  it('a 256-row forest scores a row at the average depth c(256) as 0.5: s = 2^(-E[h] / c(256))', () => {
    // One tree over two rows: both sit at depth 1 in leaves of size 1, so E[h] = 1 and s = 2^(-1 / c(2)) = 0.5.
    const f = fitIsolationForest({ rows: 2, cols: 1, data: Float32Array.from([0, 1]) }, { trees: 1, seed: 0 });
    expect(f.trainScores[0]).toBeCloseTo(2 ** (-1 / sklearnC(2)), 12);
  });
});

describe('fitIsolationForest skips constant features as sklearn does', () => {
  it('one varying feature among 20: every single-tree forest splits (scores not all equal)', () => {
    const rand = seededRng(3);
    const n = 64;
    const d = 20;
    const data = new Float32Array(n * d).fill(1);
    for (let r = 0; r < n; r++) data[r * d + d - 1] = rand();
    for (let seed = 0; seed < 20; seed++) {
      const s = fitIsolationForest({ rows: n, cols: d, data }, { trees: 1, seed }).trainScores;
      expect(new Set(s).size, `seed ${seed}`).toBeGreaterThan(1);
    }
  });
});
