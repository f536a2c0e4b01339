/**
 * trainLoop's additions: the default path is the same Adam loop as before (compared with the loop
 * written out by hand), gradient accumulation equals one full-batch step, early stopping with
 * patience restores the best weights, and none of it leaks tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError } from '../../../src/errors.js';
import { createAdam } from '../../../src/ops/optimizer.js';
import { createAdamW } from '../../../src/train/adamw.js';
import { crossEntropyLoss } from '../../../src/train/classifier_losses.js';
import { trainLoop, trainLoopDetailed } from '../../../src/train/trainer.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

const X = [[1, 0], [0, 1], [1, 1], [-1, 0.5]];
const Y = [0, 1, 1, 0];

/** A linear classifier W [2, 2] + b [2] on rows `rows` of X. */
function model(seed: number): { vars: tf.Variable[]; loss: (rows: number[]) => tf.Scalar; dispose: () => void } {
  const W = tf.variable(tf.randomNormal([2, 2], 0, 1, 'float32', seed), true); // [d_in, n_classes]
  const b = tf.variable(tf.zeros([2]), true); // [n_classes]
  const loss = (rows: number[]): tf.Scalar => tf.tidy(() => {
    const x = tf.tensor2d(rows.map((r) => X[r] as number[])); // [batch, d_in]
    return crossEntropyLoss(tf.add(tf.matMul(x, W), b), rows.map((r) => Y[r] as number)); // [batch, n_classes]
  });
  return { vars: [W, b], loss, dispose: () => tf.dispose([W, b]) };
}

const values = (vs: tf.Variable[]): number[] => vs.flatMap((v) => Array.from(v.dataSync()));

describe('trainLoop', () => {
  it('without the new options is the plain clipped Adam loop', () => {
    const a = model(1);
    trainLoop({ variables: a.vars, loss: () => a.loss([0, 1, 2, 3]), optimizer: createAdam(0.05), schedule: { lr: 0.05, totalSteps: 5 }, clipNorm: 0.5, quiet: true });
    const b = model(1);
    const opt = createAdam(0.05);
    for (let s = 0; s < 5; s++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => b.loss([0, 1, 2, 3]), b.vars);
        const gs = Object.values(grads);
        const norm = Math.sqrt(gs.reduce((acc, g) => acc + (tf.sum(tf.square(g)).dataSync()[0] as number), 0));
        const scale = norm > 0.5 ? 0.5 / norm : 1;
        opt.applyGradients(Object.entries(grads).map(([name, g]) => ({ name, tensor: scale === 1 ? g : tf.mul(g, scale) })));
      });
    }
    const [va, vb] = [values(a.vars), values(b.vars)];
    va.forEach((v, i) => expect(v).toBeCloseTo(vb[i] as number, 6));
    a.dispose();
    b.dispose();
  });

  it('with accumulationSteps averages micro-batch gradients into one step', () => {
    const full = model(2);
    const hFull = trainLoop({ variables: full.vars, loss: () => full.loss([0, 1, 2, 3]), optimizer: createAdamW(0.05), schedule: { lr: 0.05, totalSteps: 3 }, quiet: true, logEvery: 1 });
    const acc = model(2);
    const halves = [[0, 1], [2, 3]];
    const hAcc = trainLoop({
      variables: acc.vars, loss: (_s, k) => acc.loss(halves[k] as number[]), optimizer: createAdamW(0.05),
      schedule: { lr: 0.05, totalSteps: 3 }, accumulationSteps: 2, quiet: true, logEvery: 1,
    });
    const [vf, va] = [values(full.vars), values(acc.vars)];
    vf.forEach((v, i) => expect(va[i]).toBeCloseTo(v, 5));
    hFull.forEach((m, i) => expect(hAcc[i]?.loss).toBeCloseTo(m.loss, 5));
    full.dispose();
    acc.dispose();
  });

  it('leaks no tensors with accumulation and early stopping', () => {
    const m = model(3);
    const opt = createAdam(0.01);
    const go = (): void => {
      trainLoopDetailed({
        variables: m.vars, loss: (_s, k) => m.loss([k, k + 2]), optimizer: opt, schedule: { lr: 0.01, totalSteps: 4 },
        accumulationSteps: 2, quiet: true, earlyStopping: { metric: (s) => -s, every: 1, patience: 2 },
      });
    };
    go(); // creates the optimizer's moments
    const before = tf.memory().numTensors;
    go();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
    opt.dispose();
  });
});

describe('trainLoopDetailed early stopping', () => {
  it('stops after `patience` evaluations without improvement and restores the best weights', () => {
    const m = model(4);
    const scripted = [0.1, 0.5, 0.4, 0.45, 0.3, 0.9];
    const seen: number[][] = [];
    const r = trainLoopDetailed({
      variables: m.vars, loss: () => m.loss([0, 1, 2, 3]), optimizer: createAdam(0.05), schedule: { lr: 0.05, totalSteps: 6 }, quiet: true,
      earlyStopping: { every: 1, patience: 3, metric: (s) => (seen.push(values(m.vars)), scripted[s] as number) },
    });
    expect(r.stoppedEarly).toBe(true);
    expect(r.stepsRun).toBe(5);
    expect(r.best).toEqual({ step: 1, value: 0.5 });
    expect(r.evaluations.map((e) => e.value)).toEqual([0.1, 0.5, 0.4, 0.45, 0.3]);
    expect(values(m.vars)).toEqual(seen[1]);
    m.dispose();
  });

  it("in 'min' mode with minDelta, and without restore", () => {
    const m = model(5);
    const scripted = [1, 0.95, 0.949, 0.948];
    const r = trainLoopDetailed({
      variables: m.vars, loss: () => m.loss([0, 1, 2, 3]), optimizer: createAdam(0.05), schedule: { lr: 0.05, totalSteps: 4 }, quiet: true,
      earlyStopping: { every: 2, patience: 1, mode: 'min', minDelta: 0.01, restoreBest: false, metric: (s) => scripted[s] as number },
    });
    expect(r.evaluations).toEqual([{ step: 1, value: 0.95 }, { step: 3, value: 0.948 }]);
    expect(r.best).toEqual({ step: 1, value: 0.95 });
    expect(r.stoppedEarly).toBe(false); // the last step is not an early stop
    m.dispose();
  });

  it('a loss that throws at micro-batch 1 leaks neither its graph nor the gradients of micro-batch 0', () => {
    const m = model(7);
    const n0 = tf.memory().numTensors;
    const loss = (step: number, micro: number): tf.Scalar => {
      if (step === 1 && micro === 1) throw new Error('bad batch');
      return m.loss(micro === 0 ? [0, 1] : [2, 3]);
    };
    const opt = createAdam(0.05);
    expect(() => trainLoop({ variables: m.vars, loss, optimizer: opt, schedule: { lr: 0.05, totalSteps: 3 }, accumulationSteps: 2, quiet: true })).toThrow('bad batch');
    opt.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    m.dispose();
  });

  it('rejects bad options', () => {
    const m = model(6);
    const base = { variables: m.vars, loss: () => m.loss([0]), optimizer: createAdam(0.01), schedule: { lr: 0.01, totalSteps: 1 }, quiet: true };
    expect(() => trainLoop({ ...base, accumulationSteps: 0 })).toThrow(ConfigError);
    expect(() => trainLoop({ ...base, earlyStopping: { metric: () => 0, every: 1, patience: 0 } })).toThrow(/patience/);
    expect(() => trainLoop({ ...base, earlyStopping: { metric: () => NaN, every: 1, patience: 1 } })).toThrow(/NaN/);
    m.dispose();
  });
});
