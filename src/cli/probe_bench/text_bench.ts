/**
 * One text OOD run on extracted features (task seed 000): standardise on the normal training rows
 * (as the anchor's StandardScaler), train the β-VAE on normal rows only, and score the test rows
 * with the VAE (reconstruction MSE; also −ELBO and latent Mahalanobis) and with the baselines on
 * the same features (Mahalanobis, k-NN, PCA), plus an optional masked-LM pseudo-perplexity score and
 * a rank-average ensemble. Every detector is fitted on the VAE's gradient rows and thresholded at a
 * quantile of its scores on the held-out normal validation rows (none of them saw those rows).
 * With token counts given, also a length-only detector and the VAE and Mahalanobis on √n-pooled
 * features (see length_correction.ts: mean pooling makes long texts look normal). With the texts
 * given, also the TF-IDF baselines (text_baselines.ts). Every detector scores the dev rows too; the
 * two choices (the VAE's pooling/score, `vae_dev_pick`, and the best detector, `best_on_dev`) are
 * made on dev by {@link chooseOnDev}, and the test rows are scored once and never feed a choice.
 */
import { chooseOnDev, type DevChoice } from '../../probe/dev_choice.js';
import { fitTfidfKnn, fitTfidfSvd } from '../../probe/text_baselines.js';
import { fitGaussian, fitKnn, fitMahalanobis, fitPca, rankAverage, type FittedDetector } from '../../probe/baselines.js';
import { BetaVae } from '../../probe/beta_vae.js';
import { fitLengthDetector, lengthColumn, sqrtNPooled, tokenMean } from '../../probe/length_correction.js';
import { applyScaler, fitScaler, selectRows, toFeatureMatrix, type ColumnScaler, type FeatureMatrix } from '../../probe/matrix.js';
import { detectionMetrics, quantileThreshold, rocAuc, type BinaryLabels, type DetectionMetrics } from '../../probe/metrics.js';
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
  /** Pooled activations of the dev texts [n_dev, d]: every choice is made on them. */
  readonly devX: FeatureMatrix;
  /** 1 = anomaly, per dev row. */
  readonly devLabels: BinaryLabels;
  /** Pooled activations of the test texts [n_test, d]. */
  readonly testX: FeatureMatrix;
  /** 1 = anomaly, per test row. */
  readonly testLabels: BinaryLabels;
  /** Row ids of the dev and test texts (default: dev 0…n_dev−1, test after them). */
  readonly ids?: {
    /** Dev row ids. */
    readonly dev: readonly number[];
    /** Test row ids (no choice may receive one). */
    readonly test: readonly number[];
  };
  /** The texts themselves, for the TF-IDF baselines. */
  readonly texts?: {
    /** Normal training texts (aligned with trainX). */
    readonly train: readonly string[];
    /** Dev texts. */
    readonly dev: readonly string[];
    /** Test texts. */
    readonly test: readonly string[];
  };
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
    /** Token count of each dev row. */
    readonly dev: readonly number[];
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
  /** Quantile of validation scores used as every detector's threshold (default 0.95; the anchor's code hard-codes the threshold 0.43 instead). */
  readonly quantile?: number;
  /** k of the k-NN baseline (default 5). */
  readonly knnK?: number;
  /** Variance kept by the PCA baseline (default 0.9). */
  readonly pcaVariance?: number;
  /** No progress on stderr. */
  readonly quiet?: boolean;
  /** Progress label. */
  readonly label?: string;
  /** Called with the row ids each dev choice received (tests check none is a test id). */
  readonly onChoice?: (ids: readonly number[]) => void;
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
  /** Dev ROC-AUC (absent for detectors not scored on dev). */
  readonly devAuroc?: number;
  /** For `vae_dev_pick` and `best_on_dev`: the detector chosen on dev. */
  readonly chosen?: string;
}

/**
 * Everything one run produced; the caller owns `vae`.
 * @category Probe
 */
