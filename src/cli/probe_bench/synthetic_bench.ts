/**
 * The synthetic β-VAE benchmark (task seed 001): per seed, generate blobs + shifted anomalies,
 * split 80/20 stratified (the training part keeps its ~3% anomalies: training data is not
 * perfectly clean), MinMax-scale on the training part, hold out a stratified 20% of it as a labelled
 * validation split, train one sigmoid-head β-VAE per (β, latent) grid cell, pick the max-F1
 * threshold on validation, and report test ROC-AUC / PR-AUC / F1. The best cell is chosen by mean
 * validation ROC-AUC (never by test). Mahalanobis and Isolation Forest baselines run on the same split.
 */
import { fitMahalanobis } from '../../probe/baselines.js';
import { fitIsolationForest } from '../../probe/isolation_forest.js';
import { BetaVae } from '../../probe/beta_vae.js';
import { applyScaler, fitScaler, selectRows, type FeatureMatrix } from '../../probe/matrix.js';
import { detectionMetrics, maxF1Threshold, rocAuc, type BinaryLabels, type DetectionMetrics } from '../../probe/metrics.js';
import { makeSyntheticAnomalies, stratifiedSplit, type SyntheticAnomalyOptions } from '../../probe/synthetic.js';
import type { VaeTrainConfig } from '../../probe/vae_config.js';
import { trainBetaVae } from '../../probe/vae_train.js';
import { vaeScores } from '../../probe/vae_scores.js';

/**
 * Options of {@link runSyntheticGrid}.
 * @category Probe
 */
interface SyntheticGridOptions {
  /** β values (default [0.1, 1, 5]). */
  readonly betas?: readonly number[];
  /** Latent sizes (default [2, 5, 10]). */
  readonly latents?: readonly number[];
  /** Seeds; each gives its own data, split and initialisation (default [0, 1, 2]). */
  readonly seeds?: readonly number[];
  /** Data options (sizes, shift); the seed is taken from `seeds`. */
  readonly data?: Omit<SyntheticAnomalyOptions, 'seed'>;
  /** Hidden widths of the VAE (default [64, 32]). */
  readonly hidden?: readonly number[];
  /** Training overrides (default: 60 epochs, warm-up 12, patience 10, batch 64, lr 1e-3). */
  readonly train?: Partial<Omit<VaeTrainConfig, 'betaMax' | 'seed'>>;
  /** Called with a progress line. */
  readonly onProgress?: (line: string) => void;
}

/**
 * Test figures of one grid cell and seed.
 * @category Probe
 */
interface SyntheticRun extends DetectionMetrics {
  /** βmax. */
  readonly beta: number;
  /** Latent size. */
  readonly latent: number;
  /** Seed. */
  readonly seed: number;
  /** Validation ROC-AUC (the labelled validation split the cell is chosen on). */
  readonly valAuroc: number;
  /** Epoch whose weights were kept. */
  readonly bestEpoch: number;
  /** Training seconds. */
  readonly seconds: number;
}

/**
 * Mean and standard deviation over seeds of one grid cell.
 * @category Probe
 */
export interface SyntheticCell {
  /** βmax. */
  readonly beta: number;
  /** Latent size. */
  readonly latent: number;
  /** Mean validation ROC-AUC (what the best cell is chosen by). */
  readonly valAuroc: number;
  /** Mean test ROC-AUC. */
  readonly auroc: number;
  /** Std of the ROC-AUC over seeds. */
  readonly aurocStd: number;
  /** Mean test PR-AUC. */
  readonly aupr: number;
  /** Std of the PR-AUC over seeds. */
  readonly auprStd: number;
  /** Mean test F1 at the validation max-F1 threshold. */
  readonly f1: number;
  /** Mean precision. */
  readonly precision: number;
  /** Mean recall. */
  readonly recall: number;
}

/**
 * A baseline's test figures, mean (and ROC-AUC std) over seeds.
 * @category Probe
 */
export interface BaselineSummary {
  /** Mean test ROC-AUC. */
  readonly auroc: number;
  /** Std of the test ROC-AUC over seeds. */
  readonly aurocStd: number;
  /** Mean test PR-AUC. */
  readonly aupr: number;
  /** Mean test F1 at the validation max-F1 threshold. */
  readonly f1: number;
}

/**
 * Everything the grid produced.
 * @category Probe
 */
interface SyntheticGridResult {
  /** Every (cell, seed) run. */
  readonly runs: SyntheticRun[];
  /** Per-cell means over seeds, grid order. */
  readonly cells: SyntheticCell[];
  /** The cell with the highest mean validation ROC-AUC (first on ties). */
  readonly best: SyntheticCell;
  /** Mahalanobis on the same splits, mean over seeds. */
  readonly mahalanobis: BaselineSummary;
  /** Isolation Forest (100 trees of 256 rows) on the same splits, mean over seeds. */
  readonly isolationForest: BaselineSummary;
  /** Test reconstruction errors of the first seed per cell, split by class, for histograms. */
  readonly errors: {
    /** βmax of the cell. */
    readonly beta: number;
    /** Latent size of the cell. */
    readonly latent: number;
    /** Reconstruction errors of the normal test rows. */
    readonly normal: number[];
    /** Reconstruction errors of the anomalous test rows. */
    readonly anomaly: number[];
  }[];
  /** Rows of the first seed's split: train (incl. validation), validation, test; anomalies in train. */
  readonly sizes: {
    /** Training rows, validation included. */
    readonly train: number;
    /** Validation rows (a stratified 20% of the training rows). */
    readonly val: number;
    /** Test rows. */
    readonly test: number;
    /** Anomalies among the training rows (validation included). */
    readonly trainAnomalies: number;
    /** Anomalies among the test rows. */
    readonly testAnomalies: number;
  };
  /** Wall time in seconds. */
  readonly seconds: number;
}

