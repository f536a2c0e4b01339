/**
 * The probe benchmark's protocol: deduplicated train/dev/test splits that never share a row or a
 * text, choices made on dev rows only (the choice function refuses test ids, and runTextProbe's
 * choices receive dev ids only), the bootstrap CI, and the TF-IDF baselines.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { DatasetError } from '../../../src/errors.js';
import { protocolCells, protocolTable, type SeedRun } from '../../../src/cli/probe_bench/report.js';
import { runTextProbe } from '../../../src/cli/probe_bench/text_bench.js';
import { aurocOverSeeds } from '../../../src/probe/bootstrap.js';
import { chooseOnDev } from '../../../src/probe/dev_choice.js';
import type { FeatureMatrix } from '../../../src/probe/matrix.js';
import { loadProbeSplits, normaliseProbeText } from '../../../src/probe/probe_splits.js';
import { fitTfidfKnn, fitTfidfSvd } from '../../../src/probe/text_baselines.js';
import { PROBE_DATASETS } from '../../../src/probe/text_datasets.js';
import { seededRng } from '../../../src/utils/rng.js';

beforeAll(async () => {
  await initBackend('cpu', { quiet: true });
});

function gaussRows(n: number, d: number, shift: number, seed: number): FeatureMatrix {
  const r = seededRng(seed);
  const g = (): number => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  return { rows: n, cols: d, data: Float32Array.from({ length: n * d }, () => g() + shift) };
}

describe('loadProbeSplits', () => {
  it('train, dev and test are disjoint in ids and in (normalised) text, for every dataset and seed', async () => {
    for (const name of PROBE_DATASETS) {
      for (const seed of [0, 1, 2]) {
        const s = await loadProbeSplits(name, { seed });
        const ids = [s.train.ids, s.dev.ids, s.test.ids];
        const all = ids.flat();
        expect(new Set(all).size).toBe(all.length);
        const texts = [s.train.texts, s.dev.texts, s.test.texts].flat().map(normaliseProbeText);
        expect(new Set(texts).size).toBe(texts.length);
        expect(s.dev.labels.filter((y) => y === 1).length).toBeGreaterThan(0);
        expect(s.test.labels.filter((y) => y === 0).length).toBeGreaterThan(0);
        expect(s.dedup.normal + s.dedup.normalDuplicates + s.dedup.crossClass).toBeGreaterThanOrEqual(s.dedup.normal);
      }
    }
  });

  it('is deterministic per seed, and seeds change the split', async () => {
    const [a, b, c] = [await loadProbeSplits('sms_spam', { seed: 1 }), await loadProbeSplits('sms_spam', { seed: 1 }), await loadProbeSplits('sms_spam', { seed: 2 })];
    expect(a.test.ids).toEqual(b.test.ids);
    expect(a.test.ids).not.toEqual(c.test.ids);
    expect(a.dedup).toEqual(c.dedup);
    expect(a.dedup.normalDuplicates + a.dedup.anomalyDuplicates).toBeGreaterThan(300); // the SMS file's exact repeats
  });
});

describe('dev-only choices', () => {
  it('chooseOnDev picks the best dev AUROC and refuses test ids', () => {
    const rows = { ids: [10, 11, 12, 13], labels: [0, 0, 1, 1] as (0 | 1)[] };
    const c = chooseOnDev(rows, [{ name: 'a', scores: [1, 2, 3, 4] }, { name: 'b', scores: [4, 3, 2, 1] }]);
    expect(c).toEqual({ name: 'a', devAuroc: { a: 1, b: 0 } });
    expect(() => chooseOnDev(rows, [{ name: 'a', scores: [1, 2, 3, 4] }], { forbidden: new Set([12]) })).toThrow(DatasetError);
    expect(() => chooseOnDev(rows, [{ name: 'a', scores: [1, 2, 3, 4] }], { forbidden: new Set([12]) })).toThrow(/row 12 is a test row/);
  });

  it('runTextProbe makes every choice on dev rows only (no test id ever reaches a choice)', () => {
    const trainX = gaussRows(120, 6, 0, 1);
    const devX = { rows: 20, cols: 6, data: Float32Array.from([...gaussRows(10, 6, 0, 2).data, ...gaussRows(10, 6, 1.5, 3).data]) };
    const testX = { rows: 30, cols: 6, data: Float32Array.from([...gaussRows(15, 6, 0, 4).data, ...gaussRows(15, 6, 1.5, 5).data]) };
    const devLabels = [...new Array<0>(10).fill(0), ...new Array<1>(10).fill(1)];
    const testLabels = [...new Array<0>(15).fill(0), ...new Array<1>(15).fill(1)];
    const ids = { dev: devLabels.map((_, i) => 500 + i), test: testLabels.map((_, i) => 900 + i) };
    const texts = {
      train: trainX.data.length > 0 ? Array.from({ length: 120 }, (_, i) => `normal text number ${i} about the weather today`) : [],
      dev: devLabels.map((y, i) => (y === 0 ? `normal weather text ${i}` : `buy cheap pills now ${i}`)),
      test: testLabels.map((y, i) => (y === 0 ? `the weather text ${i}` : `cheap pills buy ${i}`)),
    };
    const seen: number[][] = [];
    const before = tf.memory().numTensors;
    const r = runTextProbe({ trainX, devX, devLabels, testX, testLabels, ids, texts, lengths: { train: new Array<number>(120).fill(8), dev: devLabels.map(() => 8), test: testLabels.map(() => 8) } }, {
      vae: { dLatent: 2, hidden: [16] }, train: { epochs: 4, seed: 0 }, quiet: true, onChoice: (got) => seen.push([...got]),
    });
    r.vae.dispose();
    r.sqrtn?.vae.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(seen.length).toBe(2); // the VAE pick and the best detector
    for (const got of seen) {
      expect(got).toEqual(ids.dev);
      expect(got.some((id) => ids.test.includes(id))).toBe(false);
    }
    expect(r.detectors.map((d) => d.name)).toEqual(expect.arrayContaining(['tfidf_char_knn', 'tfidf_word_knn', 'tfidf_word_svd', 'length', 'vae_recon_sqrtn', 'vae_dev_pick', 'best_on_dev']));
    expect(r.detectors.find((d) => d.name === 'tfidf_word_knn')?.auroc).toBeGreaterThan(0.9);
    expect(['vae_recon', 'vae_neg_elbo', 'vae_recon_sqrtn']).toContain(r.choices.vae_dev_pick.name);
  });
});

describe('bootstrap CI and the protocol table', () => {
  it('mean ± std over seeds with a CI around the mean; ▲ only when the CI is above the anchor', () => {
    const labels = [0, 0, 0, 0, 1, 1, 1, 1] as (0 | 1)[];
    const perfect = aurocOverSeeds([{ scores: [1, 2, 3, 4, 5, 6, 7, 8], labels }, { scores: [1, 2, 3, 4, 5, 6, 7, 8], labels }]);
    expect(perfect).toMatchObject({ mean: 1, std: 0, lo: 1, hi: 1 });
    const mixed = aurocOverSeeds([{ scores: [1, 5, 3, 4, 2, 6, 7, 8], labels }, { scores: [8, 2, 3, 4, 5, 6, 7, 1], labels }]);
    expect(mixed.lo).toBeLessThanOrEqual(mixed.mean);
    expect(mixed.hi).toBeGreaterThanOrEqual(mixed.mean);
    expect(mixed.std).toBeGreaterThan(0);
    const run = (seed: number, scores: number[]): SeedRun => ({ dataset: 'sms_spam', seed, detectors: [{ name: 'x', scores, labels, devAuroc: 0.9 }] });
    const cells = protocolCells([run(0, [1, 2, 3, 4, 5, 6, 7, 8]), run(1, [1, 2, 3, 4, 5, 6, 7, 8])], ['x']);
    expect(cells[0]).toMatchObject({ dataset: 'sms_spam', detector: 'x', mean: 1, beatsAnchor: true, devMean: 0.9 });
    expect(protocolTable(cells, ['x'])).toContain('| x | 1.000 ± 0.000 [1.000, 1.000] ▲ |');
    expect(() => aurocOverSeeds([{ scores: [1, 2], labels: [0, 0] }])).toThrow(DatasetError);
  });
});

describe('TF-IDF baselines', () => {
  it('char and word k-NN and the SVD error score off-topic texts higher', () => {
    const train = Array.from({ length: 40 }, (_, i) => `the weather today is sunny with clouds number ${i % 7} and light rain`);
    const test = ['the weather is sunny today with rain', 'the sunny weather and clouds', 'quarterly earnings beat analyst forecasts', 'stock prices fell sharply on wall street'];
    for (const det of [fitTfidfKnn(train), fitTfidfKnn(train, { analyzer: 'word' }), fitTfidfSvd(train, { components: 5 })]) {
      const s = det.score(test);
      expect(Math.min(s[2] as number, s[3] as number)).toBeGreaterThan(Math.max(s[0] as number, s[1] as number));
    }
    expect(() => fitTfidfKnn(['a', 'b'], { k: 5 })).toThrow(DatasetError);
  });
});
