/**
 * Which SAE features of the probed activation carry the β-VAE probe's anomaly score (issue 21,
 * deliverable 4): attribution patching over SAE features (Syed et al. 2023; Marks et al. 2024,
 * "Sparse feature circuits"), checked against true ablation.
 *
 * **Design: encode per token, then pool.** The SAE (e.g. the shipped one at
 * `saes/distilbert-mini/blocks.0.attn.hook_q/`) was trained on per-token activations, so each token's
 * activation x_t is encoded where the SAE is in distribution: x_t = N_t(Σ_i f_i(t)·W_dec[i] + b_dec) + ε_t,
 * N_t the SAE's output normalisation of that token (identity without one). Mean pooling and decoding
 * are both linear, so the pooled activation the probe reads decomposes exactly:
 * x̄ = (1/n)Σ_t N_t(Σ_i f_i(t)·W_dec[i]) + b̄ + ε̄, with b̄ the mean decoded bias and ε̄ the mean SAE
 * error, and a feature's share is the sum of its per-token contributions. Encoding the pooled vector
 * instead ("pool then encode") feeds the SAE a mean of token activations — shorter and denser than
 * any token it was trained on — so its error term swallows most of the vector and the features read
 * off it are not the token-level features its dashboards describe.
 *
 * The score s(F) = probe(x̄(F) + ε̄) is a function of the per-token feature activations F [pos, d_sae]
 * with ε̄ held fixed (as Marks et al. hold the SAE error node). Attribution patching: feature i gets
 * Σ_t F[t,i]·∂s/∂F[t,i] (= its pooled contribution · ∇ₓ s); the SAE-error and bias terms get
 * ε̄·∇ₓ s and b̄·∇ₓ s; the four terms add up to x̄·∇ₓ s (first order, not the score itself). Optionally
 * integrated gradients along F → αF (α from 0 to 1), whose feature attributions add up to
 * s(F) − s(0) exactly (the error and bias are then the baseline). True ablation of feature i removes
 * its contribution at every token (F[:, i] = 0, error kept) and rescores.
 *
 * **√n-pooled probes** (`metadata.pooling === 'sqrtn'`) read z = √n·(x̄ − μ_tok) instead of x̄. That is
 * still affine in the per-token activations, so the split stays exact: z = √n·(1/n)Σ_t N_t(…features…)
 * + √n·(b̄ − μ_tok) + √n·ε̄. The token mean μ_tok joins the constant term: `biasTerm` is then
 * (b̄ − μ_tok)·∇_x̄ s (∇_x̄ s carries the √n factor), and the first-order terms add up to z·∇_z s; the
 * integrated-gradients baseline (all features off) is likewise the score of √n·(b̄ + ε̄ − μ_tok).
 *
 * The probe's score is a squared error of standardised features, so it is strongly curved, and one
 * feature's removal can move it several times its own size: attribution patching, being first order,
 * then ranks features only loosely like ablation does; integrated gradients, which follow the curve,
 * agree much better (bench/explain_probe.ts reports both against ablation).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { stopLayerAfterHook } from '../hooks/hook_point.js';
import { HookedEncoder } from '../model/encoder/hooked_encoder.js';
import type { SparseAutoencoder } from '../sae/sae.js';
import { normIn, normOut, type NormStats } from '../sae/sae_ops.js';
import { tokenizeForExplain, type ExplainModel } from './explain.js';
import { probeHookOf, probePoolingOf, probeScoreOfPooled, type ProbeScoreKind, type VaeProbe } from './probe_explain.js';

/** One SAE feature's share of the probe's score. @category Anomaly */
export interface SaeFeatureAttribution {
  /** Feature index in the SAE. */
  readonly index: number;
  /** Mean activation over the text's tokens (the coefficient of W_dec[i] in the pooled vector, before normalisation). */
  readonly activation: number;
  /** Largest activation at one token. */
  readonly maxActivation: number;
  /** Attribution to the score (attribution patching or integrated gradients); positive = pushes the score up. */
  readonly attribution: number;
  /** True ablation: score − score with the feature removed at every token (SAE error kept). */
  readonly ablationEffect: number;
}

