/**
 * SparseAutoencoder: SAELens v6 inference semantics for the `standard` (ReLU), `topk` and `jumprelu`
 * architectures (`sae_lens/saes/{standard,topk,jumprelu}_sae.py`):
 * x → normalise → −b_dec → ·W_enc + b_enc → activation → ·W_dec + b_dec → un-normalise.
 * Parameters are tf.Variables (W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in],
 * threshold [d_sae] for JumpReLU). Training lives in `train.ts` with hand-written gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DisposedError, ShapeError } from '../errors.js';
import { assertBackendReady } from '../backend/ensure.js';
import { validateSaeConfig, type SaeConfig } from './config.js';

/** SAE weights as plain arrays (row-major), SAELens tensor names. @category SAE */
export interface SaeWeightArrays {
  /** [d_in, d_sae]. */
  readonly W_enc: Float32Array;
  /** [d_sae]. */
  readonly b_enc: Float32Array;
  /** [d_sae, d_in]. */
  readonly W_dec: Float32Array;
  /** [d_in]. */
  readonly b_dec: Float32Array;
  /** [d_sae], JumpReLU only. */
  readonly threshold?: Float32Array;
}

/** The SAE parameters as tensors. @category SAE */
export interface SaeParams {
  /** [d_in, d_sae]. */
  readonly W_enc: tf.Variable<tf.Rank.R2>;
  /** [d_sae]. */
  readonly b_enc: tf.Variable<tf.Rank.R1>;
  /** [d_sae, d_in]. */
  readonly W_dec: tf.Variable<tf.Rank.R2>;
  /** [d_in]. */
  readonly b_dec: tf.Variable<tf.Rank.R1>;
  /** [d_sae], JumpReLU only. */
  readonly threshold?: tf.Variable<tf.Rank.R1>;
}

/** Options of {@link SparseAutoencoder.forward}. @category SAE */
export interface SaeForwardOptions {
  /** Add the exact reconstruction error x − x̂ (SAELens `use_error_term`), so the output equals x
   * unless `editFeatures` changed the latents. */
  readonly useErrorTerm?: boolean;
  /** Edit the latents [n, d_sae] before decoding (e.g. ablate or clamp a feature). */
  readonly editFeatures?: (acts: tf.Tensor2D) => tf.Tensor2D | void;
  /** Called with the (edited) latents [n, d_sae] that are decoded; `tf.keep` what you store. */
  readonly recordFeatures?: (acts: tf.Tensor2D) => void;
}

function checkLen(name: string, a: Float32Array | undefined, n: number): Float32Array {
  if (a === undefined || a.length !== n) {
    throw new ShapeError(`SparseAutoencoder: ${name} must hold ${n} values, got ${a?.length ?? 'none'}`);
  }
  return a;
}

/**
 * ‖W_dec[i]‖ for every latent: [d_sae].
 * @param W_dec [d_sae, d_in].
 * @returns [d_sae].
 * @throws Never.
 * @example decoderNorms(sae.params.W_dec);
 * @category SAE
 */
export function decoderNorms(W_dec: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum<tf.Tensor1D>(tf.square(W_dec), 1))); // [d_sae]
}

/**
 * A sparse autoencoder with SAELens semantics.
 * @example
 * const sae = await loadSae('saes/gpt2-tiny/blocks.1.hook_resid_pre');
 * const acts = sae.encode(x);          // [batch, d_sae]
 * const recon = sae.decode(acts);      // [batch, d_in]
 * @category SAE
 */
export class SparseAutoencoder {
  /** The validated architecture. */
  readonly cfg: SaeConfig;
  private p: SaeParams | undefined;

  /**
   * @param cfg Architecture.
   * @param w Weights (copied into new variables).
   * @throws {@link "tfjs-lens"!ShapeError} when an array has the wrong length; {@link "tfjs-lens"!ConfigError} on a bad config;
   *   {@link "tfjs-lens"!BackendError} when no tfjs backend is initialised yet (call `await initBackend()` first).
   */
  constructor(cfg: SaeConfig, w: SaeWeightArrays) {
    assertBackendReady('SparseAutoencoder');
    this.cfg = validateSaeConfig(cfg);
    const { dIn, dSae } = cfg;
    const v2 = (a: Float32Array, s: [number, number]): tf.Variable<tf.Rank.R2> => tf.variable(tf.tensor2d(a, s), true);
    const v1 = (a: Float32Array): tf.Variable<tf.Rank.R1> => tf.variable(tf.tensor1d(a), true);
    const thr = cfg.architecture === 'jumprelu' ? checkLen('threshold', w.threshold, dSae) : undefined;
    const arrays = [checkLen('W_enc', w.W_enc, dIn * dSae), checkLen('b_enc', w.b_enc, dSae), checkLen('W_dec', w.W_dec, dSae * dIn), checkLen('b_dec', w.b_dec, dIn)];
    this.p = tf.tidy(() => ({
      W_enc: v2(arrays[0] as Float32Array, [dIn, dSae]),
      b_enc: v1(arrays[1] as Float32Array),
      W_dec: v2(arrays[2] as Float32Array, [dSae, dIn]),
      b_dec: v1(arrays[3] as Float32Array),
      ...(thr !== undefined ? { threshold: v1(thr) } : {}),
    }));
  }

