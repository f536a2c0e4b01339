/**
 * The text benchmark's plumbing: dataset definitions over the shipped corpora, the feature cache
 * (hit, force, atomic, nothing written on failure), the run on features (all detectors, no leaks),
 * the result table, and bad input: missing / empty files, an empty text row, NaN features, a
 * one-class test or validation set.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, DatasetError, NotFoundError } from '../../../src/errors.js';
import { resolveProbeTextOptions } from '../../../src/cli/commands/probe.js';
import { cachedFeatures, featureCachePath, hashTexts, modelRevision, type FeatureCacheKey } from '../../../src/probe/feature_cache.js';
import type { FeatureMatrix } from '../../../src/probe/matrix.js';
import { textResultsTable } from '../../../src/cli/probe_bench/report.js';
import { runTextProbe } from '../../../src/cli/probe_bench/text_bench.js';
import { loadProbeDataset } from '../../../src/probe/text_datasets.js';
import { seededRng } from '../../../src/utils/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-probe-text-'));
beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gaussRows(n: number, d: number, shift: number, seed: number): FeatureMatrix {
  const rand = seededRng(seed);
  const g = (): number => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  // Correlated normal data on a 4-D subspace plus noise; anomalies leave the subspace.
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const z = [g(), g(), g(), g()];
    for (let j = 0; j < d; j++) data[i * d + j] = (z[j % 4] as number) * (1 + j / d) + 0.1 * g() + (j % 3 === 0 ? shift * g() : 0);
  }
  return { rows: n, cols: d, data };
}

describe('text datasets', () => {
  it('sms_spam from the shipped corpus: caps, balance, labels', async () => {
    const ds = await loadProbeDataset('sms_spam', { maxTrain: 50, maxTest: 20 });
    expect(ds.trainTexts.length).toBe(50);
    expect(ds.testLabels).toEqual([...new Array(10).fill(0), ...new Array(10).fill(1)]);
    expect(ds.available).toEqual({ trainNormal: 3845, testNormal: 982, testAnomaly: 747 });
    const again = await loadProbeDataset('sms_spam', { maxTrain: 50, maxTest: 20 });
    expect(again.trainTexts).toEqual(ds.trainTexts);
  });

  it('missing file, empty file, empty text row, one-class file: typed errors', async () => {
    await expect(loadProbeDataset('sms_spam', { paths: { smsSpam: join(dir, 'nope.tsv') } })).rejects.toThrow(NotFoundError);
    writeFileSync(join(dir, 'empty.tsv'), '');
    await expect(loadProbeDataset('sms_spam', { paths: { smsSpam: join(dir, 'empty.tsv') } })).rejects.toThrow(DatasetError);
    writeFileSync(join(dir, 'blank.tsv'), 'ham\thello there\nspam\t \nham\tok\n');
    await expect(loadProbeDataset('sms_spam', { paths: { smsSpam: join(dir, 'blank.tsv') } })).rejects.toThrow(/line 2: empty text/);
    writeFileSync(join(dir, 'hamonly.tsv'), Array.from({ length: 20 }, (_, i) => `ham\tmessage ${i}`).join('\n'));
    await expect(loadProbeDataset('sms_spam', { paths: { smsSpam: join(dir, 'hamonly.tsv') } })).rejects.toThrow(/needs both classes — got \d+ normal and 0 anomalous/);
    mkdirSync(join(dir, 'imdb'));
    await expect(loadProbeDataset('imdb', { paths: { imdbDir: join(dir, 'imdb') } })).rejects.toThrow(NotFoundError);
    await expect(loadProbeDataset('nope' as 'imdb')).rejects.toThrow(ConfigError);
  });
});

describe('feature cache', () => {
  const key: FeatureCacheKey = { model: 'm', revision: 'r1', hookName: 'blocks.0.attn.hook_q', dataset: 'sms_spam/train', maxLength: 128, textsHash: hashTexts(['a', 'b']) };
  const feats: FeatureMatrix = { rows: 2, cols: 3, data: Float32Array.of(1, 2, 3, 4, 5, 6) };

  it('miss computes and writes; hit reuses; force and another key recompute', async () => {
    const cache = join(dir, 'cache');
    let calls = 0;
    const compute = (): FeatureMatrix => {
      calls++;
      return feats;
    };
    const a = await cachedFeatures(cache, key, compute);
    const b = await cachedFeatures(cache, key, compute);
    expect([a.hit, b.hit, calls]).toEqual([false, true, 1]);
    expect(b.features.data).toEqual(feats.data);
    await cachedFeatures(cache, key, compute, { force: true });
    await cachedFeatures(cache, { ...key, revision: 'r2' }, compute);
    await cachedFeatures(cache, { ...key, maxLength: 64 }, compute);
    expect(calls).toBe(4);
    expect(readdirSync(cache).filter((f) => f.endsWith('.safetensors')).length).toBe(3);
    expect(readdirSync(cache).some((f) => f.endsWith('.tmp'))).toBe(false);
    expect(featureCachePath(cache, key)).toMatch(/sms_spam-train__m__blocks.0.attn.hook_q__len128__[0-9a-f]{16}\.safetensors$/);
    expect(hashTexts(['ab'])).not.toBe(hashTexts(['a', 'b']));
    expect(await modelRevision('tests/fixtures/distilbert-tiny')).toMatch(/^local-[0-9a-f]{12}$/);
    expect(await modelRevision('org/some-hub-model', 'v1')).toBe('v1');
  });

  it('NaN features or a failing extraction leave no cache file', async () => {
    const cache = join(dir, 'cache-bad');
    const nan = { rows: 1, cols: 2, data: Float32Array.of(0, NaN) };
    await expect(cachedFeatures(cache, key, () => nan)).rejects.toThrow(DatasetError);
    await expect(cachedFeatures(cache, key, () => nan)).rejects.toThrow(/NaN at row 0, column 1/);
    await expect(cachedFeatures(cache, key, () => {
      throw new DatasetError('boom');
    })).rejects.toThrow('boom');
    expect(() => readdirSync(cache)).toThrow(); // never created
  });
});

const get0 = (r: { detectors: { name: string; chosen?: string }[] }, n: string): { chosen?: string } | undefined => r.detectors.find((d) => d.name === n);

describe('runTextProbe', () => {
  it('trains on normal rows, scores every detector, beats chance on shifted data, leaks nothing', () => {
    const trainX = gaussRows(240, 12, 0, 1);
    const testX = { rows: 80, cols: 12, data: Float32Array.from([...gaussRows(40, 12, 0, 2).data, ...gaussRows(40, 12, 1.5, 3).data]) };
    const testLabels = [...new Array<0>(40).fill(0), ...new Array<1>(40).fill(1)];
    const devX = { rows: 40, cols: 12, data: Float32Array.from([...gaussRows(20, 12, 0, 4).data, ...gaussRows(20, 12, 1.5, 5).data]) };
    const devLabels = [...new Array<0>(20).fill(0), ...new Array<1>(20).fill(1)];
    const before = tf.memory().numTensors;
    const r = runTextProbe({ trainX, devX, devLabels, testX, testLabels, pseudoPerplexity: { testIdx: [0, 1, 40, 41], scores: [1, 2, 3, 4], trainScores: [1, 1.5, 2] } }, {
      vae: { dLatent: 4, hidden: [32, 16] }, train: { epochs: 200, seed: 0 }, quiet: true,
    });
    expect(tf.memory().numTensors - before).toBe(r.vae.numTensors);
    const names = r.detectors.map((d) => d.name);
    expect(names).toEqual(['vae_recon', 'vae_neg_elbo', 'vae_latent_mahalanobis', 'mahalanobis', 'knn', 'pca', 'pseudo_perplexity', 'vae_recon@ppl_subset', 'ensemble_rank_avg', 'vae_dev_pick', 'best_on_dev']);
    expect(['vae_recon', 'vae_neg_elbo']).toContain(r.choices.vae_dev_pick.name);
    expect(get0(r, 'best_on_dev')?.chosen).toBe(r.choices.best_on_dev.name);
    const get = (n: string) => r.detectors.find((d) => d.name === n);
    expect(get('vae_recon')?.auroc).toBeGreaterThan(0.9);
    expect(get('mahalanobis')?.auroc).toBeGreaterThan(0.9);
    expect(get('pseudo_perplexity')).toMatchObject({ n: 4, auroc: 1 });
    expect(r.testLatent.cols).toBe(4);
    expect(r.training.trainIdx.length + r.training.valIdx.length).toBe(240);
    const table = textResultsTable([{ dataset: 'sms_spam', nTest: [40, 40], auroc: { vae_recon: 0.9, mahalanobis: 0.8 }, aupr: {}, f1: {} }], ['vae_recon', 'mahalanobis']);
    expect(table).toContain('| sms_spam | 40/40 | 0.747 | 0.900 | 0.800 |');
    r.vae.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('bad features: NaN, width mismatch, one-class test labels', () => {
    const ok = gaussRows(20, 4, 0, 5);
    const bad = { rows: 2, cols: 4, data: Float32Array.of(0, 0, 0, 0, 0, NaN, 0, 0) };
    const dev = { devX: gaussRows(4, 4, 0, 2), devLabels: [0, 0, 1, 1] as (0 | 1)[] };
    expect(() => runTextProbe({ trainX: bad, testX: ok, testLabels: [], ...dev }, { quiet: true })).toThrow(/NaN at row 1, column 1/);
    expect(() => runTextProbe({ trainX: ok, testX: gaussRows(4, 3, 0, 1), testLabels: [0, 0, 1, 1], ...dev }, { quiet: true })).toThrow();
    const before = tf.memory().numTensors;
    expect(() => runTextProbe({ trainX: ok, testX: gaussRows(4, 4, 0, 1), testLabels: [0, 0, 0, 0], ...dev }, { train: { epochs: 2 }, quiet: true })).toThrow(/need both classes/);
    expect(tf.memory().numTensors).toBe(before); // the VAE is freed on failure
  });

  it('CLI options: defaults and typed errors', () => {
    const o = resolveProbeTextOptions({ json: false, positionals: ['probe'] });
    expect(o).toMatchObject({ model: 'distilbert-mini', datasets: ['sms_spam', 'imdb', 'ag_news', 'liar'], layer: 0, hook: 'q', maxLength: 128, maxTrain: 1000, maxDev: 300, maxTest: 500, seeds: 3, epochs: 60 });
    expect(resolveProbeTextOptions({ json: false, positionals: ['probe'], dataset: 'imdb', epochs: '5' })).toMatchObject({ datasets: ['imdb'], epochs: 5 });
    expect(() => resolveProbeTextOptions({ json: false, positionals: ['probe'], dataset: 'mnist' })).toThrow(ConfigError);
    expect(() => resolveProbeTextOptions({ json: false, positionals: ['probe'], epochs: 'x' })).toThrow(/--epochs must be an integer ≥ 1, got 'x'/);
    expect(resolveProbeTextOptions({ json: false, positionals: ['probe'], dataset: 'fake_news' })).toMatchObject({ datasets: ['liar'] });
  });
});
