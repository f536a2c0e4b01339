/**
 * Port of TransformerLens v2.18.0 tests/unit/factored_matrix/test_multiply_by_scalar.py (1 test
 * function, parametrised over 5 scalars × leading dims × side). `fm * s` is `fm.mul(s)`, `s * fm` is
 * `fm.rmul(s)`; torch's AssertionError becomes ShapeError.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ShapeError } from '../../../src/errors.js';
import { FactoredMatrix } from '../../../src/ops/factored_matrix.js';
import { expectClose, mm, rand } from './helpers.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

type Scalar = () => number | tf.Tensor;
const SCALARS: [string, Scalar, boolean][] = [
  ['1-element tensor', () => rand(1), false],
  ['float', () => Math.random(), false],
  ['int', () => Math.floor(Math.random() * 201) - 100, false],
  ['non-scalar tensor [2, 2]', () => rand(2, 2), true],
  ['non-scalar tensor [2]', () => rand(2), true],
];
const CASES = SCALARS.flatMap(([id, s, err]) =>
  [false, true].flatMap((leading) => [false, true].map((fromLeft) => [`${id}, leading_dim=${leading}, multiply_from_left=${fromLeft}`, s, err, leading, fromLeft] as const)),
);

describe('FactoredMatrix.mul (TL test_multiply_by_scalar.py)', () => {
  it.each(CASES)('test_multiply [%s]', (_id, makeScalar, errorExpected, leading, fromLeft) => {
    const a = leading ? rand(6, 2, 3) : rand(2, 3);
    const b = leading ? rand(6, 3, 4) : rand(3, 4);
    const fm = new FactoredMatrix(a, b);
    const scalar = makeScalar();
    const times = (x: tf.Tensor): tf.Tensor => tf.mul(x, typeof scalar === 'number' ? scalar : tf.reshape(scalar, []));
    if (errorExpected) {
      expect(() => (fromLeft ? fm.mul(scalar) : fm.rmul(scalar))).toThrow(ShapeError);
      expect(() => fm.mul(scalar)).toThrow(/must be a scalar.*shape \[2/);
    } else {
      const before = tf.memory().numTensors;
      const p = fromLeft ? fm.mul(scalar) : fm.rmul(scalar);
      expect(tf.memory().numTensors - before).toBe(2);
      expectClose(p.AB, times(mm(a, b)));
      // TL: implementation-dependent — the scalar multiplies the A factor.
      expectClose(p.A, times(a), 1e-6, 1e-6);
      expectClose(p.B, b, 0, 0);
      p.dispose();
    }
    fm.dispose();
  });
});
