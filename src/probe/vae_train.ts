/**
 * Training loop of the β-VAE probe: seeded validation split and shuffling, minibatch Adam on
 * recon + β·KL with β annealed linearly 0 → βmax over the warm-up epochs (as the anchor
 * `vae-transformer-ood` `train_vae`), per-epoch history, and early stopping on the validation
 * loss (at βmax, counted only after warm-up) that restores the best epoch's weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DatasetError, ShapeError } from '../errors.js';
import { createAdam } from '../ops/optimizer.js';
import { seededRng, type Rng } from '../utils/rng.js';
import { klPerSample, reconErrorPerSample, type BetaVae, type VaeWeightArrays } from './beta_vae.js';
import { selectRows, toFeatureMatrix, type FeatureMatrix } from './matrix.js';
import { betaAt, resolveTrainConfig, type VaeTrainConfig } from './vae_config.js';

/**
 * Figures of one epoch.
 * @category Probe
 */
export interface VaeEpochRecord {
  /** 0-based epoch. */
  readonly epoch: number;
  /** β used in this epoch. */
  readonly beta: number;
  /** Mean training loss (recon + β·KL) over the epoch's batches. */
  readonly loss: number;
  /** Mean training reconstruction term. */
  readonly recon: number;
  /** Mean training KL term. */
  readonly kl: number;
  /** Validation reconstruction term (z = μ); NaN without a validation split. */
  readonly valRecon: number;
  /** Validation KL term. */
  readonly valKl: number;
  /** Validation loss at βmax (the early-stopping criterion). */
  readonly valLoss: number;
  /** Seconds since training started. */
  readonly elapsedS: number;
}

/**
 * What {@link trainBetaVae} did.
 * @category Probe
 */
export interface VaeTrainResult {
  /** The resolved training config. */
  readonly config: VaeTrainConfig;
  /** One record per epoch run. */
  readonly history: VaeEpochRecord[];
  /** Epoch whose weights the model holds now (best validation loss after warm-up; else the last). */
  readonly bestEpoch: number;
  /** Whether early stopping ended the run before `epochs`. */
  readonly stoppedEarly: boolean;
  /** Rows used for gradient steps (indices into the input). */
  readonly trainIdx: number[];
  /** Rows held out for validation. */
  readonly valIdx: number[];
  /** Wall time in seconds. */
  readonly seconds: number;
}

/**
 * Options of {@link trainBetaVae} beyond the hyper-parameters.
 * @category Probe
 */
export interface VaeTrainOptions {
  /** No progress on stderr. */
  readonly quiet?: boolean;
  /** Prefix of the progress lines (default 'β-VAE'). */
  readonly label?: string;
  /** Print progress every N epochs (default 10). */
  readonly logEvery?: number;
  /** Called after every epoch. */
  readonly onEpoch?: (r: VaeEpochRecord) => void;
}

function shuffle(idx: number[], rand: Rng): number[] {
  const a = [...idx];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a;
}

/** Validation-set figures with z = μ: [recon, kl] means. */
function evaluate(vae: BetaVae, x: tf.Tensor2D, reduction: 'sum' | 'mean'): [number, number] {
  return tf.tidy(() => {
    const { recon, mu, logvar } = vae.forward(x);
    const r = tf.mean(reconErrorPerSample(x, recon, reduction)).dataSync()[0] as number;
    const k = tf.mean(klPerSample(mu, logvar)).dataSync()[0] as number;
    return [r, k];
  });
}

/** One epoch of minibatch steps; returns mean [loss, recon, kl]. */
function runEpoch(vae: BetaVae, xTrain: tf.Tensor2D, order: number[], beta: number, t: VaeTrainConfig, rand: Rng, opt: tf.Optimizer): [number, number, number] {
  let [sumLoss, sumRecon, sumKl, batches] = [0, 0, 0, 0];
  for (let s = 0; s < order.length; s += t.batchSize) {
    const batch = order.slice(s, s + t.batchSize);
    if (batch.length < 2 && order.length >= 2) continue; // a 1-row batch breaks BatchNorm statistics
    const seed = Math.floor(rand() * 2 ** 31);
    const kept: tf.Tensor[] = [];
    const lossV = tf.tidy(() => {
      const xb = tf.gather(xTrain, tf.tensor1d(batch, 'int32')); // [batch, d_in]
      const { value, grads } = tf.variableGrads(() => {
        const out = vae.forward(xb, { training: true, seed });
        const recon = tf.mean(reconErrorPerSample(xb, out.recon, t.reconReduction));
        const kl = tf.mean(klPerSample(out.mu, out.logvar));
        kept.push(tf.keep(tf.clone(recon)), tf.keep(tf.clone(kl)));
        return tf.add<tf.Scalar>(recon, tf.mul(kl, beta));
      }, vae.trainableVariables);
      opt.applyGradients(grads);
      return value.dataSync()[0] as number;
    });
    if (!Number.isFinite(lossV)) {
      kept.forEach((k) => k.dispose());
      throw new DatasetError(`trainBetaVae: the loss became ${lossV} (lower lr, or standardise the features)`);
    }
    sumLoss += lossV;
    sumRecon += kept[0]?.dataSync()[0] as number;
    sumKl += kept[1]?.dataSync()[0] as number;
    kept.forEach((k) => k.dispose());
    batches++;
  }
  return [sumLoss / batches, sumRecon / batches, sumKl / batches];
}

