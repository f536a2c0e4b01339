/**
 * SAELens's pretrained-SAE loaders (`sae_lens/loading/pretrained_sae_loaders.py`, v6.18): each
 * `conversion_func` turns a repo folder into `(cfg_dict, state_dict, log_sparsity)`.
 * - `sae_lens` (the default, `conversion_func: null`): `{folder}/cfg.json` + `sae_weights.safetensors`
 *   (+ optional `sparsity.safetensors`); pre-6.0 configs (e.g. gpt2-small-res-jb's `hook_point`,
 *   `dtype: "torch.float32"`) go through `handle_pre_6_0_config`.
 * - `gemma_2` (Gemma Scope): no cfg.json; the config comes from the repo id and folder name
 *   (`get_gemma_2_config_from_hf`) and the weights from `{folder}/params.npz` (JumpReLU).
 * Files come through our hub cache ({@link hubDownloadFile}).
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, WeightLoadError } from '../errors.js';
import type { HubOptions } from '../io/hub.js';
import { readSafetensorsFile } from '../io/safetensors.js';
import { readNpz } from './npz.js';
import { hubDownloadFile } from '../io/hub_file.js';

/** A SAELens cfg dict (snake_case, as SAELens returns it). @category SAE */
export type SaeLensCfgDict = Record<string, unknown>;

/** What a loader returns: the cfg dict, the tensors (float32, with shapes) and the log10 sparsity. */
export interface LoadedSaeParts {
  /** The config dict (overrides applied, not yet defaulted). */
  readonly cfgDict: SaeLensCfgDict;
  /** Tensor name → values and shape. */
  readonly stateDict: Map<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;
  /** log10 feature density [d_sae], or null when the repo has none. */
  readonly logSparsity: Float32Array | null;
}

/** Options every loader takes. */
export interface LoaderOptions extends HubOptions {
  /** Device string written into the cfg dict (default 'cpu'). */
  readonly device?: string;
  /** Download again even when cached. */
  readonly forceDownload?: boolean;
}

/** Cfg keys SAELens moves into `metadata` (`LLM_METADATA_KEYS`). */
export const LLM_METADATA_KEYS: readonly string[] = [
  'model_name', 'hook_name', 'model_class_name', 'hook_head_index', 'model_from_pretrained_kwargs', 'prepend_bos',
  'exclude_special_tokens', 'neuronpedia_id', 'context_size', 'seqpos_slice', 'dataset_path', 'sae_lens_version',
  'sae_lens_training_version', 'hook_name_out', 'hook_head_index_out',
];

/** Fields of SAELens's `SAEConfig` (and `TopKSAEConfig`), kept by `filter_valid_dataclass_fields`. */
const BASE_FIELDS = ['d_in', 'd_sae', 'dtype', 'device', 'apply_b_dec_to_input', 'normalize_activations', 'reshape_activations'];
const TOPK_FIELDS = ['k', 'rescale_acts_by_decoder_norm'];

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function versionBelow6(v: unknown): boolean {
  if (typeof v !== 'string' || v === '') return true;
  const major = Number(/^v?(\d+)/.exec(v)?.[1]);
  return !Number.isFinite(major) || major < 6;
}

/**
 * SAELens `handle_pre_6_0_config`: rename the old keys, fill the old defaults, move provenance into
 * `metadata` and keep only the config class's fields.
 * @param cfg A pre-6.0 cfg dict.
 * @returns The 6.x cfg dict.
 * @throws Never.
 * @example handlePre6Config({ hook_point: 'blocks.0.hook_resid_pre', d_in: 768, d_sae: 24576 }).metadata;
 * @category SAE
 */