/** Options of {@link explainProbeBySaeFeatures}. @category Anomaly */
export interface ProbeSaeOptions {
  /** Features returned, ranked by |attribution| (default 10); each is ablated. */
  readonly topK?: number;
  /** The probed hook (default the probe's metadata.hookName). */
  readonly hookName?: string;
  /** The probe's score (default 'recon'). */
  readonly score?: ProbeScoreKind;
  /** Token limit (default the probe's metadata.maxLength, else 128). */
  readonly maxLength?: number;
  /** 'attribution_patching' (f·∂s/∂f at the input; default) or 'integrated_gradients' (along F → αF). */
  readonly method?: 'attribution_patching' | 'integrated_gradients';
  /** Riemann steps of integrated gradients (midpoint rule; default 32). */
  readonly steps?: number;
}

/** Result of {@link explainProbeBySaeFeatures}. @category Anomaly */
export interface ProbeSaeExplanation {
  /** The probe's score of the text. */
  readonly score: number;
  /** The top features by |attribution|, largest first. */
  readonly features: SaeFeatureAttribution[];
  /** ε̄·∇ₓ s: the SAE error's first-order share. */
  readonly errorTerm: number;
  /** b̄·∇ₓ s: the decoder bias's (and normalisation shift's) first-order share; for a √n-pooled probe (b̄ − μ_tok)·∇ₓ s (the token mean is part of the constant term). */
  readonly biasTerm: number;
  /** Σ over all features of their attribution. */
  readonly featureTotal: number;
  /** Σ over all features of |attribution| (the features' attribution mass). */
  readonly featureAbsTotal: number;
  /** Attribution patching: x̄·∇ₓ s (= featureTotal + errorTerm + biasTerm; (x̄ − μ_tok)·∇ₓ s for a √n probe). Integrated gradients: s(F) − s(0). */
  readonly total: number;
  /** Integrated gradients: the score with every feature off (bias and error only). */
  readonly baselineScore?: number;
  /** Features active at one token at least. */
  readonly activeFeatures: number;
  /** Tokens pooled. */
  readonly nTokens: number;
  /** Method used. */
  readonly method: 'attribution_patching' | 'integrated_gradients';
  /** The probed hook. */
  readonly hookName: string;
}

/** Per-token activation [pos, d_in] of one row at `hookName`. */
function tokenActivations(model: ExplainModel, ids: number[], hookName: string, dIn: number): tf.Tensor2D {
  const stop = stopLayerAfterHook(hookName, model.cfg.nLayers);
  const o = { attentionMask: [ids.map(() => 1)], namesFilter: hookName, returnType: 'none' as const, ...(stop === undefined ? {} : { stopAtLayer: stop }) };
  const cache: ActivationCache = model instanceof HookedEncoder ? model.runWithCache([ids], o)[1] : model.runWithCache([ids], o)[1];
  try {
    const a = cache.get(hookName); // [1, pos, ...]
    const width = a.size / ids.length;
    if (width !== dIn) throw new ShapeError(`explainProbeBySaeFeatures: ${hookName} has ${width} values per token (shape [${a.shape.join(', ')}]), the SAE's d_in is ${dIn}; use an SAE trained on this hook`);
    return tf.reshape(a, [ids.length, dIn]); // [pos, d_in]
  } finally {
    cache.dispose();
  }
}

/** NormStats rows repeated for a batch of b copies of the pos tokens ([pos, 1] → [b·pos, 1]). */
function tileStats(s: NormStats, b: number): NormStats {
  const t = (x: tf.Tensor | undefined): tf.Tensor | undefined => (x === undefined ? undefined : tf.tile(x, [b, 1]));
  const out: { scale?: tf.Tensor; mu?: tf.Tensor; std?: tf.Tensor } = {};
  const [scale, mu, std] = [t(s.scale), t(s.mu), t(s.std)];
  if (scale !== undefined) out.scale = scale;
  if (mu !== undefined) out.mu = mu;
  if (std !== undefined) out.std = std;
  return out;
}

/**
 * Attribute the β-VAE probe's score of one text to the SAE features of the probed activation
 * (encode per token, then pool; see the module comment), with the SAE-error and bias terms, and
 * check the top features by true ablation.
 * @param probe The probe (VAE, scaler, metadata).
 * @param sae An SAE on the probed hook (d_in = the hook's width per token, e.g. 128 for distilbert-mini's hook_q flattened over heads).
 * @param model The model the probe reads.
 * @param text The text.
 * @param opts topK, hook, score, max length, method, steps.
 * @returns The score, the top features (index, activation, attribution, ablation effect), the error and bias terms and totals.
 * @throws {@link "tfjs-lens"!ConfigError} for topK < 1, steps < 1 or a probe without a hook name; {@link "tfjs-lens"!ShapeError} when the SAE's d_in is not the hook's width.
 * @example
 * const r = explainProbeBySaeFeatures(probe, sae, enc, 'WINNER!! claim your prize', { topK: 5 });
 * console.log(probeSaeLine(r));
 * @category Anomaly
 */
