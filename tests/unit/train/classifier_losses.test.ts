/**
 * Classification losses against hand computations: mean and class-weighted cross-entropy (torch
 * CrossEntropyLoss semantics), focal loss (γ = 0, α = 1 is exactly cross-entropy), torchvision's
 * sigmoid focal loss, sklearn 'balanced' class weights; gradients, typed errors and no leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, DatasetError, ShapeError } from '../../../src/errors.js';
import { balancedClassWeights, crossEntropyLoss, focalLoss, sigmoidFocalLoss } from '../../../src/train/classifier_losses.js';
import { expectNoLeak } from '../../helpers/memory.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

const ROWS = [[1, 2, 3], [1, 0, 0], [0.5, -0.5, 2]];
const LABELS = [2, 0, 1];
/** −log softmax(row)_y by hand. */
const nll = (row: number[], y: number): number => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - (row[y] as number);
const p = (row: number[], y: number): number => Math.exp(-nll(row, y));
const NLL = ROWS.map((r, i) => nll(r, LABELS[i] as number));

function value(f: (logits: tf.Tensor2D) => tf.Scalar): number {
  const logits = tf.tensor2d(ROWS);
  const loss = expectNoLeak(() => f(logits), () => 1);
  const v = loss.dataSync()[0] as number;
  tf.dispose([logits, loss]);
  return v;
}

describe('crossEntropyLoss', () => {
  it('is the mean of −log p_y', () => {
    expect(value((l) => crossEntropyLoss(l, LABELS))).toBeCloseTo((NLL[0]! + NLL[1]! + NLL[2]!) / 3, 6);
  });

  it('with class weights is Σ w_y·nll / Σ w_y (torch CrossEntropyLoss(weight=w))', () => {
    const w = [1, 2, 3];
    const expected = (3 * NLL[0]! + 1 * NLL[1]! + 2 * NLL[2]!) / (3 + 1 + 2);
    expect(value((l) => crossEntropyLoss(l, LABELS, { classWeights: w }))).toBeCloseTo(expected, 6);
  });

  it('accepts an int32 label tensor', () => {
    const y = tf.tensor1d(LABELS, 'int32');
    expect(value((l) => crossEntropyLoss(l, y))).toBeCloseTo((NLL[0]! + NLL[1]! + NLL[2]!) / 3, 6);
    y.dispose();
  });

  it('has gradient (softmax − onehot) / batch', () => {
    const logits = tf.tensor2d(ROWS);
    const g = tf.grad((x: tf.Tensor) => crossEntropyLoss(x as tf.Tensor2D, LABELS))(logits);
    const got = g.arraySync() as number[][];
    ROWS.forEach((row, i) => {
      const z = row.reduce((s, v) => s + Math.exp(v), 0);
      row.forEach((v, c) => expect(got[i]![c]!).toBeCloseTo((Math.exp(v) / z - (c === LABELS[i] ? 1 : 0)) / 3, 6));
    });
    tf.dispose([logits, g]);
  });

  it('throws typed errors', () => {
    const logits = tf.tensor2d(ROWS);
    const flat = tf.tensor1d([1, 2]);
    expect(() => crossEntropyLoss(flat as unknown as tf.Tensor2D, [0])).toThrow(ShapeError);
    expect(() => crossEntropyLoss(logits, [0, 1])).toThrow(/2 labels for a batch of 3/);
    expect(() => crossEntropyLoss(logits, [0, 3, 1])).toThrow(DatasetError);
    expect(() => crossEntropyLoss(logits, [0, 1.5, 1])).toThrow(/label 1 is 1.5/);
    expect(() => crossEntropyLoss(logits, LABELS, { classWeights: [1, 2] })).toThrow(ShapeError);
    expect(() => crossEntropyLoss(logits, LABELS, { classWeights: [1, -2, 1] })).toThrow(ConfigError);
    tf.dispose([logits, flat]);
  });
});

describe('focalLoss', () => {
  it('with γ = 0 and α = 1 equals cross-entropy exactly', () => {
    expect(value((l) => focalLoss(l, LABELS, { gamma: 0, alpha: 1 }))).toBe(value((l) => crossEntropyLoss(l, LABELS)));
  });

  it('is mean of −α_y (1 − p_y)^γ log p_y', () => {
    const alpha = [0.25, 0.5, 0.75];
    const expected = ROWS.reduce((s, r, i) => {
      const y = LABELS[i] as number;
      return s + alpha[y]! * (1 - p(r, y)) ** 2 * nll(r, y);
    }, 0) / 3;
    expect(value((l) => focalLoss(l, LABELS, { gamma: 2, alpha }))).toBeCloseTo(expected, 6);
    const scalar = ROWS.reduce((s, r, i) => s + 0.5 * (1 - p(r, LABELS[i]!)) ** 1.5 * nll(r, LABELS[i]!), 0) / 3;
    expect(value((l) => focalLoss(l, LABELS, { gamma: 1.5, alpha: 0.5 }))).toBeCloseTo(scalar, 6);
  });

  it('rejects γ < 0 and α < 0', () => {
    const logits = tf.tensor2d(ROWS);
    expect(() => focalLoss(logits, LABELS, { gamma: -1 })).toThrow(ConfigError);
    expect(() => focalLoss(logits, LABELS, { alpha: -0.1 })).toThrow(/alpha must be/);
    expect(() => focalLoss(logits, LABELS, { alpha: [1, 1] })).toThrow(ShapeError);
    logits.dispose();
  });
});

describe('sigmoidFocalLoss', () => {
  it('matches torchvision sigmoid_focal_loss(reduction="mean") by hand', () => {
    const x = [0.5, -1, 2];
    const t = [1, 0, 0];
    const expected = x.reduce((s, xi, i) => {
      const pi = 1 / (1 + Math.exp(-xi));
      const ti = t[i] as number;
      const ce = -(ti * Math.log(pi) + (1 - ti) * Math.log(1 - pi));
      const pT = pi * ti + (1 - pi) * (1 - ti);
      const aT = 0.25 * ti + 0.75 * (1 - ti);
      return s + aT * ce * (1 - pT) ** 2;
    }, 0) / 3;
    const logits = tf.tensor1d(x);
    const loss = expectNoLeak(() => sigmoidFocalLoss(logits, t), () => 1);
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 6);
    expect(() => sigmoidFocalLoss(logits, [1, 0, 2])).toThrow(DatasetError);
    expect(() => sigmoidFocalLoss(logits, [1, 0])).toThrow(ShapeError);
    expect(() => sigmoidFocalLoss(logits, t, { alpha: 2 })).toThrow(ConfigError);
    tf.dispose([logits, loss]);
  });
});

describe('balancedClassWeights', () => {
  it('is n_samples / (n_classes · count_c), as sklearn compute_class_weight("balanced")', () => {
    const w = balancedClassWeights([0, 0, 0, 1], 2);
    expect(w[0]).toBeCloseTo(4 / 6, 12);
    expect(w[1]).toBe(2);
    expect(balancedClassWeights([0, 1, 2, 2, 2, 2], 3)).toEqual([2, 2, 0.5]);
  });

  it('throws for an empty class, a bad label or nClasses < 2', () => {
    expect(() => balancedClassWeights([0, 0], 2)).toThrow(/class 1 has no samples/);
    expect(() => balancedClassWeights([0, 2], 2)).toThrow(DatasetError);
    expect(() => balancedClassWeights([0], 1)).toThrow(ConfigError);
    expect(() => balancedClassWeights([], 2)).toThrow(DatasetError);
  });
});
