/**
 * Fine-tuning a sequence-classification model (the Hugging Face Trainer + PEFT recipe): 'full'
 * (every weight), 'head' (the classification head only) or 'lora' (LoRA factors on the chosen
 * linears plus the `modules_to_save` head; base weights never change). The training forward is the
 * hooked models' own ({@link runEncoder} / {@link runDecoder} and the classifier head) over weights
 * built by {@link applyAdapter} from variables, so training and inference run the same code.
 * 'head' and 'lora' leave an unmerged adapter on the model (`saveAdapter`, `mergeAdapter`).
 */
import { classificationReport } from '../evals/classification.js';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DatasetError, ShapeError } from '../errors.js';
import { NO_HOOKS } from '../hooks/run_context.js';
import { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import { runEncoder } from '../model/encoder/encoder_forward.js';
import { runDecoder } from '../model/forward.js';
import { HookedTransformer } from '../model/hooked_transformer.js';
import { lastTokenPositions } from '../model/classifier/head.js';
import type { AdapterHost } from '../model/lora/adapter_host.js';
import type { ModelWeights } from '../model/lora/linear_slots.js';
import { createAdamW } from './adamw.js';
import { balancedClassWeights, crossEntropyLoss, focalLoss, type FocalLossOptions } from './classifier_losses.js';
import { epochBatches } from './batches.js';
import { trainLoopDetailed, type Evaluation, type StepMetrics } from './trainer.js';
import { buildTrainables, countParameters, type FinetuneLoraOptions, type Trainables } from './finetune_params.js';
import { tokenizeForClassification } from './tokenize_classification.js';

export { tokenizeForClassification, type TokenRows } from './tokenize_classification.js';

/** Training data: texts (tokenised by the model) or token ids, and one class id per row. @category Training */
export interface FinetuneData {
  /** Texts, tokenised as `tfjs-lens finetune` does, to the model's context (decoders: no BOS, pad ids dropped). Give texts or tokenIds. */
  readonly texts?: readonly string[];
  /** Token ids [rows, pos], right-padded. */
  readonly tokenIds?: readonly (readonly number[])[];
  /** Class id per row. */
  readonly labels: readonly number[];
  /** 1 = real token, 0 = padding [rows, pos] (with tokenIds; default all 1). */
  readonly attentionMask?: readonly (readonly number[])[];
}

/** Early stopping on the validation split. @category Training */
export interface FinetuneEarlyStopping {
  /** Evaluations without improvement before stopping. */
  readonly patience: number;
  /** Metric (default 'loss'). */
  readonly metric?: 'loss' | 'accuracy' | 'macroF1';
  /** Evaluate every N optimizer steps (default: once per epoch). */
  readonly every?: number;
  /** Minimum improvement (default 0). */
  readonly minDelta?: number;
}

/** Progress reported at each log step. @category Training */
export interface FinetuneProgress {
  /** 0-based optimizer step. */
  readonly step: number;
  /** Total optimizer steps planned. */
  readonly totalSteps: number;
  /** 0-based epoch. */
  readonly epoch: number;
  /** Validation figures at this step (absent without a validation split). */
  readonly validation?: ValidationMetrics;
}

/** Figures on the validation split. @category Training */
export interface ValidationMetrics {
  /** Mean cross-entropy. */
  readonly loss: number;
  /** Accuracy. */
  readonly accuracy: number;
  /** Macro-averaged F1. */
  readonly macroF1: number;
}

/** Options of {@link finetuneClassifier}. @category Training */
export interface FinetuneOptions {
  /** What is trained (default 'lora'). */
  readonly mode?: 'full' | 'head' | 'lora';
  /** LoRA settings (mode 'lora'). */
  readonly lora?: FinetuneLoraOptions;
  /** 'ce' (default), 'weighted' (class-weighted CE) or 'focal'. */
  readonly loss?: 'ce' | 'weighted' | 'focal';
  /** Class weights for 'weighted' (default: balanced from the training labels). */
  readonly classWeights?: readonly number[];
  /** Focal loss γ (default 2) and α. */
  readonly focal?: FocalLossOptions;
  /** Epochs (default 3). */
  readonly epochs?: number;
  /** Rows per micro-batch (default 16). */
  readonly batchSize?: number;
  /** Peak learning rate (default 2e-5 for 'full', 1e-3 otherwise). */
  readonly lr?: number;
  /** AdamW weight decay (default 0.01). */
  readonly weightDecay?: number;
  /** Warm-up fraction of the steps (default 0). */
  readonly warmupRatio?: number;
  /** Decay after warm-up (default 'linear', to 0, as the HF Trainer). */
  readonly schedule?: 'constant' | 'linear' | 'cosine';
  /** Global gradient-norm clip (default 1, as the HF Trainer). */
  readonly clipNorm?: number;
  /** Micro-batches per optimizer step (default 1). */
  readonly accumulationSteps?: number;
  /**
   * Fraction of rows held out for validation, stratified: round(fraction × n) rows of each class, at
   * least one of a class with ≥ 2 rows (default 0.1 with earlyStopping, else 0).
   */
  readonly validationSplit?: number;
  /** Stop when the validation metric stops improving (best weights restored). */
  readonly earlyStopping?: FinetuneEarlyStopping;
  /** Seed of data order, initialisation and dropout (default 0). */
  readonly seed?: number;
  /** Called at each log step. */
  readonly onProgress?: (p: FinetuneProgress) => void;
  /** Log every N steps (default 10). */
  readonly logEvery?: number;
  /** Metrics JSONL path. */
  readonly metricsPath?: string;
  /** No progress on stderr. */
  readonly quiet?: boolean;
}

/** What {@link finetuneClassifier} returns. @category Training */
export interface FinetuneResult {
  /** Logged steps (loss, lr, gradNorm, validation figures). */
  readonly history: StepMetrics[];
  /** Optimizer steps run. */
  readonly stepsRun: number;
  /** Whether early stopping ended training. */
  readonly stoppedEarly: boolean;
  /** Early-stopping evaluations. */
  readonly evaluations: Evaluation[];
  /** Trainable parameters. */
  readonly trainable: number;
  /** Parameters the fine-tuned model computes with (base + adapter − replaced head). */
  readonly total: number;
}

/** Rows of a dataset, tokenised. */
interface Rows {
  readonly ids: number[][];
  readonly mask: number[][];
  readonly labels: number[];
}

type Model = HookedEncoder | HookedTransformer;

function toRows(model: Model, d: FinetuneData, fn: string): Rows {
  let ids: number[][];
  let mask: number[][] | undefined;
  if (d.texts !== undefined) {
    ({ ids, mask } = tokenizeForClassification(model, d.texts));
  } else if (d.tokenIds !== undefined) {
    ids = d.tokenIds.map((r) => [...r]);
    mask = d.attentionMask?.map((r) => [...r]);
  } else {
    throw new ConfigError(`${fn}: give texts or tokenIds`);
  }
  if (ids.length !== d.labels.length) throw new ShapeError(`${fn}: ${ids.length} rows but ${d.labels.length} labels`);
  if (mask !== undefined && (mask.length !== ids.length || mask.some((m, i) => m.length !== ids[i]?.length))) {
    throw new ShapeError(`${fn}: attentionMask must have the shape of tokenIds [${ids.length}, ${ids[0]?.length}]`);
  }
  return { ids, mask: mask ?? ids.map((r) => r.map(() => 1)), labels: [...d.labels] };
}

/** Class logits [batch, n_labels] of rows with given weights: the hooked models' forward, no hooks. */
function classLogits(model: Model, w: ModelWeights<unknown>, ids: number[][], mask: number[][]): tf.Tensor2D {
  const clf = w.classifier;
  if (clf === undefined) throw new ConfigError('finetuneClassifier: the model has no sequence-classification head');
  const m = mask.every((r) => r.every((v) => v === 1)) ? undefined : mask;
  return tf.tidy(() => {
    const tokens = tf.tensor2d(ids, [ids.length, ids[0]?.length ?? 0], 'int32');
    if (model instanceof HookedEncoder) {
      const run = { cfg: model.cfg, params: w.params as HookedEncoder['params'], hook: NO_HOOKS, flags: {} };
      return runEncoder(run, tokens, m, undefined, clf, undefined);
    }
    const run = { cfg: model.cfg, params: w.params as HookedTransformer['params'], hook: NO_HOOKS, flags: {} };
    return runDecoder(run, tokens, m, undefined, undefined, { clf, positions: lastTokenPositions(ids, clf.padTokenId) });
  });
}

function pick(r: Rows, idx: readonly number[]): Rows {
  return { ids: idx.map((i) => r.ids[i] as number[]), mask: idx.map((i) => r.mask[i] as number[]), labels: idx.map((i) => r.labels[i] as number) };
}

/**
 * Seeded stratified hold-out: round(`fraction` × n) rows of each class, but at least one for a class
 * of ≥ 2 rows (a class of one row stays in training).
 * @throws {@link "tfjs-lens"!DatasetError} when the validation part would be empty (every class has one row).
 */
function split(r: Rows, fraction: number, seed: number, fn: string): { train: Rows; val: Rows | undefined } {
  if (fraction <= 0) return { train: r, val: undefined };
  const byClass = new Map<number, number[]>();
  r.labels.forEach((y, i) => {
    const idx = byClass.get(y);
    if (idx === undefined) byClass.set(y, [i]);
    else idx.push(i);
  });
  const val: number[] = [];
  for (const idx of byClass.values()) {
    const order = epochBatches(idx.length, 0, { batchSize: Math.max(1, idx.length), seed })[0] ?? [];
    const n = idx.length >= 2 ? Math.max(1, Math.round(idx.length * fraction)) : 0;
    for (const k of order.slice(0, n)) val.push(idx[k] as number);
  }
  if (val.length === 0) {
    const counts = [...byClass].sort(([a], [b]) => a - b).map(([y, idx]) => `class ${y}: ${idx.length}`).join(', ');
    throw new DatasetError(`${fn}: validationSplit ${fraction} leaves the validation part empty (rows per ${counts}); a class needs ≥ 2 rows to give one to validation`);
  }
  const held = new Set(val);
  return { train: pick(r, r.labels.map((_, i) => i).filter((i) => !held.has(i))), val: pick(r, val.sort((a, b) => a - b)) };
}

function evaluate(model: Model, w: () => ModelWeights<unknown>, rows: Rows, batchSize: number, nLabels: number): ValidationMetrics {
  let lossSum = 0;
  const pred: number[] = [];
  for (let s = 0; s < rows.ids.length; s += batchSize) {
    const b = pick(rows, rows.ids.slice(s, s + batchSize).map((_, k) => s + k));
    const [l, p] = tf.tidy(() => {
      const logits = classLogits(model, w(), b.ids, b.mask);
      return [crossEntropyLoss(logits, b.labels).dataSync()[0] as number, Array.from(tf.argMax(logits, -1).dataSync())];
    });
    lossSum += l * b.ids.length;
    pred.push(...p);
  }
  const y = rows.labels;
  const report = classificationReport(y, pred, { nClasses: nLabels });
  return { loss: lossSum / y.length, accuracy: report.accuracy, macroF1: report.macro.f1 };
}

function lossFn(o: FinetuneOptions, trainLabels: readonly number[], nLabels: number): (logits: tf.Tensor2D, labels: readonly number[]) => tf.Scalar {
  const kind = o.loss ?? 'ce';
  if (kind === 'focal') return (l, y) => focalLoss(l, y, o.focal ?? {});
  if (kind === 'weighted') {
    const classWeights = o.classWeights ?? balancedClassWeights(trainLabels, nLabels);
    return (l, y) => crossEntropyLoss(l, y, { classWeights });
  }
  return (l, y) => crossEntropyLoss(l, y);
}

/**
 * Fine-tune a sequence-classification model in place.
 *
 * The training forward runs without dropout in the model (hidden and attention dropout are off;
 * only LoRA's `lora_dropout` on the adapter input applies), whereas the Hugging Face Trainer trains
 * with the config's hidden / attention dropout (0.1 for BERT-family models). Full fine-tuning, which
 * relies most on that regularisation, is therefore the mode that differs most from an HF run; keep
 * this in mind when comparing 'full' with 'lora' or 'head'.
 * @param model A HookedEncoder or (unprocessed Llama-family) HookedTransformer with a classification head.
 * @param data Texts or token ids, labels, attention mask.
 * @param opts Mode, LoRA settings, loss, optimiser, schedule, early stopping, seed, progress.
 * @returns History, steps run, evaluations and the trainable / total parameter counts.
 * @throws {@link "tfjs-lens"!ConfigError} for a model without a head, an attached adapter (merged or
 *   not: training would change it or discard it), bad options or a non-finite loss;
 *   {@link "tfjs-lens"!ShapeError} for data of mismatched sizes; {@link "tfjs-lens"!DatasetError}
 *   for a validationSplit that leaves no validation row.
 * @example
 * const r = finetuneClassifier(model, { texts, labels }, { mode: 'lora', lora: { r: 8, targetModules: ['q_lin', 'v_lin'] }, epochs: 3 });
 * await model.saveAdapter('out/lora');
 * @category Training
 */
export function finetuneClassifier(model: HookedEncoder | HookedTransformer, data: FinetuneData, opts: FinetuneOptions = {}): FinetuneResult {
  const fn = 'finetuneClassifier';
  const host = model.adapters as AdapterHost<unknown>;
  const clf = host.baseWeights().classifier;
  if (clf === undefined) throw new ConfigError(`${fn}: the model has no sequence-classification head (load a *ForSequenceClassification checkpoint or add one with randomClassifierHead)`);
  if (host.merged) throw new ConfigError(`${fn}: an adapter is merged into the weights; call unmergeAdapter() first`);
  const mode = opts.mode ?? 'lora';
  if (host.adapter !== undefined) {
    const why = mode === 'full' ? "mode 'full' changes the base weights under it" : `mode '${mode}' trains a new adapter from scratch and would discard it`;
    throw new ConfigError(`${fn}: an adapter is attached; ${why}. Save it if needed (model.saveAdapter(dir)), then remove it (model.adapters.remove()) first`);
  }
  const seed = opts.seed ?? 0;
  const batchSize = opts.batchSize ?? 16;
  const nLabels = clf.labels.numLabels;
  const all = toRows(model, data, fn);
  const { train, val } = split(all, opts.validationSplit ?? (opts.earlyStopping === undefined ? 0 : 0.1), seed, fn);
  if (opts.earlyStopping !== undefined && val === undefined) throw new ConfigError(`${fn}: earlyStopping needs a validationSplit > 0`);
  const accum = opts.accumulationSteps ?? 1;
  const batches = Array.from({ length: opts.epochs ?? 3 }, (_, e) => epochBatches(train.ids.length, e, { batchSize, seed })).flat();
  const perEpoch = Math.ceil(train.ids.length / batchSize);
  const totalSteps = Math.floor(batches.length / accum);
  if (totalSteps < 1) throw new ConfigError(`${fn}: ${batches.length} batches cannot fill one step of ${accum} accumulated micro-batches`);
  const trainables: Trainables = buildTrainables(host, mode, opts.lora ?? {}, model.cfg.modelType, seed);
  const loss = lossFn(opts, train.labels, nLabels);
  const vWeights = (): ModelWeights<unknown> => trainables.weights(undefined);
  const lr = opts.lr ?? (mode === 'full' ? 2e-5 : 1e-3);
  const optimizer = createAdamW(lr, { weightDecay: opts.weightDecay ?? 0.01 });
  // Validation figures of the current step, computed once when both the log line and early stopping
  // want them (they run after the same optimiser step).
  let lastEval: { step: number; v: ValidationMetrics } | undefined;
  const validate = (step: number): ValidationMetrics | undefined => {
    if (val === undefined) return undefined;
    if (lastEval?.step !== step) lastEval = { step, v: evaluate(model, vWeights, val, batchSize, nLabels) };
    return lastEval.v;
  };
  try {
    const r = trainLoopDetailed({
      variables: trainables.variables,
      loss: (step, micro) => {
        const b = pick(train, batches[step * accum + micro] as number[]);
        return loss(classLogits(model, trainables.weights(seed * 100003 + step * accum + micro), b.ids, b.mask), b.labels);
      },
      optimizer,
      schedule: { lr, totalSteps, warmupRatio: opts.warmupRatio ?? 0, decay: opts.schedule ?? 'linear', minRatio: 0 },
      clipNorm: opts.clipNorm ?? 1,
      accumulationSteps: accum,
      logEvery: opts.logEvery ?? 10,
      ...(opts.metricsPath === undefined ? {} : { metricsPath: opts.metricsPath }),
      quiet: opts.quiet === true,
      label: `finetune (${mode})`,
      evaluate: (step): Record<string, number> => {
        const v = validate(step);
        opts.onProgress?.({ step, totalSteps, epoch: Math.floor((step * accum) / perEpoch), ...(v === undefined ? {} : { validation: v }) });
        return v === undefined ? {} : { valLoss: v.loss, valAccuracy: v.accuracy, valMacroF1: v.macroF1 };
      },
      ...(opts.earlyStopping === undefined || val === undefined ? {} : {
        earlyStopping: {
          metric: (step: number) => (validate(step) as ValidationMetrics)[opts.earlyStopping?.metric ?? 'loss'],
          every: opts.earlyStopping.every ?? Math.max(1, Math.floor(perEpoch / accum)),
          patience: opts.earlyStopping.patience,
          mode: (opts.earlyStopping.metric ?? 'loss') === 'loss' ? ('min' as const) : ('max' as const),
          minDelta: opts.earlyStopping.minDelta ?? 0,
        },
      }),
    });
    const counts = countParameters(host, trainables);
    trainables.install();
    return { history: r.history, stepsRun: r.stepsRun, stoppedEarly: r.stoppedEarly, evaluations: r.evaluations, ...counts };
  } finally {
    optimizer.dispose();
    trainables.dispose();
  }
}