export function handlePre6Config(cfg: SaeLensCfgDict): SaeLensCfgDict {
  const renames: Record<string, string> = { hook_point: 'hook_name', hook_point_head_index: 'hook_head_index', activation_fn_str: 'activation_fn' };
  const c: SaeLensCfgDict = {};
  for (const [k, v] of Object.entries(cfg)) c[renames[k] ?? k] = v;
  const defaults: SaeLensCfgDict = {
    prepend_bos: true, dataset_trust_remote_code: true, apply_b_dec_to_input: true, finetuning_scaling_factor: false,
    sae_lens_training_version: null, activation_fn: 'relu', architecture: 'standard', neuronpedia_id: null,
    reshape_activations: String(c['hook_name'] ?? '').includes('hook_z') ? 'hook_z' : 'none',
  };
  for (const [k, v] of Object.entries(defaults)) if (!Object.hasOwn(c, k)) c[k] = v;
  const kwargs = isRecord(c['activation_fn_kwargs']) ? c['activation_fn_kwargs'] : {};
  if (c['activation_fn'] === 'topk' && kwargs['k'] !== undefined && kwargs['k'] !== null) {
    c['architecture'] = 'topk';
    c['k'] = kwargs['k'];
  }
  if (typeof c['normalize_activations'] === 'boolean') c['normalize_activations'] = c['normalize_activations'] ? 'expected_average_only_in' : 'none';
  if (c['normalize_activations'] === undefined || c['normalize_activations'] === null) c['normalize_activations'] = 'none';
  if (!Object.hasOwn(c, 'device')) c['device'] = 'cpu';
  const arch = c['architecture'] ?? 'standard';
  const fields = arch === 'topk' || arch === 'batchtopk' ? [...BASE_FIELDS, ...TOPK_FIELDS] : BASE_FIELDS;
  const out: SaeLensCfgDict = {};
  for (const f of fields) if (Object.hasOwn(c, f)) out[f] = c[f];
  if (arch === 'topk' && isRecord(c['activation_fn_kwargs'])) out['k'] = c['activation_fn_kwargs']['k'];
  out['metadata'] = Object.fromEntries(Object.entries(c).filter(([k]) => LLM_METADATA_KEYS.includes(k)));
  out['architecture'] = arch;
  return out;
}

/**
 * SAELens `handle_config_defaulting`: configs without `sae_lens_version` ≥ 6 take the pre-6.0 path.
 * @param cfg The cfg dict.
 * @returns The 6.x cfg dict (the same object when already 6.x).
 * @throws Never.
 * @example handleConfigDefaulting(JSON.parse(cfgJsonText));
 * @category SAE
 */
export function handleConfigDefaulting(cfg: SaeLensCfgDict): SaeLensCfgDict {
  let v = cfg['sae_lens_version'];
  if ((v === undefined || v === null || v === '') && isRecord(cfg['metadata'])) v = cfg['metadata']['sae_lens_version'];
  return versionBelow6(v) ? handlePre6Config(cfg) : cfg;
}

/** Scaling factor handling of SAELens `read_sae_components_from_disk`. */
function handleScalingFactor(cfg: SaeLensCfgDict, state: LoadedSaeParts['stateDict'], source: string): void {
  const sf = state.get('scaling_factor');
  if (sf === undefined) {
    cfg['finetuning_scaling_factor'] = false;
    return;
  }
  if (sf.data.every((x) => Math.abs(x - 1) <= 1e-8 + 1e-5)) {
    state.delete('scaling_factor');
    cfg['finetuning_scaling_factor'] = false;
    return;
  }
  if (cfg['finetuning_scaling_factor'] !== true) {
    throw new WeightLoadError(`${source}: scaling_factor is present but finetuning_scaling_factor is false`);
  }
  throw new WeightLoadError(`${source}: finetuning_scaling_factor (a per-latent scale not folded into W_dec) is not supported — fold it into W_dec first`);
}

async function need(repoId: string, file: string, opts: LoaderOptions): Promise<string> {
  const { path } = await hubDownloadFile(repoId, file, opts);
  return path as string;
}

/**
 * SAELens `get_sae_lens_config_from_hf`: `{folder}/cfg.json` with the device and overrides applied.
 * @param repoId Hub repo.
 * @param folder Folder of the SAE in the repo.
 * @param overrides Fields applied over cfg.json.
 * @param opts Hub options, device.
 * @returns The cfg dict (not yet defaulted).
 * @throws {@link "tfjs-lens"!WeightLoadError} for a cfg.json that is not a JSON object; download errors as
 *   {@link hubDownloadFile}.
 * @example const cfg = await saeLensConfigFromHf('jbloom/GPT2-Small-SAEs-Reformatted', 'blocks.8.hook_resid_pre', {}, {});
 */
