/**
 * Port of TransformerLens v2.18.0 tests/unit/test_utils.py `TestSlice` (test_modularity_shape,
 * test_modularity_tensor, test_indices, test_indices_error), one `it` per parametrised case.
 * TL's inputs map as: Python list → number[]; tuple `(1,)` → `Slice.fromTuple([1])`;
 * `torch.tensor([0])` → int32 tensor [1]; `np.array([0])` → Int32Array; `torch.tensor(0)` →
 * rank-0 int32 tensor; `None` → null. TL compares with broadcasting (`(a == b).all()`), kept here.
 * Extra cases (not in TL) check Python slice semantics with negative bounds and steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError } from '../../src/errors.js';
import { Slice, type SliceInput } from '../../src/utils/slice.js';
import { expectNoLeak } from '../helpers/memory.js';

let ref: tf.Tensor;
const shape = [2, 5];
const shape2 = [1, 5];
const shape1 = [5];
const row0dim2 = [[1, 2, 3, 4, 5]];
const row0dim1 = [1, 2, 3, 4, 5];

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  ref = tf.tensor2d([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], [2, 5], 'int32');
});
afterAll(() => ref.dispose());

/** The TL inputs, built lazily (tensors need the backend). */
type Case = [string, () => SliceInput | Slice];
const inputs: Record<string, () => SliceInput | Slice> = {
  'list [0]': () => [0],
  'tuple (1,)': () => Slice.fromTuple([1]),
  'torch.tensor([0])': () => tf.tensor1d([0], 'int32'),
  'np.array([0])': () => Int32Array.from([0]),
  'int 0': () => 0,
  'torch.tensor(0)': () => tf.scalar(0, 'int32'),
  None: () => null,
};
const withSlice = <T>(make: () => SliceInput | Slice, fn: (s: Slice) => T): T => {
  const input = make();
  try {
    return fn(input instanceof Slice ? input : new Slice(input));
  } finally {
    if (input instanceof tf.Tensor) input.dispose();
  }
};

/** `(a == b).all()` with broadcasting, as TL's assertion. */
function allEqualBroadcast(a: tf.Tensor, expected: number[] | number[][]): boolean {
  return tf.tidy(() => tf.all(tf.equal(a, tf.tensor(expected, undefined, 'int32'))).dataSync()[0] === 1);
}

describe('TestSlice', () => {
  const shapeCases: [keyof typeof inputs, number[]][] = [
    ['list [0]', shape2],
    ['tuple (1,)', shape2],
    ['torch.tensor([0])', shape2],
    ['np.array([0])', shape2],
    ['int 0', shape1],
    ['torch.tensor(0)', shape1],
    ['None', shape],
  ];
  for (const [name, expected] of shapeCases) {
    it(`test_modularity_shape [${name}]`, () => {
      const out = withSlice(inputs[name] as Case[1], (s) => expectNoLeak(() => s.apply(ref), () => 1));
      expect(out.shape).toEqual(expected);
      out.dispose();
    });
  }

  const tensorCases: [keyof typeof inputs, number[] | number[][] | 'ref'][] = [
    ['list [0]', row0dim2],
    ['torch.tensor([0])', row0dim2],
    ['np.array([0])', row0dim1],
    ['int 0', row0dim1],
    ['torch.tensor(0)', row0dim1],
    ['None', 'ref'],
  ];
  for (const [name, expected] of tensorCases) {
    it(`test_modularity_tensor [${name}]`, () => {
      const out = withSlice(inputs[name] as Case[1], (s) => s.apply(ref));
      const want = expected === 'ref' ? (ref.arraySync() as number[][]) : expected;
      expect(allEqualBroadcast(out, want)).toBe(true);
      out.dispose();
    });
  }

  const indexCases: [string, () => SliceInput, number[]][] = [
    ['[0, 1]', () => [0, 1], [0, 1]],
    ['0', () => 0, [0]],
    ['torch.tensor(0)', () => tf.scalar(0, 'int32'), [0]],
  ];
  for (const [name, make, expected] of indexCases) {
    it(`test_indices [${name}]`, () => {
      expect(withSlice(make, (s) => s.indices(2))).toEqual(expected);
    });
  }

  it('test_indices_error', () => {
    expect(() => new Slice([0, 2, 5]).indices()).toThrow(ConfigError);
    expect(() => new Slice([0, 2, 5]).indices()).toThrow(/maxLength/);
  });
});

describe('Slice: Python slice semantics (beyond TL tests)', () => {
  const pyRange = (r: { start?: number | null; stop?: number | null; step?: number | null }, n: number): number[] => new Slice(r).indices(n);
  it('matches Python for negative bounds and steps', () => {
    // Expected values are Python's list(range(n))[start:stop:step].
    expect(pyRange({ step: -1 }, 5)).toEqual([4, 3, 2, 1, 0]);
    expect(pyRange({ start: -2 }, 5)).toEqual([3, 4]);
    expect(pyRange({ start: 3, stop: 0, step: -1 }, 5)).toEqual([3, 2, 1]);
    expect(pyRange({ start: -1, stop: -4, step: -2 }, 5)).toEqual([4, 2]);
    expect(pyRange({ start: 10, stop: -10, step: -3 }, 5)).toEqual([4, 1]);
    expect(pyRange({ start: 1, stop: 100, step: 2 }, 5)).toEqual([1, 3]);
    expect(pyRange({ start: 4, stop: 1 }, 5)).toEqual([]);
    expect(Slice.fromTuple([1, 3]).indices(5)).toEqual([1, 2]);
    expect(Slice.fromTuple([null, null, -2]).indices(5)).toEqual([4, 2, 0]);
    expect(() => new Slice({ step: 0 }).indices(3)).toThrow(ConfigError);
  });

  it('apply with a negative step reverses along any axis, and empty ranges keep the axis', () => {
    const rev = new Slice({ step: -1 }).apply(ref, -1);
    expect(rev.arraySync()).toEqual([[5, 4, 3, 2, 1], [10, 9, 8, 7, 6]]);
    const empty = new Slice({ start: 3, stop: 1 }).apply(ref, 1);
    expect(empty.shape).toEqual([2, 0]);
    const neg = new Slice(-1).apply(ref, 0);
    expect(neg.arraySync()).toEqual([6, 7, 8, 9, 10]);
    tf.dispose([rev, empty, neg]);
    expect(() => new Slice(2).apply(ref, 0)).toThrow(/out of range/);
    expect(() => new Slice([0]).apply(ref, 2)).toThrow(/dim 2/);
  });

  it('non-integer range bounds are a ConfigError, not a read outside the tensor', () => {
    for (const r of [{ start: 0.5 }, { start: Number.NaN }, { stop: 'a' }, { stop: 2.5 }]) {
      expect(() => new Slice(r as never)).toThrow(ConfigError);
    }
  });
});
