/**
 * Per-token explanations of a detector's score through the model's internals: gradient × input and
 * integrated gradients (Sundararajan et al. 2017) at the token-embedding hook (`hook_embed` in decoders,
 * `embed.hook_embed` in encoders). The score is any differentiable function of the model's forward
 * output, one value per row ({@link ExplainTarget}); {@link classifierTarget} gives the anomaly log-odds
 * logit(anomaly) − logit(normal) of a sequence classifier.
 *
 * The gradient is taken as `gradientsAtHooks` does (src/patching/gradients.ts): a delta is added at the
 * hook and tfjs autodiff differentiates the score with respect to it. It is written out here because
 * integrated gradients must also *replace* the embedding by points on the path baseline → input, which
 * `gradientsAtHooks` (a zero delta on the unpatched run) cannot do, and because it takes encoders with
 * attention masks as well as decoders.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { HookFn } from '../hooks/hook_point.js';
import { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';
import { tokenizeForClassification } from '../train/tokenize_classification.js';

/** A model an explanation runs through: an encoder or a decoder, with or without a classification head. @category Anomaly */
export type ExplainModel = HookedEncoder | HookedTransformer;

/** Extra forward options of an explained run: hooks and flags. @category Anomaly */
export interface ExplainRunOptions {
  /** Forward hooks `[name, fn]`. */
  readonly fwdHooks?: readonly (readonly [string, HookFn])[];
  /** Record per-head outputs (`attn.hook_result`). */
  readonly useAttnResult?: boolean;
}

/**
 * What is explained: a model and a differentiable score of its forward output.
 * @category Anomaly
 */
export interface ExplainTarget {
  /** The model. */
  readonly model: ExplainModel;
  /** Forward output used by `score`: 'logits' (class logits with a classification head) or 'embeddings' (final hidden states). */
  readonly returnType: 'logits' | 'embeddings';
  /** Output → one score per row [batch], built with tf ops (differentiable); higher = more anomalous. */
  readonly score: (out: tf.Tensor, rows: { readonly ids: readonly (readonly number[])[]; readonly mask: readonly (readonly number[])[] }) => tf.Tensor1D;
  /** Short name of the score, for reports ("logit(spam) − logit(ham)"). */
  readonly name: string;
  /** Extra forward hooks of every scored run, e.g. one that hands an inner activation to `score` (the β-VAE probe's target). */
  readonly fwdHooks?: readonly (readonly [string, HookFn])[];
}

/**
 * The anomaly log-odds of a sequence classifier: logit[anomaly] − logit[normal] (for two classes,
 * log P(anomaly) − log P(normal)).
 * @param model A model with a sequence-classification head.
 * @param anomalyClass Class id of "anomalous" (default 1).
 * @param normalClass Class id of "normal" (default 0).
 * @returns The target.
 * @throws {@link "tfjs-lens"!ConfigError} when the model has no classification head or a class id is out of range.
 * @category Anomaly
 */
export function classifierTarget(model: ExplainModel, anomalyClass = 1, normalClass = 0): ExplainTarget {
  const labels = model.labels;
  if (labels === undefined) throw new ConfigError('classifierTarget: the model has no sequence-classification head (load a *ForSequenceClassification checkpoint or fine-tune one with finetuneClassifier)');
  for (const c of [anomalyClass, normalClass]) {
    if (!Number.isInteger(c) || c < 0 || c >= labels.numLabels) throw new ConfigError(`classifierTarget: class id ${c} is outside [0, ${labels.numLabels}); the head's labels are ${Object.values(labels.id2label).join(', ')}`);
  }
  const name = (c: number): string => labels.id2label[c] ?? String(c);
  return {
    model, returnType: 'logits', name: `logit(${name(anomalyClass)}) − logit(${name(normalClass)})`,
    score: (out) => tf.tidy(() => {
      const l = out as tf.Tensor2D; // [batch, n_labels]
      const a = tf.slice(l, [0, anomalyClass], [-1, 1]);
      const n = tf.slice(l, [0, normalClass], [-1, 1]);
      return tf.reshape(tf.sub(a, n), [-1]) as tf.Tensor1D; // [batch]
    }),
  };
}

/** Name of the token-embedding hook of a model (TL: `hook_embed`; HookedEncoder: `embed.hook_embed`). @category Anomaly */
export function embedHookName(model: ExplainModel): string {
  return model instanceof HookedEncoder ? 'embed.hook_embed' : 'hook_embed';
}

/** Token ids and attention mask of texts, right-padded. @category Anomaly */
export interface ExplainRows {
  /** Token ids [batch, pos]. */
  ids: number[][];
  /** 1 = real token, 0 = padding [batch, pos]. */
  mask: number[][];
}