export interface TextProbeResult {
  /** One entry per detector. */
  readonly detectors: DetectorResult[];
  /** The choices made on dev. */
  readonly choices: Readonly<Record<'vae_dev_pick' | 'best_on_dev', DevChoice>>;
  /** VAE training history and split. */
  readonly training: VaeTrainResult;
  /** The trained VAE (dispose it). */
  readonly vae: BetaVae;
  /** With token counts given: the √n-pooled VAE (`vae_recon_sqrtn`; dispose it), its scaler and token mean μ_tok. */
  readonly sqrtn?: { readonly vae: BetaVae; readonly scaler: ColumnScaler; readonly tokenMean: Float64Array; readonly bestEpoch: number };
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
  const devRaw = toFeatureMatrix(inputs.devX, 'runTextProbe (dev)');
  const testRaw = toFeatureMatrix(inputs.testX, 'runTextProbe (test)');
  const q = o.quantile ?? 0.95;
  const scaler = fitScaler(trainRaw, 'standard');
  const [train, dev, test] = [applyScaler(scaler, trainRaw), applyScaler(scaler, devRaw), applyScaler(scaler, testRaw)];
  const vae = new BetaVae({ ...o.vae, dIn: train.cols, output: 'linear' });
  let sqrtn: TextProbeResult['sqrtn'];
  try {
    const training = trainBetaVae(vae, train, o.train ?? {}, { quiet: o.quiet, label: o.label ?? 'β-VAE' });
    const fitX = selectRows(train, training.trainIdx);
    const holdIdx = training.valIdx.length > 0 ? training.valIdx : training.trainIdx;
    const holdX = selectRows(train, holdIdx);
    const { detectors, add } = collector(inputs, q);
    const [sFit, sHold, sDev, sTest] = [vaeScores(vae, fitX), vaeScores(vae, holdX), vaeScores(vae, dev), vaeScores(vae, test)];
    add('vae_recon', sHold.recon, sDev.recon, sTest.recon);
    add('vae_neg_elbo', sHold.negElbo, sDev.negElbo, sTest.negElbo);
    const latentMaha = fitMahalanobis(sFit.mu);
    add('vae_latent_mahalanobis', latentMaha.score(sHold.mu), latentMaha.score(sDev.mu), latentMaha.score(sTest.mu));
    const gaussian = fitGaussian(fitX);
    const maha = fitMahalanobis(fitX, { gaussian });
    const knn = fitKnn(fitX, { k: o.knnK ?? 5 });
    const pca = fitPca(fitX, { variance: o.pcaVariance ?? 0.9, gaussian });
    const base: FittedDetector[] = [maha, knn, pca];
    const baseScores = base.map((d) => [d.score(holdX), d.score(dev), d.score(test)] as const);
    base.forEach((d, i) => add(d.name, ...(baseScores[i] as [number[], number[], number[]])));
    const ppl = inputs.pseudoPerplexity;
    if (ppl !== undefined && ppl.scores.length > 0) {
      add('pseudo_perplexity', [...(ppl.trainScores ?? ppl.scores)], undefined, ppl.scores, [...ppl.testIdx]);
      add('vae_recon@ppl_subset', sHold.recon, undefined, pickArr(sTest.recon, ppl.testIdx), [...ppl.testIdx]);
    }
    // Rank-average of fixed members (no weights fitted): ranks over hold, dev and test rows together.
    const lists = [[sHold.recon, sDev.recon, sTest.recon], ...baseScores];
    const ens = rankAverage(lists.map((l) => l.flat()));
    const [nh, nd] = [holdIdx.length, dev.rows];
    add('ensemble_rank_avg', ens.slice(0, nh), ens.slice(nh, nh + nd), ens.slice(nh + nd));
    if (inputs.lengths !== undefined) sqrtn = lengthDetectors({ trainRaw, devRaw, testRaw, lengths: inputs.lengths, training, holdIdx }, o, add);
    if (inputs.texts !== undefined) textDetectors(inputs.texts, training.trainIdx, holdIdx, add);
    const choices = devChoices(inputs, detectors, o);
    return {
      detectors, choices, training, vae, scaler, testLatent: sTest.mu, ...(sqrtn === undefined ? {} : { sqrtn }),
      baselineInfo: { pcaComponents: pca.nComponents, mahalanobisShrinkage: maha.shrinkage, knnK: knn.k },
    };
  } catch (err) {
    vae.dispose();
    sqrtn?.vae.dispose();
    throw err;
  }
}

type AddDetector = (name: string, hold: readonly number[], dev: readonly number[] | undefined, test: readonly number[], idx?: number[]) => void;

/** The detector list and the function that scores one detector (threshold from hold, dev AUROC, test metrics). */
function collector(inputs: TextProbeInputs, q: number): { detectors: (DetectorResult & { devScores?: number[] })[]; add: AddDetector } {
  const detectors: (DetectorResult & { devScores?: number[] })[] = [];
  const allIdx = inputs.testLabels.map((_, i) => i);
  const add: AddDetector = (name, hold, devScores, testScores, idx = allIdx) => {
    const y = idx.map((i) => inputs.testLabels[i] as 0 | 1);
    const devPart = devScores === undefined ? {} : { devScores: [...devScores], devAuroc: rocAuc(devScores, inputs.devLabels) };
    detectors.push({ name, n: idx.length, testScores: [...testScores], testIdx: idx, ...devPart, ...detectionMetrics(testScores, y, quantileThreshold(hold, q)) });
  };
  return { detectors, add };
}

