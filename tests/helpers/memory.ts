/** Leak checks (STYLE Convention 6): the tensor count delta must equal what a call returns. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

export function expectNoLeak<T>(fn: () => T, returned: (r: T) => number = () => 0): T {
  const before = tf.memory().numTensors;
  const r = fn();
  expect(tf.memory().numTensors - before).toBe(returned(r));
  return r;
}
