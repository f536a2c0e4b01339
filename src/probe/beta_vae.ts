/**
 * β-VAE (Higgins et al. 2017) over feature vectors: an MLP encoder to μ and log σ², the
 * reparameterisation z = μ + σ·ε with seeded ε, an MLP decoder with a linear or sigmoid head, and
 * the loss recon + β·KL(q(z|x) ‖ N(0, I)). Layout as the anchor `vae-transformer-ood` `VAE`
 * (Linear → [BatchNorm] → ReLU → [Dropout]), with weights stored x·W ([in, out]) so every layer
 * uses {@link linear} (plain matmuls in the backward pass; 10x faster on tfjs-wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertBackendReady } from '../backend/ensure.js';
import { DisposedError, ShapeError } from '../errors.js';
import { linear } from '../ops/matmul.js';
import { seededRng, tfjsSeed } from '../utils/rng.js';
import { rank2 } from '../utils/tensor_rank.js';
import { resolveVaeConfig, type BetaVaeConfig } from './vae_config.js';

/** Running-statistics momentum and epsilon of BatchNorm (PyTorch defaults). */
const BN_MOMENTUM = 0.1;
const BN_EPS = 1e-5;
/** log σ² is clipped to this range so exp() stays finite. */
const LOGVAR_CLIP = 20;

/**
 * Options of one forward pass.
 * @category Probe
 */
export interface VaeRunOptions {
  /** Training mode: sample z, apply dropout, use and update BatchNorm batch statistics (default false: z = μ, running statistics). */
  readonly training?: boolean;
  /** Seed of ε and of the dropout masks (training mode). */
  readonly seed?: number;
}

/**
 * Outputs of {@link BetaVae.forward}; the caller owns the tensors.
 * @category Probe
 */
export interface VaeOutputs {
  /** Reconstruction [batch, d_in]. */
  readonly recon: tf.Tensor2D;
  /** Posterior mean [batch, d_latent]. */
  readonly mu: tf.Tensor2D;
  /** Posterior log-variance [batch, d_latent]. */
  readonly logvar: tf.Tensor2D;
  /** The latent used by the decoder (μ outside training) [batch, d_latent]. */
  readonly z: tf.Tensor2D;
}

/** Weights as plain arrays, by parameter name. @category Probe */
export type VaeWeightArrays = Map<string, {
  /** Tensor shape. */
  readonly shape: readonly number[];
  /** Values, row-major. */
  readonly data: Float32Array;
}>;

/** Names of the trainable and running-statistics parameters of a config, in a fixed order. */
function paramShapes(cfg: BetaVaeConfig): [string, number[], 'weight' | 'bias' | 'ones' | 'zeros' | 'stat1' | 'stat0'][] {
  const out: [string, number[], 'weight' | 'bias' | 'ones' | 'zeros' | 'stat1' | 'stat0'][] = [];
  const stack = (prefix: string, dims: number[]): void => {
    for (let i = 0; i + 1 < dims.length; i++) {
      const [a, b] = [dims[i] as number, dims[i + 1] as number];
      out.push([`${prefix}.${i}.weight`, [a, b], 'weight'], [`${prefix}.${i}.bias`, [b], 'bias']);
      if (cfg.batchNorm) {
        out.push(
          [`${prefix}.${i}.bn.gamma`, [b], 'ones'], [`${prefix}.${i}.bn.beta`, [b], 'zeros'],
          [`${prefix}.${i}.bn.running_mean`, [b], 'stat0'], [`${prefix}.${i}.bn.running_var`, [b], 'stat1'],
        );
      }
    }
  };
  const h = cfg.hidden;
  stack('encoder', [cfg.dIn, ...h]);
  const last = h[h.length - 1] ?? cfg.dIn;
  for (const head of ['fc_mu', 'fc_logvar']) out.push([`${head}.weight`, [last, cfg.dLatent], 'weight'], [`${head}.bias`, [cfg.dLatent], 'bias']);
  stack('decoder', [cfg.dLatent, ...[...h].reverse()]);
  out.push(['decoder.out.weight', [h[0] ?? cfg.dLatent, cfg.dIn], 'weight'], ['decoder.out.bias', [cfg.dIn], 'bias']);
  return out;
}

/** PyTorch `nn.Linear` default init: weight and bias ~ U(−1/√fan_in, 1/√fan_in), from a seeded generator. */
function initArray(shape: number[], kind: string, fanIn: number, rand: () => number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (kind === 'ones' || kind === 'stat1') return new Float32Array(n).fill(1);
  if (kind === 'zeros' || kind === 'stat0') return new Float32Array(n);
  const bound = 1 / Math.sqrt(fanIn);
  return Float32Array.from({ length: n }, () => (2 * rand() - 1) * bound);
}

/**
 * A β-VAE whose parameters are `tf.Variable`s (owned: call {@link BetaVae.dispose}).
 * @example
 * const vae = new BetaVae({ dIn: 128, dLatent: 16 });
 * const { recon, mu, logvar, z } = vae.forward(tf.randomNormal([4, 128]));
 * @category Probe
 */
