/**
 * Configuration of the β-VAE probe (architecture) and of its training run. Defaults follow the
 * anchor `ivangonquir/vae-transformer-ood` (`main.py`): MLP 768 → 256 → 128 → μ/logσ² of 64, β
 * annealed linearly 0 → 0.3 over the first 40 of 200 epochs, Adam lr 1e-3, batch 64, MSE summed
 * over features. BatchNorm and dropout (the seed uses both, p = 0.2) are off by default here.
 */
import { ConfigError } from '../errors.js';

/**
 * β-VAE architecture.
 * @category Probe
 */
export interface BetaVaeConfig {
  /** Input features (e.g. d_model of the hooked activation). */
  readonly dIn: number;
  /** Latent dimensions (default 64). */
  readonly dLatent: number;
  /** Hidden widths of the encoder; the decoder mirrors them (default [256, 128]). */
  readonly hidden: readonly number[];
  /** Output head: 'linear' for standardised activations (default), 'sigmoid' for [0, 1] data. */
  readonly output: 'linear' | 'sigmoid';
  /** BatchNorm after every hidden linear layer (default false). */
  readonly batchNorm: boolean;
  /** Dropout rate after every hidden activation while training (default 0). */
  readonly dropout: number;
  /** Seed of the weight initialisation (default 0). */
  readonly seed: number;
}

/**
 * Training hyper-parameters of {@link trainBetaVae}.
 * @category Probe
 */
export interface VaeTrainConfig {
  /** Maximum epochs (default 200). */
  readonly epochs: number;
  /** Minibatch size (default 64). */
  readonly batchSize: number;
  /** Adam learning rate (default 1e-3). */
  readonly lr: number;
  /** Final β of the KL term (default 0.3). */
  readonly betaMax: number;
  /** Epochs of the linear 0 → βmax ramp (default: a fifth of `epochs`, as the seed's 40 of 200). */
  readonly warmupEpochs: number;
  /** Fraction of the training rows held out for validation / early stopping (default 0.1; 0 = none). */
  readonly valFraction: number;
  /** Stop after this many epochs past warm-up without a better validation loss (default 20). */
  readonly patience: number;
  /** Reconstruction term per sample: 'sum' of squared errors over features (default, as the seed) or 'mean'. */
  readonly reconReduction: 'sum' | 'mean';
  /** Seed of the shuffling, the validation split, the reparameterisation noise and dropout (default 0). */
  readonly seed: number;
}

/** Architecture defaults (dIn has none). @category Probe */
export const DEFAULT_VAE_CONFIG: Omit<BetaVaeConfig, 'dIn'> = {
  dLatent: 64,
  hidden: [256, 128],
  output: 'linear',
  batchNorm: false,
  dropout: 0,
  seed: 0,
};

/** Training defaults (warmupEpochs is derived from epochs when not given). @category Probe */
export const DEFAULT_VAE_TRAIN: Omit<VaeTrainConfig, 'warmupEpochs'> = {
  epochs: 200,
  batchSize: 64,
  lr: 1e-3,
  betaMax: 0.3,
  valFraction: 0.1,
  patience: 20,
  reconReduction: 'sum',
  seed: 0,
};

const posInt = (v: number): boolean => Number.isInteger(v) && v > 0;

/**
 * Fill in and check an architecture.
 * @param c `dIn` plus any overrides.
 * @returns The complete config.
 * @throws {@link "tfjs-lens"!ConfigError} for a non-positive size, a dropout outside [0, 1), an unknown output head,
 *   or a field of the wrong type (e.g. `batchNorm: "no"`), naming the field.
 * @example resolveVaeConfig({ dIn: 768, dLatent: 32 })
 * @category Probe
 */
