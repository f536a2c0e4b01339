/**
 * SAE training loop (SAELens v6 `SAETrainer.fit`): optional norm-scaling estimate
 * (`expected_average_only_in`), b_dec initialisation, then per step: batch → hand-written loss and
 * gradients (`grads.ts`) → global-norm clipping → Adam with a scheduled LR; the sparsity coefficient
 * warms up linearly; dead latents (no firing in the last N tokens, `FeatureTracker`) feed TopK's AuxK. Progress on stderr,
 * metrics as JSON lines, checkpoints in SAELens's layout; the scale is folded into the weights at the end.
 * Async (the store may read from disk); no tidy spans an await.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import { createAdam, lrAt } from '../ops/optimizer.js';
import type { BatchProvider } from './activation_store.js';
import { resolveSaeTraining, type ResolvedSaeTraining, type SaeConfig, type SaeTrainingConfig } from './config.js';
import { saeLossAndGrads, STATS_HEAD } from './grads.js';
import { geometricMedian, initSae, meanOf } from './init.js';
import { nextTopkThreshold } from './convert.js';
import { runnerToSaeConfigs, type SaeRunnerConfig } from './runner_config.js';
import { saveSae } from './io.js';
import { trainingCfgFields } from './sae_lens_config.js';
import { SparseAutoencoder } from './sae.js';
import { clipAndApply, coefficientAt, FeatureTracker, logFeatureSparsity } from './train_state.js';

/** Steps per feature-density window (SAELens `feature_sampling_window`). */
const FEATURE_SAMPLING_WINDOW = 2000;

/** One logged training step. @category SAE */
export interface SaeStepMetrics {
  /** 0-based step. */
  readonly step: number;
  /** Tokens seen so far (including this step). */
  readonly tokens: number;
  /** Total loss. */
  readonly loss: number;
  /** Σ_d (x − x̂)², averaged over the batch. */
  readonly mseLoss: number;
  /** L1 (standard) or L0 (jumprelu) term. */
  readonly sparsityLoss: number;
  /** TopK AuxK term. */
  readonly auxLoss: number;
  /** Mean active latents per token. */
  readonly l0: number;
  /** 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖² on the batch (SAELens `metrics/explained_variance`). */
  readonly explainedVariance: number;
  /**
   * Latents that fired on none of the last `deadFeatureWindowTokens` training tokens, this step's batch
   * included (as SAELens logs `sparsity/dead_features` after the step); {@link evaluateSae} with the same
   * `deadWindowTokens` counts by the same rule.
   */
  readonly deadFeatures: number;
  /** Learning rate used. */
  readonly lr: number;
  /** Sparsity coefficient used. */
  readonly sparsityCoefficient: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Seconds since the start. */
  readonly elapsedS: number;
  /** BatchTopK: the running threshold after this step (SAELens `metrics/topk_threshold`). */
  readonly topkThreshold?: number;
}

/** Options of {@link trainSae}. @category SAE */
export interface TrainSaeOptions {
  /** Where batches come from (its batchSize must equal `training.batchSize`). */
  readonly store: BatchProvider & {
    /**
     * Estimate √d_in / E‖x‖ over `n` batches, make the store serve rows scaled by it, and return it
     * (needed for `normalizeActivations: 'expected_average_only_in'`; see {@link ActivationStore}).
     */
    estimateNormScalingFactor?(n: number): Promise<number>;
  };
  /** Architecture (ignored when `sae` is given). */
  readonly cfg: SaeConfig;
  /** Hyper-parameters. */
  readonly training: SaeTrainingConfig;
  /** Continue training this SAE instead of initialising a new one (ownership stays with the caller). */
  readonly sae?: SparseAutoencoder;
  /** Metrics JSONL path (truncated at start). */
  readonly metricsPath?: string;
  /** Log every N steps (default 50; the last step is always logged). */
  readonly logEvery?: number;
  /** No progress on stderr. */
  readonly quiet?: boolean;
  /** Checkpoint folder: `<dir>/<tokens>/` in SAELens's layout. */
  readonly checkpointDir?: string;
  /** Evenly spaced checkpoints (default 0). */
  readonly nCheckpoints?: number;
  /** Label of the progress line. */
  readonly label?: string;
}

/** {@link trainSae} driven by one run config instead of `cfg` + `training` (its checkpoint fields are used
 * unless given here). @category SAE */
export interface TrainSaeRunnerOptions extends Omit<TrainSaeOptions, 'cfg' | 'training'> {
  /** The run config (SAELens `LanguageModelSAERunnerConfig`-like). */
  readonly runner: SaeRunnerConfig;
}

