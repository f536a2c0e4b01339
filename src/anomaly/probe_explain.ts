/**
 * The β-VAE probe's anomaly score as a differentiable {@link ExplainTarget}, so that gradient × input,
 * integrated gradients and the deletion check at `hook_embed` explain it like any other detector.
 *
 * The path is the one the probe is scored on, written with tf ops end to end: text → encoder →
 * the probed activation (e.g. `blocks.0.attn.hook_q` [batch, pos, n_heads, d_head]) → masked mean pool
 * over the real tokens → flattened [batch, d_in] → the probe's pooling (`metadata.pooling`: 'mean',
 * the default of files without it, keeps the mean; 'sqrtn' takes √n·(mean − μ_tok), n the real-token
 * count and μ_tok the token mean saved with the probe as `pooling.mu`, exactly as `sqrtNPooled` does
 * for the CLI's `vae_recon_sqrtn`) → the probe's own feature scaler
 * (x − shift) / scale, saved with the probe → the β-VAE in evaluation mode with z = μ (no sampling, so
 * the score is deterministic: no seed is involved) → the score the probe reports: the reconstruction
 * MSE (mean over features; the CLI's `vae_recon`, default) or −ELBO (`vae_neg_elbo`), exactly as
 * `vaeScores` computes them. The feature extraction of the probe (`extractPooledFeatures`) reads the
 * activation back to the CPU; here the activation is taken by a forward hook instead and stays in the
 * autodiff graph.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { HookFn } from '../hooks/hook_point.js';
import { maskedMeanPool } from '../model/encoder/pooling.js';
import { klPerSample, reconErrorPerSample, type BetaVae } from '../probe/beta_vae.js';
import type { ColumnScaler } from '../probe/matrix.js';
import type { ExplainModel, ExplainTarget } from './explain.js';

/** Which of the probe's scores is explained: reconstruction MSE ('recon', the CLI's `vae_recon`) or −ELBO ('negElbo'). @category Anomaly */
export type ProbeScoreKind = 'recon' | 'negElbo';

/** How a probe pools token activations: the masked mean, or √n·(mean − μ_tok). @category Anomaly */
export type ProbePooling = 'mean' | 'sqrtn';

/** A trained β-VAE probe as `loadBetaVae` / `decodeBetaVae` return it. @category Anomaly */
export interface VaeProbe {
  /** The VAE. */
  readonly vae: BetaVae;
  /** The feature scaler fitted on the training features (applied before the VAE), if the probe has one. */
  readonly scaler?: ColumnScaler | undefined;
  /** The probe's metadata; `hookName` (string) names the probed activation, `pooling` ('mean' | 'sqrtn', default 'mean') its pooling. */
  readonly metadata?: Record<string, unknown>;
  /** The token mean μ_tok [d_in] of a √n-pooled probe (required when `metadata.pooling` is 'sqrtn'). */
  readonly tokenMean?: Float32Array | undefined;
}

/** Options of {@link probeTarget}. @category Anomaly */
export interface ProbeTargetOptions {
  /** The probed hook (default: the probe's `metadata.hookName`). */
  readonly hookName?: string;
  /** The score (default 'recon'). */
  readonly score?: ProbeScoreKind;
}

/**
 * The hook a probe reads: `opts.hookName`, else the probe's `metadata.hookName`.
 * @param probe The probe.
 * @param hookName An explicit name.
 * @returns The hook name.
 * @throws {@link "tfjs-lens"!ConfigError} when neither is given.
 * @category Anomaly
 */
export function probeHookOf(probe: VaeProbe, hookName?: string): string {
  const h = hookName ?? probe.metadata?.['hookName'];
  if (typeof h !== 'string' || h === '') throw new ConfigError("probeTarget: the probe's metadata has no hookName; pass { hookName: 'blocks.0.attn.hook_q' } (the hook the probe was trained on)");
  return h;
}

/**
 * The pooling a probe was trained with: its `metadata.pooling` ('mean' when absent, as in files saved
 * before √n probes were), checked against the saved token mean.
 * @param probe The probe.
 * @returns 'mean' or 'sqrtn'.
 * @throws {@link "tfjs-lens"!ConfigError} for another value, or 'sqrtn' without a token mean of the VAE's width.
 * @category Anomaly
 */
export function probePoolingOf(probe: VaeProbe): ProbePooling {
  const p = probe.metadata?.['pooling'] ?? 'mean';
  if (p !== 'mean' && p !== 'sqrtn') throw new ConfigError(`probe: metadata.pooling is ${JSON.stringify(p)}; expected 'mean' or 'sqrtn'`);
  if (p === 'sqrtn' && probe.tokenMean?.length !== probe.vae.cfg.dIn) {
    throw new ConfigError(`probe: metadata.pooling is 'sqrtn' but the probe has ${probe.tokenMean === undefined ? 'no token mean' : `a token mean of ${probe.tokenMean.length} values for d_in ${probe.vae.cfg.dIn}`}; load it with loadBetaVae / decodeBetaVae (pooling.mu in the weights)`);
  }
  return p;
}

/**
 * The probe's score of mean-pooled activations, with tf ops (differentiable): the probe's pooling
 * (for 'sqrtn': √n·(mean − μ_tok), n = `nTokens` per row), scaler, VAE with z = μ, score.
 * @param probe The probe.
 * @param pooled Masked-mean-pooled activations [batch, d_in] (before the pooling correction and the scaler).
 * @param kind 'recon' (MSE, mean over features) or 'negElbo' (½·Σ(x − x̂)² + KL).
 * @param nTokens Real tokens pooled per row (required for a √n-pooled probe; ignored for mean pooling).
 * @returns Scores [batch] (caller disposes).
 * @throws {@link "tfjs-lens"!ShapeError} when the width is not the VAE's d_in or the scaler's, or the counts do not match the rows;
 *   {@link "tfjs-lens"!ConfigError} for a √n probe without counts (or a count ≤ 0) or without a token mean.
 * @category Anomaly
 */