  /** The parameters (owned by the SAE). @throws {@link "tfjs-lens"!DisposedError} after dispose. */
  get params(): SaeParams {
    if (this.p === undefined) throw new DisposedError('SparseAutoencoder: the SAE was disposed');
    return this.p;
  }

  /** Flatten [..., d_in] (or [..., n_heads, d_head] for hook_z) to [n, d_in]. */
  private flatten(x: tf.Tensor, fn: string): tf.Tensor2D {
    const { dIn } = this.cfg;
    const last = x.shape[x.rank - 1] ?? 0;
    const lastTwo = x.rank >= 2 ? last * (x.shape[x.rank - 2] ?? 0) : -1;
    if (last === dIn) return tf.reshape(x, [-1, dIn]); // [n, d_in]
    if (lastTwo === dIn && (this.cfg.reshapeActivations === 'hook_z' || x.rank >= 4)) return tf.reshape(x, [-1, dIn]); // [n, d_in]
    throw new ShapeError(`SparseAutoencoder.${fn}: input must be [..., ${dIn}], got [${x.shape.join(', ')}]`);
  }

  /**
   * Pre-activations and latents.
   * @param x [..., d_in] activations.
   * @returns `hiddenPre` [n, d_sae] (TopK: scaled by ‖W_dec‖ when rescaling) and `acts` [n, d_sae].
   */
  encodeWithHiddenPre(x: tf.Tensor): {
    /** Pre-activations [n, d_sae] (TopK: scaled by ‖W_dec‖ when rescaling). */
    hiddenPre: tf.Tensor2D;
    /** Latent activations [n, d_sae]. */
    acts: tf.Tensor2D;
  } {
    const { W_enc, b_enc, W_dec, b_dec, threshold } = this.params;
    const cfg = this.cfg;
    const [hiddenPre, acts] = tf.tidy((): [tf.Tensor2D, tf.Tensor2D] => {
      let sae = normIn(this.flatten(x, 'encode'), cfg).x; // [n, d_in]
      if (cfg.applyBDecToInput) sae = tf.sub(sae, b_dec);
      let h: tf.Tensor2D = tf.add(tf.matMul(sae, W_enc), b_enc); // [n, d_sae]
      if (cfg.architecture === 'topk') {
        if (cfg.rescaleActsByDecoderNorm === true) h = tf.mul(h, decoderNorms(W_dec)); // [n, d_sae]
        return [h, topkRelu(h, cfg.k as number)];
      }
      const relu = tf.relu(h);
      if (cfg.architecture !== 'jumprelu') return [h, relu];
      if (threshold === undefined) throw new ConfigError('SparseAutoencoder.encode: a jumprelu SAE needs the threshold parameter');
      return [h, tf.mul(relu, tf.cast(tf.greater(h, threshold), 'float32'))];
    });
    return { hiddenPre, acts };
  }

  /**
   * Latent activations.
   * @param x [..., d_in] (or [..., n_heads, d_head] for hook_z SAEs).
   * @returns [n, d_sae] with n the product of the leading dimensions.
   * @throws {@link "tfjs-lens"!ShapeError} if the last dimension is not d_in.
   * @example const acts = sae.encode(x);   // [batch, d_sae]
   */
  encode(x: tf.Tensor): tf.Tensor2D {
    const { hiddenPre, acts } = this.encodeWithHiddenPre(x);
    hiddenPre.dispose();
    return acts;
  }

  /**
   * Reconstruction from latents (before any per-token un-normalisation; see {@link forward}).
   * @param acts [n, d_sae].
   * @returns [n, d_in].
   * @throws {@link "tfjs-lens"!ShapeError} if the last dimension is not d_sae.
   * @example const recon = sae.decode(sae.encode(x));
   */
  decode(acts: tf.Tensor2D): tf.Tensor2D {
    if (acts.rank !== 2 || acts.shape[1] !== this.cfg.dSae) {
      throw new ShapeError(`SparseAutoencoder.decode: acts must be [n, ${this.cfg.dSae}], got [${acts.shape.join(', ')}]`);
    }
    const { W_dec, b_dec } = this.params;
    return tf.tidy(() => {
      let f = acts;
      if (this.cfg.architecture === 'topk' && this.cfg.rescaleActsByDecoderNorm === true) f = tf.div(f, decoderNorms(W_dec)); // [n, d_sae]
      return tf.add(tf.matMul(f, W_dec), b_dec); // [n, d_in]
    });
  }

