/**
 * Contrastive fine-tuning of an encoder's pooled representation (InfoNCE) on normal texts against
 * augmented anomalous ones: LoRA factors on the encoder's attention projections (the base weights
 * never change; the trained adapter is attached unmerged, as `finetuneClassifier` does),
 * the representation the masked mean of the last layer's output. Any detector then runs on
 * `extractPooledFeatures` of the adapted model (kNN, Mahalanobis …).
 *
 * Loss per batch of B normal texts x_1…x_B, anchor a_i = f(x_i), positive p_i = f(x_{i+1 mod B})
 * (another normal text: normals are pulled together), negatives n_j = f(aug(x_j)) for every j (aug:
 * a synthetic anomaly, by default keyboard typos from the data layer's generators; each anchor's own
 * augmented copy is its hardest negative) plus labelled anomalies if given:
 * L = mean_i −log[ e^{cos(a_i,p_i)/τ} / (e^{cos(a_i,p_i)/τ} + Σ_j e^{cos(a_i,n_j)/τ}) ].
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DatasetError, ShapeError } from '../errors.js';
import { NO_HOOKS } from '../hooks/run_context.js';
import { runEncoder } from '../model/encoder/encoder_forward.js';
import type { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import { maskedMeanPool } from '../model/encoder/pooling.js';
import type { AdapterHost } from '../model/lora/adapter_host.js';
import { createAdamW } from '../train/adamw.js';
import { epochBatches } from '../train/batches.js';
import { buildTrainables, countParameters, type FinetuneLoraOptions } from '../train/finetune_params.js';
import { trainLoopDetailed, type StepMetrics } from '../train/trainer.js';
import { typo } from '../data/anomalies/typos.js';
import type { TypoEdit } from '../data/anomalies/types.js';
import { seededRng } from '../utils/rng.js';

/** Options of {@link infoNceLoss}. @category Anomaly */
export interface InfoNceOptions {
  /** Temperature τ (default 0.1). */
  readonly temperature?: number;
  /** Also use the other rows' positives as negatives (SimCLR / CLIP style; default false). */
  readonly inBatchNegatives?: boolean;
}

/**
 * InfoNCE loss over cosine similarities: for each anchor row i, cross-entropy of the logits
 * [cos(a_i, p_i), (cos(a_i, p_j) for j ≠ i, with inBatchNegatives), cos(a_i, n_1…n_m)] / τ with
 * target its own positive, averaged over rows.
 * @param anchors Anchors [n, d].
 * @param positives Positives [n, d] (row i pairs with anchor i).
 * @param negatives Negatives [m, d] shared by every anchor (undefined: none; then inBatchNegatives is needed).
 * @param opts Temperature, in-batch negatives.
 * @returns The mean loss (scalar; differentiable).
 * @throws {@link "tfjs-lens"!ConfigError} for a non-positive temperature or no negatives at all;
 *   {@link "tfjs-lens"!ShapeError} for mismatched shapes.
 * @example infoNceLoss(a, p, n, { temperature: 0.1 })
 * @category Anomaly
 */
export function infoNceLoss(anchors: tf.Tensor2D, positives: tf.Tensor2D, negatives: tf.Tensor2D | undefined, opts: InfoNceOptions = {}): tf.Scalar {
  const tau = opts.temperature ?? 0.1;
  if (!(tau > 0)) throw new ConfigError(`infoNceLoss: temperature must be > 0, got ${tau}`);
  const [n, d] = anchors.shape;
  if (positives.shape[0] !== n || positives.shape[1] !== d) throw new ShapeError(`infoNceLoss: positives [${positives.shape}] must match anchors [${anchors.shape}]`);
  if (negatives !== undefined && negatives.shape[1] !== d) throw new ShapeError(`infoNceLoss: negatives have width ${negatives.shape[1]}, anchors ${d}`);
  const inBatch = opts.inBatchNegatives ?? false;
  if (!inBatch && (negatives === undefined || negatives.shape[0] === 0)) throw new ConfigError('infoNceLoss: no negatives — give negatives or set inBatchNegatives');
  return tf.tidy((): tf.Scalar => {
    const unit = (x: tf.Tensor2D): tf.Tensor2D => tf.div<tf.Tensor2D>(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-12));
    const a = unit(anchors);
    const p = unit(positives);
    const pos = tf.sum<tf.Tensor2D>(tf.mul(a, p), 1, true); // [n, 1]
    const parts: tf.Tensor2D[] = [pos];
    if (inBatch) {
      const all = tf.matMul(a, p, false, true); // [n, n]
      parts.push(tf.add<tf.Tensor2D>(all, tf.mul(tf.eye(n), -1e9))); // the diagonal (own positive) is already in `pos`
    }
    if (negatives !== undefined && negatives.shape[0] > 0) parts.push(tf.matMul(a, unit(negatives), false, true)); // [n, m]
    const logits = tf.div(tf.concat(parts, 1), tau); // [n, 1 + …]
    const lsm = tf.logSoftmax(logits, 1);
    return tf.neg<tf.Scalar>(tf.mean<tf.Scalar>(tf.slice(lsm, [0, 0], [n, 1])));
  });
}

