/**
 * SAE files in SAELens's layout: a folder `saes/<model>/<hook>/` holding `cfg.json` and
 * `sae_weights.safetensors` (F32 tensors `W_enc` [d_in, d_sae], `b_enc` [d_sae], `W_dec`
 * [d_sae, d_in], `b_dec` [d_in], and `threshold` [d_sae] for JumpReLU; Gated has `b_gate`, `r_mag`,
 * `b_mag` [d_sae] and no `b_enc`; a BatchTopK training checkpoint adds the scalar `topk_threshold`), optionally
 * `sparsity.safetensors` (`sparsity`: log10 feature density). Same file names, tensor names and
 * shapes as SAELens `save_model` / `load_from_disk`, so folders move both ways.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBackend } from '../backend/ensure.js';
import { fsError, readSafetensorsFile, writeSafetensorsFile, type TensorToWrite } from '../io/safetensors.js';
import { packageRoot } from '../utils/package_root.js';
import { batchTopkToJumpRelu, foldDecoderNormArrays } from './convert.js';
import { parseSaeCfgText, saeWeightsFromTensors, sparsityOf } from './io_codec.js';
import { saeConfigToCfgJson } from './sae_lens_config.js';
import { SparseAutoencoder } from './sae.js';

/** SAELens file names (`sae_lens/constants.py`). @category SAE */
export const SAE_FILES = {
  /** The SAELens config ({@link SaeLensCfgJson}). */
  cfg: 'cfg.json',
  /** W_enc, b_enc, W_dec, b_dec (+ threshold for JumpReLU), F32. */
  weights: 'sae_weights.safetensors',
  /** log10 feature density per latent (optional). */
  sparsity: 'sparsity.safetensors',
  /** The training run's settings (optional). */
  runnerCfg: 'runner_cfg.json',
  /** `{"scaling_factor": s}` of a checkpoint before folding (optional). */
  activationScaler: 'activation_scaler.json',
} as const;

/** Options of {@link saveSae}. @category SAE */
export interface SaveSaeOptions {
  /** Extra cfg.json fields (training hyper-parameters for checkpoints). */
  readonly extraCfg?: Record<string, unknown>;
  /** log10 feature density per latent → `sparsity.safetensors`. */
  readonly logSparsity?: Float32Array;
  /** Written as `runner_cfg.json`. */
  readonly runnerCfg?: Record<string, unknown>;
  /** Written as `activation_scaler.json` (`{"scaling_factor": s}`; checkpoints before folding). */
  readonly scalingFactor?: number | null;
  /** TopK with rescaling: fold ‖W_dec[i]‖ into the saved weights (SAELens
   * `process_state_dict_for_saving_inference`; outputs unchanged). Default true. */
  readonly foldTopkDecoderNorm?: boolean;
  /** BatchTopK: save the JumpReLU inference SAE SAELens's `save_inference_model` writes (default true;
   * see {@link batchTopkToJumpRelu}); false writes the training form (`architecture: 'batchtopk'` and a
   * `topk_threshold` scalar, as SAELens's `save_model` checkpoints). */
  readonly batchTopkAsJumpRelu?: boolean;
}

/**
 * The folder of an SAE: `<root>/saes/<model>/<hook>` (root: the package root).
 * @param modelName e.g. 'gpt2-tiny'.
 * @param hookName e.g. 'blocks.1.hook_resid_pre'.
 * @param root Base folder (default the package root).
 * @returns The path.
 * @example saeDir('gpt2-tiny', 'blocks.1.hook_resid_pre');
 * @throws Never.
 * @category SAE
 */
export function saeDir(modelName: string, hookName: string, root: string = packageRoot()): string {
  return join(root, 'saes', modelName, hookName);
}

/**
 * Save an SAE as SAELens does (`cfg.json` + `sae_weights.safetensors`, F32).
 * @param sae The SAE.
 * @param dir Output folder (created).
 * @param opts Extra cfg fields, sparsity, runner config, scaling factor.
 * @returns The paths written.
 * @throws {@link "tfjs-lens"!WeightLoadError} on I/O errors.
 * @example await saveSae(sae, saeDir('gpt2-tiny', sae.cfg.metadata.hook_name ?? 'hook'));
 * @category SAE
 */