/** Resolve runner options to plain {@link TrainSaeOptions}. */
function fromRunner(o: TrainSaeOptions | TrainSaeRunnerOptions): TrainSaeOptions {
  if (!('runner' in o)) return o;
  const { runner, ...rest } = o;
  const dir = rest.checkpointDir ?? runner.checkpointPath;
  const n = rest.nCheckpoints ?? runner.nCheckpoints;
  return { ...rest, ...runnerToSaeConfigs(runner), ...(dir !== undefined ? { checkpointDir: dir } : {}), ...(n !== undefined ? { nCheckpoints: n } : {}) };
}

/** Result of {@link trainSae}. @category SAE */
export interface TrainSaeResult {
  /** The trained SAE, scale folded in (normalizeActivations 'none'). Dispose it. A BatchTopK SAE stays
   * 'batchtopk' (batch-wide selection, as SAELens's training SAE); {@link saveSae} writes it as the JumpReLU
   * inference SAE, and {@link batchTopkToJumpRelu} converts it in memory. */
  readonly sae: SparseAutoencoder;
  /** Logged steps. */
  readonly history: SaeStepMetrics[];
  /** The norm scaling factor used (undefined: none). */
  readonly scalingFactor: number | undefined;
  /** Firing frequency per latent over the last sampling window. */
  readonly featureDensity: Float32Array;
  /** Fraction of latents dead at the end (no firing in the last `deadFeatureWindowTokens` tokens). */
  readonly deadFraction: number;
  /** Tokens trained on. */
  readonly tokens: number;
  /** Wall-clock seconds. */
  readonly seconds: number;
  /** Resolved hyper-parameters (for cfg.json training fields). */
  readonly training: ResolvedSaeTraining;
}

async function initialBDec(o: TrainSaeOptions, t: ResolvedSaeTraining): Promise<Float32Array | undefined> {
  if (t.bDecInit === 'zeros') return undefined;
  const parts: Float32Array[] = [];
  for (let b = 0; b < t.bDecInitBatches; b++) parts.push(await o.store.nextBatch());
  const sample = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    sample.set(p, off);
    off += p.length;
  }
  return t.bDecInit === 'mean' ? meanOf(sample, o.store.dIn) : geometricMedian(sample, o.store.dIn);
}

interface Loop {
  readonly sae: SparseAutoencoder;
  readonly t: ResolvedSaeTraining;
  readonly tracker: FeatureTracker;
  /** JumpReLU only: the SAE's θ and the log θ the optimiser trains (SAELens trains log θ). */
  readonly threshold: { readonly theta: tf.Variable<tf.Rank.R1>; readonly logTheta: tf.Variable<tf.Rank.R1> } | undefined;
  readonly optimizer: ReturnType<typeof createAdam>;
}

/** One optimiser step; returns the step's metrics. */
function trainStep(loop: Loop, xArr: Float32Array, step: number, tokens: number, t0: number): SaeStepMetrics {
  const { sae, t, tracker } = loop;
  const { dIn, dSae } = sae.cfg;
  const batch = t.batchSize;
  const lr = lrAt({ lr: t.lr, warmupSteps: t.lrWarmupSteps, totalSteps: t.steps, decay: t.lrDecay, minRatio: t.lrMinRatio }, step);
  loop.optimizer.setLearningRate(lr);
  const coeff = coefficientAt(step, t.sparsityCoefficient, t.sparsityWarmupSteps);
  const dead = tracker.deadMask(t.deadFeatureWindowTokens);
  const x = tf.tensor2d(xArr, [batch, dIn]); // [batch, d_in], already scaled by the store
  const usesAuxK = sae.cfg.architecture === 'topk' || sae.cfg.architecture === 'batchtopk';
  const deadMask = dead.n > 0 && usesAuxK ? tf.tensor1d(dead.mask) : undefined;
  const p = sae.params;
  const { grads, stats, minPositiveAct } = saeLossAndGrads(sae.cfg, p, x, {
    sparsityCoefficient: coeff, nDead: dead.n, ...(deadMask !== undefined ? { deadMask } : {}),
    auxLossCoefficient: t.auxLossCoefficient, bandwidth: t.jumpreluBandwidth,
    sparsityLossMode: t.jumpreluSparsityLossMode, tanhScale: t.jumpreluTanhScale,
  });
  x.dispose();
  deadMask?.dispose();
  const pairs: [tf.Variable, tf.Tensor][] = [[p.W_enc, grads.W_enc], [p.b_enc, grads.b_enc], [p.W_dec, grads.W_dec], [p.b_dec, grads.b_dec]];
  for (const name of ['b_gate', 'r_mag', 'b_mag'] as const) {
    const v = p[name];
    const g = grads[name];
    if (v !== undefined && g !== undefined) pairs.push([v, g]);
  }
  if (minPositiveAct !== undefined) sae.topkThreshold = nextTopkThreshold(sae.topkThreshold, minPositiveAct, t.topkThresholdLr); // SAELens: in the forward pass
  const thr = loop.threshold;
  if (thr !== undefined && grads.threshold !== undefined) {
    const dLog = tf.mul(grads.threshold, thr.theta); // dθ/dlogθ = θ
    grads.threshold.dispose();
    pairs.push([thr.logTheta, dLog]);
  }
  const gradNorm = clipAndApply(loop.optimizer, pairs, t.clipNorm);
  if (thr !== undefined) tf.tidy(() => thr.theta.assign(tf.exp(thr.logTheta)));
  const s = stats.dataSync();
  stats.dispose();
  tracker.update(s.subarray(STATS_HEAD, STATS_HEAD + dSae), batch);
  const deadAfter = tracker.deadMask(t.deadFeatureWindowTokens).n; // logged after the step, as SAELens's trainer
  const [mse, sparsity, aux, l0, sse, tv] = Array.from(s.subarray(0, STATS_HEAD)) as number[];
  const loss = (mse as number) + (sparsity as number) + (aux as number);
  if (!Number.isFinite(loss)) throw new ConfigError(`trainSae: loss became ${loss} at step ${step} (lower the learning rate)`);
  return {
    step, tokens, loss, mseLoss: mse as number, sparsityLoss: sparsity as number, auxLoss: aux as number, l0: l0 as number,
    explainedVariance: 1 - (sse as number) / Math.max(tv as number, 1e-30), deadFeatures: deadAfter, lr,
    sparsityCoefficient: coeff, gradNorm, elapsedS: (performance.now() - t0) / 1000,
    ...(sae.cfg.architecture === 'batchtopk' ? { topkThreshold: sae.topkThreshold } : {}),
  };
}