export function explainProbeBySaeFeatures(probe: VaeProbe, sae: SparseAutoencoder, model: ExplainModel, text: string, opts: ProbeSaeOptions = {}): ProbeSaeExplanation {
  const topK = opts.topK ?? 10;
  const steps = opts.steps ?? 32;
  const method = opts.method ?? 'attribution_patching';
  if (!Number.isInteger(topK) || topK < 1) throw new ConfigError(`explainProbeBySaeFeatures: topK must be an integer ≥ 1, got ${topK} (try 10)`);
  if (!Number.isInteger(steps) || steps < 1) throw new ConfigError(`explainProbeBySaeFeatures: steps must be an integer ≥ 1, got ${steps} (try 32)`);
  const hookName = probeHookOf(probe, opts.hookName);
  const kind = opts.score ?? 'recon';
  const pooling = probePoolingOf(probe);
  const metaLen = probe.metadata?.['maxLength'];
  const maxLen = Math.min(opts.maxLength ?? (typeof metaLen === 'number' ? metaLen : 128), model.cfg.nCtx);
  const rows = tokenizeForExplain(model, [text], maxLen);
  const ids = (rows.ids[0] ?? []).filter((_, i) => rows.mask[0]?.[i] === 1);
  const { dIn, dSae } = sae.cfg;
  const pos = ids.length;
  const X = tokenActivations(model, ids, hookName, dIn); // [pos, d_in]
  let stats: NormStats = {}; // [pos, 1] each (none without normalisation); the normalised input itself is not needed
  tf.tidy(() => {
    const st = normIn(X, sae.cfg).stats;
    stats = { ...(st.scale === undefined ? {} : { scale: tf.keep(st.scale) }), ...(st.mu === undefined ? {} : { mu: tf.keep(st.mu) }), ...(st.std === undefined ? {} : { std: tf.keep(st.std) }) };
  });
  try {
    const F = sae.encode(X); // [pos, d_sae]
    /** Pooled activation of a batch of feature matrices Fb [b, pos, d_sae], without the error term: [b, d_in]. */
    const pooledOf = (Fb: tf.Tensor3D): tf.Tensor2D => tf.tidy(() => {
      const b = Fb.shape[0];
      const dec = normOut(sae.decode(tf.reshape(Fb, [b * pos, dSae]) as tf.Tensor2D), tileStats(stats, b), sae.cfg); // [b·pos, d_in]
      return tf.mean(tf.reshape(dec, [b, pos, dIn]), 1) as tf.Tensor2D; // [b, d_in]
    });
    const F3 = tf.reshape(F, [1, pos, dSae]) as tf.Tensor3D;
    const epsBar = tf.tidy(() => tf.sub(tf.mean(X, 0, true), pooledOf(F3))) as tf.Tensor2D; // [1, d_in]
    // Constant term: b̄, minus μ_tok for a √n probe (z = √n·(x̄ − μ_tok), so μ_tok is a constant like b̄).
    const biasBar = tf.tidy(() => (pooling === 'mean' ? pooledOf(tf.zerosLike(F3)) : tf.sub(pooledOf(tf.zerosLike(F3)), tf.tensor1d(probe.tokenMean as Float32Array)))) as tf.Tensor2D; // [1, d_in]
    const scoreOf = (Fb: tf.Tensor3D, e: tf.Tensor2D = epsBar): tf.Tensor1D => probeScoreOfPooled(probe, tf.add(pooledOf(Fb), e), kind, new Array<number>(Fb.shape[0]).fill(pos)); // [b]
    try {
      // First-order terms at the input (both methods report the error and bias terms this way).
      const g = tf.tidy(() => {
        const r = tf.valueAndGrads((f: tf.Tensor, e: tf.Tensor) => tf.sum(scoreOf(f as tf.Tensor3D, e as tf.Tensor2D)) as tf.Scalar)([F3, epsBar]);
        return { value: r.value, gF: r.grads[0] as tf.Tensor3D, gE: r.grads[1] as tf.Tensor2D };
      });
      const score = g.value.dataSync()[0] as number;
      const [errorTerm, biasTerm] = tf.tidy(() => [tf.sum(tf.mul(epsBar, g.gE)).dataSync()[0] as number, tf.sum(tf.mul(biasBar, g.gE)).dataSync()[0] as number]);
      let attrT: tf.Tensor1D;
      let baselineScore: number | undefined;
      if (method === 'attribution_patching') {
        attrT = tf.tidy(() => tf.sum(tf.mul(F3, g.gF), [0, 1])); // [d_sae]
      } else {
        const [a, b0] = tf.tidy(() => {
          const alphas = tf.reshape(tf.tensor1d(Array.from({ length: steps }, (_, k) => (k + 0.5) / steps)), [steps, 1, 1]);
          const path = tf.mul(alphas, F3) as tf.Tensor3D; // [steps, pos, d_sae]
          const gp = tf.grad((f: tf.Tensor) => tf.sum(scoreOf(f as tf.Tensor3D)) as tf.Scalar)(path); // [steps, pos, d_sae]
          return [tf.sum(tf.mul(tf.mean(gp, 0, true), F3), [0, 1]) as tf.Tensor1D, scoreOf(tf.zerosLike(F3))]; // [d_sae], [1]
        });
        attrT = a;
        baselineScore = b0.dataSync()[0] as number;
        b0.dispose();
      }
      const attr = Array.from(attrT.dataSync());
      const [meanAct, maxAct] = tf.tidy(() => [Array.from(tf.mean(F, 0).dataSync()), Array.from(tf.max(F, 0).dataSync())]);
      tf.dispose([attrT, g.value, g.gF, g.gE]);
      const active = maxAct.filter((v) => v > 0).length;
      const top = attr.map((v, i) => [Math.abs(v), i] as const).filter(([, i]) => (maxAct[i] as number) > 0)
        .sort((p, q) => q[0] - p[0]).slice(0, topK).map(([, i]) => i);
      // True ablation: F[:, i] = 0 at every token, error term kept.
      const ablated = top.length === 0 ? [] : tf.tidy(() => {
        const keep = tf.sub(1, tf.oneHot(tf.tensor1d(top, 'int32'), dSae)); // [k, d_sae]
        const Fb = tf.mul(F3, tf.reshape(keep, [top.length, 1, dSae])) as tf.Tensor3D; // [k, pos, d_sae]
        return Array.from(scoreOf(Fb).dataSync());
      });
      const featureTotal = attr.reduce((s, v) => s + v, 0);
      const featureAbsTotal = attr.reduce((s, v) => s + Math.abs(v), 0);
      return {
        score, errorTerm, biasTerm, featureTotal, featureAbsTotal, activeFeatures: active, nTokens: pos, method, hookName,
        total: method === 'attribution_patching' ? featureTotal + errorTerm + biasTerm : score - (baselineScore as number),
        ...(baselineScore === undefined ? {} : { baselineScore }),
        features: top.map((i, k) => ({ index: i, activation: meanAct[i] as number, maxActivation: maxAct[i] as number, attribution: attr[i] as number, ablationEffect: score - (ablated[k] as number) })),
      };
    } finally {
      tf.dispose([F, F3, epsBar, biasBar]);
    }
  } finally {
    tf.dispose([X, stats.scale, stats.mu, stats.std].filter((t): t is tf.Tensor => t !== undefined));
  }
}

/**
 * The one-line summary of {@link explainProbeBySaeFeatures}.
 * @param r The explanation.
 * @param topK Features named (default 3).
 * @returns e.g. `anomaly score 3.21 carried by SAE features #17 (+0.90), #4 (+0.50), #9 (−0.20); SAE error +0.10, bias +0.02 (attribution patching over blocks.0.attn.hook_q)`.
 * @category Anomaly
 */
export function probeSaeLine(r: ProbeSaeExplanation, topK = 3): string {
  const f = (v: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;
  const feats = r.features.slice(0, topK).map((x) => `#${x.index} (${f(x.attribution)})`).join(', ');
  const how = `${r.method.replace('_', ' ')} over ${r.hookName}`;
  if (feats === '') return `anomaly score ${r.score.toFixed(2)}: no SAE feature is active; SAE error ${f(r.errorTerm)}, bias ${f(r.biasTerm)} (${how})`;
  return `anomaly score ${r.score.toFixed(2)} carried by SAE features ${feats}; SAE error ${f(r.errorTerm)}, bias ${f(r.biasTerm)} (${how})`;
}