export async function saeLensConfigFromHf(repoId: string, folder: string, overrides: SaeLensCfgDict, opts: LoaderOptions): Promise<SaeLensCfgDict> {
  const cfgPath = await need(repoId, `${folder}/cfg.json`, opts);
  let cfg: unknown;
  try {
    cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
  } catch (err) {
    throw new WeightLoadError(`SAE.fromPretrained: ${repoId}/${folder}/cfg.json is not valid JSON — ${(err as Error).message}`);
  }
  if (!isRecord(cfg)) throw new WeightLoadError(`SAE.fromPretrained: ${repoId}/${folder}/cfg.json must hold a JSON object`);
  return { ...cfg, device: opts.device ?? 'cpu', ...overrides };
}

/**
 * SAELens `sae_lens_huggingface_loader`: cfg.json (+ device and overrides), the safetensors weights,
 * and `sparsity.safetensors` when the folder has one.
 * @param repoId Hub repo.
 * @param folder Folder of the SAE in the repo.
 * @param overrides Fields applied over cfg.json.
 * @param opts Hub options, device.
 * @returns cfg dict, state dict, log sparsity.
 * @throws {@link "tfjs-lens"!HubError} / {@link "tfjs-lens"!NotFoundError} from the download; {@link "tfjs-lens"!WeightLoadError} for
 *   a cfg.json that is not a JSON object or a non-float tensor.
 * @example const parts = await saeLensHuggingfaceLoader('jbloom/GPT2-Small-SAEs-Reformatted', 'blocks.8.hook_resid_pre', {}, {});
 */
export async function saeLensHuggingfaceLoader(repoId: string, folder: string, overrides: SaeLensCfgDict, opts: LoaderOptions): Promise<LoadedSaeParts> {
  const cfgDict = await saeLensConfigFromHf(repoId, folder, overrides, opts);
  const weightsPath = await need(repoId, `${folder}/sae_weights.safetensors`, opts);
  const sparsityPath = (await hubDownloadFile(repoId, `${folder}/sparsity.safetensors`, { ...opts, optional: true })).path;
  const stateDict: LoadedSaeParts['stateDict'] = new Map();
  for (const [name, t] of (await readSafetensorsFile(weightsPath)).tensors) {
    if (!(t.data instanceof Float32Array)) throw new WeightLoadError(`SAE.fromPretrained: ${repoId}/${folder}: tensor '${name}' is ${t.dtype}, expected a float tensor`);
    stateDict.set(name, { shape: t.shape, data: t.data });
  }
  handleScalingFactor(cfgDict, stateDict, `SAE.fromPretrained: ${repoId}/${folder}`);
  let logSparsity: Float32Array | null = null;
  if (sparsityPath !== undefined) {
    const s = (await readSafetensorsFile(sparsityPath)).tensors.get('sparsity');
    if (s === undefined || !(s.data instanceof Float32Array)) throw new WeightLoadError(`SAE.fromPretrained: ${repoId}/${folder}/sparsity.safetensors has no float 'sparsity' tensor`);
    logSparsity = s.data;
  }
  return { cfgDict, stateDict, logSparsity };
}

const GEMMA_WIDTHS: readonly [string, number][] = [
  ['width_4k', 4096], ['width_16k', 16384], ['width_32k', 32768], ['width_65k', 65536], ['width_131k', 131072],
  ['width_262k', 262144], ['width_524k', 524288], ['width_1m', 1048576],
];
const GEMMA_MODELS: readonly [string, string, number][] = [
  ['2b-it', 'gemma-2-2b-it', 2304], ['9b-it', 'gemma-2-9b-it', 3584], ['27b-it', 'gemma-2-27b-it', 4608],
  ['2b', 'gemma-2-2b', 2304], ['9b', 'gemma-2-9b', 3584], ['27b', 'gemma-2-27b', 4608],
];