/** Token rows of one or more texts as the fine-tuning code tokenises them (same truncation, right padding). @category Anomaly */
export function tokenizeForExplain(model: ExplainModel, texts: readonly string[], maxLen?: number): ExplainRows {
  return tokenizeForClassification(model, texts, maxLen);
}

/**
 * Run the target's model on token rows with hooks and return the per-row score [batch].
 * @param target The explained target.
 * @param ids Token ids [batch, pos].
 * @param mask Attention mask [batch, pos] (1 = real).
 * @param opts Hooks and flags.
 * @returns Scores [batch] (caller disposes).
 * @category Anomaly
 */
export function scoreRows(target: ExplainTarget, ids: readonly (readonly number[])[], mask: readonly (readonly number[])[], opts: ExplainRunOptions = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const m = target.model;
    const run = { attentionMask: mask.map((r) => [...r]), fwdHooks: [...(opts.fwdHooks ?? []), ...(target.fwdHooks ?? [])], useAttnResult: opts.useAttnResult };
    const rows = ids.map((r) => [...r]);
    let out: tf.Tensor;
    if (m instanceof HookedEncoder) out = m.runWithHooks(rows, { ...run, returnType: target.returnType });
    else if (target.returnType === 'logits') out = m.runWithHooks(rows, { ...run, returnType: 'logits' });
    else throw new ConfigError("scoreRows: a decoder target needs returnType 'logits' (class logits with a classification head); read hidden states with a hook instead");
    return target.score(out, { ids, mask });
  });
}

/** Plain scores of token rows, batched. @category Anomaly */
export function scoresOf(target: ExplainTarget, ids: readonly (readonly number[])[], mask: readonly (readonly number[])[], batchSize = 32): number[] {
  const out: number[] = [];
  for (let s = 0; s < ids.length; s += batchSize) {
    const mk = mask.slice(s, s + batchSize);
    let len = 1;
    for (const r of mk) len = Math.max(len, r.reduce((a, v) => a + v, 0));
    const t = scoreRows(target, ids.slice(s, s + batchSize).map((r) => r.slice(0, len)), mk.map((r) => r.slice(0, len)));
    out.push(...Array.from(t.dataSync()));
    t.dispose();
  }
  return out;
}

/** A per-token attribution of one text's score. @category Anomaly */
export interface TokenAttribution {
  /** Method: 'grad_x_input' | 'integrated_gradients' | 'attention_rollout' | …. */
  readonly method: string;
  /** Token ids of the row (no padding). */
  readonly ids: number[];
  /** One attribution per token (same length as `ids`); positive = pushes the score up. */
  readonly attributions: number[];
  /** The explained score on the input. */
  readonly score: number;
  /** Integrated gradients: the score at the baseline. */
  readonly baselineScore?: number;
  /** Integrated gradients: Σ attributions − (score − baselineScore) (the completeness gap). */
  readonly completenessGap?: number;
}

/** Options of {@link integratedGradients}. @category Anomaly */
export interface IgOptions {
  /** Baseline embedding: 'pad' (W_E[pad id] at every position; default) or 'zero'. */
  readonly baseline?: 'pad' | 'zero';
  /** Pad token id for the 'pad' baseline (default: the encoder's pad_token_id, the decoder head's pad id, else 0). */
  readonly padTokenId?: number;
  /** Riemann steps (midpoint rule; default 32). */
  readonly steps?: number;
}

/** One row without padding. */
function realIds(ids: readonly number[], mask?: readonly number[]): number[] {
  return mask === undefined ? [...ids] : ids.filter((_, i) => mask[i] === 1);
}

/** d score / d embedding with `embeds` [n, pos, d] substituted at the embed hook, for n copies of one row: Σ scores, the gradient and the model's own embedding. */
function gradAtEmbeds(target: ExplainTarget, ids: readonly number[], embeds: tf.Tensor3D | undefined, n: number): { value: tf.Scalar; grads: tf.Tensor3D; input: tf.Tensor3D } {
  const hook = embedHookName(target.model);
  const rows = Array.from({ length: n }, () => [...ids]);
  const mask = rows.map((r) => r.map(() => 1));
  const shape: [number, number, number] = [n, ids.length, target.model.cfg.dModel];
  const delta = tf.zeros(shape);
  let seen: tf.Tensor3D | undefined;
  const f = (d: tf.Tensor): tf.Scalar => {
    const fn: HookFn = (x) => {
      if (seen === undefined) seen = tf.keep(tf.clone(x)) as tf.Tensor3D;
      return tf.add(embeds ?? x, d);
    };
    const s = scoreRows(target, rows, mask, { fwdHooks: [[hook, fn]] });
    return tf.sum(s);
  };
  try {
    const { value, grads } = tf.tidy(() => {
      const r = tf.valueAndGrads(f)([delta]);
      return { value: r.value, grads: r.grads[0] as tf.Tensor3D };
    });
    if (seen === undefined) {
      tf.dispose([value, grads]);
      throw new ConfigError(`explain: hook '${hook}' did not run`);
    }
    return { value, grads, input: seen };
  } catch (err) {
    seen?.dispose();
    throw err;
  } finally {
    delta.dispose();
  }
}