export class BetaVae {
  /** Architecture. */
  readonly cfg: BetaVaeConfig;
  private vars: Map<string, tf.Variable> | undefined;

  /**
   * @param cfg Architecture (`dIn` required; see {@link resolveVaeConfig} for defaults).
   * @param weights Initial weights by name (e.g. from {@link loadBetaVae}); default: seeded random init.
   * @throws {@link "tfjs-lens"!ConfigError} for an invalid config; {@link "tfjs-lens"!ShapeError} if a given weight is missing or has the wrong shape;
   *   {@link "tfjs-lens"!BackendError} when no tfjs backend is initialised yet (a constructor cannot await the start-up:
   *   call {@link "tfjs-lens"!initBackend} first, or load with {@link loadBetaVae}, which starts it).
   */
  constructor(cfg: Partial<BetaVaeConfig> & { readonly dIn: number }, weights?: VaeWeightArrays) {
    this.cfg = resolveVaeConfig(cfg);
    assertBackendReady('BetaVae');
    const rand = seededRng(this.cfg.seed);
    let fanIn = 1;
    const arrays = paramShapes(this.cfg).map(([name, shape, kind]) => {
      if (kind === 'weight') fanIn = shape[0] as number;
      if (weights === undefined) return [name, shape, initArray(shape, kind, fanIn, rand), kind] as const;
      const w = weights.get(name);
      if (w === undefined || w.shape.join(',') !== shape.join(',')) {
        throw new ShapeError(`BetaVae: weight '${name}' must have shape [${shape.join(', ')}], got ${w === undefined ? 'nothing' : `[${w.shape.join(', ')}]`}`);
      }
      return [name, shape, w.data, kind] as const;
    });
    this.vars = new Map(
      arrays.map(([name, shape, data, kind]) => {
        const t = tf.tensor(data, shape, 'float32');
        const v = tf.variable(t, !kind.startsWith('stat'));
        t.dispose();
        return [name, v];
      }),
    );
  }

  private get v(): Map<string, tf.Variable> {
    if (this.vars === undefined) throw new DisposedError('BetaVae: the model was disposed');
    return this.vars;
  }

  private p(name: string): tf.Variable {
    const v = this.v.get(name);
    if (v === undefined) throw new ShapeError(`BetaVae: no parameter '${name}'`);
    return v;
  }

  /** Trainable variables (BatchNorm running statistics excluded). */
  get trainableVariables(): tf.Variable[] {
    return [...this.v.values()].filter((x) => x.trainable);
  }

  /** Number of tensors the model holds (for leak checks). */
  get numTensors(): number {
    return this.v.size;
  }

  /** Linear → [BatchNorm] → ReLU → [Dropout] for every layer of a stack. */
  private mlp(x: tf.Tensor2D, prefix: string, nLayers: number, o: VaeRunOptions, seedOffset: number): tf.Tensor2D {
    let h = x;
    for (let i = 0; i < nLayers; i++) {
      const name = `${prefix}.${i}`;
      h = tf.add(linear(h, this.p(`${name}.weight`)), this.p(`${name}.bias`)); // [batch, hidden_i]
      if (this.cfg.batchNorm) h = this.batchNorm(h, name, o.training === true);
      h = tf.relu(h);
      if (o.training === true && this.cfg.dropout > 0) h = rank2(tf.dropout(h, this.cfg.dropout, undefined, tfjsSeed((o.seed ?? 0) * 7919 + seedOffset + i)), 'BetaVae dropout');
    }
    return h;
  }