/**
 * SAELens `get_gemma_2_config_from_hf`: a Gemma Scope config from the repo id and folder name.
 * @param repoId e.g. 'google/gemma-scope-2b-pt-res'.
 * @param folder e.g. 'layer_20/width_16k/average_l0_71'.
 * @param device Device string (default 'cpu').
 * @param overrides Fields applied last.
 * @returns The cfg dict (JumpReLU, `apply_b_dec_to_input: false`).
 * @throws {@link "tfjs-lens"!ConfigError} when the layer, model or hook cannot be read from the names.
 * @example gemma2ConfigFromHf('google/gemma-scope-2b-pt-res', 'layer_20/width_16k/average_l0_71').hook_name;
 * @category SAE
 */
export function gemma2ConfigFromHf(repoId: string, folder: string, device = 'cpu', overrides: SaeLensCfgDict = {}): SaeLensCfgDict {
  const dSae = GEMMA_WIDTHS.find(([k]) => folder.includes(k))?.[1] ?? null;
  const m = /layer_(\d+)/.exec(folder);
  let layer = m !== null ? Number(m[1]) : undefined;
  if (layer === undefined) {
    if (folder.includes('embedding')) layer = 0;
    else throw new ConfigError(`gemma2ConfigFromHf: no layer_<n> in folder '${folder}' and it is not an embedding SAE`);
  }
  const model = GEMMA_MODELS.find(([k]) => repoId.includes(k));
  if (model === undefined) throw new ConfigError(`gemma2ConfigFromHf: no Gemma 2 model size (2b, 9b, 27b, -it) in repo id '${repoId}'`);
  const [key, modelName] = model;
  let dIn = model[2];
  let hookName: string;
  if (repoId.includes('res') && !folder.includes('embedding')) hookName = `blocks.${layer}.hook_resid_post`;
  else if (repoId.includes('res')) hookName = 'hook_embed';
  else if (repoId.includes('mlp')) hookName = `blocks.${layer}.hook_mlp_out`;
  else if (repoId.includes('att')) {
    hookName = `blocks.${layer}.attn.hook_z`;
    dIn = ({ '2b': 2048, '9b': 4096, '27b': 4608 } as Record<string, number>)[key] ?? dIn;
  } else throw new ConfigError(`gemma2ConfigFromHf: cannot tell the hook (res, mlp or att) from repo id '${repoId}'`);
  return {
    architecture: 'jumprelu', d_in: dIn, d_sae: dSae, dtype: 'float32', model_name: modelName, hook_name: hookName,
    hook_head_index: null, activation_fn: 'relu', finetuning_scaling_factor: false, sae_lens_training_version: null,
    prepend_bos: true, dataset_path: 'monology/pile-uncopyrighted', context_size: 1024, dataset_trust_remote_code: true,
    apply_b_dec_to_input: false, normalize_activations: null, device, ...overrides,
  };
}

/**
 * SAELens `gemma_2_sae_huggingface_loader`: Gemma Scope `{folder}/params.npz` (`W_enc`, `W_dec`,
 * `b_enc`, `b_dec`, `threshold`; `w_*` keys renamed `W_*`). Embedding SAEs are rescaled by √d_in as
 * SAELens does. No sparsity.
 * @param repoId Hub repo.
 * @param folder SAE folder.
 * @param overrides Fields applied over the config.
 * @param opts Hub options, device.
 * @returns cfg dict, state dict, null sparsity.
 * @throws {@link "tfjs-lens"!WeightLoadError} for an unreadable npz; download errors as {@link hubDownloadFile}.
 * @example const parts = await gemma2HuggingfaceLoader('google/gemma-scope-2b-pt-res', 'layer_20/width_16k/average_l0_71', {}, {});
 */
export async function gemma2HuggingfaceLoader(repoId: string, folder: string, overrides: SaeLensCfgDict, opts: LoaderOptions): Promise<LoadedSaeParts> {
  const cfgDict = gemma2ConfigFromHf(repoId, folder, opts.device ?? 'cpu', overrides);
  const path = await need(repoId, `${folder}/params.npz`, opts);
  const stateDict: LoadedSaeParts['stateDict'] = new Map();
  for (const [key, a] of readNpz(await readFile(path), `${repoId}/${folder}/params.npz`)) {
    stateDict.set(key.startsWith('w_') ? `W_${key.slice(2)}` : key, { shape: a.shape, data: a.data });
  }
  handleScalingFactor(cfgDict, stateDict, `SAE.fromPretrained: ${repoId}/${folder}`);
  if (folder.includes('embedding')) {
    const s = Math.sqrt(cfgDict['d_in'] as number);
    const enc = stateDict.get('W_enc');
    const dec = stateDict.get('W_dec');
    if (enc !== undefined) stateDict.set('W_enc', { shape: enc.shape, data: enc.data.map((x) => x / s) });
    if (dec !== undefined) stateDict.set('W_dec', { shape: dec.shape, data: dec.data.map((x) => x * s) });
  }
  return { cfgDict, stateDict, logSparsity: null };
}

