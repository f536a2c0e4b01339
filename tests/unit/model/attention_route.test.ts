/**
 * The two attention routes (batched kernel / per-head 2-D matmuls, attention_core.ts) compute the
 * same values and gradients, and the in-place wasm Slice kernel (backend_kernels.ts) copies the
 * same elements as the definition of a slice.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend.js';
import { copySlice, wasmSliceInstalled } from '../../../src/backend_kernels.js';
import { attnMix, attnScores, perHeadRoute, PER_HEAD_MIN_POS, setAttentionRoute } from '../../../src/model/components/attention_core.js';

beforeAll(async () => {
  await initBackend('wasm', { quiet: true });
});

afterEach(() => {
  setAttentionRoute('auto');
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

/** Scores and z for one route, plus the gradients of a fixed scalar of both w.r.t. q, k, v. */
function run(r: 'batched' | 'perHead', q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor[] {
  setAttentionRoute(r);
  return tf.tidy(() => {
    const f = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor): tf.Tensor => {
      const s = attnScores(qq as tf.Tensor4D, kk as tf.Tensor4D);
      const z = attnMix(tf.softmax(s, -1) as tf.Tensor4D, vv as tf.Tensor4D);
      return tf.add(tf.sum(tf.mul(z, tf.sin(z))), tf.sum(tf.square(s)));
    };
    const s = attnScores(q, k);
    const z = attnMix(tf.softmax(s, -1) as tf.Tensor4D, v);
    const grads = tf.grads(f)([q, k, v]);
    return [s, z, ...grads];
  });
}

describe('attention routes', () => {
  it('per-head and batched routes agree on values and gradients (batch 2, pos 50, 3 heads)', () => {
    const [q, k, v] = [1, 2, 3].map((s) => tf.randomNormal([2, 50, 3, 8], 0, 1, 'float32', s) as tf.Tensor4D) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const before = tf.memory().numTensors;
    const a = run('batched', q, k, v);
    const b = run('perHead', q, k, v);
    expect(tf.memory().numTensors).toBe(before + 10);
    expect(a[0]?.shape).toEqual([2, 3, 50, 50]);
    expect(a[1]?.shape).toEqual([2, 50, 3, 8]);
    a.forEach((t, i) => {
      expect(b[i]?.shape).toEqual(t.shape);
      const scale = tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0] as number);
      expect(maxAbsDiff(t, b[i] as tf.Tensor), `output ${i}`).toBeLessThan(1e-5 * Math.max(1, scale));
    });
    tf.dispose([...a, ...b, q, k, v]);
  });

  it('auto takes the per-head route on wasm from PER_HEAD_MIN_POS positions', () => {
    expect(perHeadRoute(PER_HEAD_MIN_POS - 1)).toBe(false);
    expect(perHeadRoute(PER_HEAD_MIN_POS)).toBe(true);
    setAttentionRoute('batched');
    expect(perHeadRoute(1000)).toBe(false);
    expect(setAttentionRoute('perHead')).toBe('batched');
    expect(perHeadRoute(1)).toBe(true);
  });
});

/** Slice by definition: every output index mapped back to the input. */
function naiveSlice(x: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const strides = tf.util.computeStrides(shape);
  const out: number[] = [];
  const n = tf.util.sizeFromShape(size);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let off = 0;
    for (let a = size.length - 1; a >= 0; a--) {
      const c = rem % (size[a] as number);
      rem = Math.floor(rem / (size[a] as number));
      off += (c + (begin[a] as number)) * (a === size.length - 1 ? 1 : (strides[a] as number));
    }
    out.push(x[off] as number);
  }
  return out;
}

describe('in-place wasm Slice kernel', () => {
  it('is installed by initBackend on wasm', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmSliceInstalled()).toBe(true);
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
