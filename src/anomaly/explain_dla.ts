/**
 * Direct-logit decomposition of a classifier's anomaly logit difference logit(anomaly) − logit(normal)
 * by layer and head.
 *
 * - Pre-norm decoders with a linear `score` head (Llama, GPT-2 …): exact up to the final norm's scale,
 *   as TransformerLens' direct logit attribution with `apply_ln`: the residual stream at the classified
 *   position is a sum of components (embeddings, each head's `attn.hook_result`, each MLP's
 *   `hook_mlp_out`); each is centred (LayerNorm only), divided by the cached `ln_final.hook_scale`
 *   and dotted with w_ln ⊙ (W[:, anomaly] − W[:, normal]). The remainder is the biases (b_O, the
 *   final norm's and the head's) — zero for Llama.
 * - Post-LN encoders (BERT, DistilBERT, RoBERTa, whose heads add a nonlinear pooler): the residual
 *   stream is renormalised after every sublayer, so it is no sum of head outputs. Each component is
 *   linearised at the actual activation instead: part = Σ_pos ∂diff/∂c · c (gradient × activation
 *   of the head's output at every position, i.e. the first-order effect of zero-ablating it). The
 *   remainder (diff − Σ parts) is the nonlinear rest and is reported, never hidden.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { HookFn } from '../hooks/hook_point.js';
import { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';
import { classifierTarget, scoreRows, type ExplainModel } from './explain.js';

/** One component's part of the logit difference. @category Anomaly */
export interface DlaPart {
  /** Label: 'embed', 'L0H3', 'L1 mlp', …. */
  readonly label: string;
  /** Layer (−1 for embeddings). */
  readonly layer: number;
  /** Head (undefined for MLPs and embeddings). */
  readonly head?: number;
  /** Contribution to logit(anomaly) − logit(normal). */
  readonly value: number;
}

