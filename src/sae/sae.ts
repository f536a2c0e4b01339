/**
 * SparseAutoencoder: SAELens v6 inference semantics for the `standard` (ReLU), `topk`, `jumprelu` and
 * `gated` architectures, and the training-time `batchtopk` (`sae_lens/saes/*_sae.py`):
 * x → normalise → −b_dec → encoder → activation → ·W_dec + b_dec → un-normalise.
 * Parameters are tf.Variables (W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in],
 * threshold [d_sae] for JumpReLU, b_gate / r_mag / b_mag [d_sae] for Gated); BatchTopK also carries its
 * running threshold (a number). The SAE hook points (`hook_sae_input` … `hook_sae_error`) fire in
 * {@link SparseAutoencoder.forward} as in SAELens `SAE.forward`. Training lives in `train.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DisposedError, ShapeError } from '../errors.js';
import { assertBackendReady } from '../backend/ensure.js';
import { stopGradient } from '../ops/custom_grad.js';
import { validateSaeConfig, type SaeConfig } from './config.js';
import { encodeFlat, flatTo, leadShape, makeParams, type SaeParams, type SaeWeightArrays } from './sae_encode.js';
import { decoderNorms, normIn, normOut } from './sae_ops.js';

export { decoderNorms, topkMask } from './sae_ops.js';
export type { SaeParams, SaeWeightArrays } from './sae_encode.js';

/** SAELens's SAE hook points, in the order they fire. @category SAE */
export const SAE_HOOK_NAMES = ['hook_sae_input', 'hook_sae_acts_pre', 'hook_sae_acts_post', 'hook_sae_recons', 'hook_sae_error', 'hook_sae_output'] as const;

/**
 * An SAE hook point (SAELens `SAE.hook_sae_*`): `hook_sae_input` [..., d_in] (after hook_z flattening),
 * `hook_sae_acts_pre` [..., d_sae] (encoder pre-activation; Gated: the magnitude path's),
 * `hook_sae_acts_post` [..., d_sae] (latents), `hook_sae_recons` [..., d_in] (decoder output before
 * un-normalising), `hook_sae_error` (x − clean reconstruction, x's shape; only with the error term),
 * `hook_sae_output` (x's shape).
 * @category SAE
 */
export type SaeHookName = (typeof SAE_HOOK_NAMES)[number];

/** A function at an SAE hook point: returning a tensor replaces the value (as a TL hook). @category SAE */
export type SaeHookFn = (value: tf.Tensor, name: SaeHookName) => tf.Tensor | void;

/** Options of {@link SparseAutoencoder.forward}. @category SAE */
export interface SaeForwardOptions {
  /** Add the exact reconstruction error x − x̂ (SAELens `use_error_term`, computed without hooks or
   * edits), so the output equals x unless hooks or `editFeatures` changed something. */
  readonly useErrorTerm?: boolean;
  /** Edit the latents [n, d_sae] before decoding (e.g. ablate or clamp a feature). */
  readonly editFeatures?: (acts: tf.Tensor2D) => tf.Tensor2D | void;
  /** Called with the (edited) latents [n, d_sae] that are decoded; `tf.keep` what you store. */
  readonly recordFeatures?: (acts: tf.Tensor2D) => void;
  /** Functions at SAE hook points (several per name allowed: run in order). */
  readonly hooks?: ReadonlyArray<readonly [SaeHookName, SaeHookFn]>;
  /** Called with every hook point's final value; `tf.keep` what you store (see {@link SparseAutoencoder.runWithCache}). */
  readonly record?: (name: SaeHookName, value: tf.Tensor) => void;
}

/**
 * A sparse autoencoder with SAELens semantics.
 * @example
 * const sae = await loadSae('saes/gpt2-tiny/blocks.1.hook_resid_pre');
 * const acts = sae.encode(x);          // [batch, pos, d_sae]
 * const recon = sae.decode(acts);      // [batch, pos, d_in]
 * @category SAE
 */
export class SparseAutoencoder {
  /** The validated architecture. */
  readonly cfg: SaeConfig;
  /** BatchTopK: the threshold tracked in training (SAELens `topk_threshold`, a float64 buffer; 0 at init), which
   * becomes the JumpReLU threshold of every latent at inference ({@link batchTopkToJumpRelu}). Unused otherwise. */
  topkThreshold: number;
  private p: SaeParams | undefined;

  /**
   * @param cfg Architecture.
   * @param w Weights (copied into new variables). Gated SAEs have no b_enc in SAELens: pass zeros (unused).
   * @throws {@link "tfjs-lens"!ShapeError} when an array has the wrong length; {@link "tfjs-lens"!ConfigError} on a bad config;
   *   {@link "tfjs-lens"!BackendError} when no tfjs backend is initialised yet (call `await initBackend()` first).
   */
  constructor(cfg: SaeConfig, w: SaeWeightArrays) {
    assertBackendReady('SparseAutoencoder');
    this.cfg = validateSaeConfig(cfg);
    this.topkThreshold = w.topk_threshold ?? 0;
    this.p = makeParams(this.cfg, w);
  }