/** The two dev choices, reported on test as their own rows. */
function devChoices(inputs: TextProbeInputs, detectors: (DetectorResult & { devScores?: number[] })[], o: TextProbeOptions): TextProbeResult['choices'] {
  const nDev = inputs.devLabels.length;
  const ids = inputs.ids ?? { dev: inputs.devLabels.map((_, i) => i), test: inputs.testLabels.map((_, i) => nDev + i) };
  const rows = { ids: ids.dev, labels: inputs.devLabels };
  const guard = { forbidden: new Set(ids.test), onChoice: o.onChoice };
  const cand = (names: readonly string[] | undefined): { name: string; scores: number[] }[] =>
    detectors.filter((d) => d.devScores !== undefined && (names === undefined || names.includes(d.name))).map((d) => ({ name: d.name, scores: d.devScores as number[] }));
  const vae = chooseOnDev(rows, cand(['vae_recon', 'vae_neg_elbo', 'vae_recon_sqrtn']), guard);
  const best = chooseOnDev(rows, cand(undefined), guard);
  for (const [name, c] of [['vae_dev_pick', vae], ['best_on_dev', best]] as const) {
    const d = detectors.find((x) => x.name === c.name) as DetectorResult;
    detectors.push({ ...d, name, chosen: c.name });
  }
  for (const d of detectors) delete d.devScores;
  return { vae_dev_pick: vae, best_on_dev: best };
}

/** TF-IDF baselines on the texts: fitted on the VAE's gradient rows, thresholded on its hold-out rows. */
function textDetectors(texts: NonNullable<TextProbeInputs['texts']>, fitIdx: readonly number[], holdIdx: readonly number[], add: AddDetector): void {
  const fit = fitIdx.map((i) => texts.train[i] as string);
  const hold = holdIdx.map((i) => texts.train[i] as string);
  for (const det of [fitTfidfKnn(fit, { analyzer: 'char_2_4', k: 5 }), fitTfidfKnn(fit, { analyzer: 'word', k: 5 }), fitTfidfSvd(fit, { analyzer: 'word', components: 50 })]) {
    add(det.name, det.score(hold), det.score(texts.dev), det.score(texts.test));
  }
}

interface LengthInputs {
  readonly trainRaw: FeatureMatrix;
  readonly devRaw: FeatureMatrix;
  readonly testRaw: FeatureMatrix;
  readonly lengths: NonNullable<TextProbeInputs['lengths']>;
  /** The mean-pooled VAE's split, reused so every detector holds out the same rows. */
  readonly training: VaeTrainResult;
  readonly holdIdx: number[];
}

/** The length-only detector, and a VAE + Mahalanobis on √n-pooled features (same split); returns the √n VAE (caller disposes). */
function lengthDetectors(c: LengthInputs, o: TextProbeOptions, add: AddDetector): NonNullable<TextProbeResult['sqrtn']> {
  const { train: trainN, dev: devN, test: testN } = c.lengths;
  const holdN = c.holdIdx.map((i) => trainN[i] as number);
  const fitN = c.training.trainIdx.map((i) => trainN[i] as number);
  const len = fitLengthDetector(fitN);
  add('length', len.score(lengthColumn(holdN)), len.score(lengthColumn(devN)), len.score(lengthColumn(testN)));
  const mu = tokenMean(selectRows(c.trainRaw, c.training.trainIdx), fitN);
  const trainZ = sqrtNPooled(c.trainRaw, trainN, mu);
  const scaler = fitScaler(trainZ, 'standard');
  const train = applyScaler(scaler, trainZ);
  const dev = applyScaler(scaler, sqrtNPooled(c.devRaw, devN, mu));
  const test = applyScaler(scaler, sqrtNPooled(c.testRaw, testN, mu));
  const fitX = selectRows(train, c.training.trainIdx);
  const holdX = selectRows(train, c.holdIdx);
  const vae = new BetaVae({ ...o.vae, dIn: train.cols, output: 'linear' });
  try {
    // Same seed and row count as the mean-pooled VAE, so the same training / validation split.
    const tr = trainBetaVae(vae, train, o.train ?? {}, { quiet: o.quiet, label: `${o.label ?? 'β-VAE'} (√n pooling)` });
    add('vae_recon_sqrtn', vaeScores(vae, holdX).recon, vaeScores(vae, dev).recon, vaeScores(vae, test).recon);
    const maha = fitMahalanobis(fitX);
    add('mahalanobis_sqrtn', maha.score(holdX), maha.score(dev), maha.score(test));
    return { vae, scaler, tokenMean: mu, bestEpoch: tr.bestEpoch };
  } catch (err) {
    vae.dispose();
    throw err;
  }
}
