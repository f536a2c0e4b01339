/**
 * Synthetic activations with known sparse features (the toy setting of Sharkey et al. 2022, "Taking
 * features out of superposition with sparse autoencoders"): nFeatures random unit directions in
 * d_in dimensions; each is active independently with a fixed probability and a random magnitude.
 * A trained SAE should recover the directions in its decoder rows ({@link featureRecovery}).
 */
import { ConfigError } from '../errors.js';
import { seededRng, type Rng } from '../utils/rng.js';
import type { ActivationSource } from './activation_store.js';

/** Options of {@link syntheticFeatures}. @category SAE */
export interface SyntheticOptions {
  /** Input width. */
  readonly dIn: number;
  /** Number of true features. */
  readonly nFeatures: number;
  /** Probability that a feature is active in a sample (default 0.02). */
  readonly pActive?: number;
  /** Magnitudes are uniform in [min, max] (default [0.5, 1.5]). */
  readonly magnitude?: readonly [number, number];
  /** Seed (default 0). */
  readonly seed?: number;
}

/** A synthetic sparse-feature dataset. @category SAE */
export interface SyntheticFeatures {
  /** True directions [nFeatures, d_in], unit norm, row-major. */
  readonly directions: Float32Array;
  /** Source of samples [n, d_in] (infinite, seeded). */
  source(chunkRows?: number): ActivationSource;
}

function gaussian(rand: Rng): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Make a synthetic dataset.
 * @param o Sizes, activation probability, magnitudes, seed.
 * @returns Directions and a sample source.
 * @throws {@link "tfjs-lens"!ConfigError} on non-positive sizes or a probability outside (0, 1].
 * @example const data = syntheticFeatures({ dIn: 64, nFeatures: 256, pActive: 0.02, seed: 0 });
 * @category SAE
 */
export function syntheticFeatures(o: SyntheticOptions): SyntheticFeatures {
  const p = o.pActive ?? 0.02;
  if (!(o.dIn > 0) || !(o.nFeatures > 0) || !(p > 0 && p <= 1)) {
    throw new ConfigError(`syntheticFeatures: need dIn > 0, nFeatures > 0, 0 < pActive ≤ 1, got ${o.dIn}, ${o.nFeatures}, ${p}`);
  }
  const { dIn, nFeatures } = o;
  const rand = seededRng(o.seed ?? 0);
  const directions = new Float32Array(nFeatures * dIn);
  for (let f = 0; f < nFeatures; f++) {
    let ss = 0;
    for (let j = 0; j < dIn; j++) {
      const v = gaussian(rand);
      directions[f * dIn + j] = v;
      ss += v * v;
    }
    for (let j = 0; j < dIn; j++) directions[f * dIn + j] = (directions[f * dIn + j] as number) / Math.sqrt(ss);
  }
  const [lo, hi] = o.magnitude ?? [0.5, 1.5];
  const source = (chunkRows = 4096): ActivationSource => {
    const r = seededRng((o.seed ?? 0) + 1);
    const logq = Math.log(1 - p);
    return {
      dIn,
      next: async () => {
        const out = new Float32Array(chunkRows * dIn);
        for (let row = 0; row < chunkRows; row++) {
          // Geometric skips between active features: exact Bernoulli(p) per feature, ~p·nFeatures draws.
          let f = p === 1 ? 0 : Math.floor(Math.log(Math.max(r(), 1e-300)) / logq);
          while (f < nFeatures) {
            const m = lo + (hi - lo) * r();
            for (let j = 0; j < dIn; j++) out[row * dIn + j] = (out[row * dIn + j] as number) + m * (directions[f * dIn + j] as number);
            f += 1 + (p === 1 ? 0 : Math.floor(Math.log(Math.max(r(), 1e-300)) / logq));
          }
        }
        return out;
      },
    };
  };
  return { directions, source };
}

/**
 * How well decoder rows recover known directions: for each true direction, the maximum cosine
 * similarity over the SAE's decoder rows.
 * @param trueDirs [nFeatures, d_in] row-major.
 * @param W_dec [d_sae, d_in] row-major.
 * @param dIn Row width.
 * @param threshold Cosine counted as recovered (default 0.9).
 * @returns Mean max cosine, fraction ≥ threshold, and the per-feature maxima.
 * @throws {@link "tfjs-lens"!ConfigError} if the arrays are not multiples of dIn.
 * @example featureRecovery(data.directions, sae.toArrays().W_dec, 64).fractionRecovered;
 * @category SAE
 */
export function featureRecovery(
  trueDirs: Float32Array,
  W_dec: Float32Array,
  dIn: number,
  threshold = 0.9,
): {
  /** Mean over true directions of the best cosine with a decoder row. */
  meanMaxCosine: number;
  /** Fraction of true directions whose best cosine is ≥ threshold. */
  fractionRecovered: number;
  /** Best cosine per true direction [nFeatures]. */
  maxCosines: Float32Array;
} {
  const nTrue = trueDirs.length / dIn;
  const nDec = W_dec.length / dIn;
  if (!Number.isInteger(nTrue) || !Number.isInteger(nDec)) throw new ConfigError(`featureRecovery: arrays must be multiples of dIn = ${dIn}`);
  const unit = (a: Float32Array, n: number): Float64Array => {
    const out = Float64Array.from(a);
    for (let i = 0; i < n; i++) {
      let ss = 0;
      for (let j = 0; j < dIn; j++) ss += (out[i * dIn + j] as number) ** 2;
      const s = 1 / Math.max(Math.sqrt(ss), 1e-12);
      for (let j = 0; j < dIn; j++) out[i * dIn + j] = (out[i * dIn + j] as number) * s;
    }
    return out;
  };
  const t = unit(trueDirs, nTrue);
  const d = unit(W_dec, nDec);
  const maxCosines = new Float32Array(nTrue);
  for (let i = 0; i < nTrue; i++) {
    let best = -1;
    for (let k = 0; k < nDec; k++) {
      let dot = 0;
      for (let j = 0; j < dIn; j++) dot += (t[i * dIn + j] as number) * (d[k * dIn + j] as number);
      if (dot > best) best = dot;
    }
    maxCosines[i] = best;
  }
  const mean = maxCosines.reduce((a, v) => a + v, 0) / nTrue;
  const frac = maxCosines.filter((v) => v >= threshold).length / nTrue;
  return { meanMaxCosine: mean, fractionRecovered: frac, maxCosines };
}
