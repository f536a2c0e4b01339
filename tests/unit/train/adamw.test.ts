/**
 * AdamW against hand-computed steps (torch.optim.AdamW: p ← p(1 − lr·λ), then the Adam step with
 * bias correction), the decay filters (rank rule; names), and the warm-up ratio of the schedule.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError } from '../../../src/errors.js';
import { lrAt } from '../../../src/ops/optimizer.js';
import { createAdamW, decayExceptNames } from '../../../src/train/adamw.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

/** Hand AdamW on one scalar parameter over a sequence of gradients (torch semantics). */
function handAdamW(p0: number, grads: number[], lr: number, wd: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number {
  let [p, m, v] = [p0, 0, 0];
  grads.forEach((g, i) => {
    const t = i + 1;
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    p -= (lr * (m / (1 - b1 ** t))) / (Math.sqrt(v / (1 - b2 ** t)) + eps);
  });
  return p;
}

/** Apply gradient sequences to a matrix W [1, 2] and a bias b [2] through the optimizer. */
function run(decayFilter: Parameters<typeof createAdamW>[1] = {}): { W: number[]; b: number[] } {
  const W = tf.variable(tf.tensor2d([[1, -2]]), true, 'adamw_test.W');
  const b = tf.variable(tf.tensor1d([0.5, 3]), true, 'adamw_test.b');
  const opt = createAdamW(0.1, { weightDecay: 0.5, ...decayFilter });
  for (const [gw, gb] of [[[0.5, -0.1], [1, 2]], [[-0.3, 0.2], [0.5, -1]]] as const) {
    tf.tidy(() => opt.applyGradients([
      { name: 'adamw_test.W', tensor: tf.tensor2d([[...gw]]) },
      { name: 'adamw_test.b', tensor: tf.tensor1d([...gb]) },
    ]));
  }
  const out = { W: Array.from(W.dataSync()), b: Array.from(b.dataSync()) };
  tf.dispose([W, b]);
  opt.dispose();
  return out;
}

describe('createAdamW', () => {
  it('takes two torch-AdamW steps: matrices decay, rank-1 variables do not', () => {
    const r = run();
    expect(r.W[0]).toBeCloseTo(handAdamW(1, [0.5, -0.3], 0.1, 0.5), 5);
    expect(r.W[1]).toBeCloseTo(handAdamW(-2, [-0.1, 0.2], 0.1, 0.5), 5);
    expect(r.b[0]).toBeCloseTo(handAdamW(0.5, [1, 0.5], 0.1, 0), 5);
    expect(r.b[1]).toBeCloseTo(handAdamW(3, [2, -1], 0.1, 0), 5);
  });

  it('decays by name with decayExceptNames', () => {
    const r = run({ decayFilter: decayExceptNames(/\.W$/) });
    expect(r.W[0]).toBeCloseTo(handAdamW(1, [0.5, -0.3], 0.1, 0), 5);
    expect(r.b[1]).toBeCloseTo(handAdamW(3, [2, -1], 0.1, 0.5), 5);
  });

  it('leaks no tensors per step once its moments exist', () => {
    const W = tf.variable(tf.tensor2d([[1, -2]]), true, 'adamw_leak.W');
    const opt = createAdamW(0.01);
    const step = (): void => tf.tidy(() => opt.applyGradients([{ name: 'adamw_leak.W', tensor: tf.ones([1, 2]) }]));
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    W.dispose();
    opt.dispose();
  });

  it('rejects bad hyper-parameters', () => {
    expect(() => createAdamW(0)).toThrow(ConfigError);
    expect(() => createAdamW(1e-3, { weightDecay: -1 })).toThrow(/weightDecay/);
    expect(() => createAdamW(1e-3, { beta2: 1 })).toThrow(/beta1 and beta2/);
  });
});

describe('lrAt warmupRatio', () => {
  it('warms up over ceil(ratio · totalSteps) steps, as HF warmup_ratio', () => {
    const s = { lr: 1, totalSteps: 95, warmupRatio: 0.1, decay: 'linear', minRatio: 0 } as const;
    expect(lrAt(s, 4)).toBeCloseTo(lrAt({ lr: 1, totalSteps: 95, warmupSteps: 10, decay: 'linear', minRatio: 0 }, 4), 12);
    expect(lrAt(s, 4)).toBeCloseTo(0.5, 12); // warm-up of 10 steps: (4 + 1) / 10
    expect(lrAt(s, 10)).toBe(1);
  });

  it('rejects a ratio outside [0, 1) or both warm-up fields', () => {
    expect(() => lrAt({ lr: 1, totalSteps: 10, warmupRatio: 1 }, 0)).toThrow(ConfigError);
    expect(() => lrAt({ lr: 1, totalSteps: 10, warmupRatio: 0.1, warmupSteps: 2 }, 0)).toThrow(/not both/);
  });
});
