/**
 * `SAE.fromPretrained(release, saeId)`: SAELens's `SAE.from_pretrained_with_cfg_and_sparsity`
 * (`from_pretrained` in SAELens ≤ 5): look the release up in a registry in SAELens's
 * `pretrained_saes.yaml` format, download the SAE's files through our hub cache, convert them with
 * the release's `conversion_func`, apply SAELens's config defaulting and the registry's
 * `norm_scaling_factor`, and build the SAE. `SAE` is {@link SparseAutoencoder} with this static.
 */
import { ensureBackend } from '../backend/ensure.js';
import { ConfigError, WeightLoadError } from '../errors.js';
import { assertFiniteTensors } from '../io/safetensors_finite.js';
import type { HubOptions } from '../io/hub.js';
import type { SaeConfig } from './config.js';
import { configGetter, conversionLoader, handleConfigDefaulting, LLM_METADATA_KEYS, type LoadedSaeParts, type SaeLensCfgDict } from './pretrained_loaders.js';
import { checkRelease, configOverrides, loadSaeRegistry, repoIdAndFolderName, type SaeRegistry } from './pretrained_registry.js';
import { SAE_LENS_FORMAT_VERSION, saeConfigFromCfgJson } from './sae_lens_config.js';
import { SparseAutoencoder, type SaeWeightArrays } from './sae.js';

/** Options of {@link SAE.fromPretrained}: hub options plus the registry. @category SAE */
export interface FromPretrainedOptions extends HubOptions {
  /** Registry in SAELens's `pretrained_saes.yaml` format: a file path, an http(s) URL or a parsed
   * registry. Default: the shipped `data/saelens/pretrained_saes.yaml`. */
  readonly registry?: string | URL | SaeRegistry;
  /** Device string written into the config (default 'cpu'; tfjs picks the device itself). */
  readonly device?: string;
  /** Download the files again even when cached (SAELens `force_download`). */
  readonly forceDownload?: boolean;
  /** Load NaN/Inf weights instead of throwing (default false). */
  readonly allowNonFinite?: boolean;
}

/** What {@link SAE.fromPretrained} returns (SAELens's `(sae, cfg_dict, sparsity)`). @category SAE */
export interface PretrainedSae {
  /** The SAE (dispose it). */
  readonly sae: SAE;
  /** The SAELens config dict after defaulting (snake_case, as SAELens returns it). */
  readonly cfgDict: SaeLensCfgDict;
  /** log10 feature density [d_sae] from `sparsity.safetensors`, or null when the release has none. */
  readonly sparsity: Float32Array | null;
}

/** Tensors of each architecture (SAELens state-dict names); optional ones may be absent. */
function tensorsOf(arch: string, state: LoadedSaeParts['stateDict']): { wanted: string[]; optional: string[] } {
  if (arch === 'gated') return { wanted: ['W_enc', 'W_dec', 'b_dec', 'b_gate', 'r_mag', 'b_mag'], optional: [] };
  const base = ['W_enc', 'b_enc', 'W_dec', 'b_dec'];
  if (arch === 'jumprelu') return { wanted: [...base, state.has('threshold') || !state.has('log_threshold') ? 'threshold' : 'log_threshold'], optional: [] };
  if (arch === 'batchtopk') return { wanted: base, optional: ['topk_threshold'] };
  return { wanted: base, optional: [] };
}

/** Check the state dict against the config (strict, as torch's `load_state_dict`) and build the weight arrays. */
function weightsFor(cfg: SaeConfig, state: LoadedSaeParts['stateDict'], where: string, allowNonFinite: boolean): SaeWeightArrays {
  const { dIn, dSae } = cfg;
  const shapes: Record<string, number[]> = {
    W_enc: [dIn, dSae], b_enc: [dSae], W_dec: [dSae, dIn], b_dec: [dIn], threshold: [dSae], log_threshold: [dSae],
    b_gate: [dSae], r_mag: [dSae], b_mag: [dSae], topk_threshold: [],
  };
  const { wanted, optional } = tensorsOf(cfg.architecture, state);
  const missing = wanted.filter((n) => !state.has(n));
  const unexpected = [...state.keys()].filter((n) => !wanted.includes(n) && !optional.includes(n));
  if (missing.length > 0 || unexpected.length > 0) {
    throw new WeightLoadError(`SAE.fromPretrained: ${where}: tensors do not match a '${cfg.architecture}' SAE — missing [${missing.join(', ')}], unexpected [${unexpected.join(', ')}]`);
  }
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of state) {
    const shape = shapes[name] as number[];
    if (t.shape.join(',') !== shape.join(',')) {
      throw new WeightLoadError(`SAE.fromPretrained: ${where}: tensor '${name}' — expected [${shape.join(', ')}] from d_in ${dIn} and d_sae ${dSae}, got [${t.shape.join(', ')}]`);
    }
    out[name] = t.data;
  }
  if (!allowNonFinite) assertFiniteTensors(Object.entries(out).map(([n, data]) => [n, { data }] as const), 'SAE.fromPretrained', where);
  const logThr = out['log_threshold'];
  if (logThr !== undefined) {
    delete out['log_threshold'];
    out['threshold'] = logThr.map(Math.exp);
  }
  const w: Record<string, Float32Array | number> = { ...out };
  if (cfg.architecture === 'gated') w['b_enc'] = new Float32Array(dSae); // SAELens's gated SAE has no b_enc
  if (out['topk_threshold'] !== undefined) w['topk_threshold'] = out['topk_threshold'][0] as number; // scalar
  return w as unknown as SaeWeightArrays;
}