export function probeScoreOfPooled(probe: VaeProbe, pooled: tf.Tensor2D, kind: ProbeScoreKind = 'recon', nTokens?: readonly number[]): tf.Tensor1D {
  const d = probe.vae.cfg.dIn;
  if (pooled.rank !== 2 || pooled.shape[1] !== d) throw new ShapeError(`probeScoreOfPooled: pooled activations must be [batch, ${d}] (the VAE's d_in), got [${pooled.shape.join(', ')}]`);
  const s = probe.scaler;
  if (s !== undefined && s.shift.length !== d) throw new ShapeError(`probeScoreOfPooled: the scaler has ${s.shift.length} columns, the VAE expects ${d}`);
  const pooling = probePoolingOf(probe);
  if (pooling === 'sqrtn') {
    if (nTokens === undefined) throw new ConfigError('probeScoreOfPooled: this probe is √n-pooled (metadata.pooling \'sqrtn\'); pass the real-token count of each row as nTokens');
    if (nTokens.length !== pooled.shape[0]) throw new ShapeError(`probeScoreOfPooled: ${nTokens.length} token counts for ${pooled.shape[0]} rows`);
    nTokens.forEach((n, i) => {
      if (!(n > 0)) throw new ConfigError(`probeScoreOfPooled: token count ${i} is ${n}; need a positive count`);
    });
  }
  return tf.tidy(() => {
    // √n pooling as sqrtNPooled: (mean − μ_tok)·√n, per row.
    const z: tf.Tensor2D = pooling === 'mean' ? pooled
      : tf.mul(tf.sub(pooled, tf.tensor1d(probe.tokenMean as Float32Array)), tf.tensor2d((nTokens as readonly number[]).map(Math.sqrt), [pooled.shape[0], 1])); // [batch, d_in]
    const x: tf.Tensor2D = s === undefined ? z : tf.div(tf.sub(z, tf.tensor1d(s.shift)), tf.tensor1d(s.scale)); // [batch, d_in]
    const out = probe.vae.forward(x); // evaluation mode: z = μ
    if (kind === 'recon') return reconErrorPerSample(x, out.recon, 'mean'); // [batch]
    return tf.add(tf.mul(reconErrorPerSample(x, out.recon, 'sum'), 0.5), klPerSample(out.mu, out.logvar)) as tf.Tensor1D; // [batch]
  });
}

/**
 * The β-VAE probe's anomaly score as an explain target: every scored run catches the probed
 * activation with a forward hook, mean-pools it over the attention mask and scores it with
 * {@link probeScoreOfPooled} (which applies the probe's pooling: √n·(mean − μ_tok) for a 'sqrtn' probe,
 * n the row's real tokens). Equal (to float rounding) to `vaeScores(vae, applyScaler(scaler,
 * extractPooledFeatures(model, texts, { hookName })))` — `.recon` or `.negElbo` — for a mean-pooled
 * probe, and to the same with `sqrtNPooled(…, counts, tokenMean)` before the scaler for a √n one.
 * @param model The model the probe reads (its activations feed the probe).
 * @param probe The probe (VAE, scaler, metadata).
 * @param opts Hook name and score.
 * @returns The target (`returnType` 'embeddings'; the output itself is not used).
 * @throws {@link "tfjs-lens"!ConfigError} when the hook is unknown or the model is a decoder without the hook's layer.
 * @example
 * const probe = await loadBetaVae('models/distilbert-mini/probe/sms_spam');
 * const t = probeTarget(enc, probe);
 * const rows = tokenizeForExplain(enc, ['WINNER!! claim your prize']);
 * const ig = integratedGradients(t, rows.ids[0], rows.mask[0]);
 * @category Anomaly
 */
export function probeTarget(model: ExplainModel, probe: VaeProbe, opts: ProbeTargetOptions = {}): ExplainTarget {
  const hookName = probeHookOf(probe, opts.hookName);
  const kind = opts.score ?? 'recon';
  const pooling = probePoolingOf(probe);
  let caught: tf.Tensor | undefined;
  // A kept clone: the model's own tidy frees the activation when the forward returns; the clone is an
  // identity op, so the gradient still flows through it, and the score frees it after use.
  const hook: HookFn = (x) => {
    caught?.dispose();
    caught = tf.keep(tf.clone(x));
  };
  return {
    model, returnType: 'embeddings', fwdHooks: [[hookName, hook]],
    name: `β-VAE probe ${kind === 'recon' ? 'reconstruction MSE' : '−ELBO'} of ${pooling === 'mean' ? 'mean' : '√n'}-pooled ${hookName}`,
    score: (_out, rows) => {
      const act = caught;
      caught = undefined;
      if (act === undefined) throw new ConfigError(`probeTarget: hook '${hookName}' did not run; is it a hook of this model?`);
      try {
        return tf.tidy(() => {
          const pooled = maskedMeanPool(act, rows.mask.map((r) => [...r])); // [batch, ...]
          const n = rows.mask.map((r) => r.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0));
          return probeScoreOfPooled(probe, tf.reshape(pooled, [act.shape[0] as number, -1]), kind, n); // [batch, d_in] → [batch]
        });
      } finally {
        act.dispose();
      }
    },
  };
}