const mean = (a: readonly number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
const std = (a: readonly number[]): number => Math.sqrt(mean(a.map((v) => (v - mean(a)) ** 2)));
const pick = <T>(a: readonly T[], idx: readonly number[]): T[] => idx.map((i) => a[i] as T);

/**
 * Run the grid.
 * @param o Grid, seeds, data and training options.
 * @returns Runs, per-cell means, the best cell, the Mahalanobis reference and histogram data.
 * @throws {@link "tfjs-lens"!ConfigError} for invalid data or training options.
 * @example const r = runSyntheticGrid({ seeds: [0] }); console.log(r.best.auroc);
 * @category Probe
 */
export function runSyntheticGrid(o: SyntheticGridOptions = {}): SyntheticGridResult {
  const betas = o.betas ?? [0.1, 1, 5];
  const latents = o.latents ?? [2, 5, 10];
  const seeds = o.seeds ?? [0, 1, 2];
  const t0 = performance.now();
  const runs: SyntheticRun[] = [];
  const errors: SyntheticGridResult['errors'][number][] = [];
  const maha: { auroc: number; aupr: number; f1: number }[] = [];
  const iso: { auroc: number; aupr: number; f1: number }[] = [];
  let sizes: SyntheticGridResult['sizes'] | undefined;
  for (const seed of seeds) {
    const { x, labels } = makeSyntheticAnomalies({ ...o.data, seed });
    const { trainIdx, testIdx } = stratifiedSplit(labels, 0.2, seed);
    const trainLabels = pick(labels, trainIdx);
    const inner = stratifiedSplit(trainLabels, 0.2, seed + 1000);
    const fitIdx = pick(trainIdx, inner.trainIdx);
    const valIdx = pick(trainIdx, inner.testIdx);
    const scaler = fitScaler(selectRows(x, fitIdx), 'minmax');
    const [fitX, valX, testX] = [fitIdx, valIdx, testIdx].map((idx) => applyScaler(scaler, selectRows(x, idx))) as [FeatureMatrix, FeatureMatrix, FeatureMatrix];
    const [valY, testY] = [pick(labels, valIdx), pick(labels, testIdx)] as [BinaryLabels, BinaryLabels];
    sizes ??= { train: trainIdx.length, val: valIdx.length, test: testIdx.length, trainAnomalies: trainLabels.filter((y) => y === 1).length, testAnomalies: testY.filter((y) => y === 1).length };
    const m = fitMahalanobis(fitX);
    const mThr = maxF1Threshold(m.score(valX), valY).threshold;
    const mm = detectionMetrics(m.score(testX), testY, mThr);
    maha.push({ auroc: mm.auroc, aupr: mm.aupr, f1: mm.f1 });
    const forest = fitIsolationForest(fitX, { seed });
    const im = detectionMetrics(forest.score(testX), testY, maxF1Threshold(forest.score(valX), valY).threshold);
    iso.push({ auroc: im.auroc, aupr: im.aupr, f1: im.f1 });
    for (const beta of betas) {
      for (const latent of latents) {
        const vae = new BetaVae({ dIn: x.cols, dLatent: latent, hidden: o.hidden ?? [64, 32], output: 'sigmoid', seed });
        try {
          const tr = trainBetaVae(vae, fitX, { epochs: 60, warmupEpochs: 12, patience: 10, ...o.train, betaMax: beta, seed }, { quiet: true });
          const val = vaeScores(vae, valX).recon;
          const thr = maxF1Threshold(val, valY).threshold;
          const test = vaeScores(vae, testX).recon;
          const met = detectionMetrics(test, testY, thr);
          runs.push({ ...met, beta, latent, seed, valAuroc: rocAuc(val, valY), bestEpoch: tr.bestEpoch, seconds: tr.seconds });
          if (seed === seeds[0]) errors.push({ beta, latent, normal: test.filter((_, i) => testY[i] === 0), anomaly: test.filter((_, i) => testY[i] === 1) });
          o.onProgress?.(`synthetic seed ${seed} β ${beta} latent ${latent}: AUROC ${met.auroc.toFixed(4)} AUPR ${met.aupr.toFixed(4)} F1 ${met.f1.toFixed(3)} (${tr.seconds.toFixed(1)} s, best epoch ${tr.bestEpoch})`);
        } finally {
          vae.dispose();
        }
      }
    }
  }
  const cells: SyntheticCell[] = [];
  for (const beta of betas) {
    for (const latent of latents) {
      const rs = runs.filter((r) => r.beta === beta && r.latent === latent);
      const f = (k: 'auroc' | 'aupr' | 'f1' | 'precision' | 'recall'): number[] => rs.map((r) => r[k]);
      cells.push({ beta, latent, valAuroc: mean(rs.map((r) => r.valAuroc)), auroc: mean(f('auroc')), aurocStd: std(f('auroc')), aupr: mean(f('aupr')), auprStd: std(f('aupr')), f1: mean(f('f1')), precision: mean(f('precision')), recall: mean(f('recall')) });
    }
  }
  const best = cells.reduce((a, c) => (c.valAuroc > a.valAuroc ? c : a));
  const summarise = (b: { auroc: number; aupr: number; f1: number }[]): BaselineSummary => ({ auroc: mean(b.map((v) => v.auroc)), aurocStd: std(b.map((v) => v.auroc)), aupr: mean(b.map((v) => v.aupr)), f1: mean(b.map((v) => v.f1)) });
  return { runs, cells, best, mahalanobis: summarise(maha), isolationForest: summarise(iso), errors, sizes: sizes as SyntheticGridResult['sizes'], seconds: (performance.now() - t0) / 1000 };
}