/** SAELens `fold_activation_norm_scaling_factor`: W_enc·s, W_dec/s, b_dec/s. */
function foldNormScaling(w: SaeWeightArrays, s: number): SaeWeightArrays {
  return { ...w, W_enc: w.W_enc.map((x) => x * s), W_dec: w.W_dec.map((x) => x / s), b_dec: w.b_dec.map((x) => x / s) };
}

/** The {@link SaeConfig} of a defaulted SAELens cfg dict (read as a 6.x cfg.json; metadata kept as is). */
function configOf(cfgDict: SaeLensCfgDict, where: string, extraMd: Record<string, unknown>): SaeConfig {
  const md = typeof cfgDict['metadata'] === 'object' && cfgDict['metadata'] !== null ? (cfgDict['metadata'] as Record<string, unknown>) : {};
  const cfg = saeConfigFromCfgJson({ ...cfgDict, metadata: { ...md, sae_lens_version: md['sae_lens_version'] ?? SAE_LENS_FORMAT_VERSION } }, where);
  return { ...cfg, metadata: { ...md, ...extraMd } };
}

/**
 * Everything `fromPretrained` needs before building the SAE: the config, the weights, the cfg dict
 * and the sparsity.
 * @param release Release name in the registry, or a hub repo id (`org/name`).
 * @param saeId SAE id in the release (or a folder of the repo).
 * @param opts Registry, hub options, device.
 * @returns Config, weights, cfg dict, sparsity.
 * @throws As {@link SAE.fromPretrained}.
 * @example const { cfg, weights } = await loadPretrainedSaeParts('gpt2-small-res-jb', 'blocks.8.hook_resid_pre');
 * @category SAE
 */
export async function loadPretrainedSaeParts(release: string, saeId: string, opts: FromPretrainedOptions = {}): Promise<{
  /** The SAE config. */
  cfg: SaeConfig;
  /** The weights, SAELens names. */
  weights: SaeWeightArrays;
  /** The SAELens cfg dict after defaulting. */
  cfgDict: SaeLensCfgDict;
  /** log10 feature density or null. */
  sparsity: Float32Array | null;
}> {
  const { registry: source, allowNonFinite, ...hub } = opts;
  const registry = await loadSaeRegistry(source, { fetch: opts.fetch });
  checkRelease(registry, release);
  const [repoId, folder] = repoIdAndFolderName(registry, release, saeId);
  const loader = conversionLoader(registry.get(release)?.conversionFunc ?? null);
  const overrides = { ...configOverrides(registry, release, saeId), device: opts.device ?? 'cpu' };
  const parts = await loader(repoId, folder, overrides, hub);
  const cfgDict = handleConfigDefaulting(parts.cfgDict);
  // A 6.x cfg keeps the registry's overrides at top level, where SAELens's SAEConfig.from_dict drops
  // them; the provenance ones (neuronpedia_id, model_from_pretrained_kwargs …) go into the metadata.
  const extraMd = cfgDict === parts.cfgDict ? Object.fromEntries(Object.entries(overrides).filter(([k]) => LLM_METADATA_KEYS.includes(k))) : {};
  const where = `${release}/${saeId} (${repoId}/${folder})`;
  let cfg: SaeConfig;
  try {
    cfg = configOf(cfgDict, where, extraMd);
  } catch (err) {
    throw err instanceof ConfigError ? new ConfigError(`SAE.fromPretrained: ${err.message}`) : err;
  }
  let weights = weightsFor(cfg, parts.stateDict, where, allowNonFinite === true);
  if (cfgDict['normalize_activations'] === 'expected_average_only_in') {
    const s = registry.get(release)?.normScalingFactor[saeId];
    if (s !== undefined) {
      weights = foldNormScaling(weights, s);
      cfgDict['normalize_activations'] = 'none';
      cfg = { ...cfg, normalizeActivations: 'none' };
    } else {
      process.emitWarning(`SAE.fromPretrained: norm_scaling_factor not found for ${release} and ${saeId}, but normalize_activations is 'expected_average_only_in'. Skipping normalization folding.`);
    }
  }
  if (parts.logSparsity !== null && parts.logSparsity.length !== cfg.dSae) {
    throw new WeightLoadError(`SAE.fromPretrained: ${where}: sparsity holds ${parts.logSparsity.length} values, expected d_sae ${cfg.dSae}`);
  }
  return { cfg, weights, cfgDict, sparsity: parts.logSparsity };
}