function progressLine(label: string, m: SaeStepMetrics, total: number, dSae: number): string {
  const eta = (m.elapsedS / (m.step + 1)) * (total - m.step - 1);
  return `${label} step ${m.step + 1}/${total} loss ${m.loss.toFixed(4)} mse ${m.mseLoss.toFixed(4)} l0 ${m.l0.toFixed(1)} ` +
    `ev ${m.explainedVariance.toFixed(3)} dead ${m.deadFeatures}/${dSae} lr ${m.lr.toExponential(2)} (${m.elapsedS.toFixed(0)} s, eta ${eta.toFixed(0)} s)\n`;
}

function checkpointSteps(t: ResolvedSaeTraining, n: number): Set<number> {
  const out = new Set<number>();
  if (n <= 0) return out;
  const every = Math.ceil(t.steps / (n + 1));
  for (let s = every; s < t.steps; s += every) out.add(s - 1);
  return out;
}

async function prepare(o: TrainSaeOptions, t: ResolvedSaeTraining): Promise<{ sae: SparseAutoencoder; scale: number; owned: boolean }> {
  if (o.store.batchSize !== t.batchSize) {
    throw new ConfigError(`trainSae: store batch size ${o.store.batchSize} differs from training.batchSize ${t.batchSize}`);
  }
  const cfg = o.sae?.cfg ?? o.cfg;
  if (o.store.dIn !== cfg.dIn) throw new ShapeError(`trainSae: store rows have d_in ${o.store.dIn}, SAE expects ${cfg.dIn}`);
  if (o.sae !== undefined && (t.normalizeActivations !== 'none' || o.sae.cfg.normalizeActivations !== 'none')) {
    throw new ConfigError("trainSae: continuing a given SAE needs normalizeActivations 'none'");
  }
  let scale = 1;
  if (t.normalizeActivations === 'expected_average_only_in') {
    if (o.store.estimateNormScalingFactor === undefined) throw new ConfigError('trainSae: normalisation needs a store with estimateNormScalingFactor');
    scale = await o.store.estimateNormScalingFactor(t.normEstimateBatches); // the store now serves scaled rows
  }
  if (o.sae !== undefined) return { sae: o.sae, scale, owned: false };
  const bDec = await initialBDec(o, t);
  const sae = initSae(
    { ...cfg, normalizeActivations: t.normalizeActivations },
    { seed: t.seed, decoderInitNorm: t.decoderInitNorm, jumpreluInitThreshold: t.jumpreluInitThreshold, ...(bDec ? { bDec } : {}) },
  );
  return { sae, scale, owned: true };
}