/** Result of {@link classifierDla}. @category Anomaly */
export interface DlaDecomposition {
  /** 'exact_frozen_norm_scale' (pre-norm decoder) or 'linearised_grad_x_activation' (post-LN encoder). */
  readonly method: 'exact_frozen_norm_scale' | 'linearised_grad_x_activation';
  /** logit(anomaly) − logit(normal) of the row. */
  readonly logitDiff: number;
  /** Per component. */
  readonly parts: DlaPart[];
  /** logitDiff − Σ parts (biases for decoders; the nonlinear rest for encoders). */
  readonly remainder: number;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Encoders: gradient × activation at hook_full_embed, each head's hook_result and each hook_mlp_out. */
function encoderDla(model: HookedEncoder, ids: readonly number[], anomalyClass: number, normalClass: number): DlaDecomposition {
  const target = classifierTarget(model, anomalyClass, normalClass);
  const L = model.cfg.nLayers;
  const names = ['hook_full_embed', ...Array.from({ length: L }, (_, l) => [`blocks.${l}.attn.hook_result`, `blocks.${l}.hook_mlp_out`]).flat()];
  const rows = [[...ids]];
  const mask = [ids.map(() => 1)];
  const { cfg } = model;
  const shapes = names.map((n) => (n.endsWith('hook_result') ? [1, ids.length, cfg.nHeads, cfg.dModel] : [1, ids.length, cfg.dModel]));
  const deltas = shapes.map((s) => tf.zeros(s));
  const acts = new Map<string, tf.Tensor>();
  const f = (...ds: tf.Tensor[]): tf.Scalar => {
    const hooks = names.map((n, i): readonly [string, HookFn] => [n, (x) => {
      acts.get(n)?.dispose();
      acts.set(n, tf.keep(tf.clone(x)));
      return tf.add(x, ds[i] as tf.Tensor);
    }]);
    return tf.sum(scoreRows(target, rows, mask, { fwdHooks: hooks, useAttnResult: true }));
  };
  try {
    const { value, grads } = tf.tidy(() => tf.valueAndGrads(f)(deltas));
    const logitDiff = value.dataSync()[0] as number;
    const parts: DlaPart[] = [];
    names.forEach((n, i) => {
      const g = grads[i] as tf.Tensor;
      const a = acts.get(n) as tf.Tensor;
      const l = Number(/blocks\.(\d+)/.exec(n)?.[1] ?? -1);
      if (n.endsWith('hook_result')) {
        const perHead = tf.tidy(() => tf.sum(tf.mul(g, a), [0, 1, 3])); // [n_heads]
        Array.from(perHead.dataSync()).forEach((v, h) => parts.push({ label: `L${l}H${h}`, layer: l, head: h, value: v }));
        perHead.dispose();
      } else {
        const v = tf.tidy(() => tf.sum(tf.mul(g, a)));
        parts.push({ label: n === 'hook_full_embed' ? 'embed' : `L${l} mlp`, layer: l, value: v.dataSync()[0] as number });
        v.dispose();
      }
    });
    tf.dispose([value, ...grads]);
    return { method: 'linearised_grad_x_activation', logitDiff, parts, remainder: logitDiff - sum(parts.map((p) => p.value)) };
  } finally {
    tf.dispose([...deltas, ...acts.values()]);
  }
}

/** Pre-norm decoders: exact decomposition at the last token with the final norm's scale frozen. */
function decoderDla(model: HookedTransformer, ids: readonly number[], anomalyClass: number, normalClass: number): DlaDecomposition {
  const clf = model.classifierHead;
  if (clf === undefined) throw new ConfigError('classifierDla: the model has no sequence-classification head');
  if (clf.params.dense !== undefined) throw new ConfigError('classifierDla: a decoder head with a dense pooler is not supported; only a linear score head');
  const lnFinal = model.params.lnFinal;
  const rms = model.cfg.normalizationType.startsWith('RMS');
  const [out, cache] = model.runWithCache([[...ids]], { useAttnResult: true, returnType: 'logits' });
  let result: DlaDecomposition | undefined;
  try {
    tf.tidy(() => {
      const p = ids.length - 1;
      const logits = (out as tf.Tensor).arraySync() as number[][];
      const row = logits[0] as number[];
      const logitDiff = (row[anomalyClass] as number) - (row[normalClass] as number);
      const W = clf.params.W; // [d_model, n_labels]
      let dir = tf.reshape(tf.sub(tf.slice(W, [0, anomalyClass], [-1, 1]), tf.slice(W, [0, normalClass], [-1, 1])), [-1]); // [d_model]
      if (lnFinal !== undefined) dir = tf.mul(dir, lnFinal.w);
      const scale = cache.has('ln_final.hook_scale') ? (cache.get('ln_final.hook_scale').arraySync() as number[][][])[0]?.[p]?.[0] ?? 1 : 1;
      const proj = (c: tf.Tensor): tf.Tensor => { // c [..., d_model] → [...]
        const cc = rms ? c : tf.sub(c, tf.mean(c, -1, true));
        return tf.div(tf.sum(tf.mul(cc, dir), -1), scale);
      };
      const atPos = (name: string): tf.Tensor => { // [.., d] at position p of row 0
        const t = cache.get(name);
        return tf.squeeze(tf.slice(t, [0, p], [1, 1]), [0, 1]);
      };
      const parts: DlaPart[] = [];
      for (const n of ['hook_embed', 'hook_pos_embed']) if (cache.has(n)) parts.push({ label: n === 'hook_embed' ? 'embed' : 'pos_embed', layer: -1, value: proj(atPos(n)).dataSync()[0] as number });
      for (let l = 0; l < model.cfg.nLayers; l++) {
        Array.from(proj(atPos(`blocks.${l}.attn.hook_result`)).dataSync()).forEach((v, h) => parts.push({ label: `L${l}H${h}`, layer: l, head: h, value: v }));
        const mlp = `blocks.${l}.hook_mlp_out`;
        if (cache.has(mlp)) parts.push({ label: `L${l} mlp`, layer: l, value: proj(atPos(mlp)).dataSync()[0] as number });
      }
      result = { method: 'exact_frozen_norm_scale', logitDiff, parts, remainder: logitDiff - sum(parts.map((q) => q.value)) };
    });
  } finally {
    (out as tf.Tensor).dispose();
    cache.dispose();
  }
  if (result === undefined) throw new ConfigError('classifierDla: the decomposition did not run');
  return result;
}

/**
 * Decompose logit(anomaly) − logit(normal) of one row by layer and head (see the module comment for
 * the two methods); `parts` + `remainder` sum to `logitDiff` by construction, and `remainder` measures
 * what the decomposition leaves out.
 * @param model A classifier (encoder or decoder with a sequence-classification head).
 * @param ids Token ids of one row (no padding).
 * @param anomalyClass Anomaly class id (default 1).
 * @param normalClass Normal class id (default 0).
 * @returns The decomposition (plain numbers).
 * @throws {@link "tfjs-lens"!ConfigError} for a model without a classification head.
 * @category Anomaly
 */
export function classifierDla(model: ExplainModel, ids: readonly number[], anomalyClass = 1, normalClass = 0): DlaDecomposition {
  classifierTarget(model, anomalyClass, normalClass); // checks the head and the class ids
  return model instanceof HookedEncoder ? encoderDla(model, ids, anomalyClass, normalClass) : decoderDla(model, ids, anomalyClass, normalClass);
}