/**
 * The SAELens cfg dict of a pretrained SAE without its weights (SAELens
 * `load_sae_config_from_huggingface`): only `cfg.json` is downloaded (Gemma Scope: nothing).
 * @param release Release name, or a hub repo id.
 * @param saeId SAE id (or folder).
 * @param opts Registry, hub options, device.
 * @returns The cfg dict after SAELens's defaulting.
 * @throws As {@link SAE.fromPretrained}, less the weight errors.
 * @example (await loadSaeConfigFromHuggingface('gpt2-small-res-jb', 'blocks.0.hook_resid_pre')).d_sae;   // 24576
 * @category SAE
 */
export async function loadSaeConfigFromHuggingface(release: string, saeId: string, opts: FromPretrainedOptions = {}): Promise<SaeLensCfgDict> {
  const { registry: source, allowNonFinite: _a, ...hub } = opts;
  const registry = await loadSaeRegistry(source, { fetch: opts.fetch });
  checkRelease(registry, release);
  const [repoId, folder] = repoIdAndFolderName(registry, release, saeId);
  const getter = configGetter(registry.get(release)?.conversionFunc ?? null);
  return handleConfigDefaulting(await getter(repoId, folder, configOverrides(registry, release, saeId), hub));
}

/**
 * A sparse autoencoder ({@link SparseAutoencoder}) with SAELens's loading entry point.
 * @example
 * const { sae, cfgDict, sparsity } = await SAE.fromPretrained('gpt2-small-res-jb', 'blocks.8.hook_resid_pre');
 * const acts = sae.encode(resid);   // [n, 24576]
 * @category SAE
 */
export class SAE extends SparseAutoencoder {
  /**
   * Load a pretrained SAE by SAELens release name and SAE id (SAELens
   * `SAE.from_pretrained_with_cfg_and_sparsity`; `from_pretrained` in SAELens ≤ 5). The release is
   * looked up in the registry (`opts.registry`, default the shipped SAELens registry); a release that
   * is not there but looks like `org/name` is taken as a hub repo and `saeId` as its folder. Files are
   * downloaded into the Hugging Face cache (reused on later calls; `offline: true` never touches the
   * network). Starts the tfjs backend ({@link "tfjs-lens"!initBackend} with its defaults) if none is initialised yet.
   * @param release e.g. 'gpt2-small-res-jb', 'pythia-70m-deduped-res-sm', 'gemma-scope-2b-pt-res-canonical'.
   * @param saeId e.g. 'blocks.8.hook_resid_pre', 'layer_20/width_16k/canonical'.
   * @param opts Registry, hub options (endpoint, cacheDir, token, offline, fetch, timeouts), device, forceDownload.
   * @returns The SAE, SAELens's cfg dict, and the log10 sparsity (null when none).
   * @throws {@link "tfjs-lens"!ConfigError} for an unknown release or SAE id (naming the nearest), an unsupported
   *   `conversion_func` or architecture; {@link "tfjs-lens"!HubError} / {@link "tfjs-lens"!NotFoundError} from the download;
   *   {@link "tfjs-lens"!WeightLoadError} for tensors that do not match the config or hold NaN/Inf.
   * @example const { sae } = await SAE.fromPretrained('gpt2-small-res-jb', 'blocks.8.hook_resid_pre');
   */
  static async fromPretrained(release: string, saeId: string, opts: FromPretrainedOptions = {}): Promise<PretrainedSae> {
    const { cfg, weights, cfgDict, sparsity } = await loadPretrainedSaeParts(release, saeId, opts);
    await ensureBackend('SAE.fromPretrained');
    return { sae: new SAE(cfg, weights), cfgDict, sparsity };
  }
}