/**
 * Train an SAE on a batch provider (a model-backed or disk-backed {@link ActivationStore}).
 * @param options Store, architecture, hyper-parameters, logging, checkpoints; or the store and one
 *   {@link SaeRunnerConfig} (`runner`) in place of `cfg` + `training`.
 * @returns The trained SAE, logged metrics and feature statistics.
 * @throws {@link "tfjs-lens"!ConfigError} on bad hyper-parameters, a batch-size mismatch or a non-finite loss.
 * @example
 * const store = new ActivationStore(arrayActivationSource(x, 64), { batchSize: 1024, seed: 0 });
 * const { sae } = await trainSae({ store, cfg: saeConfig({ architecture: 'topk', dIn: 64, dSae: 256, k: 8 }),
 *   training: { steps: 2000, batchSize: 1024, lr: 3e-3 } });
 * @category SAE
 */
export async function trainSae(options: TrainSaeOptions | TrainSaeRunnerOptions): Promise<TrainSaeResult> {
  const o = fromRunner(options);
  const t = resolveSaeTraining(o.training);
  const { sae, scale, owned } = await prepare(o, t);
  const theta = sae.params.threshold;
  const threshold = theta !== undefined ? { theta, logTheta: tf.tidy(() => tf.variable(tf.log(theta), true)) } : undefined; // SAELens trains log θ
  const loop: Loop = {
    sae, t, tracker: new FeatureTracker(sae.cfg.dSae), threshold,
    optimizer: createAdam(t.lr, { beta1: t.adamBeta1, beta2: t.adamBeta2, epsilon: 1e-8 }),
  };
  const history: SaeStepMetrics[] = [];
  if (o.metricsPath !== undefined) {
    mkdirSync(dirname(o.metricsPath), { recursive: true });
    writeFileSync(o.metricsPath, '');
  }
  const ckpts = checkpointSteps(t, o.nCheckpoints ?? 0);
  const t0 = performance.now();
  let tokens = 0;
  try {
    for (let step = 0; step < t.steps; step++) {
      if (step > 0 && step % FEATURE_SAMPLING_WINDOW === 0) loop.tracker.resetWindow();
      const x = await o.store.nextBatch();
      tokens += t.batchSize;
      const m = trainStep(loop, x, step, tokens, t0);
      if (step % (o.logEvery ?? 50) === 0 || step === t.steps - 1) {
        history.push(m);
        if (o.metricsPath !== undefined) appendFileSync(o.metricsPath, `${JSON.stringify(m)}\n`);
        if (o.quiet !== true) process.stderr.write(progressLine(o.label ?? 'sae', m, t.steps, sae.cfg.dSae));
      }
      if (ckpts.has(step) && o.checkpointDir !== undefined) {
        await saveSae(sae, join(o.checkpointDir, String(tokens)), {
          extraCfg: trainingCfgFields(sae.cfg, t), logSparsity: logFeatureSparsity(loop.tracker.density()),
          scalingFactor: scale === 1 ? null : scale, foldTopkDecoderNorm: false, batchTopkAsJumpRelu: false,
        });
      }
    }
  } catch (err) {
    if (owned) sae.dispose();
    throw err;
  } finally {
    loop.optimizer.dispose();
    threshold?.logTheta.dispose();
  }
  const finalSae = foldScale(sae, scale);
  const dead = loop.tracker.deadMask(t.deadFeatureWindowTokens);
  return {
    sae: finalSae, history, scalingFactor: scale === 1 ? undefined : scale, featureDensity: loop.tracker.density(),
    deadFraction: dead.n / sae.cfg.dSae, tokens, seconds: (performance.now() - t0) / 1000, training: t,
  };
}

/**
 * Fold an input scale s into the weights (SAELens `fold_activation_norm_scaling_factor`:
 * W_enc·s, W_dec/s, b_dec/s), so the SAE takes unscaled inputs; normalizeActivations becomes 'none'.
 * @param sae SAE trained on inputs multiplied by s (disposed when a new one is returned).
 * @param s The factor (1: no-op, the same SAE is returned).
 * @returns The SAE for raw inputs.
 * @example const raw = foldScale(sae, 1.7);
 * @throws {@link "tfjs-lens"!DisposedError} if the SAE was disposed.
 * @category SAE
 */
function foldScale(sae: SparseAutoencoder, s: number): SparseAutoencoder {
  if (s === 1 && sae.cfg.normalizeActivations === 'none') return sae;
  const w = sae.toArrays();
  const folded = new SparseAutoencoder(
    { ...sae.cfg, normalizeActivations: 'none' },
    {
      ...w,
      W_enc: w.W_enc.map((v) => v * s),
      W_dec: w.W_dec.map((v) => v / s),
      b_dec: w.b_dec.map((v) => v / s),
    },
  );
  sae.dispose();
  return folded;
}