  private batchNorm(h: tf.Tensor2D, name: string, training: boolean): tf.Tensor2D {
    const gamma = this.p(`${name}.bn.gamma`);
    const beta = this.p(`${name}.bn.beta`);
    const rm = this.p(`${name}.bn.running_mean`);
    const rv = this.p(`${name}.bn.running_var`);
    if (!training || h.shape[0] < 2) return tf.add(tf.mul(tf.div(tf.sub(h, rm), tf.sqrt(tf.add(rv, BN_EPS))), gamma), beta);
    const { mean, variance } = tf.moments(h, 0); // [hidden], biased
    const n = h.shape[0];
    rm.assign(tf.tidy(() => tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM))));
    rv.assign(tf.tidy(() => tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(variance, (BN_MOMENTUM * n) / (n - 1)))));
    return tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, BN_EPS))), gamma), beta);
  }

  /**
   * Encode features to the posterior parameters.
   * @param x Features [batch, d_in].
   * @param o Training mode and seed.
   * @returns μ and log σ² [batch, d_latent] (caller disposes).
   * @throws {@link "tfjs-lens"!ShapeError} if x is not [batch, d_in]; {@link "tfjs-lens"!DisposedError} after dispose.
   */
  encode(x: tf.Tensor2D, o: VaeRunOptions = {}): {
    /** Posterior mean [batch, d_latent]. */
    mu: tf.Tensor2D;
    /** Posterior log-variance [batch, d_latent], clipped to [-20, 20]. */
    logvar: tf.Tensor2D;
  } {
    if (x.rank !== 2 || x.shape[1] !== this.cfg.dIn) throw new ShapeError(`BetaVae.encode: x must be [batch, ${this.cfg.dIn}], got [${x.shape.join(', ')}]`);
    return tf.tidy(() => {
      const h = this.mlp(x, 'encoder', this.cfg.hidden.length, o, 0); // [batch, hidden_last]
      const mu: tf.Tensor2D = tf.add(linear(h, this.p('fc_mu.weight')), this.p('fc_mu.bias')); // [batch, d_latent]
      const lv: tf.Tensor2D = tf.add(linear(h, this.p('fc_logvar.weight')), this.p('fc_logvar.bias')); // [batch, d_latent]
      return { mu, logvar: tf.clipByValue(lv, -LOGVAR_CLIP, LOGVAR_CLIP) };
    });
  }

  /**
   * Decode latents.
   * @param z Latents [batch, d_latent].
   * @param o Training mode and seed.
   * @returns Reconstruction [batch, d_in] (caller disposes).
   * @throws {@link "tfjs-lens"!ShapeError} if z is not [batch, d_latent].
   */
  decode(z: tf.Tensor2D, o: VaeRunOptions = {}): tf.Tensor2D {
    if (z.rank !== 2 || z.shape[1] !== this.cfg.dLatent) throw new ShapeError(`BetaVae.decode: z must be [batch, ${this.cfg.dLatent}], got [${z.shape.join(', ')}]`);
    return tf.tidy(() => {
      const h = this.mlp(z, 'decoder', this.cfg.hidden.length, o, 1000); // [batch, hidden_0]
      const out: tf.Tensor2D = tf.add(linear(h, this.p('decoder.out.weight')), this.p('decoder.out.bias')); // [batch, d_in]
      return this.cfg.output === 'sigmoid' ? tf.sigmoid(out) : out;
    });
  }

  /**
   * Full pass: encode, reparameterise (training: z = μ + exp(½ log σ²)·ε, ε ~ N(0, I) seeded; else z = μ), decode.
   * @param x Features [batch, d_in].
   * @param o Training mode and seed.
   * @returns recon, mu, logvar, z (caller disposes all four).
   * @throws {@link "tfjs-lens"!ShapeError} for a wrong input shape.
   */
  forward(x: tf.Tensor2D, o: VaeRunOptions = {}): VaeOutputs {
    return tf.tidy(() => {
      const { mu, logvar } = this.encode(x, o);
      const z: tf.Tensor2D =
        o.training === true
          ? tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), tf.randomNormal(mu.shape, 0, 1, 'float32', tfjsSeed(o.seed ?? 0))))
          : tf.clone(mu);
      return { recon: this.decode(z, o), mu, logvar, z };
    });
  }

  /** Current weights as plain arrays (running statistics included). */
  weightArrays(): VaeWeightArrays {
    return new Map([...this.v.entries()].map(([name, t]) => [name, { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) }]));
  }

  /** Overwrite every parameter from arrays of the same shapes (used to restore the best epoch). */
  setWeights(w: VaeWeightArrays): void {
    for (const [name, t] of this.v) {
      const a = w.get(name);
      if (a === undefined || a.shape.join(',') !== t.shape.join(',')) throw new ShapeError(`BetaVae.setWeights: bad or missing '${name}'`);
      tf.tidy(() => t.assign(tf.tensor(a.data, t.shape, 'float32')));
    }
  }

  /** Free the variables. Later calls throw {@link "tfjs-lens"!DisposedError}. */
  dispose(): void {
    if (this.vars === undefined) return;
    for (const t of this.vars.values()) t.dispose();
    this.vars = undefined;
  }
}

/**
 * Per-sample KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²).
 * @param mu Posterior mean [batch, d_latent].
 * @param logvar Posterior log-variance [batch, d_latent].
 * @returns KL per sample [batch] (caller disposes).
 * @throws Never for matching shapes.
 * @example const kl = klPerSample(mu, logvar);
 * @category Probe
 */
export function klPerSample(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul<tf.Tensor1D>(tf.sum(tf.sub(tf.sub(tf.add(logvar, 1), tf.square(mu)), tf.exp(logvar)), 1), -0.5));
}

/**
 * Per-sample squared reconstruction error, summed or averaged over features.
 * @param x Input [batch, d_in].
 * @param recon Reconstruction [batch, d_in].
 * @param reduction 'sum' or 'mean' over features.
 * @returns Error per sample [batch] (caller disposes).
 * @throws Never for matching shapes.
 * @example const mse = reconErrorPerSample(x, recon, 'mean');
 * @category Probe
 */
export function reconErrorPerSample(x: tf.Tensor2D, recon: tf.Tensor2D, reduction: 'sum' | 'mean'): tf.Tensor1D {
  return tf.tidy(() => {
    const sq = tf.square(tf.sub(recon, x)); // [batch, d_in]
    return reduction === 'sum' ? tf.sum<tf.Tensor1D>(sq, 1) : tf.mean<tf.Tensor1D>(sq, 1);
  });
}
