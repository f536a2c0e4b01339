/**
 * The two attention routes (batched kernel / per-head 2-D matmuls, attention_core.ts) compute the
 * same values and gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { attnMix, attnScores, perHeadRoute, PER_HEAD_MIN_POS, setAttentionRoute } from '../../../src/ops/attention_core.js';

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