/**
 * A simple seeded augmentation: swap `rate` of the adjacent character pairs inside words (at least
 * one swap when the text has a word of ≥ 2 letters). Stand-in for the synthetic anomaly generators.
 * @param text Text.
 * @param seed Seed.
 * @param rate Fraction of positions swapped (default 0.1).
 * @returns The altered text.
 * @category Anomaly
 */
export function charSwapAugment(text: string, seed: number, rate = 0.1): string {
  const c = [...text];
  const spots = c.map((_, i) => i).filter((i) => i + 1 < c.length && /\p{L}/u.test(c[i] as string) && /\p{L}/u.test(c[i + 1] as string) && c[i] !== c[i + 1]);
  if (spots.length === 0) return text;
  const r = seededRng(seed);
  let done = 0;
  for (const i of spots) {
    if (r() < rate) {
      [c[i], c[i + 1]] = [c[i + 1] as string, c[i] as string];
      done++;
    }
  }
  if (done === 0) {
    const i = spots[Math.floor(r() * spots.length)] as number;
    [c[i], c[i + 1]] = [c[i + 1] as string, c[i] as string];
  }
  return c.join('');
}

const TYPO_EDITS: readonly TypoEdit[] = ['insert', 'delete', 'swap', 'substitute'];

/**
 * The default augmentation: `count` character-level typos from the synthetic anomaly generators
 * (`typo` of tfjs-lens/data: insert, delete, swap, substitute by a QWERTY neighbour), each edit type
 * drawn uniformly, seeded. A text without letters comes back unchanged.
 * @param text Text.
 * @param seed Seed.
 * @param count Typos applied one after the other (default 2).
 * @returns The altered text.
 * @example typoAugment('Polyester 100%', 0)
 * @category Anomaly
 */
export function typoAugment(text: string, seed: number, count = 2): string {
  const r = seededRng(seed);
  let t = text;
  for (let i = 0; i < count; i++) t = typo(t, TYPO_EDITS[Math.floor(r() * TYPO_EDITS.length)] as TypoEdit, r)?.text ?? t;
  return t;
}

/** Data of {@link contrastiveFinetune}. @category Anomaly */
export interface ContrastiveData {
  /** Normal texts (≥ 2). */
  readonly normal: readonly string[];
  /** Labelled anomalous texts, added as negatives (optional). */
  readonly anomalous?: readonly string[];
}

/** Options of {@link contrastiveFinetune}. @category Anomaly */
export interface ContrastiveOptions {
  /** LoRA settings (default r 8, alpha 16, dropout 0.1, the family's query / value projections; no modules saved whole). */
  readonly lora?: FinetuneLoraOptions;
  /**
   * Anomaly of a normal text: 'typos' ({@link typoAugment}: two keyboard typos from the synthetic
   * anomaly generators; default), 'charSwap' ({@link charSwapAugment} at rate 0.1) or a function.
   */
  readonly augment?: 'typos' | 'charSwap' | ((text: string, seed: number) => string);
  /** InfoNCE temperature (default 0.1). */
  readonly temperature?: number;
  /** Epochs over the normal texts (default 5). */
  readonly epochs?: number;
  /** Normal texts per batch (default 16; at least 2). */
  readonly batchSize?: number;
  /** Learning rate (default 1e-3, constant). */
  readonly lr?: number;
  /** Tokens per text (default 128, capped at n_ctx). */
  readonly maxLength?: number;
  /** Seed of order, LoRA initialisation, dropout and augmentation (default 0). */
  readonly seed?: number;
  /** No progress on stderr (default false). */
  readonly quiet?: boolean;
  /** Log every N steps (default 10). */
  readonly logEvery?: number;
}

/** What {@link contrastiveFinetune} returns. @category Anomaly */
export interface ContrastiveResult {
  /** Logged steps. */
  readonly history: StepMetrics[];
  /** Optimizer steps. */
  readonly stepsRun: number;
  /** Mean InfoNCE loss over every batch before training (fixed seed of augmentation and no dropout). */
  readonly lossBefore: number;
  /** The same after training. */
  readonly lossAfter: number;
  /** Trainable parameters. */
  readonly trainable: number;
}

/** Pooled last-layer output [rows, d_model] of token rows under given encoder params. */
function pooled(model: HookedEncoder, params: HookedEncoder['params'], ids: number[][], mask: number[][]): tf.Tensor2D {
  return tf.tidy(() => {
    const width = Math.max(...mask.map((m) => m.lastIndexOf(1) + 1), 1);
    const ids2 = ids.map((r) => r.slice(0, width));
    const mask2 = mask.map((r) => r.slice(0, width));
    const tokens = tf.tensor2d(ids2, [ids2.length, width], 'int32');
    const out = runEncoder({ cfg: model.cfg, params, hook: NO_HOOKS, flags: {} }, tokens, mask2, undefined, false, undefined); // [rows, pos, d_model]
    return maskedMeanPool(out, mask2) as tf.Tensor2D; // [rows, d_model]
  });
}