/** A loader: SAELens `PretrainedSaeHuggingfaceLoader`. */
export type PretrainedSaeLoader = (repoId: string, folder: string, overrides: SaeLensCfgDict, opts: LoaderOptions) => Promise<LoadedSaeParts>;

/** Loaders by `conversion_func` name (SAELens `NAMED_PRETRAINED_SAE_LOADERS`, the supported subset). */
export const NAMED_PRETRAINED_SAE_LOADERS: Readonly<Record<string, PretrainedSaeLoader>> = {
  sae_lens: saeLensHuggingfaceLoader,
  gemma_2: gemma2HuggingfaceLoader,
};

/** A config getter: SAELens `PretrainedSaeConfigHuggingfaceLoader`. */
export type PretrainedSaeConfigGetter = (repoId: string, folder: string, overrides: SaeLensCfgDict, opts: LoaderOptions) => Promise<SaeLensCfgDict>;

/** Config getters by `conversion_func` name (SAELens `NAMED_PRETRAINED_SAE_CONFIG_GETTERS`, the supported subset). */
export const NAMED_PRETRAINED_SAE_CONFIG_GETTERS: Readonly<Record<string, PretrainedSaeConfigGetter>> = {
  sae_lens: saeLensConfigFromHf,
  gemma_2: async (repoId, folder, overrides, opts) => gemma2ConfigFromHf(repoId, folder, opts.device ?? 'cpu', overrides),
};

/** SAELens loaders not ported, for the error message. */
const NOT_PORTED = ['connor_rob_hook_z', 'llama_scope', 'llama_scope_r1_distill', 'dictionary_learning_1', 'deepseek_r1', 'sparsify', 'gemma_2_transcoder', 'mwhanna_transcoder', 'mntss_clt_layer_transcoder'];

/**
 * The loader of a `conversion_func` (SAELens `get_conversion_loader_name`; null → 'sae_lens').
 * @param conversionFunc The registry's value.
 * @returns The loader.
 * @throws {@link "tfjs-lens"!ConfigError} for a loader SAELens has but this library does not, or an unknown name.
 * @example conversionLoader(null) === saeLensHuggingfaceLoader;
 */
export function conversionLoader(conversionFunc: string | null): PretrainedSaeLoader {
  const name = conversionFunc ?? 'sae_lens';
  const loader = NAMED_PRETRAINED_SAE_LOADERS[name];
  if (loader !== undefined) return loader;
  throw unsupported(name);
}

/**
 * The config getter of a `conversion_func` (null → 'sae_lens').
 * @param conversionFunc The registry's value.
 * @returns The config getter.
 * @throws {@link "tfjs-lens"!ConfigError} as {@link conversionLoader}.
 * @example const cfg = await configGetter('gemma_2')('google/gemma-scope-2b-pt-res', 'layer_20/width_16k/canonical', {}, {});
 */
export function configGetter(conversionFunc: string | null): PretrainedSaeConfigGetter {
  const name = conversionFunc ?? 'sae_lens';
  const getter = NAMED_PRETRAINED_SAE_CONFIG_GETTERS[name];
  if (getter !== undefined) return getter;
  throw unsupported(name);
}

function unsupported(name: string): ConfigError {
  const why = NOT_PORTED.includes(name) ? 'is a SAELens loader not supported here' : 'is not a known conversion_func';
  return new ConfigError(`SAE.fromPretrained: conversion_func '${name}' ${why} — supported: null (SAELens layout), ${Object.keys(NAMED_PRETRAINED_SAE_LOADERS).join(', ')}`);
}
