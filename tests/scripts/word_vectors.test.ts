/**
 * PPMI-SVD word vectors: the PPMI matrix by its definition on a hand-countable corpus, the
 * randomised SVD against an exact one, topic structure recovered from a two-topic corpus, and bad
 * options rejected.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError, ShapeError } from '../../src/errors.js';
import { ppmiMatrix, ppmiSvdVectors } from '../../scripts/lib/word_vectors.js';
import { seededRng } from '../../src/utils/rng.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

/** 300 documents of 30 tokens, each from one topic (ids 10–19 or 20–29) mixed with shared fillers 30–33. */
function twoTopicCorpus(seed: number): number[][] {
  const rng = seededRng(seed);
  return Array.from({ length: 300 }, (_, d) => {
    const base = d % 2 === 0 ? 10 : 20;
    return Array.from({ length: 30 }, () => (rng() < 0.3 ? 30 + Math.floor(rng() * 4) : base + Math.floor(rng() * 10)));
  });
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, i) => {
    const y = b[i] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  });
  return ab / Math.sqrt(aa * bb);
}

describe('ppmiMatrix', () => {
  it('matches the definition on a hand-countable corpus (window 1, alpha 1)', () => {
    // pairs at distance 1, weight 1: (1,2) (2,3) in doc 0, (1,2) in doc 1; 9 is excluded
    const { ids, counts, matrix } = ppmiMatrix([[1, 2, 3], [2, 1, 9]], { dim: 1, minCount: 1, window: 1, alpha: 1, exclude: new Set([9]) });
    expect(ids).toEqual([1, 2, 3]);
    expect(counts).toEqual([2, 2, 1]);
    // C = [[0,2,0],[2,0,1],[0,1,0]], row sums w = [2,3,1], total 6; PMI_ij = log(C_ij·6 / (w_i w_j))
    const at = (i: number, j: number): number => matrix[i * 3 + j] as number;
    expect(at(0, 1)).toBeCloseTo(Math.log((2 * 6) / (2 * 3)), 6);
    expect(at(1, 2)).toBeCloseTo(Math.log((1 * 6) / (3 * 1)), 6);
    expect(at(0, 0)).toBe(0);
    expect(at(0, 2)).toBe(0);
  });
});

describe('ppmiSvdVectors', () => {
  it('equals an exact truncated SVD (vectors·vectorsᵀ = U_k Σ_k U_kᵀ) without leaking tensors', () => {
    const docs = twoTopicCorpus(1);
    // k = 2: the top-2 subspace is well separated (σ = 6.49, 6.35, then 0.66), so U_k is unique up to rotation
    const opts = { dim: 2, minCount: 1, window: 3, seed: 3, oversample: 6, powerIterations: 2 };
    const before = tf.memory().numTensors;
    const wv = ppmiSvdVectors(docs, opts);
    expect(tf.memory().numTensors).toBe(before);
    const { matrix, ids } = ppmiMatrix(docs, opts);
    const n = ids.length;
    expect(n).toBe(24);
    const exact = new SingularValueDecomposition(Matrix.from1DArray(n, n, matrix));
    exact.diagonal.slice(0, 2).forEach((s, i) => expect(wv.singularValues[i]).toBeCloseTo(s, 3));
    const u = exact.leftSingularVectors.subMatrix(0, n - 1, 0, 1);
    const want = u.clone().mulRowVector(exact.diagonal.slice(0, 2)).mmul(u.transpose()); // ml-matrix row/column ops work in place
    const got = Matrix.from1DArray(n, 2, wv.vectors);
    const diff = got.mmul(got.transpose()).sub(want).abs().max();
    expect(diff).toBeLessThan(1e-3);
  });

  it('puts tokens of the same topic closer together than tokens of different topics', () => {
    const wv = ppmiSvdVectors(twoTopicCorpus(2), { dim: 4, minCount: 1 });
    const vec = (id: number): Float32Array => {
      const r = wv.ids.indexOf(id);
      return wv.vectors.subarray(r * 4, (r + 1) * 4);
    };
    let within = 0;
    let across = 0;
    for (let a = 10; a < 20; a++) {
      for (let b = a + 1; b < 20; b++) within += cosine(vec(a), vec(b)) + cosine(vec(a + 10), vec(b + 10));
      for (let b = 20; b < 30; b++) across += cosine(vec(a), vec(b));
    }
    within /= 90;
    across /= 100;
    expect(within).toBeGreaterThan(0.5);
    expect(across).toBeLessThan(within - 0.5);
  });

  it('rejects bad options and too small a vocabulary with typed errors', () => {
    const docs = [[1, 2, 3, 1, 2, 3]];
    expect(() => ppmiSvdVectors(docs, { dim: 0 })).toThrow(ConfigError);
    expect(() => ppmiSvdVectors(docs, { dim: 2, alpha: 0 })).toThrow(ConfigError);
    expect(() => ppmiSvdVectors(docs, { dim: 2, window: 1.5 })).toThrow(ConfigError);
    expect(() => ppmiSvdVectors(docs, { dim: 3, minCount: 1 })).toThrow(ShapeError);
  });
});
