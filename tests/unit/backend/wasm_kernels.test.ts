/**
 * The in-place wasm kernels (src/backend/wasm_kernels.ts): Slice, Tile and row GatherV2 copy the same
 * elements as their definitions, for every rank and dtype they take, and leave no tensors behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { copySlice, copyTile, wasmKernelsInstalled } from '../../../src/backend/wasm_kernels.js';
import { ShapeError } from '../../../src/errors.js';

beforeAll(async () => {
  await initBackend('wasm', { quiet: true });
});

/** An op by definition: output element at loc ← input element at map(loc) (tfjs's index helpers). */
function byDefinition(x: ArrayLike<number>, shape: number[], outShape: number[], map: (loc: number[]) => number[]): number[] {
  const inStrides = tf.util.computeStrides(shape);
  const outStrides = tf.util.computeStrides(outShape);
  return Array.from({ length: tf.util.sizeFromShape(outShape) }, (_, i) =>
    x[tf.util.locToIndex(map(tf.util.indexToLoc(i, outShape.length, outStrides)), shape.length, inStrides)] as number);
}

/** Slice by definition: every output index mapped back to the input. */
function naiveSlice(x: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  return byDefinition(x, shape, size, (loc) => loc.map((c, a) => c + (begin[a] as number)));
}

describe('in-place wasm Slice kernel', () => {
  it('is installed by initBackend on wasm', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmKernelsInstalled()).toBe(true);
  });

  const cases: [number[], number[], number[]][] = [
    [[7], [2], [4]],
    [[5, 9], [1, 3], [3, 4]],
    [[5, 9], [2, 0], [2, 9]],
    [[4, 5, 6], [1, 2, 1], [2, 3, 4]],
    [[3, 4, 5, 6], [1, 0, 2, 3], [2, 4, 2, 3]],
    [[2, 3, 4, 5, 6], [1, 1, 0, 2, 1], [1, 2, 4, 3, 5]],
  ];
  for (const [shape, begin, size] of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      it(`slices ${dtype} [${shape.join(',')}] from [${begin.join(',')}] size [${size.join(',')}] as defined`, () => {
        const n = tf.util.sizeFromShape(shape);
        const vals = Array.from({ length: n }, (_, i) => (dtype === 'bool' ? i % 3 === 0 ? 1 : 0 : i * 7 - 11));
        const x = tf.tensor(vals, shape, dtype);
        const before = tf.memory().numTensors;
        const y = tf.slice(x, begin, size);
        expect(tf.memory().numTensors).toBe(before + 1);
        expect(y.dtype).toBe(dtype);
        expect(y.shape).toEqual(size);
        expect(Array.from(y.dataSync())).toEqual(naiveSlice(vals, shape, begin, size));
        tf.dispose([x, y]);
      });
    }
  }

  it('handles empty slices and string tensors (original kernel)', () => {
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const e = tf.slice(x, [1, 0], [0, 2]);
    expect(e.shape).toEqual([0, 2]);
    const s = tf.tensor1d(['a', 'b', 'c'], 'string');
    expect(tf.slice(s, [1], [2]).arraySync()).toEqual(['b', 'c']);
    tf.dispose([x, e, s]);
  });

  it('copySlice copies rows of the last axis with an odometer over the outer axes', () => {
    const x = Float32Array.from({ length: 24 }, (_, i) => i);
    const out = new Float32Array(4);
    copySlice(x, [2, 3, 4], [1, 1, 2], [1, 2, 2], out);
    expect(Array.from(out)).toEqual([18, 19, 22, 23]);
  });
});

/** Tile by definition: out[i…] = x[i mod shape…]. */
function naiveTile(x: ArrayLike<number>, shape: number[], reps: number[]): number[] {
  return byDefinition(x, shape, shape.map((d, i) => d * (reps[i] as number)), (loc) => loc.map((c, a) => c % (shape[a] as number)));
}

describe('in-place wasm Tile kernel', () => {
  const cases: [number[], number[]][] = [
    [[3], [4]],
    [[2, 3], [3, 2]],
    [[1, 5, 4], [6, 1, 1]],
    [[2, 3, 1, 4], [1, 1, 5, 1]],
    [[2, 1, 3, 2, 2], [2, 3, 1, 2, 1]],
  ];
  for (const [shape, reps] of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      it(`tiles ${dtype} [${shape.join(',')}] by [${reps.join(',')}] as defined`, () => {
        const vals = Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => (dtype === 'bool' ? i % 2 : i * 3 - 7));
        const x = tf.tensor(vals, shape, dtype);
        const before = tf.memory().numTensors;
        const y = tf.tile(x, reps);
        expect(tf.memory().numTensors).toBe(before + 1);
        expect(y.shape).toEqual(shape.map((d, i) => d * (reps[i] as number)));
        expect(Array.from(y.dataSync())).toEqual(naiveTile(vals, shape, reps));
        tf.dispose([x, y]);
      });
    }
  }

  it('copyTile repeats the last axis and wraps the outer ones', () => {
    const out = new Float32Array(12);
    copyTile(Float32Array.from([1, 2, 3]), [1, 3], [2, 2], out);
    expect(Array.from(out)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });
});

describe('in-place wasm GatherV2 kernel (rows)', () => {
  it('gathers rows of float32/int32 tables for 1-D and 2-D indices as tf.gather defines, with repeats', () => {
    const table = tf.tensor3d(Array.from({ length: 5 * 2 * 3 }, (_, i) => i), [5, 2, 3]);
    const itable = tf.tensor2d(Array.from({ length: 5 * 4 }, (_, i) => 100 - i), [5, 4], 'int32');
    const before = tf.memory().numTensors;
    const a = tf.gather(table, tf.tensor1d([4, 0, 4, 2], 'int32'));
    const b = tf.gather(itable, tf.tensor2d([[1, 3], [3, 0]], [2, 2], 'int32'));
    expect(a.shape).toEqual([4, 2, 3]);
    expect(b.shape).toEqual([2, 2, 4]);
    const rows = (t: tf.Tensor, r: number): number[] => Array.from(t.dataSync()).slice(r * (t.size / (t.shape[0] as number)), (r + 1) * (t.size / (t.shape[0] as number)));
    expect(Array.from(a.dataSync())).toEqual([...rows(table, 4), ...rows(table, 0), ...rows(table, 4), ...rows(table, 2)]);
    expect(Array.from(b.dataSync())).toEqual([...rows(itable, 1), ...rows(itable, 3), ...rows(itable, 3), ...rows(itable, 0)]);
    expect(tf.memory().numTensors).toBe(before + 4); // a, b and the two index tensors
    tf.dispose([table, itable, a, b]);
  });

  it('rejects an out-of-range index with a ShapeError; other axes use the original kernel', () => {
    const table = tf.tensor2d([[1, 2], [3, 4]]);
    const bad = tf.tensor1d([2], 'int32');
    expect(() => tf.gather(table, bad)).toThrow(ShapeError);
    const cols = tf.gather(table, tf.tensor1d([1, 1, 0], 'int32'), 1);
    expect(cols.arraySync()).toEqual([[2, 2, 1], [4, 4, 3]]);
    tf.dispose([table, bad, cols]);
  });
});
