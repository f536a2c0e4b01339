/** Shared helpers of the ported TransformerLens FactoredMatrix tests. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

let seed = 1000;
/** torch.randn: a standard-normal tensor (a fresh seed each call, reproducible per run). */
export const randn = (...shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed++);
/** torch.rand: uniform in [0, 1). */
export const rand = (...shape: number[]): tf.Tensor => tf.randomUniform(shape, 0, 1, 'float32', seed++);

/** einops `repeat(t, "x y -> b... x y")`: copies of t stacked over new leading dims. */
export const repeatLead = (t: tf.Tensor, lead: number[]): tf.Tensor => tf.broadcastTo(t, [...lead, ...t.shape]);

/** Plain `a @ b` with tfjs (broadcasting batch dims), independent of FactoredMatrix. */
export const mm = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.matMul(a, b);

/** torch.testing.assert_close / allclose: same shape, |a − b| ≤ atol + rtol·|b| everywhere. */
export function expectClose(a: tf.Tensor | number, b: tf.Tensor | number, atol = 1e-4, rtol = 1e-4): void {
  const ta = typeof a === 'number' ? tf.scalar(a) : a;
  const tb = typeof b === 'number' ? tf.scalar(b) : b;
  expect(ta.shape).toEqual(tb.shape);
  const x = ta.dataSync();
  const y = tb.dataSync();
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs((x[i] as number) - (y[i] as number));
    if (!(d <= atol + rtol * Math.abs(y[i] as number))) {
      throw new Error(`not close at flat index ${i}: ${x[i]} vs ${y[i]} (shape [${ta.shape.join(', ')}])`);
    }
  }
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
}

/** Exact equality (torch.equal). */
export function expectEqual(a: tf.Tensor, b: tf.Tensor): void {
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
}
