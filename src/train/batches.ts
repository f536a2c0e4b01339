/**
 * Seeded mini-batch order for epoch-based fine-tuning: each epoch is a fresh Fisher–Yates shuffle of
 * the row indices (mulberry32 seeded by seed and epoch), cut into batches, as a PyTorch
 * `DataLoader(shuffle=True)` with a seeded generator; the same seed always gives the same order.
 */
import { ConfigError } from '../errors.js';
import { seededRng } from '../utils/rng.js';

/** Options of {@link epochBatches}. @category Training */
export interface EpochBatchOptions {
  /** Rows per batch. */
  readonly batchSize: number;
  /** Seed of the run (default 0). */
  readonly seed?: number;
  /** Drop the last, smaller batch (default false). */
  readonly dropLast?: boolean;
}

/**
 * The batches of row indices of one epoch.
 * @param nRows Number of training rows.
 * @param epoch 0-based epoch (each epoch has its own order).
 * @param opts batchSize, seed, dropLast.
 * @returns ceil(nRows / batchSize) batches (floor with dropLast); every row appears once.
 * @throws {@link "tfjs-lens"!ConfigError} for a non-integer or negative nRows / epoch / seed, or batchSize < 1.
 * @example const batches = epochBatches(train.length, 1, { batchSize: 16, seed: 0 }); // epoch 1
 * @category Training
 */
export function epochBatches(nRows: number, epoch: number, opts: EpochBatchOptions): number[][] {
  const { batchSize } = opts;
  const seed = opts.seed ?? 0;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new ConfigError(`epochBatches: batchSize must be an integer ≥ 1, got ${batchSize}`);
  for (const [name, v] of [['nRows', nRows], ['epoch', epoch]] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new ConfigError(`epochBatches: ${name} must be an integer ≥ 0, got ${v}`);
  }
  if (!Number.isInteger(seed)) throw new ConfigError(`epochBatches: seed must be an integer, got ${seed}`);
  const rand = seededRng((Math.imul(seed, 0x9e3779b1) + epoch) | 0);
  const idx = Array.from({ length: nRows }, (_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  const nBatches = opts.dropLast === true ? Math.floor(nRows / batchSize) : Math.ceil(nRows / batchSize);
  return Array.from({ length: nBatches }, (_, b) => idx.slice(b * batchSize, (b + 1) * batchSize));
}
