/**
 * One fine-tuning run of `tfjs-lens finetune` (and of bench/finetune_*.ts): load a classifier (a
 * `*ForSequenceClassification` folder, or a base / LM checkpoint given a new random head as
 * `AutoModelForSequenceClassification` does), tokenise to `maxLen`, train with
 * {@link finetuneClassifier}, then, on the validation part only, fit a temperature (ECE before and
 * after) and choose the decision threshold of P(class 1) by F1; the test part is read once, for the
 * reported figures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { classificationReport, chooseThreshold, type ClassificationReport } from '../../evals/classification.js';
import { expectedCalibrationError, softmaxRows, temperatureScaling } from '../../evals/calibration.js';
import { UsageError } from '../../errors.js';
import { resolveAlias } from '../../model/aliases.js';
import { randomClassifierHead, type ClassifierFamily } from '../../model/classifier/head_params.js';
import { labelConfigFromHf } from '../../model/classifier/labels.js';
import { HookedEncoder } from '../../model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../../model/hooked_transformer.js';
import { averagePrecision, rocAuc, type BinaryLabels } from '../../probe/metrics.js';
import { finetuneClassifier, tokenizeForClassification, type FinetuneOptions, type TokenRows as ClassificationTokens } from '../../train/finetune.js';
import type { StepMetrics } from '../../train/trainer.js';

/** A model with a classification head. */
export type ClassifierModel = HookedEncoder | HookedTransformer;

/** Token ids and attention mask, right-padded. */
export type TokenRows = ClassificationTokens;

const ENCODERS: readonly string[] = ['bert', 'distilbert', 'roberta'];

/**
 * Load a classifier. A checkpoint with a sequence-classification head keeps it (its id2label); with
 * `classNames`, their number must equal the head's num_labels. A checkpoint without one (base / LM)
 * gets a new seeded head of `classNames` (default ['0', '1']), as `AutoModelForSequenceClassification`
 * adds one; an encoder's MLM head is freed (a decoder keeps its unembed, which `HookedTransformer` needs).
 * @param nameOrPath Alias (distilbert-mini, llama-mini) or folder.
 * @param classNames Class names (id2label) the caller needs; undefined: whatever the checkpoint's head has.
 * @param seed Head initialisation seed.
 * @returns The model (caller disposes).
 * @throws {@link "tfjs-lens"!UsageError} when the checkpoint's head has another number of labels than `classNames`.
 */
export async function loadClassifier(nameOrPath: string, classNames: readonly string[] | undefined, seed: number): Promise<ClassifierModel> {
  const dir = resolveAlias(nameOrPath);
  const modelType = String((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type?: unknown }).model_type ?? '');
  const names = classNames ?? ['0', '1'];
  const labels = labelConfigFromHf({ id2label: Object.fromEntries(names.map((c, i) => [String(i), c])) });
  const model: ClassifierModel = ENCODERS.includes(modelType) ? await HookedEncoder.fromPretrained(dir, { quiet: true }) : await HookedTransformer.fromPretrainedNoProcessing(dir, { quiet: true });
  const have = model.labels;
  if (have !== undefined) {
    if (classNames === undefined || have.numLabels === classNames.length) return model;
    model.dispose();
    const headNames = Object.values(have.id2label).join(', ');
    throw new UsageError(`${nameOrPath}: the checkpoint's classification head has ${have.numLabels} labels (${headNames}) but ${classNames.length} classes were asked for (${classNames.join(', ')}); use a checkpoint without a head (a base model) or data with ${have.numLabels} classes`);
  }
  if (model instanceof HookedEncoder) {
    const { mlmHead, ...body } = model.params;
    if (mlmHead !== undefined) for (const t of new Set([mlmHead.W, mlmHead.b, mlmHead.ln.w, mlmHead.ln.b, mlmHead.W_U, mlmHead.b_U])) if (t !== body.W_E) t.dispose();
    const head = randomClassifierHead(modelType as ClassifierFamily, model.cfg.dModel, labels, { seed });
    return new HookedEncoder(model.cfg, { ...body, mlmHead: undefined }, model.tokenizer, {}, head);
  }
  // No pad token in a causal LM: pad with EOS (texts are tokenised without BOS, so the first EOS ends each row).
  const padTokenId = model.cfg.eosTokenId ?? 0;
  return new HookedTransformer(model.cfg, model.params, model.tokenizer, {}, randomClassifierHead('decoder', model.cfg.dModel, labels, { seed, padTokenId }));
}

