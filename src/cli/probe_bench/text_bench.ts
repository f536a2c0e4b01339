/**
 * One text OOD run on extracted features (task seed 000): standardise on the normal training rows
 * (as the anchor's StandardScaler), train the β-VAE on normal rows only, and score the test rows
 * with the VAE (reconstruction MSE; also −ELBO and latent Mahalanobis) and with the baselines on
 * the same features (Mahalanobis, k-NN, PCA), plus an optional masked-LM pseudo-perplexity score and
 * a rank-average ensemble. Every detector is fitted on the VAE's gradient rows and thresholded at a
 * quantile of its scores on the held-out normal validation rows (none of them saw those rows).
 * With token counts given, also a length-only detector and the VAE and Mahalanobis on √n-pooled
 * features (see length_correction.ts: mean pooling makes long texts look normal).
 */
import { fitGaussian, fitKnn, fitMahalanobis, fitPca, rankAverage, type FittedDetector } from '../../probe/baselines.js';
import { BetaVae } from '../../probe/beta_vae.js';
import { fitLengthDetector, lengthColumn, sqrtNPooled, tokenMean } from '../../probe/length_correction.js';
import { applyScaler, fitScaler, selectRows, toFeatureMatrix, type ColumnScaler, type FeatureMatrix } from '../../probe/matrix.js';
import { detectionMetrics, quantileThreshold, type BinaryLabels, type DetectionMetrics } from '../../probe/metrics.js';
import type { BetaVaeConfig, VaeTrainConfig } from '../../probe/vae_config.js';
import { trainBetaVae, type VaeTrainResult } from '../../probe/vae_train.js';
import { vaeScores } from '../../probe/vae_scores.js';

/**
 * Features and labels of one dataset.
 * @category Probe
 */
export interface TextProbeInputs {
  /** Pooled activations of the normal training texts [n_train, d]. */
  readonly trainX: FeatureMatrix;
  /** Pooled activations of the test texts [n_test, d]. */
  readonly testX: FeatureMatrix;
  /** 1 = anomaly, per test row. */
  readonly testLabels: BinaryLabels;
  /**
   * Optional masked-LM pseudo-perplexity (higher = more anomalous) of a subset of test rows, and of
   * some normal training texts for its threshold (without them the threshold is taken from the test
   * scores themselves, which is transductive).
   */
  readonly pseudoPerplexity?: {
    /** Test rows scored, as indices into the test set. */
    readonly testIdx: readonly number[];
    /** Pseudo-perplexity of those rows, aligned with `testIdx`. */
    readonly scores: readonly number[];
    /** Pseudo-perplexity of normal training texts, used for the threshold. */
    readonly trainScores?: readonly number[];
  };
  /**
   * Optional token counts pooled per row (attention-mask sums) of the training and test texts: adds
   * the detectors `length` (text length alone), `vae_recon_sqrtn` and `mahalanobis_sqrtn` (a second
   * VAE and Mahalanobis on √n-pooled features).
   */
  readonly lengths?: {
    /** Token count of each training row. */
    readonly train: readonly number[];
    /** Token count of each test row. */
    readonly test: readonly number[];
  };
}

/**
 * Options of {@link runTextProbe}.
 * @category Probe
 */
interface TextProbeOptions {
  /** VAE architecture overrides (dIn comes from the features; output is linear). */
  readonly vae?: Partial<Omit<BetaVaeConfig, 'dIn'>>;
  /** Training overrides. */
  readonly train?: Partial<VaeTrainConfig>;
  /** Quantile of validation scores used as every detector's threshold (default 0.95, as the anchor). */
  readonly quantile?: number;
  /** k of the k-NN baseline (default 5). */
  readonly knnK?: number;
  /** Variance kept by the PCA baseline (default 0.9). */
  readonly pcaVariance?: number;
  /** No progress on stderr. */
  readonly quiet?: boolean;
  /** Progress label. */
  readonly label?: string;
}

/**
 * Test metrics and scores of one detector.
 * @category Probe
 */