function splitRows(n: number, valFraction: number, rand: Rng): { trainIdx: number[]; valIdx: number[] } {
  const perm = shuffle(Array.from({ length: n }, (_, i) => i), rand);
  const nVal = Math.min(Math.round(n * valFraction), n - 2);
  const valIdx = nVal >= 2 ? perm.slice(0, nVal).sort((a, b) => a - b) : [];
  const trainIdx = perm.slice(valIdx.length).sort((a, b) => a - b);
  return { trainIdx, valIdx };
}

/**
 * Train a β-VAE in place.
 * @param vae The model (its variables are updated; on return it holds the best epoch's weights).
 * @param features Training rows [n, d_in] (e.g. standardised activations of normal texts only).
 * @param config Hyper-parameters (see {@link resolveTrainConfig} for defaults).
 * @param opts Progress and callbacks.
 * @returns History, best epoch and split.
 * @throws {@link "tfjs-lens"!ShapeError} if the width differs from `vae.cfg.dIn`; {@link "tfjs-lens"!DatasetError} for fewer
 *   than 4 rows, non-finite values, or a loss that diverges; {@link "tfjs-lens"!ConfigError} for bad hyper-parameters.
 * @example
 * const vae = new BetaVae({ dIn: x.cols, dLatent: 64 });
 * const { history } = trainBetaVae(vae, x, { epochs: 100, betaMax: 0.3 });
 * @category Probe
 */
export function trainBetaVae(
  vae: BetaVae,
  features: FeatureMatrix | readonly (readonly number[])[],
  config: Partial<VaeTrainConfig> = {},
  opts: VaeTrainOptions = {},
): VaeTrainResult {
  const t = resolveTrainConfig(config);
  const m = toFeatureMatrix(features, 'trainBetaVae');
  if (m.cols !== vae.cfg.dIn) throw new ShapeError(`trainBetaVae: features have ${m.cols} columns, the VAE expects dIn = ${vae.cfg.dIn}`);
  if (m.rows < 4) throw new DatasetError(`trainBetaVae: need at least 4 training rows, got ${m.rows}`);
  const rand = seededRng(t.seed);
  const { trainIdx, valIdx } = splitRows(m.rows, t.valFraction, rand);
  const tr = selectRows(m, trainIdx);
  const xTrain = tf.tensor2d(tr.data, [tr.rows, tr.cols]);
  const va = valIdx.length > 0 ? selectRows(m, valIdx) : undefined;
  const xVal = va === undefined ? undefined : tf.tensor2d(va.data, [va.rows, va.cols]);
  const opt = createAdam(t.lr);
  const history: VaeEpochRecord[] = [];
  const t0 = performance.now();
  let best: { loss: number; epoch: number; weights: VaeWeightArrays | undefined } = { loss: Infinity, epoch: -1, weights: undefined };
  let stoppedEarly = false;
  try {
    const positions = Array.from({ length: tr.rows }, (_, i) => i);
    for (let epoch = 0; epoch < t.epochs; epoch++) {
      const beta = betaAt(epoch, t);
      const [loss, recon, kl] = runEpoch(vae, xTrain, shuffle(positions, rand), beta, t, rand, opt);
      const [valRecon, valKl] = xVal === undefined ? [NaN, NaN] : evaluate(vae, xVal, t.reconReduction);
      const rec: VaeEpochRecord = { epoch, beta, loss, recon, kl, valRecon, valKl, valLoss: valRecon + t.betaMax * valKl, elapsedS: (performance.now() - t0) / 1000 };
      history.push(rec);
      opts.onEpoch?.(rec);
      if (opts.quiet !== true && (epoch % (opts.logEvery ?? 10) === 0 || epoch === t.epochs - 1)) progress(opts.label ?? 'β-VAE', rec, t.epochs);
      if (xVal === undefined || epoch < t.warmupEpochs) continue;
      if (rec.valLoss < best.loss) best = { loss: rec.valLoss, epoch, weights: vae.weightArrays() };
      else if (epoch - best.epoch >= t.patience) {
        stoppedEarly = true;
        if (opts.quiet !== true) process.stderr.write(`${opts.label ?? 'β-VAE'}: early stop at epoch ${epoch}; best epoch ${best.epoch} (val loss ${best.loss.toFixed(4)})\n`);
        break;
      }
    }
    if (best.weights !== undefined) vae.setWeights(best.weights);
  } finally {
    xTrain.dispose();
    xVal?.dispose();
    opt.dispose();
  }
  const bestEpoch = best.weights !== undefined ? best.epoch : history.length - 1;
  return { config: t, history, bestEpoch, stoppedEarly, trainIdx, valIdx, seconds: (performance.now() - t0) / 1000 };
}

function progress(label: string, r: VaeEpochRecord, total: number): void {
  const val = Number.isNaN(r.valLoss) ? '' : ` val ${r.valLoss.toFixed(4)}`;
  process.stderr.write(
    `${label} epoch ${r.epoch + 1}/${total} β ${r.beta.toFixed(3)} loss ${r.loss.toFixed(4)} recon ${r.recon.toFixed(4)} kl ${r.kl.toFixed(4)}${val} (${r.elapsedS.toFixed(1)} s)\n`,
  );
}
