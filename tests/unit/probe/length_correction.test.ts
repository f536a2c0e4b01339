/**
 * Length and mean pooling: the token mean and √n pooling by hand; the length-only detector; and the
 * confound they address — texts whose tokens are drawn around a shifted mean but which are longer
 * than the normal ones look *more* normal to a detector on mean-pooled features, not on √n-pooled
 * ones. runTextProbe adds the three length detectors when token counts are given, without leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, ShapeError } from '../../../src/errors.js';
import { fitMahalanobis } from '../../../src/probe/baselines.js';
import { fitLengthDetector, lengthColumn, sqrtNPooled, tokenMean } from '../../../src/probe/length_correction.js';
import type { FeatureMatrix } from '../../../src/probe/matrix.js';
import { rocAuc } from '../../../src/probe/metrics.js';
import { runTextProbe } from '../../../src/cli/probe_bench/text_bench.js';
import { seededRng } from '../../../src/utils/rng.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

const m = (rows: number[][]): FeatureMatrix => ({ rows: rows.length, cols: rows[0]?.length ?? 0, data: Float32Array.from(rows.flat()) });

/** Mean-pooled "texts": n tokens drawn iid N(mean, 1) in d dims; returns pooled rows and counts. */
function pooledTexts(count: number, d: number, lengths: () => number, shift: number, seed: number): { x: FeatureMatrix; n: number[] } {
  const rand = seededRng(seed);
  const g = (): number => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const rows: number[][] = [];
  const n: number[] = [];
  for (let i = 0; i < count; i++) {
    const len = lengths();
    const sum = new Array<number>(d).fill(0);
    for (let t = 0; t < len; t++) for (let j = 0; j < d; j++) sum[j] = (sum[j] as number) + 1 + (j === 0 ? shift : 0) + g();
    rows.push(sum.map((s) => s / len));
    n.push(len);
  }
  return { x: m(rows), n };
}

describe('length correction', () => {
  it('token mean and √n pooling equal a hand computation', () => {
    const x = m([[1, 2], [4, 0]]);
    const mu = tokenMean(x, [1, 3]);
    expect(Array.from(mu)).toEqual([(1 + 12) / 4, 2 / 4]);
    const z = sqrtNPooled(x, [1, 3], mu);
    expect(z.data[0]).toBeCloseTo(1 - 3.25, 6);
    expect(z.data[3]).toBeCloseTo((0 - 0.5) * Math.sqrt(3), 6);
  });

  it('the length detector scores unusual lengths (short or long) above typical ones', () => {
    const d = fitLengthDetector([10, 12, 9, 11, 10, 13, 8, 10]);
    const [typical, short, long] = d.score(lengthColumn([10, 2, 60]));
    expect(short).toBeGreaterThan(typical as number);
    expect(long).toBeGreaterThan(typical as number);
  });

  it('bad input: mismatched counts, non-positive counts, too few training lengths', () => {
    const x = m([[1, 2], [3, 4]]);
    expect(() => tokenMean(x, [1])).toThrow(ShapeError);
    expect(() => tokenMean(x, [1, 0])).toThrow(ConfigError);
    expect(() => sqrtNPooled(x, [1, 2], new Float64Array(3))).toThrow(ShapeError);
    expect(() => fitLengthDetector([5])).toThrow(ConfigError);
  });

  it('removes the confound: longer shifted texts look normal when mean-pooled, anomalous when √n-pooled', () => {
    const rand = seededRng(9);
    const short = (): number => 4 + Math.floor(rand() * 8); // normal texts: 4…11 tokens
    const long = (): number => 60 + Math.floor(rand() * 40); // anomalies: 60…99 tokens, mean shifted by 0.4
    const train = pooledTexts(400, 6, short, 0, 1);
    const normal = pooledTexts(100, 6, short, 0, 2);
    const anomaly = pooledTexts(100, 6, long, 0.4, 3);
    const labels = [...new Array<0>(100).fill(0), ...new Array<1>(100).fill(1)];
    const test = m([...Array.from({ length: 200 }, (_, i) => Array.from((i < 100 ? normal.x : anomaly.x).data.subarray((i % 100) * 6, (i % 100) * 6 + 6)))]);
    const testN = [...normal.n, ...anomaly.n];
    const meanAuroc = rocAuc(fitMahalanobis(train.x).score(test), labels);
    const mu = tokenMean(train.x, train.n);
    const sqrtAuroc = rocAuc(fitMahalanobis(sqrtNPooled(train.x, train.n, mu)).score(sqrtNPooled(test, testN, mu)), labels);
    expect(meanAuroc).toBeLessThan(0.5);
    expect(sqrtAuroc).toBeGreaterThan(0.9);
  });

  it('runTextProbe adds length, vae_recon_sqrtn and mahalanobis_sqrtn, and leaks nothing', () => {
    const rand = seededRng(4);
    const len = (): number => 5 + Math.floor(rand() * 20);
    const train = pooledTexts(160, 8, len, 0, 5);
    const normal = pooledTexts(30, 8, len, 0, 6);
    const anomaly = pooledTexts(30, 8, len, 1.5, 7);
    const testX = { rows: 60, cols: 8, data: Float32Array.from([...normal.x.data, ...anomaly.x.data]) };
    const testLabels = [...new Array<0>(30).fill(0), ...new Array<1>(30).fill(1)];
    const [devN, devA] = [pooledTexts(10, 8, len, 0, 8), pooledTexts(10, 8, len, 1.5, 9)];
    const devX = { rows: 20, cols: 8, data: Float32Array.from([...devN.x.data, ...devA.x.data]) };
    const devLabels = [...new Array<0>(10).fill(0), ...new Array<1>(10).fill(1)];
    const before = tf.memory().numTensors;
    const r = runTextProbe({ trainX: train.x, devX, devLabels, testX, testLabels, lengths: { train: train.n, dev: [...devN.n, ...devA.n], test: [...normal.n, ...anomaly.n] } }, {
      vae: { dLatent: 4, hidden: [16] }, train: { epochs: 60, seed: 0 }, quiet: true,
    });
    expect(tf.memory().numTensors - before).toBe(r.vae.numTensors + (r.sqrtn?.vae.numTensors ?? NaN)); // both VAEs are returned
    const get = (n: string) => r.detectors.find((d) => d.name === n);
    expect(r.detectors.map((d) => d.name).slice(-5)).toEqual(['length', 'vae_recon_sqrtn', 'mahalanobis_sqrtn', 'vae_dev_pick', 'best_on_dev']);
    expect(get('mahalanobis_sqrtn')?.auroc).toBeGreaterThan(0.9);
    expect(get('vae_recon_sqrtn')?.auroc).toBeGreaterThan(0.8);
    expect(get('length')?.n).toBe(60);
    expect(r.sqrtn?.tokenMean.length).toBe(8);
    r.vae.dispose();
    r.sqrtn?.vae.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