interface DetectorResult extends DetectionMetrics {
  /** Detector name ('vae_recon', 'mahalanobis', …). */
  readonly name: string;
  /** Test rows scored (fewer for pseudo-perplexity). */
  readonly n: number;
  /** Test scores (aligned with `testIdx`). */
  readonly testScores: number[];
  /** Test rows scored, as indices into the test set. */
  readonly testIdx: number[];
}

/**
 * Everything one run produced; the caller owns `vae`.
 * @category Probe
 */
export interface TextProbeResult {
  /** One entry per detector. */
  readonly detectors: DetectorResult[];
  /** VAE training history and split. */
  readonly training: VaeTrainResult;
  /** The trained VAE (dispose it). */
  readonly vae: BetaVae;
  /** Standardisation fitted on the normal training rows. */
  readonly scaler: ColumnScaler;
  /** VAE posterior means of the test rows [n_test, d_latent] (for the UMAP plot). */
  readonly testLatent: FeatureMatrix;
  /** Components kept by the PCA baseline, the Mahalanobis shrinkage and the k-NN k. */
  readonly baselineInfo: {
    /** Principal components kept by the PCA baseline. */
    readonly pcaComponents: number;
    /** Shrinkage intensity of the Mahalanobis baseline, in [0, 1]. */
    readonly mahalanobisShrinkage: number;
    /** Neighbours of the k-NN baseline. */
    readonly knnK: number;
  };
}

const pickArr = (a: readonly number[], idx: readonly number[]): number[] => idx.map((i) => a[i] as number);

/**
 * Run the VAE and the baselines on one dataset's features.
 * @param inputs Train / test features, test labels, optional pseudo-perplexity.
 * @param o Architecture, training, threshold and baseline options.
 * @returns Per-detector metrics and scores, training history, the VAE and the latent of the test rows.
 * @throws {@link "tfjs-lens"!DatasetError} for non-finite features, a one-class test set or too few rows;
 *   {@link "tfjs-lens"!ShapeError} if train and test widths differ; {@link "tfjs-lens"!ConfigError} for bad options.
 * @example const r = runTextProbe({ trainX, testX, testLabels }, { train: { epochs: 100 } }); r.vae.dispose();
 * @category Probe
 */
