/**
 * Saving and loading a trained β-VAE probe: a folder with `vae_config.json` (architecture, the
 * feature scaler's kind, free-form metadata such as the model and hook) and
 * `vae_weights.safetensors` (F32 parameters under their {@link BetaVae} names, plus
 * `scaler.shift` / `scaler.scale` when a scaler is saved). Both files are written atomically.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBackend } from '../backend/ensure.js';
import { WeightLoadError } from '../errors.js';
import { readJsonFile } from '../io/checkpoint.js';
import { readSafetensorsFile, writeSafetensorsFile, type TensorToWrite } from '../io/safetensors.js';
import type { BetaVae } from './beta_vae.js';
import type { ColumnScaler } from './matrix.js';
import { betaVaeFromParts, encodeBetaVae, type SavedVaeConfig } from './vae_codec.js';

export type { SavedVaeConfig } from './vae_codec.js';

/** File names inside a saved probe folder. @category Probe */
export const VAE_FILES = {
  /** Architecture, scaler kind and metadata (JSON). */
  config: 'vae_config.json',
  /** Parameters and scaler (safetensors). */
  weights: 'vae_weights.safetensors',
} as const;

async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new WeightLoadError(`saveBetaVae: could not write ${path} — ${(err as Error).message}`);
  }
}

/**
 * Save a probe.
 * @param vae The model.
 * @param dir Folder (created).
 * @param opts The feature scaler to store with it, the token mean of a √n-pooled probe (`pooling.mu`), and metadata.
 * @returns Paths of the two files.
 * @throws {@link "tfjs-lens"!WeightLoadError} on I/O errors.
 * @example await saveBetaVae(vae, 'results/probe/sms_spam/vae', { scaler, metadata: { hook: 'blocks.0.attn.hook_q' } });
 * @category Probe
 */
export async function saveBetaVae(
  vae: BetaVae,
  dir: string,
  opts: { scaler?: ColumnScaler; tokenMean?: ArrayLike<number>; metadata?: Record<string, unknown> } = {},
): Promise<{
  /** Path of `vae_config.json`. */
  config: string;
  /** Path of `vae_weights.safetensors`. */
  weights: string;
}> {
  await mkdir(dir, { recursive: true });
  const enc = encodeBetaVae(vae, opts);
  const tensors = new Map<string, TensorToWrite>([...enc.tensors].map(([name, t]) => [name, { dtype: 'F32', shape: t.shape, data: t.data }]));
  const weights = join(dir, VAE_FILES.weights);
  const config = join(dir, VAE_FILES.config);
  await writeSafetensorsFile(weights, tensors, { format: enc.config.format });
  await writeTextAtomic(config, `${JSON.stringify(enc.config, null, 2)}\n`);
  return { config, weights };
}

/**
 * Load a probe saved by {@link saveBetaVae}. NaN/Inf weights or scaler values are refused unless
 * `opts.allowNonFinite` is set. Starts the tfjs backend ({@link "tfjs-lens"!initBackend} with its defaults)
 * if none is initialised yet.
 * @param dir The folder.
 * @param opts `allowNonFinite: true` loads NaN/Inf values as they are (deliberate experiments).
 * @returns The model (caller disposes), its scaler if saved, and the metadata.
 * @throws {@link "tfjs-lens"!NotFoundError} when a file is missing; {@link "tfjs-lens"!WeightLoadError} for a wrong format,
 *   or missing / mis-shaped / non-float / non-finite tensors (named); {@link "tfjs-lens"!ConfigError} for invalid JSON or an
 *   invalid architecture (a field of the wrong type is named); {@link "tfjs-lens"!BackendError} when no backend can be started.
 * @example const { vae, scaler } = await loadBetaVae('results/probe/sms_spam/vae');
 * @category Probe
 */
export async function loadBetaVae(
  dir: string,
  opts: {
    /** Load NaN/Inf values instead of throwing (default false). */
    readonly allowNonFinite?: boolean;
  } = {},
): Promise<{
  /** The model (caller disposes). */
  vae: BetaVae;
  /** The feature scaler saved with it, if any. */
  scaler: ColumnScaler | undefined;
  /** The free-form metadata. */
  metadata: Record<string, unknown>;
  /** The token mean of a √n-pooled probe, if saved. */
  tokenMean?: Float32Array;
}> {
  const cfgPath = join(dir, VAE_FILES.config);
  const json = await readJsonFile<SavedVaeConfig | null>(cfgPath, 'β-VAE config');
  const weightsPath = join(dir, VAE_FILES.weights);
  const { tensors } = await readSafetensorsFile(weightsPath);
  await ensureBackend('loadBetaVae');
  return betaVaeFromParts(json, tensors, { config: cfgPath, weights: weightsPath }, opts);
}