/**
 * Tokenise texts, truncated to `maxLen` and right-padded to the longest row
 * (`tokenizeForClassification`, shared with finetuneClassifier).
 * @param model The classifier.
 * @param texts Texts.
 * @param maxLen Most tokens per row.
 * @returns Ids and mask.
 */
export function tokenizeTexts(model: ClassifierModel, texts: readonly string[], maxLen: number): TokenRows {
  return tokenizeForClassification(model, texts, maxLen);
}

/**
 * Class logits of token rows, in batches trimmed to their longest real row.
 * @param model The classifier.
 * @param rows Ids and mask.
 * @param batchSize Rows per forward.
 * @returns Logits [rows, n_labels].
 */
export function predictLogits(model: ClassifierModel, rows: TokenRows, batchSize = 32): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < rows.ids.length; s += batchSize) {
    const mask = rows.mask.slice(s, s + batchSize);
    let len = 1;
    for (const m of mask) len = Math.max(len, m.reduce((a, v) => a + v, 0));
    const ids = rows.ids.slice(s, s + batchSize).map((r) => r.slice(0, len));
    const m = mask.map((r) => r.slice(0, len));
    const logits = tf.tidy(() => model.classify(ids, { attentionMask: m }));
    out.push(...(logits.arraySync() as number[][]));
    logits.dispose();
  }
  return out;
}

/** Settings of one run. */
export interface RunSpec {
  /** full | head | lora. */
  readonly mode: 'full' | 'head' | 'lora';
  /** LoRA settings. */
  readonly lora: NonNullable<FinetuneOptions['lora']>;
  /** ce | weighted | focal. */
  readonly loss: 'ce' | 'weighted' | 'focal';
  /** Focal γ. */
  readonly focalGamma: number;
  /** Epochs. */
  readonly epochs: number;
  /** Rows per batch. */
  readonly batch: number;
  /** Peak learning rate (undefined: finetuneClassifier's default for the mode). */
  readonly lr: number | undefined;
  /** Most tokens per row. */
  readonly maxLen: number;
  /** Seed. */
  readonly seed: number;
}

/** Texts and class ids of one part. */
export interface Part {
  /** Texts. */
  readonly texts: readonly string[];
  /** Class ids. */
  readonly labels: readonly number[];
}

/** Test figures of one run (binary ones null for more than two classes). */
export interface RunMetrics {
  /** Accuracy at argmax. */
  readonly accuracy: number;
  /** Macro F1 at argmax. */
  readonly macroF1: number;
  /** F1 of class 1 at the threshold chosen on validation (binary). */
  readonly f1: number | null;
  /** F1 of class 1 at argmax (binary). */
  readonly f1Argmax: number | null;
  /** ROC-AUC of P(class 1) (binary). */
  readonly rocAuc: number | null;
  /** PR-AUC (average precision) of P(class 1) (binary). */
  readonly prAuc: number | null;
  /** ECE of the test probabilities at T = 1 and at the temperature fitted on validation. */
  readonly eceBefore: number;
  /** ECE after temperature scaling. */
  readonly eceAfter: number;
}

/** What {@link trainAndEvaluate} returns. */
export interface RunResult {
  /** Test figures. */
  readonly metrics: RunMetrics;
  /** Classification report on test (argmax; binary: at the validation threshold). */
  readonly report: ClassificationReport;
  /** Temperature fitted on validation, with validation NLL / ECE before and after. */
  readonly calibration: { temperature: number; valEceBefore: number; valEceAfter: number; valNllBefore: number; valNllAfter: number };
  /** Threshold of calibrated P(class 1) chosen on validation by F1 (binary), and its validation F1. */
  readonly threshold: { value: number; valF1: number } | null;
  /** Trainable / total parameters. */
  readonly trainable: number;
  /** Parameters the trained model computes with. */
  readonly total: number;
  /** Training history. */
  readonly history: StepMetrics[];
  /** Training seconds. */
  readonly seconds: number;
  /** Calibrated test P(class 1) (binary) and test labels, for curves. */
  readonly testScores: number[];
  /** Test class ids. */
  readonly testLabels: number[];
}