  /** The parameters (owned by the SAE). @throws {@link "tfjs-lens"!DisposedError} after dispose. */
  get params(): SaeParams {
    if (this.p === undefined) throw new DisposedError('SparseAutoencoder: the SAE was disposed');
    return this.p;
  }

  /** Leading shape of x (all but the feature dims) and x flattened to [n, d_in]. */
  private flatten(x: tf.Tensor, fn: string): { lead: number[]; flat: tf.Tensor2D } {
    const { dIn } = this.cfg;
    const lead = leadShape(x, this.cfg);
    if (lead === undefined) throw new ShapeError(`SparseAutoencoder.${fn}: input must be [..., ${dIn}], got [${x.shape.join(', ')}]`);
    return { lead, flat: tf.reshape(x, [-1, dIn]) }; // [n, d_in]
  }

  /**
   * Pre-activations and latents, leading dimensions kept.
   * @param x [..., d_in] activations (or [..., n_heads, d_head] for hook_z SAEs).
   * @returns `hiddenPre` [..., d_sae] (TopK/BatchTopK: scaled by ‖W_dec‖ when rescaling, as SAELens's
   *   training `encode_with_hidden_pre`; Gated: the magnitude pre-activation) and `acts` [..., d_sae].
   * @throws {@link "tfjs-lens"!ShapeError} if the last dimension is not d_in.
   * @example const { hiddenPre, acts } = sae.encodeWithHiddenPre(x);
   */
  encodeWithHiddenPre(x: tf.Tensor): {
    /** Pre-activations [..., d_sae]. */
    hiddenPre: tf.Tensor;
    /** Latent activations [..., d_sae]. */
    acts: tf.Tensor;
  } {
    const [hiddenPre, acts] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
      const { lead, flat } = this.flatten(x, 'encode');
      const e = encodeFlat(this.cfg, this.params, normIn(flat, this.cfg).x);
      return [flatTo(e.hiddenPre, lead), flatTo(e.acts, lead)]; // [..., d_sae]
    });
    return { hiddenPre, acts };
  }

  /**
   * Latent activations (SAELens `encode`), leading dimensions kept. BatchTopK selects across every
   * leading position together.
   * @param x [..., d_in] (or [..., n_heads, d_head] for hook_z SAEs, whose result drops one dimension).
   * @returns [..., d_sae].
   * @throws {@link "tfjs-lens"!ShapeError} if the last dimension is not d_in.
   * @example const acts = sae.encode(x);   // [batch, pos, d_sae]
   */
  encode(x: tf.Tensor2D): tf.Tensor2D;
  encode(x: tf.Tensor3D): tf.Tensor3D;
  encode(x: tf.Tensor): tf.Tensor;
  encode(x: tf.Tensor): tf.Tensor {
    const { hiddenPre, acts } = this.encodeWithHiddenPre(x);
    hiddenPre.dispose();
    return acts;
  }

  /**
   * Reconstruction from latents (SAELens `decode` before any per-token un-normalisation; see {@link forward}),
   * leading dimensions kept.
   * @param acts [..., d_sae].
   * @returns [..., d_in].
   * @throws {@link "tfjs-lens"!ShapeError} if the last dimension is not d_sae.
   * @example const recon = sae.decode(sae.encode(x));
   */
  decode(acts: tf.Tensor2D): tf.Tensor2D;
  decode(acts: tf.Tensor3D): tf.Tensor3D;
  decode(acts: tf.Tensor): tf.Tensor;
  decode(acts: tf.Tensor): tf.Tensor {
    const { dSae, dIn } = this.cfg;
    if (acts.rank < 1 || acts.shape[acts.rank - 1] !== dSae) {
      throw new ShapeError(`SparseAutoencoder.decode: acts must be [..., ${dSae}], got [${acts.shape.join(', ')}]`);
    }
    return tf.tidy(() => tf.reshape(this.decodeFlat(tf.reshape(acts, [-1, dSae])), [...acts.shape.slice(0, -1), dIn])); // [..., d_in]
  }

  /** [n, d_sae] → [n, d_in]: TopK/BatchTopK with rescaling divide by ‖W_dec‖ first (SAELens). */
  private decodeFlat(acts: tf.Tensor2D): tf.Tensor2D {
    const { W_dec, b_dec } = this.params;
    const a = this.cfg.architecture;
    const f = (a === 'topk' || a === 'batchtopk') && this.cfg.rescaleActsByDecoderNorm === true ? tf.div(acts, decoderNorms(W_dec)) : acts; // [n, d_sae]
    return tf.add(tf.matMul(f, W_dec), b_dec); // [n, d_in]
  }

  /**
   * Encode and decode (SAELens `SAE.forward`), in the input's shape, firing the SAE hook points.
   * @param x [..., d_in].
   * @param opts Error term, latent edits, hooks, recording.
   * @returns The reconstruction, same shape as x.
   * @throws {@link "tfjs-lens"!ShapeError} on a bad input shape or a hook returning a mis-shaped tensor.
   * @example const out = sae.forward(x, { useErrorTerm: true });   // equals x
   */
  forward(x: tf.Tensor, opts: SaeForwardOptions = {}): tf.Tensor {
    const cfg = this.cfg;
    return tf.tidy(() => {
      const { lead, flat } = this.flatten(x, 'forward'); // [n, d_in]
      const hook = (name: SaeHookName, v: tf.Tensor, shape: number[]): tf.Tensor => {
        let out = tf.reshape(v, shape);
        for (const [n, fn] of opts.hooks ?? []) {
          if (n !== name) continue;
          const r = fn(out, name);
          if (r !== undefined) {
            if (r.shape.join(',') !== shape.join(',')) throw new ShapeError(`SparseAutoencoder.forward: hook ${name} returned [${r.shape.join(', ')}], expected [${shape.join(', ')}]`);
            out = r;
          }
        }
        opts.record?.(name, out);
        return out;
      };
      const { dIn, dSae } = cfg;
      const sae_in = tf.reshape(hook('hook_sae_input', flat, [...lead, dIn]), [-1, dIn]) as tf.Tensor2D; // [n, d_in]
      const { x: normed, stats } = normIn(sae_in, cfg);
      const preHook = (h: tf.Tensor2D): tf.Tensor2D => tf.reshape(hook('hook_sae_acts_pre', h, [...lead, dSae]), [-1, dSae]); // [n, d_sae]
      let acts = tf.reshape(hook('hook_sae_acts_post', encodeFlat(cfg, this.params, normed, preHook).acts, [...lead, dSae]), [-1, dSae]) as tf.Tensor2D;
      acts = opts.editFeatures?.(acts) ?? acts;
      opts.recordFeatures?.(acts);
      const recons = hook('hook_sae_recons', this.decodeFlat(acts), [...lead, dIn]); // [..., d_in]
      let out = tf.reshape(normOut(tf.reshape(recons, [-1, dIn]), stats, cfg), x.shape); // as the input
      if (opts.useErrorTerm === true) {
        const clean = normOut(this.decodeFlat(encodeFlat(cfg, this.params, normIn(flat, cfg).x).acts), normIn(flat, cfg).stats, cfg); // no hooks, no edits
        // SAELens computes the error term under torch.no_grad(): no gradient flows through it, so the
        // gradient through a spliced SAE is the SAE's own, not the identity.
        const err = stopGradient(hook('hook_sae_error', tf.sub(x, tf.reshape(clean, x.shape)), x.shape));
        out = tf.add(out, err);
      }
      return hook('hook_sae_output', out, x.shape);
    });
  }

  /**
   * Forward pass that also returns every SAE hook point's value (SAELens `sae.run_with_cache(x)`).
   * @param x [..., d_in].
   * @param opts Forward options (error term, edits, hooks).
   * @returns The output (x's shape) and a map from hook name to value; the caller disposes both.
   * @throws {@link "tfjs-lens"!ShapeError} on a bad input shape.
   * @example const { output, cache } = sae.runWithCache(x); cache.get('hook_sae_acts_post');
   */
  runWithCache(x: tf.Tensor, opts: Omit<SaeForwardOptions, 'record'> = {}): {
    /** As {@link forward}. */
    output: tf.Tensor;
    /** Hook name → value (hook_sae_error only with the error term). */
    cache: Map<SaeHookName, tf.Tensor>;
  } {
    const cache = new Map<SaeHookName, tf.Tensor>();
    try {
      const output = this.forward(x, { ...opts, record: (n, v) => cache.set(n, tf.keep(v.clone())) });
      return { output, cache };
    } catch (err) {
      for (const t of cache.values()) t.dispose();
      throw err;
    }
  }

  /** Current weights as arrays (copies), SAELens names. */
  toArrays(): SaeWeightArrays {
    const p = this.params;
    const get = (t: tf.Tensor): Float32Array => new Float32Array(t.dataSync());
    const opt = (name: 'threshold' | 'b_gate' | 'r_mag' | 'b_mag'): Partial<SaeWeightArrays> => {
      const t = p[name];
      return t !== undefined ? { [name]: get(t) } : {};
    };
    return {
      W_enc: get(p.W_enc), b_enc: get(p.b_enc), W_dec: get(p.W_dec), b_dec: get(p.b_dec),
      ...opt('threshold'), ...opt('b_gate'), ...opt('r_mag'), ...opt('b_mag'),
      ...(this.cfg.architecture === 'batchtopk' ? { topk_threshold: this.topkThreshold } : {}),
    };
  }

  /** Free the variables. The SAE is unusable afterwards. */
  dispose(): void {
    if (this.p === undefined) return;
    for (const v of Object.values(this.p) as tf.Variable[]) v.dispose();
    this.p = undefined;
  }
}