export function runTextProbe(inputs: TextProbeInputs, o: TextProbeOptions = {}): TextProbeResult {
  const trainRaw = toFeatureMatrix(inputs.trainX, 'runTextProbe (train)');
  const testRaw = toFeatureMatrix(inputs.testX, 'runTextProbe (test)');
  const labels = inputs.testLabels;
  const q = o.quantile ?? 0.95;
  const scaler = fitScaler(trainRaw, 'standard');
  const [train, test] = [applyScaler(scaler, trainRaw), applyScaler(scaler, testRaw)];
  const vae = new BetaVae({ ...o.vae, dIn: train.cols, output: 'linear' });
  try {
    const training = trainBetaVae(vae, train, o.train ?? {}, { quiet: o.quiet, label: o.label ?? 'β-VAE' });
    const fitX = selectRows(train, training.trainIdx);
    const holdIdx = training.valIdx.length > 0 ? training.valIdx : training.trainIdx;
    const holdX = selectRows(train, holdIdx);
    const allIdx = Array.from({ length: test.rows }, (_, i) => i);
    const detectors: DetectorResult[] = [];
    const add = (name: string, thrScores: readonly number[], testScores: readonly number[], idx = allIdx): void => {
      const y = idx.map((i) => labels[i] as 0 | 1);
      detectors.push({ name, n: idx.length, testScores: [...testScores], testIdx: idx, ...detectionMetrics(testScores, y, quantileThreshold(thrScores, q)) });
    };
    const [sFit, sHold, sTest] = [vaeScores(vae, fitX), vaeScores(vae, holdX), vaeScores(vae, test)];
    add('vae_recon', sHold.recon, sTest.recon);
    add('vae_neg_elbo', sHold.negElbo, sTest.negElbo);
    const latentMaha = fitMahalanobis(sFit.mu);
    add('vae_latent_mahalanobis', latentMaha.score(sHold.mu), latentMaha.score(sTest.mu));
    const gaussian = fitGaussian(fitX);
    const maha = fitMahalanobis(fitX, { gaussian });
    const knn = fitKnn(fitX, { k: o.knnK ?? 5 });
    const pca = fitPca(fitX, { variance: o.pcaVariance ?? 0.9, gaussian });
    const base: FittedDetector[] = [maha, knn, pca];
    const baseHold = base.map((d) => d.score(holdX));
    const baseTest = base.map((d) => d.score(test));
    base.forEach((d, i) => add(d.name, baseHold[i] as number[], baseTest[i] as number[]));
    const ppl = inputs.pseudoPerplexity;
    if (ppl !== undefined && ppl.scores.length > 0) {
      add('pseudo_perplexity', [...(ppl.trainScores ?? ppl.scores)], ppl.scores, [...ppl.testIdx]);
      add('vae_recon@ppl_subset', sHold.recon, pickArr(sTest.recon, ppl.testIdx), [...ppl.testIdx]);
    }
    const lists = [[sHold.recon, sTest.recon], ...base.map((_, i) => [baseHold[i] as number[], baseTest[i] as number[]])];
    const ens = rankAverage(lists.map(([h, t]) => [...(h as number[]), ...(t as number[])]));
    add('ensemble_rank_avg', ens.slice(0, holdIdx.length), ens.slice(holdIdx.length));
    if (inputs.lengths !== undefined) lengthDetectors({ trainRaw, testRaw, lengths: inputs.lengths, training, holdIdx }, o, add);
    return {
      detectors, training, vae, scaler, testLatent: sTest.mu,
      baselineInfo: { pcaComponents: pca.nComponents, mahalanobisShrinkage: maha.shrinkage, knnK: knn.k },
    };
  } catch (err) {
    vae.dispose();
    throw err;
  }
}

interface LengthInputs {
  readonly trainRaw: FeatureMatrix;
  readonly testRaw: FeatureMatrix;
  readonly lengths: NonNullable<TextProbeInputs['lengths']>;
  /** The mean-pooled VAE's split, reused so every detector holds out the same rows. */
  readonly training: VaeTrainResult;
  readonly holdIdx: number[];
}

/** The length-only detector, and a VAE + Mahalanobis on √n-pooled features (same split). */
function lengthDetectors(c: LengthInputs, o: TextProbeOptions, add: (name: string, thr: readonly number[], test: readonly number[]) => void): void {
  const { train: trainN, test: testN } = c.lengths;
  const holdN = c.holdIdx.map((i) => trainN[i] as number);
  const fitN = c.training.trainIdx.map((i) => trainN[i] as number);
  const len = fitLengthDetector(fitN);
  add('length', len.score(lengthColumn(holdN)), len.score(lengthColumn(testN)));
  const mu = tokenMean(selectRows(c.trainRaw, c.training.trainIdx), fitN);
  const trainZ = sqrtNPooled(c.trainRaw, trainN, mu);
  const scaler = fitScaler(trainZ, 'standard');
  const train = applyScaler(scaler, trainZ);
  const test = applyScaler(scaler, sqrtNPooled(c.testRaw, testN, mu));
  const fitX = selectRows(train, c.training.trainIdx);
  const holdX = selectRows(train, c.holdIdx);
  const vae = new BetaVae({ ...o.vae, dIn: train.cols, output: 'linear' });
  try {
    // Same seed and row count as the mean-pooled VAE, so the same training / validation split.
    trainBetaVae(vae, train, o.train ?? {}, { quiet: o.quiet, label: `${o.label ?? 'β-VAE'} (√n pooling)` });
    add('vae_recon_sqrtn', vaeScores(vae, holdX).recon, vaeScores(vae, test).recon);
  } finally {
    vae.dispose();
  }
  const maha = fitMahalanobis(fitX);
  add('mahalanobis_sqrtn', maha.score(holdX), maha.score(test));
}
