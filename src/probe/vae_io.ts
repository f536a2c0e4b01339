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
import { ShapeError, WeightLoadError } from '../errors.js';
import { readJsonFile } from '../io/checkpoint.js';
import { readSafetensorsFile, writeSafetensorsFile, type TensorToWrite } from '../io/safetensors.js';
import { assertFiniteTensors } from '../io/safetensors_finite.js';
import { BetaVae, type VaeWeightArrays } from './beta_vae.js';
import type { ColumnScaler } from './matrix.js';
import type { BetaVaeConfig } from './vae_config.js';

/** File names inside a saved probe folder. @category Probe */
export const VAE_FILES = {
  /** Architecture, scaler kind and metadata (JSON). */
  config: 'vae_config.json',
  /** Parameters and scaler (safetensors). */
  weights: 'vae_weights.safetensors',
} as const;

const FORMAT = 'tfjs-lens/beta-vae@1';

/** The JSON written as `vae_config.json`. @category Probe */
export interface SavedVaeConfig {
  /** Format tag. */
  readonly format: string;
  /** Architecture. */
  readonly config: BetaVaeConfig;
  /** Kind of the saved scaler, or null. */
  readonly scaler: ColumnScaler['kind'] | null;
  /** Free-form metadata (model, hook, dataset, training figures…). */
  readonly metadata: Record<string, unknown>;
}

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
 * @param opts The feature scaler to store with it, and metadata.
 * @returns Paths of the two files.
 * @throws {@link "tfjs-lens"!WeightLoadError} on I/O errors.
 * @example await saveBetaVae(vae, 'results/probe/sms_spam/vae', { scaler, metadata: { hook: 'blocks.0.attn.hook_q' } });
 * @category Probe
 */
export async function saveBetaVae(
  vae: BetaVae,
  dir: string,
  opts: { scaler?: ColumnScaler; metadata?: Record<string, unknown> } = {},
): Promise<{
  /** Path of `vae_config.json`. */
  config: string;
  /** Path of `vae_weights.safetensors`. */
  weights: string;
}> {
  await mkdir(dir, { recursive: true });
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, w] of vae.weightArrays()) tensors.set(name, { dtype: 'F32', shape: w.shape, data: w.data });
  if (opts.scaler !== undefined) {
    const d = opts.scaler.shift.length;
    tensors.set('scaler.shift', { dtype: 'F32', shape: [d], data: opts.scaler.shift });
    tensors.set('scaler.scale', { dtype: 'F32', shape: [d], data: opts.scaler.scale });
  }
  const weights = join(dir, VAE_FILES.weights);
  const config = join(dir, VAE_FILES.config);
  await writeSafetensorsFile(weights, tensors, { format: FORMAT });
  const json: SavedVaeConfig = { format: FORMAT, config: vae.cfg, scaler: opts.scaler?.kind ?? null, metadata: opts.metadata ?? {} };
  await writeTextAtomic(config, `${JSON.stringify(json, null, 2)}\n`);
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
}> {
  const cfgPath = join(dir, VAE_FILES.config);
  const json = await readJsonFile<SavedVaeConfig | null>(cfgPath, 'β-VAE config');
  if (typeof json !== 'object' || json === null || json.format !== FORMAT || typeof json.config !== 'object' || json.config === null) {
    throw new WeightLoadError(`loadBetaVae: ${cfgPath} is not a ${FORMAT} file (format ${JSON.stringify(json?.format)})`);
  }
  const weightsPath = join(dir, VAE_FILES.weights);
  const { tensors } = await readSafetensorsFile(weightsPath);
  const notFloat = [...tensors].filter(([, t]) => !(t.data instanceof Float32Array)).map(([n, t]) => `'${n}' (${t.dtype})`);
  if (notFloat.length > 0) throw new WeightLoadError(`loadBetaVae: ${weightsPath}: expected float tensors, got ${notFloat.join(', ')}`);
  if (opts.allowNonFinite !== true) assertFiniteTensors(tensors, 'loadBetaVae', weightsPath);
  const weights: VaeWeightArrays = new Map();
  for (const [name, t] of tensors) {
    if (!name.startsWith('scaler.')) weights.set(name, { shape: t.shape, data: t.data as Float32Array });
  }
  let scaler: ColumnScaler | undefined;
  if (json.scaler !== null) {
    const shift = tensors.get('scaler.shift');
    const scale = tensors.get('scaler.scale');
    if (shift === undefined || scale === undefined) throw new WeightLoadError(`loadBetaVae: ${dir} declares a scaler but lacks scaler.shift / scaler.scale`);
    scaler = { kind: json.scaler, shift: shift.data as Float32Array, scale: scale.data as Float32Array };
  }
  await ensureBackend('loadBetaVae');
  let vae: BetaVae;
  try {
    vae = new BetaVae(json.config, weights);
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new WeightLoadError(`loadBetaVae: ${dir}: ${err.message}`);
  }
  const expected = new Set(vae.weightArrays().keys());
  const extra = [...weights.keys()].filter((n) => !expected.has(n));
  if (extra.length > 0) {
    vae.dispose();
    throw new WeightLoadError(`loadBetaVae: ${dir} holds tensors this architecture does not use: ${extra.join(', ')}`);
  }
  const metadata = typeof json.metadata === 'object' && json.metadata !== null && !Array.isArray(json.metadata) ? json.metadata : {};
  return { vae, scaler, metadata };
}