/** Test figures of logits, given the validation temperature and threshold. */
export function scoreLogits(logits: readonly (readonly number[])[], labels: readonly number[], temperature: number, threshold: number | undefined, classNames: readonly string[]): { metrics: RunMetrics; report: ClassificationReport; scores: number[] } {
  const probs = softmaxRows(logits, temperature);
  const argmax = probs.map((p) => p.indexOf(Math.max(...p)));
  const binary = classNames.length === 2;
  const scores = binary ? probs.map((p) => p[1] as number) : [];
  const pred = binary && threshold !== undefined ? scores.map((s) => (s > threshold ? 1 : 0)) : argmax;
  const opts = { nClasses: classNames.length, classNames };
  const report = classificationReport(labels, pred, opts);
  const atArgmax = classificationReport(labels, argmax, opts);
  const both = binary && new Set(labels).size === 2;
  const y = labels as BinaryLabels;
  return {
    report, scores,
    metrics: {
      accuracy: atArgmax.accuracy, macroF1: atArgmax.macro.f1, f1: binary ? (report.perClass[1]?.f1 ?? 0) : null,
      f1Argmax: binary ? (atArgmax.perClass[1]?.f1 ?? 0) : null, rocAuc: both ? rocAuc(scores, y) : null, prAuc: both ? averagePrecision(scores, y) : null,
      eceBefore: expectedCalibrationError(softmaxRows(logits, 1), labels), eceAfter: expectedCalibrationError(probs, labels),
    },
  };
}

/**
 * Train a loaded classifier on `train`, calibrate and choose the threshold on `val`, score `test`.
 * @param model The classifier (trained in place).
 * @param parts train / val / test.
 * @param spec Run settings.
 * @param classNames Class names.
 * @param o quiet, metricsPath.
 * @returns Figures, report, calibration, threshold, history.
 * @throws {@link "tfjs-lens"!UsageError} for a validation part without every class (threshold / calibration cannot be chosen).
 */
export function trainAndEvaluate(model: ClassifierModel, parts: { train: Part; val: Part; test: Part }, spec: RunSpec, classNames: readonly string[], o: { quiet?: boolean; metricsPath?: string } = {}): RunResult {
  const tr = tokenizeTexts(model, parts.train.texts, spec.maxLen);
  const t0 = performance.now();
  const r = finetuneClassifier(model, { tokenIds: tr.ids, attentionMask: tr.mask, labels: parts.train.labels }, {
    mode: spec.mode, lora: spec.lora, loss: spec.loss, focal: { gamma: spec.focalGamma }, epochs: spec.epochs, batchSize: spec.batch,
    seed: spec.seed, quiet: o.quiet === true, logEvery: 5, ...(spec.lr === undefined ? {} : { lr: spec.lr }), ...(o.metricsPath === undefined ? {} : { metricsPath: o.metricsPath }),
  });
  const seconds = (performance.now() - t0) / 1000;
  const valLogits = predictLogits(model, tokenizeTexts(model, parts.val.texts, spec.maxLen));
  if (new Set(parts.val.labels).size < 2) throw new UsageError(`finetune: the validation part has only one class (${parts.val.labels.length} rows); use more rows or a larger --label-fraction`);
  const cal = temperatureScaling(valLogits, parts.val.labels);
  const binary = classNames.length === 2;
  const th = binary ? chooseThreshold(softmaxRows(valLogits, cal.temperature).map((p) => p[1] as number), parts.val.labels, 'f1') : undefined;
  const testLogits = predictLogits(model, tokenizeTexts(model, parts.test.texts, spec.maxLen));
  const s = scoreLogits(testLogits, parts.test.labels, cal.temperature, th?.threshold, classNames);
  return {
    metrics: s.metrics, report: s.report, threshold: th === undefined ? null : { value: th.threshold, valF1: th.value },
    calibration: { temperature: cal.temperature, valEceBefore: cal.eceBefore, valEceAfter: cal.eceAfter, valNllBefore: cal.nllBefore, valNllAfter: cal.nllAfter },
    trainable: r.trainable, total: r.total, history: r.history, seconds, testScores: s.scores, testLabels: [...parts.test.labels],
  };
}