  /**
   * Encode and decode (SAELens `forward`), in the input's shape.
   * @param x [..., d_in].
   * @param opts Error term, latent edits.
   * @returns The reconstruction, same shape as x.
   * @throws {@link "tfjs-lens"!ShapeError} on a bad input shape.
   * @example const out = sae.forward(x, { useErrorTerm: true });   // equals x
   */
  forward(x: tf.Tensor, opts: SaeForwardOptions = {}): tf.Tensor {
    const cfg = this.cfg;
    return tf.tidy(() => {
      const flat = this.flatten(x, 'forward'); // [n, d_in]
      const acts = this.encode(flat);
      const edited = opts.editFeatures?.(acts) ?? acts;
      opts.recordFeatures?.(edited);
      const { stats } = normIn(flat, cfg);
      let out = normOut(this.decode(edited), stats, cfg); // [n, d_in]
      if (opts.useErrorTerm === true) {
        const clean = edited === acts ? out : normOut(this.decode(acts), stats, cfg);
        out = tf.add(out, tf.sub(flat, clean)); // [n, d_in]
      }
      return tf.reshape(out, x.shape); // [..., d_in] as the input
    });
  }

  /** Current weights as arrays (copies), SAELens names. */
  toArrays(): SaeWeightArrays {
    const p = this.params;
    const get = (t: tf.Tensor): Float32Array => new Float32Array(t.dataSync());
    return {
      W_enc: get(p.W_enc), b_enc: get(p.b_enc), W_dec: get(p.W_dec), b_dec: get(p.b_dec),
      ...(p.threshold !== undefined ? { threshold: get(p.threshold) } : {}),
    };
  }

  /** Free the variables. The SAE is unusable afterwards. */
  dispose(): void {
    if (this.p === undefined) return;
    for (const v of Object.values(this.p) as tf.Variable[]) v.dispose();
    this.p = undefined;
  }
}

/**
 * TopK activation (SAELens `TopK`): keep the k largest entries of each row, ReLU them, zero the rest.
 * @param h [n, d_sae] pre-activations.
 * @param k Latents kept per row.
 * @returns [n, d_sae].
 * @example topkRelu(tf.tensor2d([[3, -1, 2]]), 2);   // [[3, 0, 2]]
 * @throws Never.
 * @category SAE
 */
function topkRelu(h: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.relu(h), topkMask(h, k)));
}

/**
 * 1 where an entry is among its row's k largest (ties at the k-th value all kept), else 0.
 * Computed as 1 − step(kth − h): on tfjs-wasm a comparison broadcasting a [n, 1] column is ~30x
 * slower than a subtraction that does.
 * @param h [n, d_sae].
 * @param k Entries kept per row.
 * @returns [n, d_sae] float 0/1.
 * @example topkMask(tf.tensor2d([[3, -1, 2]]), 2);   // [[1, 0, 1]]
 * @throws Never.
 * @category SAE
 */
export function topkMask(h: tf.Tensor, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const kth = tf.min(tf.topk(h, k).values, 1, true); // [n, 1]
    return tf.sub<tf.Tensor2D>(1, tf.step(tf.sub(kth, h))); // [n, d_sae]
  });
}

interface NormStats {
  readonly scale?: tf.Tensor;
  readonly mu?: tf.Tensor;
  readonly std?: tf.Tensor;
}

/** Per-token input normalisation (SAELens `run_time_activation_norm_fn_in`). */
function normIn(x: tf.Tensor2D, cfg: SaeConfig): { x: tf.Tensor2D; stats: NormStats } {
  if (cfg.normalizeActivations === 'constant_norm_rescale') {
    const scale = tf.div(Math.sqrt(cfg.dIn), tf.norm(x, 'euclidean', -1, true)); // [n, 1]
    return { x: tf.mul(x, scale), stats: { scale } };
  }
  if (cfg.normalizeActivations === 'layer_norm') {
    const mu = tf.mean(x, -1, true); // [n, 1]
    const c = tf.sub(x, mu);
    const std = tf.sqrt(tf.div(tf.sum(tf.square(c), -1, true), Math.max(cfg.dIn - 1, 1))); // unbiased, as torch.std
    return { x: tf.div(c, tf.add(std, 1e-5)), stats: { mu, std } };
  }
  return { x, stats: {} };
}

function normOut(x: tf.Tensor2D, s: NormStats, cfg: SaeConfig): tf.Tensor2D {
  if (cfg.normalizeActivations === 'constant_norm_rescale' && s.scale) return tf.div(x, s.scale);
  if (cfg.normalizeActivations === 'layer_norm' && s.std && s.mu) return tf.add(tf.mul(x, s.std), s.mu);
  return x;
}