export function resolveVaeConfig(c: Partial<BetaVaeConfig> & { readonly dIn: number }): BetaVaeConfig {
  const fn = 'resolveVaeConfig';
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new ConfigError(`${fn}: the config must be an object, got ${JSON.stringify(c)}`);
  if (c.hidden !== undefined && !Array.isArray(c.hidden)) throw new ConfigError(`${fn}: hidden must be an array of positive integers, got ${JSON.stringify(c.hidden)}`);
  const cfg: BetaVaeConfig = { ...DEFAULT_VAE_CONFIG, ...c, hidden: [...(c.hidden ?? DEFAULT_VAE_CONFIG.hidden)] };
  if (typeof cfg.batchNorm !== 'boolean') throw new ConfigError(`${fn}: batchNorm must be a boolean, got ${JSON.stringify(cfg.batchNorm)}`);
  if (typeof cfg.dropout !== 'number') throw new ConfigError(`${fn}: dropout must be a number in [0, 1), got ${JSON.stringify(cfg.dropout)}`);
  if (!posInt(cfg.dIn)) throw new ConfigError(`${fn}: dIn must be a positive integer, got ${cfg.dIn}`);
  if (!posInt(cfg.dLatent)) throw new ConfigError(`${fn}: dLatent must be a positive integer, got ${cfg.dLatent}`);
  if (!cfg.hidden.every(posInt)) throw new ConfigError(`${fn}: hidden widths must be positive integers, got [${cfg.hidden.join(', ')}]`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new ConfigError(`${fn}: dropout must be in [0, 1), got ${cfg.dropout}`);
  if (cfg.output !== 'linear' && cfg.output !== 'sigmoid') throw new ConfigError(`${fn}: output must be 'linear' or 'sigmoid', got '${String(cfg.output)}'`);
  if (!Number.isInteger(cfg.seed)) throw new ConfigError(`${fn}: seed must be an integer, got ${cfg.seed}`);
  return cfg;
}

/**
 * Fill in and check training hyper-parameters.
 * @param c Overrides.
 * @returns The complete training config.
 * @throws {@link "tfjs-lens"!ConfigError} for non-positive epochs/batch/lr, a negative β or warm-up, a
 *   validation fraction outside [0, 0.5], or a non-integer seed.
 * @example resolveTrainConfig({ epochs: 50, betaMax: 1 })  // warmupEpochs 10
 * @category Probe
 */
export function resolveTrainConfig(c: Partial<VaeTrainConfig> = {}): VaeTrainConfig {
  const epochs = c.epochs ?? DEFAULT_VAE_TRAIN.epochs;
  const cfg: VaeTrainConfig = { ...DEFAULT_VAE_TRAIN, warmupEpochs: Math.round(epochs / 5), ...c };
  const fn = 'resolveTrainConfig';
  if (!posInt(cfg.epochs) || !posInt(cfg.batchSize)) throw new ConfigError(`${fn}: epochs and batchSize must be positive integers, got ${cfg.epochs} and ${cfg.batchSize}`);
  if (!(cfg.lr > 0)) throw new ConfigError(`${fn}: lr must be > 0, got ${cfg.lr}`);
  if (!(cfg.betaMax >= 0)) throw new ConfigError(`${fn}: betaMax must be ≥ 0, got ${cfg.betaMax}`);
  if (!(Number.isInteger(cfg.warmupEpochs) && cfg.warmupEpochs >= 0)) throw new ConfigError(`${fn}: warmupEpochs must be an integer ≥ 0, got ${cfg.warmupEpochs}`);
  if (!(cfg.valFraction >= 0 && cfg.valFraction <= 0.5)) throw new ConfigError(`${fn}: valFraction must be in [0, 0.5], got ${cfg.valFraction}`);
  if (!(Number.isInteger(cfg.patience) && cfg.patience >= 1)) throw new ConfigError(`${fn}: patience must be an integer ≥ 1, got ${cfg.patience}`);
  if (cfg.reconReduction !== 'sum' && cfg.reconReduction !== 'mean') throw new ConfigError(`${fn}: reconReduction must be 'sum' or 'mean'`);
  if (!Number.isInteger(cfg.seed)) throw new ConfigError(`${fn}: seed must be an integer, got ${cfg.seed}`);
  return cfg;
}

/**
 * β at an epoch: linear from 0 at epoch 0 to βmax at `warmupEpochs`, then constant (the seed's rule
 * β = βmax · epoch / warmup).
 * @param epoch 0-based epoch.
 * @param t Training config (βmax, warm-up).
 * @returns β for that epoch.
 * @throws Never.
 * @example betaAt(10, resolveTrainConfig({ epochs: 200 }))  // 0.3 · 10/40 = 0.075
 * @category Probe
 */
export function betaAt(epoch: number, t: Pick<VaeTrainConfig, 'betaMax' | 'warmupEpochs'>): number {
  if (t.warmupEpochs === 0 || epoch >= t.warmupEpochs) return t.betaMax;
  return (t.betaMax * epoch) / t.warmupEpochs;
}