/**
 * Contrastive (InfoNCE) LoRA fine-tuning of an encoder's pooled output; attaches the adapter.
 * @param model HookedEncoder with a tokenizer and no adapter attached.
 * @param data Normal texts (and optional labelled anomalies).
 * @param opts LoRA, augmentation, temperature, schedule, seed.
 * @returns Loss history and the mean loss before / after.
 * @throws {@link "tfjs-lens"!DatasetError} for fewer than 2 normal texts; {@link "tfjs-lens"!ConfigError}
 *   for an attached adapter or bad options.
 * @example contrastiveFinetune(enc, { normal: hams, anomalous: spams }, { epochs: 5 })
 * @category Anomaly
 */
export function contrastiveFinetune(model: HookedEncoder, data: ContrastiveData, opts: ContrastiveOptions = {}): ContrastiveResult {
  const fn = 'contrastiveFinetune';
  if (data.normal.length < 2) throw new DatasetError(`${fn}: ${data.normal.length} normal texts — need at least 2 (each anchor's positive is another normal text)`);
  const host = model.adapters as AdapterHost<unknown>;
  if (host.adapter !== undefined) throw new ConfigError(`${fn}: an adapter is attached; save it if needed and remove it (model.adapters.remove()) first`);
  const bs = Math.min(opts.batchSize ?? 16, data.normal.length);
  if (!(Number.isInteger(bs) && bs >= 2)) throw new ConfigError(`${fn}: batchSize must be an integer ≥ 2, got ${opts.batchSize}`);
  const seed = opts.seed ?? 0;
  const maxLen = Math.min(opts.maxLength ?? 128, model.cfg.nCtx);
  const aug = opts.augment ?? 'typos';
  const augment = typeof aug === 'function' ? aug : aug === 'charSwap' ? (t: string, s: number): string => charSwapAugment(t, s) : (t: string, s: number): string => typoAugment(t, s);
  const normal = model.encode(data.normal, maxLen);
  const augmented = model.encode(data.normal.map((t, i) => augment(t, seed * 1000003 + i)), maxLen);
  const anomalous = data.anomalous === undefined || data.anomalous.length === 0 ? undefined : model.encode(data.anomalous, maxLen);
  const batches = Array.from({ length: opts.epochs ?? 5 }, (_, e) => epochBatches(data.normal.length, e, { batchSize: bs, seed })).flat().filter((b) => b.length >= 2);
  if (batches.length === 0) throw new ConfigError(`${fn}: no batch of ≥ 2 normal texts`);
  const tau = opts.temperature ?? 0.1;
  const rows = (b: { ids: number[][]; attentionMask: number[][] }, idx: readonly number[]): [number[][], number[][]] => [idx.map((i) => b.ids[i] as number[]), idx.map((i) => b.attentionMask[i] as number[])];
  const batchLoss = (params: HookedEncoder['params'], idx: readonly number[]): tf.Scalar => tf.tidy(() => {
    const a = pooled(model, params, ...rows(normal, idx));
    const p = tf.concat([tf.slice(a, [1, 0], [idx.length - 1, -1]), tf.slice(a, [0, 0], [1, -1])], 0); // row i → row i+1 mod B
    const negs = [pooled(model, params, ...rows(augmented, idx))];
    if (anomalous !== undefined) negs.push(pooled(model, params, anomalous.ids, anomalous.attentionMask));
    return infoNceLoss(a, p, tf.concat(negs, 0), { temperature: tau });
  });
  const trainables = buildTrainables(host, 'lora', { modulesToSave: [], ...opts.lora }, model.cfg.modelType, seed);
  const evalLoss = (): number => {
    let sum = 0;
    const order = epochBatches(data.normal.length, 0, { batchSize: bs, seed }).filter((b) => b.length >= 2);
    for (const b of order) {
      const l = tf.tidy(() => batchLoss(trainables.weights(undefined).params as HookedEncoder['params'], b));
      sum += l.dataSync()[0] as number;
      l.dispose();
    }
    return sum / order.length;
  };
  const optimizer = createAdamW(opts.lr ?? 1e-3, { weightDecay: 0 });
  try {
    const lossBefore = evalLoss();
    const r = trainLoopDetailed({
      variables: trainables.variables,
      loss: (step) => batchLoss(trainables.weights(seed * 100003 + step).params as HookedEncoder['params'], batches[step] as number[]),
      optimizer,
      schedule: { lr: opts.lr ?? 1e-3, totalSteps: batches.length, warmupRatio: 0, decay: 'constant', minRatio: 0 },
      clipNorm: 1,
      logEvery: opts.logEvery ?? 10,
      quiet: opts.quiet === true,
      label: 'contrastive (lora)',
    });
    const lossAfter = evalLoss();
    const { trainable } = countParameters(host, trainables);
    trainables.install();
    return { history: r.history, stepsRun: r.stepsRun, lossBefore, lossAfter, trainable };
  } finally {
    optimizer.dispose();
    trainables.dispose();
  }
}