/**
 * Gradient × input at the token embedding: attribution of token t = Σ_d x[t, d] · ∂score/∂x[t, d].
 * @param target What is explained.
 * @param ids Token ids of one row (padding dropped with `mask`).
 * @param mask Optional attention mask of the row.
 * @returns The attribution (plain arrays; no tensors kept).
 * @category Anomaly
 */
export function gradTimesInput(target: ExplainTarget, ids: readonly number[], mask?: readonly number[]): TokenAttribution {
  const row = realIds(ids, mask);
  const { value, grads, input } = gradAtEmbeds(target, row, undefined, 1);
  try {
    const attr = tf.tidy(() => tf.sum(tf.mul(grads, input), [0, 2])); // [pos]
    const a = Array.from(attr.dataSync());
    attr.dispose();
    return { method: 'grad_x_input', ids: row, attributions: a, score: value.dataSync()[0] as number };
  } finally {
    tf.dispose([value, grads, input]);
  }
}

function padIdOf(model: ExplainModel, opts: IgOptions): number {
  if (opts.padTokenId !== undefined) return opts.padTokenId;
  if (model instanceof HookedEncoder) return model.cfg.padTokenId ?? 0;
  return model.classifierHead?.padTokenId ?? 0;
}

/**
 * Integrated gradients at the token embedding: (x − x′) · mean over α of ∂score/∂x at x′ + α(x − x′),
 * α on the midpoints of `steps` equal intervals, all steps in one batch. Completeness: Σ attributions
 * ≈ score(x) − score(x′); the gap is returned. A zero baseline (or a pad token whose embedding is
 * zero) sits where RMSNorm / LayerNorm of the embedding is discontinuous (Llama: the score jumps
 * between α = 0 and α = 1e-4), so the Riemann sum misses the jump and the gap is large: give such a
 * model another `padTokenId` (a real token) as baseline.
 * @param target What is explained.
 * @param ids Token ids of one row.
 * @param mask Optional attention mask of the row.
 * @param opts Baseline ('pad' W_E[pad] or 'zero') and steps.
 * @returns The attribution with `baselineScore` and `completenessGap`.
 * @throws {@link "tfjs-lens"!ConfigError} for steps < 1.
 * @category Anomaly
 */
export function integratedGradients(target: ExplainTarget, ids: readonly number[], mask?: readonly number[], opts: IgOptions = {}): TokenAttribution {
  const steps = opts.steps ?? 32;
  if (!Number.isInteger(steps) || steps < 1) throw new ConfigError(`integratedGradients: steps must be an integer ≥ 1, got ${steps} (try 32)`);
  const row = realIds(ids, mask);
  const model = target.model;
  const plain = gradAtEmbeds(target, row, undefined, 1); // the input embedding x [1, pos, d]
  const x = plain.input;
  const score = plain.value.dataSync()[0] as number;
  tf.dispose([plain.value, plain.grads]);
  const base = tf.tidy(() => (opts.baseline === 'zero'
    ? tf.zerosLike(x)
    : tf.mul(tf.onesLike(x), tf.reshape(tf.gather(model.params.W_E, [padIdOf(model, opts)]), [1, 1, -1])))) as tf.Tensor3D; // [1, pos, d]
  const path = tf.tidy(() => {
    const alphas = tf.reshape(tf.tensor1d(Array.from({ length: steps }, (_, k) => (k + 0.5) / steps)), [steps, 1, 1]);
    return tf.add(base, tf.mul(alphas, tf.sub(x, base))) as tf.Tensor3D; // [steps, pos, d]
  });
  const ig = gradAtEmbeds(target, row, path, steps);
  const b = gradAtEmbeds(target, row, base, 1);
  try {
    const attr = tf.tidy(() => tf.reshape(tf.sum(tf.mul(tf.mean(ig.grads, 0, true), tf.sub(x, base)), [0, 2]), [-1])); // [pos]
    const a = Array.from(attr.dataSync());
    attr.dispose();
    const baselineScore = b.value.dataSync()[0] as number;
    const total = a.reduce((s, v) => s + v, 0);
    return { method: 'integrated_gradients', ids: row, attributions: a, score, baselineScore, completenessGap: total - (score - baselineScore) };
  } finally {
    tf.dispose([x, base, path, ig.value, ig.grads, ig.input, b.value, b.grads, b.input]);
  }
}
