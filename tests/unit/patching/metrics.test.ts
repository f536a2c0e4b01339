/** Patching metrics: logit difference (exact, per-row ids, position), normalisation, Pearson r. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ShapeError } from '../../../src/errors.js';
import { logitDiffMetric, normalizePatchResult, pearsonCorrelation } from '../../../src/patching/metrics.js';
import { expectNoLeak } from '../../helpers/memory.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('patching metrics', () => {
  it('logitDiffMetric = mean_b(logits[b, -1, A] - logits[b, -1, B]), exactly; per-row ids; pos; sum', () => {
    const logits = tf.randomNormal([3, 4, 10], 0, 1, 'float32', 7) as tf.Tensor3D;
    const l = logits.arraySync() as number[][][];
    const at = (b: number, p: number, v: number): number => l[b]?.[p]?.[v] as number;
    const m = expectNoLeak(() => logitDiffMetric(2, 5)(logits), () => 1);
    const diffs = [0, 1, 2].map((b) => Math.fround(at(b, 3, 2) - at(b, 3, 5)));
    expect(m.dataSync()[0]).toBeCloseTo((diffs[0]! + diffs[1]! + diffs[2]!) / 3, 6);
    const perRow = logitDiffMetric([1, 2, 3], [4, 5, 6], { pos: 0, reduce: 'sum' })(logits);
    expect(perRow.dataSync()[0]).toBeCloseTo(at(0, 0, 1) - at(0, 0, 4) + at(1, 0, 2) - at(1, 0, 5) + at(2, 0, 3) - at(2, 0, 6), 5);
    const one = tf.slice(logits, [0, 0, 0], [1, 4, 10]) as tf.Tensor3D;
    const single = logitDiffMetric(7, 3)(one);
    expect(single.dataSync()[0]).toBe(Math.fround(at(0, 3, 7) - at(0, 3, 3))); // one row: bit-exact a − b
    expect(() => logitDiffMetric([1, 2], [3, 4])(logits)).toThrow(/correct has 2 ids, expected one per batch row \(3\)/);
    expect(() => logitDiffMetric(1, 2, { pos: 4 })(logits)).toThrow(ShapeError);
    expect(() => logitDiffMetric(10, 2)(logits)).toThrow(/correct id 10 is not in \[0, 10\)/);
    tf.dispose([logits, m, perRow, one, single]);
  });

  it('normalizePatchResult maps corrupted → 0 and clean → 1', () => {
    const t = tf.tensor1d([0.5, 2.5, 1.5]);
    const n = expectNoLeak(() => normalizePatchResult(t, 2.5, 0.5), () => 1);
    expect(Array.from(n.dataSync())).toEqual([0, 1, 0.5]);
    expect(() => normalizePatchResult(t, 1, 1)).toThrow(ShapeError);
    tf.dispose([t, n]);
  });

  it('pearsonCorrelation: ±1 for affine relations, NaN for constants, errors on length mismatch', () => {
    expect(pearsonCorrelation([1, 2, 3, 4], [3, 5, 7, 9])).toBeCloseTo(1, 12);
    expect(pearsonCorrelation([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(pearsonCorrelation([1, 2, 3], [1, -1, 1])).toBeCloseTo(0, 12);
    expect(pearsonCorrelation([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => pearsonCorrelation([1, 2], [1])).toThrow(/same non-zero length/);
  });
});