export async function saveSae(sae: SparseAutoencoder, dir: string, opts: SaveSaeOptions = {}): Promise<{
  /** Path of the written `cfg.json`. */
  cfgPath: string;
  /** Path of the written `sae_weights.safetensors`. */
  weightsPath: string;
}> {
  if (sae.cfg.architecture === 'batchtopk' && opts.batchTopkAsJumpRelu !== false) {
    const jr = batchTopkToJumpRelu(sae);
    try {
      return await saveSae(jr, dir, { ...opts, extraCfg: {} });
    } finally {
      jr.dispose();
    }
  }
  const { dIn, dSae, architecture: arch } = sae.cfg;
  let w = sae.toArrays();
  if (arch === 'topk' && sae.cfg.rescaleActsByDecoderNorm === true && opts.foldTopkDecoderNorm !== false) {
    w = foldDecoderNormArrays(w, dIn, dSae);
  }
  const tensors: Record<string, TensorToWrite> = {
    W_enc: { dtype: 'F32', shape: [dIn, dSae], data: w.W_enc },
    ...(arch === 'gated' ? {} : { b_enc: { dtype: 'F32', shape: [dSae], data: w.b_enc } }),
    W_dec: { dtype: 'F32', shape: [dSae, dIn], data: w.W_dec },
    b_dec: { dtype: 'F32', shape: [dIn], data: w.b_dec },
  };
  for (const name of ['threshold', 'b_gate', 'r_mag', 'b_mag'] as const) {
    const a = w[name];
    if (a !== undefined) tensors[name] = { dtype: 'F32', shape: [dSae], data: a };
  }
  if (arch === 'batchtopk') tensors['topk_threshold'] = { dtype: 'F32', shape: [], data: Float32Array.of(sae.topkThreshold) };
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw fsError('saveSae', dir, err);
  }
  const weightsPath = join(dir, SAE_FILES.weights);
  await writeSafetensorsFile(weightsPath, tensors);
  const cfgPath = join(dir, SAE_FILES.cfg);
  const writes: [string, string][] = [[cfgPath, JSON.stringify(saeConfigToCfgJson(sae.cfg, opts.extraCfg))]];
  if (opts.runnerCfg !== undefined) writes.push([join(dir, SAE_FILES.runnerCfg), JSON.stringify(opts.runnerCfg)]);
  if (opts.scalingFactor !== undefined) writes.push([join(dir, SAE_FILES.activationScaler), JSON.stringify({ scaling_factor: opts.scalingFactor })]);
  for (const [p, text] of writes) {
    try {
      await writeFile(p, text);
    } catch (err) {
      throw fsError('saveSae', p, err);
    }
  }
  if (opts.logSparsity !== undefined) {
    await writeSafetensorsFile(join(dir, SAE_FILES.sparsity), { sparsity: { dtype: 'F32', shape: [dSae], data: opts.logSparsity } });
  }
  return { cfgPath, weightsPath };
}

/**
 * Load an SAE folder written by SAELens (`save_model` / `save_inference_model`) or by {@link saveSae}.
 * Tensors must match cfg.json's shapes; unexpected or missing tensors are errors (as torch's strict
 * `load_state_dict`). A training checkpoint's `log_threshold` is accepted as exp → threshold.
 * NaN/Inf weights (a threshold included) are refused unless `opts.allowNonFinite` is set. Starts
 * the tfjs backend ({@link "tfjs-lens"!initBackend} with its defaults) if none is initialised yet.
 * @param dir The folder holding cfg.json and sae_weights.safetensors.
 * @param opts `allowNonFinite: true` loads NaN/Inf weights as they are (deliberate experiments).
 * @returns The SAE (dispose it).
 * @throws {@link "tfjs-lens"!NotFoundError} for missing files; {@link "tfjs-lens"!WeightLoadError} listing bad
 *   tensors (missing, unexpected, mis-shaped, or holding NaN/Inf) or for a cfg.json that is not JSON;
 *   {@link "tfjs-lens"!ConfigError} for an unsupported cfg.json or a field of the wrong type;
 *   {@link "tfjs-lens"!SafetensorsError} for a malformed weights file; {@link "tfjs-lens"!BackendError} when no
 *   backend can be started.
 * @example const sae = await loadSae('saes/gpt2-tiny/blocks.1.hook_resid_pre');
 * @category SAE
 */
export async function loadSae(
  dir: string,
  opts: {
    /** Load NaN/Inf weights instead of throwing (default false). */
    readonly allowNonFinite?: boolean;
  } = {},
): Promise<SparseAutoencoder> {
  const cfgPath = join(dir, SAE_FILES.cfg);
  let text: string;
  try {
    text = await readFile(cfgPath, 'utf8');
  } catch (err) {
    throw fsError('loadSae', cfgPath, err);
  }
  const cfg = parseSaeCfgText(text, cfgPath);
  const { tensors } = await readSafetensorsFile(join(dir, SAE_FILES.weights));
  const weights = saeWeightsFromTensors(cfg, tensors, { ...opts, source: dir });
  await ensureBackend('loadSae');
  return new SparseAutoencoder(cfg, weights);
}

/**
 * Read `sparsity.safetensors` (log10 feature density) if the folder has one.
 * @param dir SAE folder.
 * @returns [d_sae] or undefined.
 * @throws {@link "tfjs-lens"!WeightLoadError} if the file exists but is malformed.
 * @example const logDensity = await readSaeSparsity(dir);
 * @category SAE
 */
export async function readSaeSparsity(dir: string): Promise<Float32Array | undefined> {
  try {
    const { tensors } = await readSafetensorsFile(join(dir, SAE_FILES.sparsity));
    return sparsityOf(tensors, dir);
  } catch (err) {
    if ((err as Error).name === 'NotFoundError') return undefined;
    throw err;
  }
}
